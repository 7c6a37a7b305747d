// The reuse key of a reusable approval and the environment fingerprint it includes. Pure.
//
// A later request may reuse an approval only when everything the human saw is the same:
// reason, argv, the resolved executable and its file identity, cwd, the secrets with their
// references, providers and accounts (or bws sources), the ttl, the override settings and whether the output is masked (an
// approval of a masked run never serves an unmasked one). The caller's environment takes
// part through a fingerprint of the WHOLE caller environment except a short list of churn
// variables that change from one agent turn to the next without changing what runs (see
// REUSE_CHURN_NAMES), plus the plain env-file entries. So a changed HOME (a `.pth` under
// $HOME/.local), proxy, SSL_CERT_FILE, GCONV_PATH or NODE_EXTRA_CA_CERTS is a new request, while
// PWD, SHLVL or the terminal size are not. A name on the risk list (core/env-risk.ts) is never
// churn, whatever its spelling.
//
// --pristine does not narrow it: the thin client that receives the values over the socket is
// itself a Node process started with the caller's whole environment (NODE_OPTIONS, LD_PRELOAD).
//
// Both results are SHA-256 digests; neither the key nor the fingerprint carries a value in the
// clear. They live in daemon memory only and are not written to the audit log.

import { createHash } from 'node:crypto';
import { envRisk } from '../core/env-risk.js';
import type { ApprovalRequest } from '../request/types.js';

/**
 * Churn: variables left out of the fingerprint. Each changes turn to turn (working directory,
 * shell depth, terminal size and window, the last command) or per login/terminal (SSH agent
 * socket and connection, terminal multiplexer panes) and none decides which code runs or what
 * it trusts. SSH_AUTH_SOCK is churn because it changes with every SSH login; another agent
 * socket cannot read the values agent-secret delivers.
 */
export const REUSE_CHURN_NAMES: readonly string[] = Object.freeze([
  '_',
  'PWD',
  'OLDPWD',
  'SHLVL',
  'COLUMNS',
  'LINES',
  'WINDOWID',
  'TERM_SESSION_ID',
  'ITERM_SESSION_ID',
  'KITTY_WINDOW_ID',
  'WEZTERM_PANE',
  'TMUX_PANE',
  'STY',
  'WINDOW',
  'SSH_AUTH_SOCK',
  'SSH_AGENT_PID',
  'SSH_CLIENT',
  'SSH_CONNECTION',
  'SSH_TTY',
  'GPG_TTY',
  'EPOCHREALTIME',
  'EPOCHSECONDS',
  'AGENT_SECRET_REQUEST_ID',
]);

/** Names ending so are churn too: terminal and agent session ids (CLAUDE_CODE_SESSION_ID, CODEX_SESSION_ID, …). */
export const REUSE_CHURN_SUFFIXES: readonly string[] = Object.freeze(['_SESSION_ID']);

const CHURN = new Set(REUSE_CHURN_NAMES);

/** True when a variable of the caller's environment takes part in the fingerprint: every one but churn. */
export function isFingerprinted(name: string): boolean {
  if (envRisk(name) !== null) return true;
  return !CHURN.has(name) && !REUSE_CHURN_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

export interface FingerprintInput {
  /** The caller's environment (the CLI's process.env). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly pristine: boolean;
  /** Plain env-file entries, [name, value], in file order (a later duplicate wins, as in the child). */
  readonly plain: ReadonlyArray<readonly [string, string]>;
}

/**
 * 'env-v2:' + SHA-256 hex over the sorted name/value pairs of every caller variable but churn,
 * plus the effective plain env-file entries and whether the request is nested (started inside
 * an approved one). An unset variable and an empty one differ.
 */
export function environmentFingerprint(input: FingerprintInput): string {
  const env: Array<[string, string]> = [];
  for (const name of Object.keys(input.env).sort(compare)) {
    const value = input.env[name];
    if (value !== undefined && isFingerprinted(name)) env.push([name, value]);
  }
  const plainMap = new Map<string, string>();
  for (const [name, value] of input.plain) plainMap.set(name, value);
  const plain = [...plainMap.entries()].sort((a, b) => compare(a[0], b[0]));

  // The id of an enclosing request is churn, but being nested is not: the prompt warns about it,
  // so a nested request is never identical to (or served by the approval of) a top-level one.
  const nested = input.env.AGENT_SECRET_REQUEST_ID !== undefined;
  return `env-v2:${sha256(JSON.stringify({ pristine: input.pristine, nested, env, plain }))}`;
}

/** The fingerprint of the caller's environment for a planned exec (CLI and fast path alike). */
export function planFingerprint(env: FingerprintInput['env'], plan: { request: Pick<ApprovalRequest, 'pristine'>; plain: ReadonlyArray<{ key: string; value: string }> }): string {
  return environmentFingerprint({
    env,
    pristine: plan.request.pristine,
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
    .map((s) => [s.alias, s.ref, s.account, s.provider] as const)
    .sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]) || compare(accountOrder(a[2]), accountOrder(b[2])) || compare(a[3], b[3]));
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
