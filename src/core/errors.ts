// The one error type agent-secret raises on purpose, its closed set of codes, and the one
// exit-code table. Nothing else in the codebase picks an exit number. Messages and details
// carry names (file, key, alias, ref, account), never a secret value or a line of input.

/** Exit codes, published in the README and in `agent-context --json`. */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  denied: 10,
  timeout: 11,
  no_approver: 12,
  provider: 13,
  no_reuse: 14,
  daemon: 15,
  audit: 16,
  approver_failed: 17,
} as const;

export type ExitKind = keyof typeof EXIT_CODES;

/** What each exit code means, in the order the README lists them. */
export const EXIT_CODE_TABLE: ReadonlyArray<{ code: number; kind: ExitKind | 'child'; meaning: string }> = [
  { code: 0, kind: 'ok', meaning: 'success (commands other than exec)' },
  { code: 1, kind: 'failure', meaning: 'runtime failure not listed below, or an internal error' },
  { code: 2, kind: 'usage', meaning: 'usage or validation error: flags, argv separator, config, env file, refs, ttl, reason, cwd, executable, variable collision' },
  { code: 10, kind: 'denied', meaning: 'the human denied the request (Deny in a dialog or the terminal, or a well-formed "deny" from the approver program)' },
  { code: 11, kind: 'timeout', meaning: 'nobody answered the prompt before the request ttl ran out' },
  { code: 12, kind: 'no_approver', meaning: 'no approver is configured or available' },
  { code: 13, kind: 'provider', meaning: 'a secret provider failed (op, bws or a provider program): missing, signed out, no token, or a reference did not resolve; nothing was delivered' },
  { code: 14, kind: 'no_reuse', meaning: '--reuse-only found no reusable approval' },
  { code: 15, kind: 'daemon', meaning: 'the agent-secret daemon was unavailable or broke the protocol' },
  { code: 16, kind: 'audit', meaning: 'the audit log could not be written; nothing was delivered' },
  { code: 17, kind: 'approver_failed', meaning: 'the approver broke: it crashed, exited non-zero, or answered something malformed; nobody decided' },
  { code: -1, kind: 'child', meaning: "exec: the child's own exit code; a child killed by signal N gives 128+N" },
];

const CODE_KINDS = {
  'usage.invalid': 'usage',
  'usage.missing_separator': 'usage',
  'config.not_found': 'usage',
  'config.invalid': 'usage',
  'config.unreadable': 'usage',
  'env_file.invalid': 'usage',
  'profile.not_found': 'usage',
  'ref.invalid': 'usage',
  'alias.invalid': 'usage',
  'ttl.invalid': 'usage',
  'reason.invalid': 'usage',
  'account.invalid': 'usage',
  'cwd.invalid': 'usage',
  'exec.not_found': 'usage',
  'exec.env_conflict': 'usage',
  'exec.mutable_executable': 'usage',
  'user_config.invalid': 'usage',
  'exec.identity_changed': 'failure',
  'exec.spawn_failed': 'failure',
  'approval.denied': 'denied',
  'approval.failed': 'approver_failed',
  'approval.timeout': 'timeout',
  'approval.unavailable': 'no_approver',
  'provider.missing': 'provider',
  'provider.signed_out': 'provider',
  'provider.failed': 'provider',
  'reuse.none': 'no_reuse',
  'daemon.unavailable': 'daemon',
  'daemon.protocol': 'daemon',
  'audit.unwritable': 'audit',
  'check.failed': 'failure',
  'install.failed': 'failure',
  internal: 'failure',
} as const satisfies Record<string, ExitKind>;

export type ErrorCode = keyof typeof CODE_KINDS;

/** Every error code with its exit code, for `agent-context --json`. */
export function listErrorCodes(): Array<{ code: ErrorCode; exit_code: number }> {
  return (Object.keys(CODE_KINDS) as ErrorCode[]).map((code) => ({ code, exit_code: exitCodeFor(code) }));
}

export function exitCodeFor(code: ErrorCode): number {
  return EXIT_CODES[CODE_KINDS[code]];
}

/** Structured, value-free context: where the problem is. */
export interface ErrorDetails {
  file?: string;
  line?: number;
  col?: number;
  key?: string;
  alias?: string;
  ref?: string;
  account?: string;
  /** The provider (reference scheme) a failure concerns. */
  provider?: string;
  profile?: string;
  flag?: string;
}

export interface AgentSecretErrorOptions {
  hint?: string;
  details?: ErrorDetails;
  cause?: unknown;
}

export class AgentSecretError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: AgentSecretErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentSecretError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  get exitCode(): number {
    return exitCodeFor(this.code);
  }
}

export function isAgentSecretError(error: unknown): error is AgentSecretError {
  return error instanceof AgentSecretError;
}

/** Formats a position prefix such as `agent-secret.yml:4:7` (omitting what is unknown). */
export function formatLocation(details: ErrorDetails): string {
  if (details.file === undefined) return '';
  if (details.line === undefined) return details.file;
  return details.col === undefined ? `${details.file}:${details.line}` : `${details.file}:${details.line}:${details.col}`;
}
