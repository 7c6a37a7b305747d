// The approval vocabulary: the prompt an approver is shown (the request's wire shape plus an
// id, expiry and queue length), the Decision it returns as a value, and the Approver contract.
// Every string in a prompt is agent-controlled; a Decision never carries a secret or approver output.

import type { WireRequest } from '../request/codec.js';

/** How long and how often an approval may serve the same exact request again (exec only). */
export interface ReuseGrant {
  /** Counted from the approval; 1 .. the request ttl. */
  ttlSeconds: number;
  /** Deliveries in total, the first one included; 1..20 from the interactive approvers. */
  maxUses: number;
}

/**
 * What the human decided, or that the approver broke before anyone could (`failed`: a crash, a
 * non-zero exit, a malformed answer). Reasons are value-free, for the error line and the audit.
 */
export type Decision = { kind: 'approve'; reuse?: ReuseGrant; scope?: AnswerScope } | { kind: 'deny'; reason: string; scope?: AnswerScope } | { kind: 'failed'; reason: string } | { kind: 'timeout' };

/**
 * `all`: the human answered this prompt and every identical request waiting behind it (at most
 * the prompt's `identical_waiting`) at once; each is then approved once or denied. Absent: this
 * prompt only. Never with `reuse`.
 */
export type AnswerScope = 'all';

/**
 * What an approval unlocks: running a command with secrets, reading an item's field names, or a
 * session; `approver_test` unlocks nothing (`agent-secret approver test`: the answer is only reported).
 */
export type PromptOperation = 'exec' | 'item_describe' | 'session_create' | 'approver_test';

/** The session a `session_create` prompt asks for. */
export interface PromptSession {
  /** Reads the session allows in total. */
  max_reads: number;
  /** How long the session lives after the approval. */
  ttl_seconds: number;
  /** The process the token is bound to, as a person reads it: `zsh (pid 123, /bin/zsh)`. */
  binding: string;
}

/** The request as shown to an approver; also the JSON written to an approver program's stdin. */
export interface ApprovalPrompt extends WireRequest {
  version: 1;
  id: string;
  operation: PromptOperation;
  /** True only for exec: the approver may offer "allow this exact request again for a while". */
  allows_reusable: boolean;
  /** Present only for session_create. */
  session?: PromptSession;
  /** ISO 8601. */
  expires_at: string;
  queue: { waiting: number };
  /**
   * Queued requests identical to this one (what a reusable approval's key covers: everything the
   * human sees except who asked), which an answer with scope `all` also answers; 0 when none.
   */
  identical_waiting: number;
}

export interface DecideOptions {
  /** Epoch ms; no answer by then is a timeout. */
  deadline: number;
  signal?: AbortSignal;
  /** Called (at most once) when the approver must wait for the human to start something (the console approver). */
  onWaiting?: (message: string) => void;
}

/** Something that can ask a human about one prompt. */
export interface Approver {
  readonly name: string;
  decide(prompt: ApprovalPrompt, opts: DecideOptions): Promise<Decision>;
}

/** The host facts approver selection depends on. */
export interface HostInfo {
  platform: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
}

/** Value-free deny and failure reasons shared by the approvers. */
export const DENY_REASONS = {
  user: 'denied by user',
  malformed: 'malformed approver output',
  tooLarge: 'approver output too large',
  notStarted: 'approver could not be started',
  cancelled: 'cancelled',
  touchId: 'touch id not confirmed',
  noTerminal: 'no terminal for the tty approver',
  terminalClosed: 'terminal closed before an answer',
} as const;
