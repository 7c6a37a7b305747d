// Builds the ApprovalPrompt from the request's wire shape: a fresh copy (the request stays
// frozen and untouched), with the operation, the approval id, the expiry and the queue length
// added. Pure; the strings stay exactly as the agent sent them — escaping is display.ts's job.

import type { WireRequest } from '../request/types.js';
import type { ApprovalPrompt, PromptOperation, PromptSession } from './types.js';

export interface BuildPromptOptions {
  id: string;
  expiresAt: Date;
  waiting?: number;
  /** Default `exec`. Only exec prompts allow a reusable approval. */
  operation?: PromptOperation;
  /** Kept only on `session_create` (which should always have one: without it the prompt says the details are missing). */
  session?: PromptSession;
}

/** Builds the prompt in the documented key order. Pure. */
export function buildPrompt(wire: WireRequest, opts: BuildPromptOptions): ApprovalPrompt {
  const operation = opts.operation ?? 'exec';
  return {
    version: 1,
    id: opts.id,
    operation,
    allows_reusable: operation === 'exec',
    reason: wire.reason,
    command: [...wire.command],
    executable: wire.executable,
    cwd: wire.cwd,
    secrets: wire.secrets.map((s) => ({ alias: s.alias, ref: s.ref, account: s.account })),
    ttl_seconds: wire.ttl_seconds,
    override_env: wire.override_env,
    overridden_aliases: [...wire.overridden_aliases],
    allow_mutable_executable: wire.allow_mutable_executable,
    pristine: wire.pristine,
    mask: wire.mask,
    warnings: [...wire.warnings],
    requester: { pid: wire.requester.pid, chain: wire.requester.chain.map((p) => ({ pid: p.pid, name: p.name })) },
    profile: wire.profile,
    config_path: wire.config_path,
    ...(operation === 'session_create' && opts.session !== undefined
      ? { session: { max_reads: opts.session.max_reads, ttl_seconds: opts.session.ttl_seconds, binding: opts.session.binding } }
      : {}),
    expires_at: opts.expiresAt.toISOString(),
    queue: { waiting: opts.waiting ?? 0 },
  };
}
