// The approval vocabulary: the prompt an approver is shown (the request's wire shape plus an
// id, expiry and queue length), the Decision it returns as a value, and the Approver contract.
// Every string in a prompt is agent-controlled; a Decision never carries a secret or approver output.

import type { WireRequest } from '../request/types.js';

/** What the human (or the approver program) decided. Deny reasons are value-free, for audit and diagnostics. */
export type Decision =
  | { kind: 'approve'; reuse?: { ttlSeconds: number; maxUses: number } }
  | { kind: 'deny'; reason: string }
  | { kind: 'timeout' };

/** The request as shown to an approver; also the JSON written to an approver program's stdin. */
export interface ApprovalPrompt extends WireRequest {
  version: 1;
  id: string;
  operation: 'exec';
  /** ISO 8601. */
  expires_at: string;
  queue: { waiting: number };
}

export interface DecideOptions {
  /** Epoch ms; no answer by then is a timeout. */
  deadline: number;
  signal?: AbortSignal;
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

/** Value-free deny reasons shared by the approvers. */
export const DENY_REASONS = {
  user: 'denied by user',
  malformed: 'malformed approver output',
  wrongId: 'wrong id',
  tooLarge: 'approver output too large',
  notStarted: 'approver could not be started',
  cancelled: 'cancelled',
  touchId: 'touch id not confirmed',
  noTerminal: 'no terminal for the tty approver',
  terminalClosed: 'terminal closed before an answer',
} as const;
