// The approval console's side of the daemon socket (`agent-secret approve`): attach as the one
// console (starting the daemon if needed), then turn the daemon's frames into events (a prompt
// to show, a prompt withdrawn, a notice, the outcome of an answer) and send the human's answers.
// The prompt's strings are agent-controlled: the command renders them with approval/display.ts.

import { AgentSecretError } from '../core/errors.js';
import type { DirsInput } from '../platform/dirs.js';
import { ConsoleAnswerOkBodySchema } from '../protocol/messages.js';
import type { ApprovalPrompt } from '../approval/index.js';
import { openConversation, type ClientConversation } from './daemon.js';
import { protocolError } from './conversation.js';

export type ConsoleEvent =
  | { kind: 'prompt'; prompt: ApprovalPrompt }
  | { kind: 'withdrawn'; id: string; why: string }
  | { kind: 'notice'; message: string }
  | { kind: 'answered'; id: string | null; outcome: 'approved' | 'denied' | 'failed' | 'stale'; reason?: string };

/** What the daemon sends back as the human's answer: the approver-program answer shape. */
export interface ConsoleAnswer {
  id: string;
  decision: 'approve' | 'deny';
  reuse?: { ttl_seconds: number; max_uses: number };
  /** The same answer for the identical requests the prompt counted (each allowed once, or all denied). */
  scope?: 'all';
}

export interface AttachedConsole {
  /** The daemon's pid and how many requests were waiting when the console attached. */
  readonly daemonPid: number | null;
  readonly waiting: number;
  /** The next event; rejects with daemon.unavailable when the daemon stops or goes away. */
  next(): Promise<ConsoleEvent>;
  answer(answer: ConsoleAnswer): Promise<void>;
  close(): void;
}

/** Attaches as the approval console; refused (approval.unavailable) when another is attached. */
export async function attachConsole(opts: { dirs: DirsInput; env: Record<string, string | undefined>; body: Record<string, unknown> }): Promise<AttachedConsole> {
  const conv = await openConversation({ dirs: opts.dirs, env: opts.env, autoStart: true, firstType: 'console.attach', firstBody: opts.body });
  let first;
  try {
    first = await conv.receive({ timeoutMs: 10_000 });
    if (first.type !== 'console.attached') throw protocolError('the daemon did not answer console.attach');
  } catch (error) {
    conv.close();
    throw error;
  }
  const pid = first.body.pid;
  const waiting = first.body.waiting;
  return {
    daemonPid: typeof pid === 'number' && Number.isSafeInteger(pid) ? pid : null,
    waiting: typeof waiting === 'number' && Number.isSafeInteger(waiting) && waiting >= 0 ? waiting : 0,
    next: () => nextEvent(conv),
    answer: (answer) => conv.send('console.answer', { ...answer }),
    close: () => conv.close(),
  };
}

async function nextEvent(conv: ClientConversation): Promise<ConsoleEvent> {
  const frame = await conv.receive();
  const body = frame.body;
  switch (frame.type) {
    case 'console.prompt':
      if (!isPrompt(body.prompt)) throw unreadable();
      return { kind: 'prompt', prompt: body.prompt };
    case 'console.withdrawn':
      if (typeof body.id !== 'string') throw unreadable();
      return { kind: 'withdrawn', id: body.id, why: body.why === 'cancelled' ? 'cancelled' : 'expired' };
    case 'console.notice':
      return { kind: 'notice', message: typeof body.message === 'string' ? body.message : '' };
    case 'console.answer.ok': {
      const parsed = ConsoleAnswerOkBodySchema.safeParse(body);
      if (!parsed.success) throw unreadable();
      const { id, outcome, reason } = parsed.data;
      return reason === undefined ? { kind: 'answered', id, outcome } : { kind: 'answered', id, outcome, reason };
    }
    default:
      throw unreadable();
  }
}

// The daemon builds the prompt; the display escapes every string in it. Here only the fields the
// console itself reads are checked, so a malformed one is refused rather than half-shown.
function isPrompt(value: unknown): value is ApprovalPrompt {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return typeof p.id === 'string' && typeof p.operation === 'string' && typeof p.allows_reusable === 'boolean' && typeof p.ttl_seconds === 'number' && Array.isArray(p.command) && Array.isArray(p.secrets) && typeof p.expires_at === 'string';
}

function unreadable(): AgentSecretError {
  return new AgentSecretError('daemon.protocol', 'the agent-secret daemon sent the approval console something it cannot read', {
    hint: 'agent-secret and its daemon may be of different versions; run agent-secret daemon stop and retry',
  });
}
