// Builds the ApprovalPrompt from the request's wire shape: a fresh copy (the request stays
// frozen and untouched), with the operation, the approval id, the expiry, the queue length and
// the count of identical requests waiting added. Pure; the strings stay exactly as the agent
// sent them — escaping is display.ts's job.

import type { WireRequest } from '../request/codec.js';
import type { ApprovalPrompt, PromptOperation, PromptSession } from './types.js';

export interface BuildPromptOptions {
  id: string;
  expiresAt: Date;
  waiting?: number;
  /** Queued requests identical to this one (default 0). */
  identicalWaiting?: number;
  /** Default `exec`. Only exec prompts allow a reusable approval. */
  operation?: PromptOperation;
  /** Kept only on `session_create` (which should always have one: without it the prompt says the details are missing). */
  session?: PromptSession;
  /** The registered agent that sent the request, when its token was checked. */
  agent?: string | null;
}

/** Builds the prompt in the documented key order. Pure. */
export function buildPrompt(wire: WireRequest, opts: BuildPromptOptions): ApprovalPrompt {
  const operation = opts.operation ?? 'exec';
  return {
    version: 1,
    id: opts.id,
    operation,
    allows_reusable: operation === 'exec',
    // The request's fields, in the codec's order (request/codec.ts), as a copy of their own.
    ...structuredClone(wire),
    ...(operation === 'session_create' && opts.session !== undefined
      ? { session: { max_reads: opts.session.max_reads, ttl_seconds: opts.session.ttl_seconds, binding: opts.session.binding } }
      : {}),
    expires_at: opts.expiresAt.toISOString(),
    queue: { waiting: opts.waiting ?? 0 },
    identical_waiting: opts.identicalWaiting ?? 0,
    ...(typeof opts.agent === 'string' ? { agent: opts.agent } : {}),
  };
}
