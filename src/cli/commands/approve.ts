// `agent-secret approve`: the approval console. The human runs it in a terminal of their own
// (a headless host, an SSH session); it attaches to the daemon as the one console of the
// `console` approver and shows each request as it comes, in the layout every approver shows
// (approval/display.ts), asking: allow once, allow again for a while (exec only, within the
// same bounds as the dialogs) or deny. It answers over the socket and runs until Ctrl-C.
// stdin must be a terminal: a speed bump against an agent piping "o" into it, not a boundary
// (any process of this user could speak the protocol itself; see docs/security.md).

import { createInterface, type Interface } from 'node:readline';
import { isatty } from 'node:tty';
import { renderPrompt, type ApprovalPrompt } from '../../approval/index.js';
import { durationLabel, offersReuse, parseTypedDuration, parseTypedUses, REUSE_LIMITS, usesLabel } from '../../approval/reuse-choice.js';
import { allowAllLabel, denyAllLabel, offersAll } from '../../approval/answer-all.js';
import { escapeText } from '../../approval/display.js';
import { AgentSecretError } from '../../core/errors.js';
import type { ConsoleAnswer, ConsoleEvent } from '../../client/console.js';
import { dirsInput, type CliContext } from '../context.js';
import type { Out } from '../render/output.js';

/** The test seam: the terminal the console reads (default process.stdin, which must be a TTY). */
export interface ApproveIo {
  input: NodeJS.ReadableStream;
  isTerminal: boolean;
}

export async function runApprove(ctx: CliContext, io: ApproveIo = { input: process.stdin, isTerminal: isatty(0) }): Promise<number> {
  if (!io.isTerminal) {
    throw new AgentSecretError('usage.invalid', 'agent-secret approve needs a terminal on stdin: it is the human\'s approval console, not a command for agents or pipes', {
      hint: 'run agent-secret approve yourself, in a terminal or SSH session of your own',
    });
  }
  const { attachConsole } = await import('../../client/console.js');
  // The daemon reads who we are (our chain) for the pid itself.
  const session = await attachConsole({ dirs: dirsInput(ctx), env: { ...ctx.env }, body: { cwd: ctx.cwd, pid: ctx.pid } });
  const out = ctx.stdout;
  out.write(`agent-secret approve: this terminal is the approval console${session.daemonPid === null ? '' : ` of the daemon (pid ${session.daemonPid})`}. Requests appear here one at a time; Ctrl-C detaches.\n`);
  out.write(session.waiting > 0 ? `${session.waiting} request${session.waiting === 1 ? '' : 's'} waiting.\n` : 'Waiting for requests…\n');

  const rl = createInterface({ input: io.input, output: process.stdout, terminal: true });
  const lines = new LineSource(rl);
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    rl.on('SIGINT', stop);
    rl.on('close', stop);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, stop);
  });
  const loop = new ConsoleLoop(out, lines, (answer) => session.answer(answer));
  try {
    const pump = (async () => {
      for (;;) loop.handle(await session.next());
    })();
    const outcome = await Promise.race([stopped.then(() => 'stopped' as const), pump]);
    if (outcome === 'stopped') out.write('\nagent-secret approve: detached; requests now wait for the next console (within their ttl).\n');
    return 0;
  } finally {
    session.close();
    rl.close();
  }
}

/** Shows one prompt at a time and asks; prompts that arrive meanwhile wait their turn here. */
class ConsoleLoop {
  readonly #out: Out;
  readonly #lines: LineSource;
  readonly #send: (answer: ConsoleAnswer) => Promise<void>;
  readonly #queue: ApprovalPrompt[] = [];
  #current: { id: string; abort: AbortController } | null = null;

  constructor(out: Out, lines: LineSource, send: (answer: ConsoleAnswer) => Promise<void>) {
    this.#out = out;
    this.#lines = lines;
    this.#send = send;
  }

