// Secret references and the scheme that names their provider. `op://` is validated the way `op`
// 2.x parses it (shared/reference/op-cli.md §1): op://vault/item[/section]/field[?attribute=…];
// `bws://` the way `bws secret get` takes an ID: bws://SECRET_ID or bws://SOURCE/SECRET_ID;
// any other scheme belongs to a provider program the user config declares, and only its shape
// is checked here (the program is the one that knows its references). A reference is not a
// secret, so it may appear in messages, prompts and the audit log.

export interface SecretRef {
  /** The reference exactly as written. */
  readonly raw: string;
  readonly vault: string;
  readonly item: string;
  readonly section: string | undefined;
  readonly field: string;
  /** `attribute`/`attr` query value, lower-cased (otp, totp, type, …). */
  readonly attribute: string | undefined;
  /** `ssh-format` query value, lower-cased. */
  readonly sshFormat: string | undefined;
}

export type RefResult = { ok: true; ref: SecretRef } | { ok: false; message: string };

const SEGMENT = /^[A-Za-z0-9._\- ]+$/;
const FIELD_ATTRIBUTES = new Set(['type', 'value', 'id', 'purpose', 'otp', 'totp', 'title', 'content', 'size', 'name']);
const SHAPE = 'expected op://vault/item[/section]/field';

/** Parses and validates one `op://` reference. Pure. */
export function parseRef(raw: string): RefResult {
  if (raw.length === 0) return fail('must not be empty');
  if (raw.trim() !== raw) return fail('must not start or end with whitespace');
  if (!raw.startsWith('op://')) return fail(`must start with op:// (${SHAPE})`);
  const rest = raw.slice('op://'.length);
  if (rest.includes('#')) return fail('fragments (#) are not supported');
  const queryAt = rest.indexOf('?');
  const path = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const query = queryAt === -1 ? undefined : rest.slice(queryAt + 1);

  const segments = path.split('/');
  if (segments.length < 3) return fail(`too few '/': ${SHAPE}`);
  if (segments.length > 4) return fail(`too many '/': ${SHAPE}; a name containing '/' must be referenced by its ID`);
  for (const segment of segments) {
    if (segment.length === 0) return fail(`path segments must not be empty (${SHAPE})`);
    if (!SEGMENT.test(segment)) {
      return fail('names may contain only letters, digits, space, ".", "-" and "_"; refer to anything else by its ID');
    }
    if (segment.trim() !== segment) return fail('a path segment must not start or end with a space');
  }

  let attribute: string | undefined;
  let sshFormat: string | undefined;
  if (query !== undefined) {
    if (query.length === 0) return fail('empty query after "?"');
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) return fail(`query must be key=value (got "${pair}")`);
      const key = pair.slice(0, eq).toLowerCase();
      const value = pair.slice(eq + 1).toLowerCase();
      if (key === 'attribute' || key === 'attr') {
        if (attribute !== undefined) return fail('attribute given twice');
        if (!FIELD_ATTRIBUTES.has(value)) {
          return fail(`unknown attribute "${value}"; expected one of ${[...FIELD_ATTRIBUTES].join(', ')}`);
        }
        attribute = value;
      } else if (key === 'ssh-format') {
        if (value !== 'openssh') return fail('ssh-format must be openssh');
        sshFormat = value;
      } else {
        return fail(`unknown query parameter "${key}"; expected attribute, attr or ssh-format`);
      }
    }
  }

  const [vault, item, third, fourth] = segments as [string, string, string, string | undefined];
  return {
    ok: true,
    ref: {
      raw,
      vault,
      item,
      section: fourth === undefined ? undefined : third,
      field: fourth ?? third,
      attribute,
      sshFormat,
    },
  };
}

/** An item (not a field) reference: `op://vault/item`, as `item describe` takes it. */
export interface ItemRef {
  /** Normalised: `op://vault/item` (a trailing `/*` removed). */
  readonly raw: string;
  readonly vault: string;
  readonly item: string;
}

export type ItemRefResult = { ok: true; ref: ItemRef } | { ok: false; message: string };

const ITEM_SHAPE = 'expected op://vault/item or op://vault/item/*';

