// The `console` approver: the human answers in `agent-secret approve`, a console they run in
// their own terminal (headless hosts, SSH sessions). The approver itself only knows a channel
// that shows a prompt on the attached console and brings back its answer; the daemon's broker
// provides it (broker/console-hub.ts). An answer is checked exactly like an approver program's
// (decision.ts): anything but a valid answer for this prompt is a failure of the approver.

import { MALFORMED_PROGRAM_ANSWER, parseProgramAnswer } from './decision.js';
import type { ApprovalPrompt, Approver, DecideOptions, Decision } from './types.js';

/** Prefix of every reason a malformed console answer gets. */
export const MALFORMED_CONSOLE_ANSWER = 'the approval console answered something malformed';

/** What the human is told, once per request, while no console is attached. */
export const CONSOLE_WAITING_MESSAGE = 'waiting for the approval console: the human runs `agent-secret approve` in a terminal to answer this request';

/** Where the console approver asks: the daemon's one attached console. */
export interface ConsoleChannel {
  /**
   * Shows the prompt on the attached console (waiting for one within the deadline; `onWaiting`
   * is called once when none is attached) and resolves with the checked answer, or null when
   * the deadline passed or the signal aborted first.
   */
  ask(prompt: ApprovalPrompt, opts: DecideOptions & { onWaiting?: (message: string) => void }): Promise<Decision | null>;
}

/** The console approver over a channel. */
export function createConsoleApprover(channel: ConsoleChannel): Approver {
  return {
    name: 'console',
    async decide(prompt, opts) {
      const decision = await channel.ask(prompt, opts);
      return decision ?? { kind: 'timeout' };
    },
  };
}

/** Checks a console's answer body for this prompt, as a program's answer is checked. Pure. */
export function parseConsoleAnswer(body: unknown, prompt: Pick<ApprovalPrompt, 'id' | 'ttl_seconds' | 'allows_reusable'>): Decision {
  const decision = parseProgramAnswer(JSON.stringify(body) ?? '', prompt);
  if (decision.kind !== 'failed') return decision;
  return { kind: 'failed', reason: decision.reason.replace(MALFORMED_PROGRAM_ANSWER, MALFORMED_CONSOLE_ANSWER) };
}
