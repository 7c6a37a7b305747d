// The one list of environment variables that change what a program loads, which code it runs,
// what it trusts, or where it sends traffic. Data, not code: the alias denylist (alias.ts), the
// prompt warnings (request/warnings.ts) and the approver-program environment
// (approval/approver-env.ts) all read it, so they cannot disagree. Pure.
//
// Names are matched in any letter case: many programs read both spellings (curl and Python read
// `https_proxy`, npm reads `npm_config_*` and `NPM_CONFIG_*`), and an agent picks whichever is
// not on a list.

/** What kind of behaviour a variable changes; shown to the human next to its name. */
export type EnvRiskCategory =
  | 'loader'
  | 'shell'
  | 'interpreter'
  | 'git'
  | 'network-trust'
  | 'package-manager'
  | 'build-tool'
  | 'helper-program'
  | 'location';

export interface EnvRiskRule {
  /** Upper case; a prefix when `prefix` is true. */
  readonly name: string;
  readonly prefix: boolean;
  readonly category: EnvRiskCategory;
  /**
   * May carry a secret (an alias of this name is allowed): proxies, registries and tool
   * prefixes whose variables are commonly credentials (`HTTPS_PROXY` with a password,
   * `CARGO_REGISTRY_TOKEN`, `GEM_HOST_API_KEY`). Every other rule is refused as an alias.
   */
  readonly secretOk: boolean;
  /**
   * Set in almost every session (a login shell, a desktop, a distribution's profile), harmless
   * in the normal case: a caller's own is not warned about (it would be noise on every prompt
   * and teach the human to skip warnings); an env file setting it is. The reuse key covers the
   * caller's value either way, so a changed HOME or PATH is a new request.
   */
  readonly ambient: boolean;
}

type Row = readonly [name: string, category: EnvRiskCategory, flags?: 'secret-ok' | 'ambient'];

