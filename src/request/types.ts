// The approval request: what the human is shown, what the audit log records, and the only
// list of references the provider may resolve. It holds names and references, never values.
// Built once by request/build.ts, frozen, and passed one way: approval → provider → exec → audit.

/** Where a secret came from in the command line. */
export type SecretSource = 'profile' | 'flag' | 'env_file';

export interface SecretSpec {
  /** Environment variable name the child receives. */
  readonly alias: string;
  /** The reference, as written (`op://…`, `bws://…`, or a provider program's scheme). */
  readonly ref: string;
  /** The provider that resolves it: the reference's scheme (`op`, `bws`, or a declared program's). */
  readonly provider: string;
  /**
   * The identity it is resolved as (core/ref.ts identityOf): the 1Password account (`null`: op's
   * default account), the bws source (`null`: the default source), or a provider program's
   * account (`null`: none given).
   */
  readonly account: string | null;
  readonly source: SecretSource;
}

/** File identity of the approved executable; re-checked just before spawn. */
export interface ExecutableIdentity {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  /** Changes on any rewrite or chmod, even when mtime is put back with utimes. */
  readonly ctimeMs: number;
  readonly mode: number;
  readonly uid: number;
}

/**
 * A regular file an argv operand names (`bash ./deploy.sh`): what the command really runs is
 * part of the request and the reuse key, and is re-checked just before spawn (exec/script-identity.ts).
 */
export interface ScriptIdentity {
  /** Absolute: the operand resolved against the cwd (symlinks kept, as the child will open it). */
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  /** SHA-256 hex of the content; null for a file too large to hash (pinned by identity only). */
  readonly sha256: string | null;
}

import type { ProcessInfo } from '../platform/process-tree.js';

export type { ProcessInfo };

/** Who asked: this agent-secret process and its ancestors, nearest first. */
export interface Requester {
  readonly pid: number;
  readonly chain: readonly ProcessInfo[];
}

export interface ApprovalRequest {
  readonly reason: string;
  /** argv exactly as given after `--`. */
  readonly command: readonly string[];
  /** Absolute, symlink-free path of the program that will run. */
  readonly executable: string;
  readonly executableIdentity: ExecutableIdentity;
  /** Absolute, symlink-free working directory of the child. */
  readonly cwd: string;
  /** Sorted: profile secrets by alias, then --secret in order, then env-file secrets by alias. */
  readonly secrets: readonly SecretSpec[];
  readonly ttlSeconds: number;
  readonly overrideEnv: boolean;
  /** The human is asked to run an executable that someone other than root could replace. */
  readonly allowMutableExecutable: boolean;
  /** The child starts from a minimal environment (PRISTINE_ENV_NAMES) instead of the caller's. */
  readonly pristine: boolean;
  /**
   * The child's output goes through the masker (exec). False with --no-mask, a profile's
   * `mask: false`, or output to a terminal: the human is told, and it is part of the reuse key.
   * Always true for requests that run no command on approval (session create, item describe).
   */
  readonly mask: boolean;
  /** Aliases that replace a variable already in the child's environment (sorted). */
  readonly overriddenAliases: readonly string[];
  readonly warnings: readonly string[];
  readonly requester: Requester;
  /** Selected profile name, when one was used. */
  readonly profile: string | null;
  /** Config file the profile came from, when one was used. */
  readonly configPath: string | null;
  /** Names (never values) of plain entries from --env-file. */
  readonly plainEnvNames: readonly string[];
  /** Files the argv operands name, in argv order (at most SCRIPT_LIMITS.maxFiles). */
  readonly scripts: readonly ScriptIdentity[];
}
