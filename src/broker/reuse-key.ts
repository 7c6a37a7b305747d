// The reuse key of a reusable approval and the environment fingerprint it includes. Pure.
//
// A later request may reuse an approval only when everything the human saw is the same:
// reason, argv, the resolved executable and its file identity, cwd, the secrets with their
// references and accounts, the ttl, the override settings and whether the output is masked (an
// approval of a masked run never serves an unmasked one). The caller's environment takes
// part through a fingerprint of only the variables that change what runs or how code loads
// (PATH, loader and interpreter variables, git's config and exec path, programs git, ssh and
// npm run for the command), the variables an
// approved alias replaces, and the plain env-file entries. Everything else (PWD, SHLVL,
// terminal and agent session ids, timestamps) is churn: it does not re-prompt.
//
// With --pristine the child starts from PRISTINE_ENV_NAMES only, so those names count, and the
// loader variables still count too: the thin client that receives the values over the socket
// is itself a Node process started with the caller's NODE_OPTIONS and LD_PRELOAD.
//
// Both results are SHA-256 digests; neither the key nor the fingerprint carries a value in the
// clear. They live in daemon memory only and are not written to the audit log.

import { createHash } from 'node:crypto';
import { PRISTINE_ENV_NAMES } from '../request/build.js';
import type { ApprovalRequest } from '../request/types.js';

/**
 * Variables whose exact name makes them part of the fingerprint: each names code to run, a
 * path code is loaded from, or options of an interpreter or loader.
 */
export const FINGERPRINT_EXACT: readonly string[] = Object.freeze([
  'PATH',
  'NODE_OPTIONS',
  'NODE_PATH',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONSTARTUP',
  'PYTHONUSERBASE',
  'RUBYOPT',
  'RUBYLIB',
  'GEM_HOME',
  'GEM_PATH',
  'BUNDLE_GEMFILE',
  'PERL5OPT',
  'PERL5LIB',
  'PERLLIB',
  'BASH_ENV',
  'ENV',
  'ZDOTDIR',
  'SHELLOPTS',
  'BASHOPTS',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'GIT_EXEC_PATH',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_ASKPASS',
  'GIT_TEMPLATE_DIR',
  // Programs git, ssh and editors-by-convention run on the command's behalf.
  'GIT_PROXY_COMMAND',
  'GIT_EXTERNAL_DIFF',
  'GIT_PAGER',
  'GIT_EDITOR',
  'GIT_SEQUENCE_EDITOR',
  'PAGER',
  'EDITOR',
  'VISUAL',
  'SSH_ASKPASS',
  'GOFLAGS',
  'GOTOOLCHAIN',
  'RUSTC',
  'RUSTC_WRAPPER',
  'RUSTC_WORKSPACE_WRAPPER',
]);

/** Variables whose name starts with one of these are part of the fingerprint. */
export const FINGERPRINT_PREFIXES: readonly string[] = Object.freeze(['LD_', 'DYLD_', 'GIT_CONFIG']);

/** Like FINGERPRINT_PREFIXES, in any letter case (npm reads `npm_config_*` so: script_shell, node_options, …). */
export const FINGERPRINT_PREFIXES_ANY_CASE: readonly string[] = Object.freeze(['npm_config_']);

const EXACT = new Set(FINGERPRINT_EXACT);

/** True when a variable of the caller's environment takes part in the fingerprint (whatever the mode). */
export function isFingerprinted(name: string): boolean {
  if (EXACT.has(name) || FINGERPRINT_PREFIXES.some((prefix) => name.startsWith(prefix))) return true;
  const lower = name.toLowerCase();
  return FINGERPRINT_PREFIXES_ANY_CASE.some((prefix) => lower.startsWith(prefix));
}

