// What a secret provider is to the rest of agent-secret: the owner of one reference scheme that
// checks its references, says which identity (account, source) each belongs to, is made ready
// before anyone is asked (so the human never approves in vain), resolves an approved batch all
// or nothing, and reports its own doctor checks. The broker sees only this interface
// (registry.ts); 1Password (op/), Bitwarden Secrets Manager (bws/) and provider programs
// (program/) implement it. Values leave a provider only as SecretValue.

import type { SecretValue } from '../core/secret-value.js';
import type { SecretSpec } from '../request/types.js';

/** The facts a provider works with: the broker's environment and platform. */
export interface ProviderHost {
  /** The broker's environment (the daemon's, or the CLI's for the tty approver). */
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  uid: number;
}

/** One resolution: the request it serves and how long it may take. */
export interface ResolveOptions {
  requestId: string;
  /** Epoch ms: the request's deadline. */
  deadline: number;
  /** Time left for the whole resolution, in ms. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** A provider made ready for one request: it found its program, checked its configuration. */
export interface Resolver {
  /**
   * Resolves exactly these specs (all of this provider's scheme): a value per alias, or a
   * value-free AgentSecretError naming the alias and reference. All or nothing.
   */
  resolve(specs: readonly SecretSpec[], opts: ResolveOptions): Promise<Map<string, SecretValue>>;
}

/** One line of `agent-secret doctor`: what was checked, how it went, and the fix when it failed. */
export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  hint: string | null;
}

export interface Provider {
  /** The reference scheme it owns: `op`, `bws`, or a provider program's. */
  readonly scheme: string;
  /** Its name in messages: `1Password (op)`, `Bitwarden Secrets Manager (bws)`, `provider program vault`. */
  readonly label: string;
  /** What an identity of its references is: a 1Password account, a bws source, a program's account. */
  readonly identity: 'account' | 'source';
  /** Checks one reference the way the store's own CLI would; a message says what is wrong, without the reference. */
  parse(ref: string): { ok: true } | { ok: false; message: string };
  /**
   * Before anyone is asked: can these specs be resolved at all (the program is there, each
   * identity is configured)? Throws a value-free AgentSecretError naming what is missing.
   */
  prepare(specs: readonly SecretSpec[]): Promise<Resolver>;
  /** Its doctor checks, without prompting anyone and without reading a value. */
  doctor(): Promise<DoctorCheck[]>;
}