// Exact names.
const EXACT: readonly Row[] = [
  ['PATH', 'location', 'ambient'],
  ['HOME', 'location', 'ambient'],
  ['TMPDIR', 'location', 'ambient'],
  ['XDG_CONFIG_HOME', 'location', 'ambient'],
  ['XDG_DATA_HOME', 'location', 'ambient'],
  ['CDPATH', 'shell'],
  ['SHELL', 'shell', 'ambient'],
  ['IFS', 'shell'],
  ['ENV', 'shell'],
  ['BASH_ENV', 'shell'],
  ['BASHOPTS', 'shell'],
  ['SHELLOPTS', 'shell'],
  ['PS4', 'shell'],
  ['PROMPT_COMMAND', 'shell', 'ambient'],
  ['ZDOTDIR', 'shell'],
  ['GCONV_PATH', 'loader'],
  ['LOCPATH', 'loader'],
  ['NODE_OPTIONS', 'interpreter'],
  ['NODE_PATH', 'interpreter'],
  ['NODE_EXTRA_CA_CERTS', 'network-trust'],
  ['NODE_TLS_REJECT_UNAUTHORIZED', 'network-trust'],
  ['PERLLIB', 'interpreter'],
  ['RUBYOPT', 'interpreter'],
  ['RUBYLIB', 'interpreter'],
  ['GEM_HOME', 'package-manager'],
  ['GEM_PATH', 'package-manager'],
  ['BUNDLE_GEMFILE', 'package-manager'],
  ['JAVA_TOOL_OPTIONS', 'interpreter'],
  ['JDK_JAVA_OPTIONS', 'interpreter'],
  ['_JAVA_OPTIONS', 'interpreter'],
  ['CLASSPATH', 'interpreter'],
  ['GOFLAGS', 'build-tool'],
  ['GOTOOLCHAIN', 'build-tool'],
  ['GOPATH', 'build-tool'],
  ['GOPROXY', 'package-manager', 'secret-ok'],
  ['RUSTC', 'build-tool'],
  ['RUSTC_WRAPPER', 'build-tool'],
  ['RUSTC_WORKSPACE_WRAPPER', 'build-tool'],
  ['RUSTFLAGS', 'build-tool'],
  ['RUSTDOCFLAGS', 'build-tool'],
  ['GIT_SSH', 'git'],
  ['GIT_SSH_COMMAND', 'git'],
  ['GIT_EXEC_PATH', 'git'],
  ['GIT_ASKPASS', 'git'],
  ['GIT_PAGER', 'git', 'ambient'],
  ['GIT_EDITOR', 'git', 'ambient'],
  ['GIT_SEQUENCE_EDITOR', 'git', 'ambient'],
  ['GIT_EXTERNAL_DIFF', 'git'],
  ['GIT_PROXY_COMMAND', 'git'],
  ['GIT_TEMPLATE_DIR', 'git'],
  ['GIT_DIR', 'git'],
  ['GIT_WORK_TREE', 'git'],
  ['GIT_CONFIG', 'git'],
  ['SSH_ASKPASS', 'helper-program'],
  ['EDITOR', 'helper-program', 'ambient'],
  ['VISUAL', 'helper-program', 'ambient'],
  ['PAGER', 'helper-program', 'ambient'],
  ['LESSOPEN', 'helper-program', 'ambient'],
  ['LESSCLOSE', 'helper-program', 'ambient'],
  ['BROWSER', 'helper-program', 'ambient'],
  ['KUBECONFIG', 'network-trust'],
  ['DOCKER_HOST', 'network-trust', 'secret-ok'],
  ['DOCKER_CONFIG', 'network-trust'],
  ['DOCKER_CERT_PATH', 'network-trust'],
  ['DOCKER_TLS_VERIFY', 'network-trust'],
  ['HTTP_PROXY', 'network-trust', 'secret-ok'],
  ['HTTPS_PROXY', 'network-trust', 'secret-ok'],
  ['ALL_PROXY', 'network-trust', 'secret-ok'],
  ['FTP_PROXY', 'network-trust', 'secret-ok'],
  ['NO_PROXY', 'network-trust', 'secret-ok'],
  ['SSL_CERT_FILE', 'network-trust'],
  ['SSL_CERT_DIR', 'network-trust'],
  ['CURL_CA_BUNDLE', 'network-trust'],
  ['REQUESTS_CA_BUNDLE', 'network-trust'],
  ['GIT_SSL_CAINFO', 'network-trust'],
  ['GIT_SSL_NO_VERIFY', 'network-trust'],
  ['OPENSSL_CONF', 'network-trust'],
  ['OPENSSL_MODULES', 'loader'],
];

// Name prefixes.
const PREFIXES: readonly Row[] = [
  ['LD_', 'loader'],
  ['DYLD_', 'loader'],
  ['MALLOC_', 'loader'],
  ['GLIBC_', 'loader'],
  ['PYTHON', 'interpreter'],
  ['PERL5', 'interpreter'],
  ['RUBY', 'interpreter', 'secret-ok'],
  ['GEM_', 'package-manager', 'secret-ok'],
  ['BUNDLE_', 'package-manager', 'secret-ok'],
  ['CGO_', 'build-tool'],
  ['CARGO_', 'build-tool', 'secret-ok'],
  ['GIT_CONFIG_', 'git'],
  ['GIT_', 'git', 'secret-ok'],
  ['NPM_CONFIG_', 'package-manager'],
  ['YARN_', 'package-manager', 'secret-ok'],
  ['PIP_', 'package-manager', 'secret-ok'],
];

function rule([name, category, flags]: Row, prefix: boolean): EnvRiskRule {
  return Object.freeze({ name, prefix, category, secretOk: flags === 'secret-ok', ambient: flags === 'ambient' });
}

/** Every rule: exact names first, then prefixes (longest first, so the most specific one answers). */
export const ENV_RISK_RULES: readonly EnvRiskRule[] = Object.freeze([
  ...EXACT.map((row) => rule(row, false)),
  ...[...PREFIXES].sort((a, b) => b[0].length - a[0].length).map((row) => rule(row, true)),
]);