/** Parses `op://vault/item` (or `op://vault/item/*`) with the segment rules of parseRef. Pure. */
export function parseItemRef(raw: string): ItemRefResult {
  if (raw.length === 0) return fail('must not be empty');
  if (raw.trim() !== raw) return fail('must not start or end with whitespace');
  if (!raw.startsWith('op://')) return fail(`must start with op:// (${ITEM_SHAPE})`);
  const path = raw.slice('op://'.length).replace(/\/\*$/, '');
  if (path.includes('?') || path.includes('#')) return fail(`an item reference takes no query or fragment (${ITEM_SHAPE})`);
  const segments = path.split('/');
  if (segments.length < 2) return fail(`too few '/': ${ITEM_SHAPE}`);
  if (segments.length > 2) return fail(`too many '/' for an item (${ITEM_SHAPE}); a name containing '/' must be referenced by its ID`);
  for (const segment of segments) {
    if (segment.length === 0) return fail(`path segments must not be empty (${ITEM_SHAPE})`);
    if (!isRefSegment(segment)) {
      return fail('names may contain only letters, digits, space, ".", "-" and "_" and must not start or end with a space; refer to anything else by its ID');
    }
  }
  const [vault, item] = segments as [string, string];
  return { ok: true, ref: { raw: `op://${vault}/${item}`, vault, item } };
}

/** True when a name can stand as one path segment of a reference (else op wants its ID). Pure. */
export function isRefSegment(name: string): boolean {
  return SEGMENT.test(name) && name.trim() === name;
}

/** The provider schemes agent-secret itself resolves: 1Password (`op`) and Bitwarden Secrets Manager (`bws`). */
export const BUILTIN_SCHEMES: readonly string[] = Object.freeze(['op', 'bws']);

/**
 * Schemes a provider program may not claim: the built-in ones, and URL schemes, whose values
 * (`https://…` in an env file) must never be taken for references.
 */
export const RESERVED_SCHEMES: ReadonlySet<string> = new Set([
  ...BUILTIN_SCHEMES,
  'http',
  'https',
  'file',
  'ftp',
  'ftps',
  'sftp',
  'ssh',
  'git',
  'data',
  'mailto',
  'ws',
  'wss',
  'unix',
  'tcp',
  'udp',
  'agent-secret',
]);

const SCHEME_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** True when `name` can be a provider scheme: 1-32 lower-case letters, digits and "-", starting with a letter. Pure. */
export function isSchemeName(name: string): boolean {
  return SCHEME_NAME.test(name);
}

/** The scheme of a reference (`op` of `op://…`), or null when it has none of the right shape. Pure. */
export function schemeOf(raw: string): string | null {
  const at = raw.indexOf('://');
  if (at <= 0) return null;
  const scheme = raw.slice(0, at);
  return isSchemeName(scheme) ? scheme : null;
}

/**
 * True when an env-file value is a reference: it starts with `op://`, `bws://` or the scheme of
 * a declared provider program (`schemes`). Anything else, an https:// URL included, is a plain
 * value. Pure.
 */
export function looksLikeRef(value: string, schemes: Iterable<string> = BUILTIN_SCHEMES): boolean {
  const scheme = schemeOf(value);
  if (scheme === null) return false;
  for (const known of schemes) if (known === scheme) return true;
  return false;
}

export type AnyRefResult = { ok: true; scheme: string } | { ok: false; message: string };

const ANY_SHAPE = 'expected op://vault/item[/section]/field, bws://SECRET_ID, or the scheme of a provider declared in the user config';

/**
 * Parses a reference of any provider: op:// and bws:// by their own rules, any other scheme
 * by the shape rules of a provider program's reference. Whether a program for the scheme is
 * declared is not known here (the user config says; see provider/registry.ts). Pure.
 */
export function parseSecretRef(raw: string): AnyRefResult {
  if (raw.length === 0) return fail('must not be empty');
  if (raw.trim() !== raw) return fail('must not start or end with whitespace');
  const scheme = schemeOf(raw);
  if (scheme === null) return fail(`must start with op://, bws:// or a provider's scheme (${ANY_SHAPE})`);
  const result = scheme === 'op' ? parseRef(raw) : scheme === 'bws' ? parseBwsRef(raw) : parseProgramRef(raw);
  return result.ok ? { ok: true, scheme } : result;
}

/** A Bitwarden Secrets Manager reference: the secret's ID and, when named, the source (user-config entry) holding its token. */
export interface BwsRef {
  readonly raw: string;
  /** The source named in the reference; null: the default source. */
  readonly source: string | null;
  /** The secret's UUID, as written. */
  readonly secretId: string;
}

