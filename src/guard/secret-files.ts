// What makes a file a secret file for the guard: its name (env files, SSH keys, PEM keys, .npmrc,
// .netrc, cloud credentials) and then its first bytes (op:// references or real KEY=VALUE values,
// a PRIVATE KEY block, an auth token line). Input: untrusted file names and file content.
// Invariant: pure; content is only tested, never returned, so no caller can echo a value.

/** Kinds of secret files, by name. */
export type SecretFileKind = 'env' | 'ssh-key' | 'pem' | 'keystore' | 'npmrc' | 'login' | 'credentials' | 'agent-secret';

/**
 * Whether a path (as written, globs included) is in agent-secret's own stores: a provider token
 * file (under agent-secret/tokens) or a delivered secret file (under a directory agent-secret-files.XXXX, in
 * /dev/shm or $XDG_RUNTIME_DIR). Pure.
 */
export function isAgentSecretStore(path: string): boolean {
  return /(^|\/)agent-secret\/tokens\/./.test(path) || /(^|\/)agent-secret-files\.[^/]*\/./.test(path);
}

/** The kind a file name suggests, or null for an ordinary name. */
export function secretFileKind(name: string): SecretFileKind | null {
  if (name === '.env' || name.startsWith('.env.') || name.endsWith('.env') || name === '.envrc') return 'env';
  if (/^id_(rsa|dsa|ecdsa|ed25519)(_sk)?([._-].*)?$/.test(name) && !name.endsWith('.pub')) return 'ssh-key';
  if (/\.(pem|key)$/.test(name)) return 'pem';
  if (/\.(p12|pfx|jks|keystore)$/.test(name)) return 'keystore';
  if (name === '.npmrc' || name === '.yarnrc.yml') return 'npmrc';
  if (name === '.netrc' || name === '_netrc' || name === '.pgpass' || name === '.git-credentials') return 'login';
  if (name === 'credentials' || name === 'credentials.json') return 'credentials';
  return null;
}

/** One representative name per kind, to test glob patterns against. */
export const SAMPLE_SECRET_NAMES: readonly string[] = ['.env', '.env.local', 'prod.env', '.envrc', 'id_rsa', 'id_ed25519', 'server.pem', 'server.key', 'cert.p12', '.npmrc', '.netrc', '.pgpass', '.git-credentials', 'credentials', 'credentials.json'];

/** Whether a file of this kind with this head holds secret material (op:// references count for env files). */
export function holdsSecrets(kind: SecretFileKind, head: string): boolean {
  switch (kind) {
    case 'env':
      return head.includes('op://') || hasSecretAssignments(head);
    case 'pem':
      return /PRIVATE KEY/.test(head);
    case 'npmrc':
      return /(_authToken|_auth|_password|npmAuthToken|npmAuthIdent)\s*[=:]/.test(head);
    case 'agent-secret':
    case 'ssh-key':
    case 'keystore':
    case 'login':
    case 'credentials':
      return true;
  }
}

const SECRET_KEY = /(TOKEN|SECRET|PASS(WORD|WD)?|PWD|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL|AUTH|_KEY$|^KEY$|DSN|DATABASE_URL|CONN(ECTION)?_?STR)/i;
// Keys that name where or how much, not a secret (AUTH_DOMAIN, TOKEN_TTL, PASSWORD_MIN_LENGTH).
const SETTING_KEY = /(DOMAIN|HOST(NAME)?|ENDPOINT|REGION|ISSUER|AUDIENCE|CALLBACK|REDIRECT|PATH|DIR|FILE|NAME|TTL|TIMEOUT|EXPIR[A-Z]*|LENGTH|LEN|SIZE|PORT|COUNT|MAX|MIN|LIMIT|ENABLED|DISABLED|MODE|TYPE|VERSION)$/i;
const PLACEHOLDER = /^(<.*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|x+|\*+|\.{3}|changeme|change[-_]?me|replace[-_]?me|todo|tbd|placeholder|your[-_ ].*|example|dummy|none|null|nil|undefined|-)$/i;
const PLAIN_VALUE = /^(true|false|yes|no|on|off|enabled|disabled|\d{1,5}|(\/|\.\/|\.\.\/|~\/)\S*)$/i;

/** Whether dotenv-style text has a KEY=VALUE line whose value looks real (not empty, not a placeholder) and secret. */
export function hasSecretAssignments(text: string): boolean {
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (match === null) continue;
    if (isSecretAssignment(match[1]!, unquote(match[2]!))) return true;
  }
  return false;
}

function isSecretAssignment(key: string, value: string): boolean {
  if (value === '' || PLACEHOLDER.test(value)) return false;
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i.test(value)) return true;
  if (looksLikeCredential(value)) return true;
  if (PLAIN_VALUE.test(value) || /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return false;
  return SECRET_KEY.test(key) && !SETTING_KEY.test(key);
}

function unquote(raw: string): string {
  const value = raw.trim();
  const quoted = /^(['"])(.*)\1/.exec(value);
  if (quoted !== null) return quoted[2]!;
  const comment = value.search(/\s#/);
  return comment < 0 ? value : value.slice(0, comment).trimEnd();
}

// Shaped like a generated credential: a known token prefix, or 20+ characters without spaces
// mixing upper case, lower case and digits, or 32+ hex digits.
function looksLikeCredential(value: string): boolean {
  if (/^(sk|rk|pk)_(live|test)_|^(ghp|gho|ghu|ghs|ghr)_|^github_pat_|^glpat-|^xox[abposr]-|^AKIA[0-9A-Z]{16}$|^npm_[A-Za-z0-9]{20,}|^sk-[A-Za-z0-9_-]{20,}/.test(value)) return true;
  if (/^[0-9a-fA-F]{32,}$/.test(value)) return true;
  return value.length >= 20 && !/\s/.test(value) && !value.includes('://') && /[A-Z]/.test(value) && /[a-z]/.test(value) && /[0-9]/.test(value) && !/^[./~]/.test(value);
}