const BY_NAME = new Map(ENV_RISK_RULES.filter((r) => !r.prefix).map((r) => [r.name, r]));
const PREFIX_RULES = ENV_RISK_RULES.filter((r) => r.prefix);

/**
 * The rules a variable name matches, in any letter case: its exact rule, then every prefix rule
 * (most specific first). Empty when the name is not risky.
 */
export function envRiskRules(name: string): EnvRiskRule[] {
  const upper = name.toUpperCase();
  const exact = BY_NAME.get(upper);
  const prefixes = PREFIX_RULES.filter((r) => upper.startsWith(r.name));
  return exact === undefined ? prefixes : [exact, ...prefixes];
}

/** The most specific rule a name matches, or null. Pure. */
export function envRisk(name: string): EnvRiskRule | null {
  return envRiskRules(name)[0] ?? null;
}

/**
 * The variables whose one purpose is to make a program load or run code it was not asked to:
 * preload libraries, interpreter startup options, shell startup files, git commands run from
 * config. A subset of the rules above, kept narrow on purpose: a policy's allow never covers a
 * request whose child would start with one (docs/policy.md), and the wider list (PYTHONUNBUFFERED,
 * SSL_CERT_FILE, HTTPS_PROXY, …) is in nearly every CI and container environment. Upper case.
 */
export const CODE_INJECTION_NAMES: ReadonlySet<string> = new Set([
  'LD_PRELOAD',
  'LD_AUDIT',
  'DYLD_INSERT_LIBRARIES',
  'NODE_OPTIONS',
  'BASH_ENV',
  'ENV',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONSTARTUP',
  'PERL5OPT',
  'PERL5LIB',
  'PERLLIB',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  'JDK_JAVA_OPTIONS',
  '_JAVA_OPTIONS',
  'GIT_CONFIG_COUNT',
  'GIT_CONFIG_PARAMETERS',
  'GIT_EXEC_PATH',
  'GIT_SSH_COMMAND',
  'GIT_SSH',
  'GIT_PROXY_COMMAND',
  'GIT_EXTERNAL_DIFF',
  'GCONV_PATH',
  'RUSTC_WRAPPER',
  'RUSTC_WORKSPACE_WRAPPER',
  'RUSTC',
  'CARGO_BUILD_RUSTC',
  'CARGO_BUILD_RUSTC_WRAPPER',
  'CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER',
  'GIT_CONFIG_GLOBAL',
  'GIT_CONFIG_SYSTEM',
  'GIT_DIR',
  'PYTHONUSERBASE',
  'PERL5DB',
  'NODE_PATH',
  'CLASSPATH',
  'BUNDLE_GEMFILE',
  'NPM_CONFIG_NODE_OPTIONS',
  'NPM_CONFIG_SCRIPT_SHELL',
]);

/**
 * Prefixes of the same kind: every dynamic-loader variable (`LD_LIBRARY_PATH` replaces the
 * libraries a program loads), bash's exported functions (`BASH_FUNC_curl%%` redefines a command
 * inside any bash script), and cargo's per-target runners. Upper case.
 */
export const CODE_INJECTION_PREFIXES: readonly string[] = ['LD_', 'DYLD_', 'BASH_FUNC_', 'CARGO_TARGET_'];

/** Whether a variable of this name (any letter case) injects code into the program it reaches. Pure. */
export function injectsCode(name: string): boolean {
  const upper = name.toUpperCase();
  if (CODE_INJECTION_NAMES.has(upper)) return true;
  if (upper.startsWith('CARGO_TARGET_')) return upper.endsWith('_RUNNER') || upper.endsWith('_LINKER');
  return CODE_INJECTION_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

/** True when a variable of this name must never carry a secret (any matching rule refuses it). Pure. */
export function refusedAsAlias(name: string): boolean {
  const rules = envRiskRules(name);
  // An exact rule decides for its name (GIT_SSH_COMMAND is refused though GIT_ is not).
  const first = rules[0];
  if (first !== undefined && !first.prefix) return !first.secretOk;
  return rules.some((r) => !r.secretOk);
}
