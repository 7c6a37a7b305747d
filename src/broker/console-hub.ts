// The daemon's one approval console (`agent-secret approve`): at most one attached at a time.
// It is the ConsoleChannel the `console` approver asks through: the prompt holding the turn is
// sent to the attached console (again to a console that attaches later, if the first one left),
// and the console's answer, checked like an approver program's, settles it. A request with no
// console attached waits within its own deadline; the caller is told once what to run. Pure
// apart from the injected clock; the link's `send` is the console's conversation.

import { CONSOLE_WAITING_MESSAGE, parseConsoleAnswer, type ApprovalPrompt, type ConsoleChannel, type DecideOptions, type Decision } from '../approval/index.js';

/** The attached console, as the hub sees it. */
export interface ConsoleLink {
  /** The `agent-secret approve` process, for the messages about it. */
  readonly pid: number;
  send(type: string, body: Record<string, unknown>): Promise<void>;
}

/** What an answer frame did: settled the prompt (with the check's outcome), or came too late. */
export type AnswerOutcome = { id: string; outcome: 'approved' | 'denied' | 'failed'; reason?: string } | { id: string | null; outcome: 'stale' };

export interface ConsoleHub extends ConsoleChannel {
  /** Attaches `link`; false (nothing changes) when another console is attached. */
  attach(link: ConsoleLink): boolean;
  /** Detaches `link` if it is the attached one; a prompt it was showing waits for the next console. */
  detach(link: ConsoleLink): void;
  /** The attached console, or null. */
  attached(): ConsoleLink | null;
  /** An answer from `link`: settles the prompt it was shown, or is stale. */
  answer(link: ConsoleLink, body: Record<string, unknown>): AnswerOutcome;
}

/** Ids of withdrawn prompts remembered, so a late answer to one is stale, not a malformed answer to the next. */
const WITHDRAWN_KEPT = 32;

interface Asking {
  prompt: ApprovalPrompt;
  /** The console the prompt was last sent to. */
  shownOn: ConsoleLink | null;
  decision: Decision | null;
}

export function createConsoleHub(opts: { now?: () => number } = {}): ConsoleHub {
  const now = opts.now ?? Date.now;
  let link: ConsoleLink | null = null;
  let asking: Asking | null = null;
  const withdrawn: string[] = [];
  // Whoever waits for a change (attach, detach, answer) is woken to look again.
  let wakers = new Set<() => void>();
  const changed = () => {
    const woken = wakers;
    wakers = new Set();
    for (const wake of woken) wake();
  };

  function waitForChange(deadline: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, deadline - now()));
      signal?.addEventListener('abort', done, { once: true });
      wakers.add(done);
    });
  }

  function withdraw(current: Asking, why: 'expired' | 'cancelled'): void {
    withdrawn.push(current.prompt.id);
    if (withdrawn.length > WITHDRAWN_KEPT) withdrawn.shift();
    if (current.shownOn !== null && current.shownOn === link) current.shownOn.send('console.withdrawn', { id: current.prompt.id, why }).catch(() => undefined);
  }

  async function ask(prompt: ApprovalPrompt, options: DecideOptions): Promise<Decision | null> {
    const current: Asking = { prompt, shownOn: null, decision: null };
    // The queue gives one prompt the turn at a time; a second ask replaces the first's display only.
    asking = current;
    let told = false;
    try {
      for (;;) {
        if (current.decision !== null) return current.decision;
        if (options.signal?.aborted === true || now() >= options.deadline) {
          withdraw(current, options.signal?.aborted === true ? 'cancelled' : 'expired');
          return null;
        }
        if (link === null && !told) {
          told = true;
          options.onWaiting?.(CONSOLE_WAITING_MESSAGE);
        }
        if (link !== null && current.shownOn !== link) {
          current.shownOn = link;
          link.send('console.prompt', { prompt: { ...prompt } }).catch(() => undefined);
        }
        await waitForChange(options.deadline, options.signal);
      }
    } finally {
      if (asking === current) asking = null;
    }
  }

  return {
    ask,
    attach(candidate) {
      if (link !== null) return false;
      link = candidate;
      changed();
      return true;
    },
    detach(candidate) {
      if (link !== candidate) return;
      link = null;
      changed();
    },
    attached: () => link,
    answer(from, body) {
      const id = typeof body.id === 'string' ? body.id : null;
      const current = asking;
      // Only the console that was shown the prompt answers it; a late answer to a withdrawn prompt is stale.
      if (current === null || current.shownOn !== from || current.decision !== null || (id !== null && withdrawn.includes(id))) return { id, outcome: 'stale' };
      const decision = parseConsoleAnswer(body, current.prompt);
      current.decision = decision;
      changed();
      const promptId = current.prompt.id;
      if (decision.kind === 'approve') return { id: promptId, outcome: 'approved' };
      if (decision.kind === 'deny') return { id: promptId, outcome: 'denied' };
      return { id: promptId, outcome: 'failed', reason: decision.kind === 'failed' ? decision.reason : 'no decision' };
    },
  };
}
