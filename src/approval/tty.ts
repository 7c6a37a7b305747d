// The terminal approver (opt-in only: an agent may own the terminal, so `auto` never picks it).
// Prints the whole escaped request to /dev/tty and reads answers line by line: only "y"/"yes"
// (or "o"/"once") approves once, "a"/"again" asks how long and how often the same exact request
// may run again (exec only), and when identical requests wait behind this one "all" allows each
// of them once and "deny all" denies them all; anything else — empty, EOF, a cancel, a bad
// duration — denies, and no answer by the deadline is a timeout. Enter alone never approves.

import { openSync, closeSync, constants } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { ReadStream, WriteStream } from 'node:tty';
import { formatTtl } from '../core/ttl.js';
import { allowAllLabel, denyAllLabel, offersAll } from './answer-all.js';
import { renderPrompt } from './display.js';
import { durationLabel, offersReuse, parseTypedDuration, parseTypedUses, reuseChoices, REUSE_LIMITS, usesLabel } from './reuse-choice.js';
import { DENY_REASONS, type ApprovalPrompt, type Approver, type DecideOptions, type Decision } from './types.js';

/** Longest answer line read before giving up (a deny). */
const MAX_ANSWER = 256;

export interface TtyStreams {
  input: Readable;
  output: Writable;
}

/** The question after the request when it may be allowed again (exec). */
export const REUSABLE_QUESTION = [
  '  y  allow once',
  '  a  allow this exact request again for a while (you choose how long and how many runs)',
  '  N  deny (the default)',
  'Answer [y/a/N]: ',
].join('\n');

/** The first question for a prompt: Allow/Deny, plus "again" for exec and the answers for all when identical requests wait. Pure. */
export function firstQuestion(prompt: ApprovalPrompt): string {
  if (!offersReuse(prompt) && !offersAll(prompt)) return 'Allow? [y/N] ';
  const lines = ['  y    allow once'];
  if (offersReuse(prompt)) lines.push('  a    allow this exact request again for a while (you choose how long and how many runs)');
  if (offersAll(prompt)) lines.push(`  all  ${allowAllLabel(prompt)} (this request and the identical ones waiting, each once)`, `  deny all  ${denyAllLabel(prompt)}`);
  lines.push('  N    deny (the default)');
  return offersAll(prompt) ? `${lines.join('\n')}\nAnswer [y${offersReuse(prompt) ? '/a' : ''}/all/deny all/N]: ` : REUSABLE_QUESTION;
}

/** The duration question for a request ttl. Pure. */
export function durationQuestion(ttlSeconds: number): string {
  const examples = reuseChoices(ttlSeconds).durations.map((d) => formatTtl(d.value));
  return `Allow again for how long? Up to ${durationLabel(ttlSeconds)}, e.g. ${examples.join(', ')} [${durationLabel(ttlSeconds)}]: `;
}

/** The use-count question. */
export const USES_QUESTION = `How many runs in total, this one included? ${REUSE_LIMITS.minUses} to ${REUSE_LIMITS.maxUses}, e.g. 3, 5, 10, 20 [${REUSE_LIMITS.defaultUses}]: `;

type Step = { kind: 'answer' } | { kind: 'duration' } | { kind: 'uses'; ttlSeconds: number };