export type BwsRefResult = { ok: true; ref: BwsRef } | { ok: false; message: string };

const BWS_SHAPE = 'expected bws://SECRET_ID or bws://SOURCE/SECRET_ID';
const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
/** A bws source name (a key under providers.bws.sources in the user config). */
export const BWS_SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Parses `bws://SECRET_ID` or `bws://SOURCE/SECRET_ID`; the ID is a UUID, as `bws secret get` takes it. Pure. */
export function parseBwsRef(raw: string): BwsRefResult {
  if (raw.length === 0) return fail('must not be empty');
  if (raw.trim() !== raw) return fail('must not start or end with whitespace');
  if (!raw.startsWith('bws://')) return fail(`must start with bws:// (${BWS_SHAPE})`);
  const rest = raw.slice('bws://'.length);
  if (rest.includes('?') || rest.includes('#')) return fail(`a bws reference takes no query or fragment (${BWS_SHAPE})`);
  const segments = rest.split('/');
  if (segments.length > 2) return fail(`too many '/' (${BWS_SHAPE})`);
  if (segments.some((segment) => segment.length === 0)) return fail(`path segments must not be empty (${BWS_SHAPE})`);
  const [first, second] = segments as [string, string | undefined];
  const id = second ?? first;
  if (!UUID.test(id)) return fail(`the secret ID must be a UUID such as 0b6c2c4e-5f1a-4f8e-9d3b-2a7c1e9f4b10, as bws prints it (${BWS_SHAPE})`);
  if (second !== undefined && !BWS_SOURCE_NAME.test(first)) {
    return fail('a source name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return { ok: true, ref: { raw, source: second === undefined ? null : first, secretId: id } };
}

/**
 * The identity a secret is resolved as, besides its reference: the 1Password account for op://
 * (from the secret, profile, config, flag or environment), the source named in a bws://
 * reference (null: the default source), and the secret's own `account:` for a provider program.
 * `opAccount` is the op account precedence's answer and is used for op:// only. Pure.
 */
export function identityOf(ref: string, own: string | null, opAccount: string | null): string | null {
  const scheme = schemeOf(ref);
  if (scheme === 'op') return opAccount;
  if (scheme === 'bws') {
    const parsed = parseBwsRef(ref);
    return parsed.ok ? parsed.ref.source : null;
  }
  return own;
}

/** What the identity of a provider's secrets is called: a bws source, else an account. Pure. */
export function identityKind(provider: string): 'account' | 'source' {
  return provider === 'bws' ? 'source' : 'account';
}

/** The longest reference a provider program is given (its own syntax is its business). */
export const MAX_PROGRAM_REF_LENGTH = 2048;

// Controls, DEL, C1, zero-width, bidi controls and the BOM: nothing that can rearrange a prompt line.
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_REF = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;

/** Checks the shape of a provider program's reference: `scheme://` and 1-2048 printable characters. Pure. */
export function parseProgramRef(raw: string): AnyRefResult {
  if (raw.length === 0) return fail('must not be empty');
  if (raw.trim() !== raw) return fail('must not start or end with whitespace');
  const scheme = schemeOf(raw);
  if (scheme === null) return fail('must start with a scheme: 1-32 lower-case letters, digits or "-", then ://');
  if (RESERVED_SCHEMES.has(scheme) && !BUILTIN_SCHEMES.includes(scheme)) return fail(`${scheme}:// is not a secret reference (a provider cannot use that scheme)`);
  const rest = raw.slice(scheme.length + 3);
  if (rest.length === 0) return fail(`nothing follows ${scheme}://`);
  if (raw.length > MAX_PROGRAM_REF_LENGTH) return fail(`is longer than ${MAX_PROGRAM_REF_LENGTH} characters`);
  if (UNSAFE_IN_REF.test(rest)) return fail('must not contain control, zero-width or bidi characters');
  return { ok: true, scheme };
}

function fail(message: string): { ok: false; message: string } {
  return { ok: false, message };
}

/** A logical secret name (the user config's `names:`, a profile's `{name: …}`, a policy rule's `name:`). */
export const SECRET_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
export const SECRET_NAME_RULE = 'a letter, then at most 63 letters, digits, ".", "_" or "-"';