  handle(event: ConsoleEvent): void {
    switch (event.kind) {
      case 'prompt':
        this.#queue.push(event.prompt);
        if (this.#current === null) void this.#next();
        return;
      case 'withdrawn': {
        const queued = this.#queue.findIndex((p) => p.id === event.id);
        if (queued >= 0) this.#queue.splice(queued, 1);
        if (this.#current?.id === event.id) {
          this.#out.write(`\n(request ${event.why === 'expired' ? 'expired' : 'was cancelled'} before an answer: nothing was approved)\n`);
          this.#current.abort.abort();
        }
        return;
      }
      case 'notice':
        this.#out.write(`\n! ${escapeText(event.message)}\n`);
        return;
      case 'answered':
        this.#out.write(answeredText(event.outcome, event.reason));
        return;
    }
  }

  async #next(): Promise<void> {
    const prompt = this.#queue.shift();
    if (prompt === undefined) return;
    const abort = new AbortController();
    this.#current = { id: prompt.id, abort };
    try {
      const answer = await askHuman(prompt, this.#out, this.#lines, abort.signal);
      if (answer !== null) await this.#send(answer).catch(() => undefined);
    } finally {
      this.#current = null;
      if (this.#queue.length > 0) void this.#next();
      else this.#out.write('Waiting for requests…\n');
    }
  }
}

function answeredText(outcome: string, reason: string | undefined): string {
  switch (outcome) {
    case 'approved':
      return 'Approved.\n';
    case 'denied':
      return 'Denied.\n';
    case 'stale':
      return 'That request was already gone: the answer was not used.\n';
    default:
      return `The daemon refused the answer (${escapeText(reason ?? 'malformed')}): the request failed, nothing was approved.\n`;
  }
}

/** Asks about one prompt; null when it was withdrawn (or the terminal closed) first. */
async function askHuman(prompt: ApprovalPrompt, out: Out, lines: LineSource, signal: AbortSignal): Promise<ConsoleAnswer | null> {
  let rendered;
  try {
    rendered = renderPrompt(prompt, { now: Date.now() });
  } catch {
    out.write('\nA request arrived that this console cannot show: denying it.\n');
    return { id: prompt.id, decision: 'deny' };
  }
  const reusable = offersReuse(prompt);
  out.write(`\n===== ${rendered.title} =====\n${rendered.lines.join('\n')}\n\n`);
  // Type-ahead from before the prompt was shown never answers it.
  lines.discard();
  const all = offersAll(prompt);
  const choices = [
    '[o] allow once',
    ...(reusable ? ['[r] allow again for a while'] : []),
    '[d] deny',
    ...(all ? [`[all] ${allowAllLabel(prompt)} (this and the identical ones waiting, each once)`, `[deny all] ${denyAllLabel(prompt)}`] : []),
  ].join('   ');
  for (;;) {
    const choice = await lines.ask(`${choices}\nanswer> `, signal);
    if (choice === null) return null;
    const key = choice.trim().toLowerCase().replace(/\s+/g, ' ');
    if (key === 'o' || key === 'once') return { id: prompt.id, decision: 'approve' };
    if (key === 'd' || key === 'deny') return { id: prompt.id, decision: 'deny' };
    if (all && key === 'all') return { id: prompt.id, decision: 'approve', scope: 'all' };
    if (all && key === 'deny all') return { id: prompt.id, decision: 'deny', scope: 'all' };
    if (reusable && (key === 'r' || key === 'reuse')) {
      const reuse = await askReuse(prompt.ttl_seconds, lines, signal);
      if (reuse === null) return null;
      if (reuse !== 'back') return { id: prompt.id, decision: 'approve', reuse };
      continue;
    }
    out.write(`Type ${[reusable ? 'o, r' : 'o', 'd', ...(all ? ['all', 'deny all'] : [])].join(', ')} and press Enter (Enter alone never approves).\n`);
  }
}

// The duration and the run count, within the bounds every approver offers; empty input takes the default.
async function askReuse(ttlSeconds: number, lines: LineSource, signal: AbortSignal): Promise<{ ttl_seconds: number; max_uses: number } | null | 'back'> {
  let seconds: number | null = null;
  while (seconds === null) {
    const text = await lines.ask(`For how long? Enter: ${durationLabel(ttlSeconds)} (the most allowed); or e.g. 90s, 5m; b: back\nduration> `, signal);
    if (text === null) return null;
    if (text.trim().toLowerCase() === 'b') return 'back';
    seconds = parseTypedDuration(text, ttlSeconds);
  }
  let uses: number | null = null;
  while (uses === null) {
    const text = await lines.ask(`How many runs, this one included? Enter: ${usesLabel(REUSE_LIMITS.defaultUses)}; ${REUSE_LIMITS.minUses}..${REUSE_LIMITS.maxUses}; b: back\nruns> `, signal);
    if (text === null) return null;
    if (text.trim().toLowerCase() === 'b') return 'back';
    uses = parseTypedUses(text);
  }
  return { ttl_seconds: seconds, max_uses: uses };
}

/** Lines typed on the console, handed to whoever asks; none are kept between prompts. */
class LineSource {
  readonly #rl: Interface;
  #waiter: ((line: string | null) => void) | null = null;
  #buffered: string[] = [];
  #closed = false;

  constructor(rl: Interface) {
    this.#rl = rl;
    rl.on('line', (line) => {
      if (this.#waiter === null) this.#buffered.push(line);
      else this.#settle(line);
    });
    rl.on('close', () => {
      this.#closed = true;
      this.#settle(null);
    });
  }

  discard(): void {
    this.#buffered = [];
  }

  ask(question: string, signal: AbortSignal): Promise<string | null> {
    if (this.#closed || signal.aborted) return Promise.resolve(null);
    const buffered = this.#buffered.shift();
    this.#rl.setPrompt(question);
    this.#rl.prompt();
    if (buffered !== undefined) return Promise.resolve(buffered);
    return new Promise((resolve) => {
      const onAbort = () => this.#settle(null);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiter = (line) => {
        signal.removeEventListener('abort', onAbort);
        resolve(line);
      };
    });
  }

  #settle(line: string | null): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.(line);
  }
}