/** Shows the prompt on `output` and reads the answers from `input`; the streams are not closed. */
export function askOnStreams(prompt: ApprovalPrompt, io: TtyStreams, opts: DecideOptions & { now?: () => number }): Promise<Decision> {
  const now = opts.now ?? Date.now;
  if (now() >= opts.deadline) return Promise.resolve({ kind: 'timeout' });
  const reusable = offersReuse(prompt);
  const { title, lines } = renderPrompt(prompt, { now: now() });
  io.output.write(`\n${title}\n${'='.repeat(title.length)}\n${lines.join('\n')}\n\n${firstQuestion(prompt)}`);

  return new Promise<Decision>((resolve) => {
    let buffered = '';
    let skipLineFeed = false;
    let settled = false;
    let step: Step = { kind: 'answer' };
    const finish = (decision: Decision, note?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      io.input.off('data', onData);
      io.input.off('end', onEnd);
      io.input.off('error', onEnd);
      opts.signal?.removeEventListener('abort', onAbort);
      io.input.pause();
      if (note !== undefined) io.output.write(note);
      resolve(decision);
    };
    const deny = (note: string) => finish({ kind: 'deny', reason: DENY_REASONS.user }, note);
    const onLine = (line: string) => {
      const answer = line.trim().toLowerCase();
      switch (step.kind) {
        case 'answer':
          if (answer === 'y' || answer === 'yes' || answer === 'o' || answer === 'once') return finish({ kind: 'approve' }, 'Approved.\n');
          if (offersAll(prompt) && answer === 'all') return finish({ kind: 'approve', scope: 'all' }, `Approved: ${allowAllLabel(prompt)}.\n`);
          if (offersAll(prompt) && answer.replace(/\s+/g, ' ') === 'deny all') return finish({ kind: 'deny', reason: DENY_REASONS.user, scope: 'all' }, 'Denied, all of them.\n');
          if (reusable && (answer === 'a' || answer === 'again')) {
            step = { kind: 'duration' };
            io.output.write(durationQuestion(prompt.ttl_seconds));
            return;
          }
          return deny('Denied.\n');
        case 'duration': {
          const ttlSeconds = parseTypedDuration(line, prompt.ttl_seconds);
          if (ttlSeconds === null) return deny(`Denied (not a duration from 1s to ${formatTtl(prompt.ttl_seconds)}).\n`);
          step = { kind: 'uses', ttlSeconds };
          io.output.write(USES_QUESTION);
          return;
        }
        case 'uses': {
          const maxUses = parseTypedUses(line);
          if (maxUses === null) return deny(`Denied (not a whole number from ${REUSE_LIMITS.minUses} to ${REUSE_LIMITS.maxUses}).\n`);
          return finish(
            { kind: 'approve', reuse: { ttlSeconds: step.ttlSeconds, maxUses } },
            `Approved: ${usesLabel(maxUses)} of this exact command within ${durationLabel(step.ttlSeconds)}.\n`,
          );
        }
      }
    };
    const onData = (chunk: Buffer | string) => {
      let text = chunk.toString();
      // "\r\n" ends one line, even when it is split across chunks.
      if (skipLineFeed && text.startsWith('\n')) text = text.slice(1);
      skipLineFeed = false;
      buffered += text;
      for (let end = buffered.search(/[\r\n]/); end !== -1 && !settled; end = buffered.search(/[\r\n]/)) {
        const line = buffered.slice(0, end);
        let rest = buffered.slice(end + 1);
        if (buffered[end] === '\r') {
          if (rest.startsWith('\n')) rest = rest.slice(1);
          else if (rest === '') skipLineFeed = true;
        }
        buffered = rest;
        onLine(line);
      }
      if (!settled && buffered.length > MAX_ANSWER) deny('\nDenied.\n');
    };
    const onEnd = () => finish({ kind: 'deny', reason: DENY_REASONS.terminalClosed }, '\nDenied (no answer).\n');
    const onAbort = () => finish({ kind: 'deny', reason: DENY_REASONS.cancelled }, '\nCancelled; denied.\n');
    const timer = setTimeout(() => finish({ kind: 'timeout' }, '\nNo answer before the request expired; denied.\n'), Math.max(0, opts.deadline - now()));
    io.input.on('data', onData);
    io.input.once('end', onEnd);
    io.input.once('error', onEnd);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted === true) onAbort();
    io.input.resume();
  });
}

/** Opens the controlling terminal for reading and writing; throws when there is none. */
export function openTty(path = '/dev/tty'): TtyStreams & { close(): void } {
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NOCTTY);
  let writeFd: number;
  try {
    writeFd = openSync(path, constants.O_WRONLY | constants.O_NOCTTY);
  } catch (error) {
    closeSync(readFd);
    throw error;
  }
  let input: ReadStream;
  let output: WriteStream;
  try {
    input = new ReadStream(readFd);
    output = new WriteStream(writeFd);
  } catch (error) {
    closeSync(readFd);
    closeSync(writeFd);
    throw error;
  }
  return {
    input,
    output,
    close() {
      input.destroy();
      output.destroy();
    },
  };
}

/** True when the terminal at `path` can be opened (never prompts). */
export function canOpenTty(path = '/dev/tty'): boolean {
  try {
    closeSync(openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK));
    return true;
  } catch {
    return false;
  }
}

/** The tty approver: opens the terminal per prompt (or uses `open`, for tests). */
export function createTtyApprover(options: { open?: () => TtyStreams & { close(): void }; now?: () => number } = {}): Approver {
  const open = options.open ?? (() => openTty());
  return {
    name: 'tty',
    async decide(prompt: ApprovalPrompt, opts: DecideOptions): Promise<Decision> {
      let io;
      try {
        io = open();
      } catch {
        return { kind: 'deny', reason: DENY_REASONS.noTerminal };
      }
      try {
        return await askOnStreams(prompt, io, { ...opts, ...(options.now === undefined ? {} : { now: options.now }) });
      } finally {
        io.close();
      }
    },
  };
}
