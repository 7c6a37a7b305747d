// Runs one approver child (program, dialog or osascript) until it exits or the deadline: no
// shell, its own process group (killed whole at the deadline or on abort), stderr discarded,
// stdout capped. The child's output is untrusted and returned only for a parser, never shown.

import { spawn } from 'node:child_process';
import { DENY_REASONS, type Decision } from './types.js';

export interface RunApproverOptions {
  file: string;
  args: readonly string[];
  env: Record<string, string>;
  /** Written to stdin, which is then closed; stdin is /dev/null when absent. */
  input?: string;
  /** Epoch ms at which the whole process group is killed. */
  deadline: number;
  signal?: AbortSignal | undefined;
  /** Bytes of stdout accepted before the child is killed. */
  maxOutput: number;
  now?: () => number;
}

export type RunOutcome =
  | { kind: 'exited'; exitCode: number; stdout: string }
  | { kind: 'signaled'; signal: string }
  | { kind: 'deadline' }
  | { kind: 'aborted' }
  | { kind: 'overflow' }
  | { kind: 'spawn_failed' };

/**
 * The decision for a run that ended without an answer to read (every approver treats these
 * alike): the approver broke, except a deadline (timeout) or our own abort (cancelled).
 */
export function decisionForUnansweredRun(outcome: Exclude<RunOutcome, { kind: 'exited' }>, who = 'the approver'): Decision {
  switch (outcome.kind) {
    case 'signaled':
      return { kind: 'failed', reason: `${who} was killed by ${outcome.signal}` };
    case 'deadline':
      return { kind: 'timeout' };
    case 'aborted':
      return { kind: 'deny', reason: DENY_REASONS.cancelled };
    case 'overflow':
      return { kind: 'failed', reason: `${who} wrote more output than an answer can be` };
    case 'spawn_failed':
      return { kind: 'failed', reason: `${who} could not be started` };
  }
}

/** Spawns the child and settles with how it ended; never rejects. */
export function runApproverProcess(options: RunApproverOptions): Promise<RunOutcome> {
  const now = options.now ?? Date.now;
  return new Promise<RunOutcome>((resolve) => {
    if (options.signal?.aborted === true) return resolve({ kind: 'aborted' });
    let child;
    try {
      child = spawn(options.file, [...options.args], {
        env: options.env,
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'ignore'],
        detached: true,
        shell: false,
        windowsHide: true,
      });
    } catch {
      return resolve({ kind: 'spawn_failed' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

    // Called only before 'close': the group still has a member holding stdout, so its id is ours.
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const finish = (outcome: RunOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const stop = (outcome: RunOutcome) => {
      killGroup();
      finish(outcome);
    };
    const onAbort = () => stop({ kind: 'aborted' });
    const timer = setTimeout(() => stop({ kind: 'deadline' }), Math.max(0, options.deadline - now()));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', () => finish({ kind: 'spawn_failed' }));
    child.stdout?.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxOutput) return stop({ kind: 'overflow' });
      chunks.push(chunk);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
    });
    child.on('close', (code, signal) => {
      const status = exit ?? { code, signal };
      if (status.signal !== null) return finish({ kind: 'signaled', signal: status.signal });
      finish({ kind: 'exited', exitCode: status.code ?? 1, stdout: Buffer.concat(chunks).toString('utf8') });
    });
    if (options.input !== undefined && child.stdin !== null) {
      // A program that exits without reading its stdin must not crash us with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}
