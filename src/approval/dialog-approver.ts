// A Linux desktop dialog (zenity, kdialog) as an approver: run it with a scrubbed environment
// until the deadline, then map its exit status to a Decision. The dialog's text comes from
// display.ts (already escaped); its output is never read or shown.

import { buildDialogEnv, trustedHome, TRUSTED_BIN_DIRS } from './approver-env.js';
import { runApproverProcess } from './run-approver-process.js';
import { DENY_REASONS, type ApprovalPrompt, type Approver, type DecideOptions, type Decision } from './types.js';

export type DialogAnswer = 'allow' | 'deny' | 'timeout';

export interface DialogApproverSpec {
  name: string;
  /** Absolute path of the dialog program. */
  file: string;
  /** Pure argv builder for one prompt. */
  buildArgs: (prompt: ApprovalPrompt, opts: { now: number; deadline: number }) => string[];
  /** Maps an exit code to an answer; null means "unexpected" (a deny naming the code). */
  mapExit: (exitCode: number) => DialogAnswer | null;
  env: Readonly<Record<string, string | undefined>>;
  now?: () => number;
}

/** Creates an approver that shows one dialog per prompt. */
export function createDialogApprover(spec: DialogApproverSpec): Approver {
  const now = spec.now ?? Date.now;
  return {
    name: spec.name,
    async decide(prompt: ApprovalPrompt, opts: DecideOptions): Promise<Decision> {
      if (now() >= opts.deadline) return { kind: 'timeout' };
      const outcome = await runApproverProcess({
        file: spec.file,
        args: spec.buildArgs(prompt, { now: now(), deadline: opts.deadline }),
        env: buildDialogEnv(spec.env, { home: trustedHome(spec.env), path: TRUSTED_BIN_DIRS }),
        deadline: opts.deadline,
        signal: opts.signal,
        maxOutput: 64 * 1024,
        now,
      });
      switch (outcome.kind) {
        case 'exited': {
          const answer = spec.mapExit(outcome.exitCode);
          if (answer === null) return { kind: 'deny', reason: `approver exited ${outcome.exitCode}` };
          if (answer === 'timeout') return { kind: 'timeout' };
          if (answer === 'deny') return { kind: 'deny', reason: DENY_REASONS.user };
          return now() > opts.deadline ? { kind: 'timeout' } : { kind: 'approve' };
        }
        case 'signaled':
          return { kind: 'deny', reason: `approver killed by ${outcome.signal}` };
        case 'deadline':
          return { kind: 'timeout' };
        case 'aborted':
          return { kind: 'deny', reason: DENY_REASONS.cancelled };
        case 'overflow':
          return { kind: 'deny', reason: DENY_REASONS.tooLarge };
        case 'spawn_failed':
          return { kind: 'deny', reason: DENY_REASONS.notStarted };
      }
    },
  };
}

/** Whole seconds left before the deadline, at least 1. Pure. */
export function secondsLeft(now: number, deadline: number): number {
  return Math.max(1, Math.floor((deadline - now) / 1000));
}