export interface FingerprintInput {
  /** The caller's environment (the CLI's process.env). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly pristine: boolean;
  /** With --pristine: the names the child inherits (request/build.ts PRISTINE_ENV_NAMES). */
  readonly pristineNames: readonly string[];
  /** Variables the approved secrets replace (ApprovalRequest.overriddenAliases). */
  readonly overriddenAliases: readonly string[];
  /** Plain env-file entries, [name, value], in file order (a later duplicate wins, as in the child). */
  readonly plain: ReadonlyArray<readonly [string, string]>;
}

/**
 * 'env-v1:' + SHA-256 hex over the sorted name/value pairs of the variables that take part,
 * plus the effective plain env-file entries. An unset variable and an empty one differ.
 */
export function environmentFingerprint(input: FingerprintInput): string {
  const names = new Set<string>();
  for (const name of Object.keys(input.env)) {
    if (isFingerprinted(name)) names.add(name);
  }
  if (input.pristine) for (const name of input.pristineNames) names.add(name);
  for (const name of input.overriddenAliases) names.add(name);

  const env: Array<[string, string]> = [];
  for (const name of [...names].sort(compare)) {
    const value = Object.hasOwn(input.env, name) ? input.env[name] : undefined;
    if (value !== undefined) env.push([name, value]);
  }
  const plainMap = new Map<string, string>();
  for (const [name, value] of input.plain) plainMap.set(name, value);
  const plain = [...plainMap.entries()].sort((a, b) => compare(a[0], b[0]));

  return `env-v1:${sha256(JSON.stringify({ pristine: input.pristine, env, plain }))}`;
}

/** The fingerprint of the caller's environment for a planned exec (CLI and fast path alike). */
export function planFingerprint(env: FingerprintInput['env'], plan: { request: Pick<ApprovalRequest, 'pristine' | 'overriddenAliases'>; plain: ReadonlyArray<{ key: string; value: string }> }): string {
  return environmentFingerprint({
    env,
    pristine: plan.request.pristine,
    pristineNames: PRISTINE_ENV_NAMES,
    overriddenAliases: plan.request.overriddenAliases,
    plain: plan.plain.map((p) => [p.key, p.value] as const),
  });
}

/**
 * 'reuse-v1:' + SHA-256 hex over a canonical JSON of everything the human approved (see the
 * file header). Secret order does not matter; who asked (pid, chain), the profile name, the
 * config path, warnings and plain env names do not take part (the plain entries do, through
 * the fingerprint).
 */
export function reuseKey(request: ApprovalRequest, fingerprint: string): string {
  const id = request.executableIdentity;
  const secrets = request.secrets
    .map((s) => [s.alias, s.ref, s.account] as const)
    .sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]) || compare(accountOrder(a[2]), accountOrder(b[2])));
  // An array with a fixed field order: the same request always gives the same bytes.
  const canonical = [
    ['reason', request.reason],
    ['command', [...request.command]],
    ['executable', request.executable],
    ['identity', [id.dev, id.ino, id.size, id.mtimeMs, id.ctimeMs, id.mode, id.uid]],
    ['cwd', request.cwd],
    ['secrets', secrets],
    ['ttl_seconds', request.ttlSeconds],
    ['override_env', request.overrideEnv],
    ['overridden_aliases', [...new Set(request.overriddenAliases)].sort(compare)],
    ['allow_mutable_executable', request.allowMutableExecutable],
    ['pristine', request.pristine],
    ['mask', request.mask],
    // The files argv names (`bash ./deploy.sh`): a rewritten script is a new request.
    ['scripts', request.scripts.map((s) => [s.path, s.dev, s.ino, s.size, s.mtimeMs, s.ctimeMs, s.sha256])],
    ['fingerprint', fingerprint],
  ];
  return `reuse-v1:${sha256(JSON.stringify(canonical))}`;
}

// null (op's default account) sorts before every named account.
function accountOrder(account: string | null): string {
  return account === null ? '0' : `1${account}`;
}

// Code-unit order, independent of the locale.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
