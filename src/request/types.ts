// The approval request: what the human is shown, what the audit log records, and the only
// list of references the provider may resolve. It holds names and references, never values.
// Built once by request/build.ts, frozen, and passed one way: approval → provider → exec → audit.

import type { DeliveryKind, FileDelivery } from '../core/delivery.js';

export type { DeliveryKind, FileDelivery, FileMode } from '../core/delivery.js';

/** Where a secret came from in the command line. */
export type SecretSource = 'profile' | 'flag' | 'env_file';

export interface SecretSpec {
  /** Environment variable name the child receives. */
  readonly alias: string;
  /** The reference, as written (`op://…`, `bws://…`, or a provider program's scheme). */
  readonly ref: string;
  /** The provider that resolves it: the reference's scheme (`op`, `bws`, or a declared program's). */
  readonly provider: string;
  /** The logical name of the user config's `names:` the profile asked for (its reference is `ref`); unset otherwise. */
  readonly name?: string;
  /**
   * The identity it is resolved as (core/ref.ts identityOf): the 1Password account (`null`: op's
   * default account), the bws source (`null`: the default source), or a provider program's
   * account (`null`: none given).
   */
  readonly account: string | null;
  readonly source: SecretSource;
  /** env: the variable holds the value; file: it holds the path of a private file with the value. */
  readonly delivery: DeliveryKind;
  /** How the file is laid out; set exactly when delivery is file. */
  readonly file: FileDelivery | null;
}

/**
 * A template file (`--template NAME=PATH`, a profile's `templates:`): text with
 * `{{ op://… }}` placeholders, rendered after approval into a file delivered like a file
 * secret. The approved text travels with the request, so what is rendered is what was hashed.
 */
export interface TemplateSpec {
  /** Environment variable name the child receives (the rendered file's path). */
  readonly alias: string;
  /** Absolute path the template was read from. */
  readonly path: string;
  /** SHA-256 hex of the template's bytes: an edited template is a new request. */
  readonly sha256: string;
  /** The template text as read (references and literal text, never a value). */
  readonly text: string;
  /** The distinct references the template uses, in first-use order. */
  readonly refs: readonly string[];
  /** 1Password account of every reference; `null` means op's default account. */
  readonly account: string | null;
  readonly source: 'profile' | 'flag';
  readonly file: FileDelivery;
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
  /** Sorted: profile secrets by alias, then --secret and --file in order, then env-file secrets by alias. */
  readonly secrets: readonly SecretSpec[];
  /** Rendered files: profile templates by alias, then --template in order. */
  readonly templates: readonly TemplateSpec[];
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
