// The terminal approver (opt-in only: an agent may own the terminal, so `auto` never picks it).
// Prints the whole escaped request to /dev/tty and reads one line; only "y" or "yes" approves,
// anything else — empty, EOF, a cancel — denies, and no answer by the deadline is a timeout.

import { openSync, closeSync, constants } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { ReadStream, WriteStream } from 'node:tty';
import { renderPrompt } from './display.js';
import { DENY_REASONS, type ApprovalPrompt, type Approver, type DecideOptions, type Decision } from './types.js';

/** Longest answer line read before giving up (a deny). */
const MAX_ANSWER = 256;

export interface TtyStreams {
  input: Readable;
  output: Writable;
}

/** Shows the prompt on `output` and reads the answer from `input`; the streams are not closed. */
export function askOnStreams(prompt: ApprovalPrompt, io: TtyStreams, opts: DecideOptions & { now?: () => number }): Promise<Decision> {
  const now = opts.now ?? Date.now;
  if (now() >= opts.deadline) return Promise.resolve({ kind: 'timeout' });
  const { title, lines } = renderPrompt(prompt, { now: now() });
  io.output.write(`\n${title}\n${'='.repeat(title.length)}\n${lines.join('\n')}\n\nAllow? [y/N] `);

  return new Promise<Decision>((resolve) => {
    let buffered = '';
    const finish = (decision: Decision, note?: string) => {
      clearTimeout(timer);
      io.input.off('data', onData);
      io.input.off('end', onEnd);
      io.input.off('error', onEnd);
      opts.signal?.removeEventListener('abort', onAbort);
      io.input.pause();
      if (note !== undefined) io.output.write(note);
      resolve(decision);
    };
    const onData = (chunk: Buffer | string) => {
      buffered += chunk.toString();
      const end = buffered.search(/[\r\n]/);
      if (end === -1) {
        if (buffered.length > MAX_ANSWER) finish({ kind: 'deny', reason: DENY_REASONS.user }, '\nDenied.\n');
        return;
      }
      const answer = buffered.slice(0, end).trim().toLowerCase();
      if (answer === 'y' || answer === 'yes') finish({ kind: 'approve' }, 'Approved.\n');
      else finish({ kind: 'deny', reason: DENY_REASONS.user }, 'Denied.\n');
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
