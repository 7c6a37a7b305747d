// A Linux desktop dialog (zenity, kdialog) as an approver: a short flow of dialogs, each run
// with a scrubbed environment until the deadline. The first shows the whole request (text from
// display.ts, already escaped); later ones ask only our own questions (allow once or again, how
// long, how many runs). Each dialog's exit status and output are read by the approver's pure
// `read`, matched against labels we wrote; nothing a dialog prints is ever shown.

import { buildDialogEnv, trustedHome, TRUSTED_BIN_DIRS } from './approver-env.js';
import { offersAll } from './answer-all.js';
import { checkReuse, durationLabel, offersReuse } from './reuse-choice.js';
import { decisionForUnansweredRun, runApproverProcess } from './run-approver-process.js';
import { DENY_REASONS, type ApprovalPrompt, type Approver, type DecideOptions, type Decision, type ReuseGrant } from './types.js';

/** The dialogs of one flow: the request itself, a deny/once/again choice (kdialog only), the reuse bounds. */
export type DialogStage = 'request' | 'choice' | 'reuse';

/** What one dialog's answer means. */
export type DialogAnswer =
  | { kind: 'allow' }
  | { kind: 'allow_reuse'; reuse: ReuseGrant }
  | { kind: 'deny' }
  /** "Allow all N once" / "Deny all N": this request and the identical ones waiting (answer-all.ts). */
  | { kind: 'allow_all' }
  | { kind: 'deny_all' }
  | { kind: 'timeout' }
  | { kind: 'next'; stage: DialogStage }
  /** An exit status this dialog never gives for a real answer (a crash, a missing display). */
  | { kind: 'unexpected'; exitCode: number }
  /** Output that is none of the labels we offered. */
  | { kind: 'malformed' };

/** How a dialog program ended, as the flow's reader sees it. */
export interface DialogExit {
  exitCode: number;
  stdout: string;
}

export interface DialogFlow {
  /** The exact argv (without the program) of one stage's dialog. Pure. */
  args(stage: DialogStage, prompt: ApprovalPrompt, opts: { now: number; deadline: number }): string[];
  /** What that dialog's exit status and output mean. Pure. */
  read(stage: DialogStage, exit: DialogExit, prompt: ApprovalPrompt): DialogAnswer;
}

export interface DialogApproverSpec {
  name: string;
  /** Absolute path of the dialog program. */
  file: string;
  flow: DialogFlow;
  env: Readonly<Record<string, string | undefined>>;
  now?: () => number;
}

/** More dialogs than any flow needs means the flow loops: deny. */
const MAX_STAGES = 4;

/** Creates an approver that walks one dialog flow per prompt. */
export function createDialogApprover(spec: DialogApproverSpec): Approver {
  const now = spec.now ?? Date.now;
  return {
    name: spec.name,
    async decide(prompt: ApprovalPrompt, opts: DecideOptions): Promise<Decision> {
      let stage: DialogStage = 'request';
      for (let shown = 0; shown < MAX_STAGES; shown += 1) {
        if (now() >= opts.deadline) return { kind: 'timeout' };
        const outcome = await runApproverProcess({
          file: spec.file,
          args: spec.flow.args(stage, prompt, { now: now(), deadline: opts.deadline }),
          env: buildDialogEnv(spec.env, { home: trustedHome(spec.env), path: TRUSTED_BIN_DIRS }),
          deadline: opts.deadline,
          signal: opts.signal,
          maxOutput: 64 * 1024,
          now,
        });
        if (outcome.kind !== 'exited') return decisionForUnansweredRun(outcome);
        const answer = spec.flow.read(stage, { exitCode: outcome.exitCode, stdout: outcome.stdout }, prompt);
        if (answer.kind === 'next') {
          stage = answer.stage;
          continue;
        }
        return decisionOf(answer, prompt, now() > opts.deadline);
      }
      return { kind: 'failed', reason: DENY_REASONS.malformed };
    },
  };
}

/** A final dialog answer → Decision; a late approval is a timeout, a reuse or an "all" the prompt does not offer is malformed. Pure. */
export function decisionOf(answer: Exclude<DialogAnswer, { kind: 'next' }>, prompt: ApprovalPrompt, late: boolean): Decision {
  switch (answer.kind) {
    case 'deny':
      return { kind: 'deny', reason: DENY_REASONS.user };
    case 'timeout':
      return { kind: 'timeout' };
    case 'unexpected':
      return { kind: 'failed', reason: `the approver dialog exited with code ${answer.exitCode}` };
    case 'malformed':
      return { kind: 'failed', reason: DENY_REASONS.malformed };
    case 'allow':
      return late ? { kind: 'timeout' } : { kind: 'approve' };
    case 'deny_all':
      return offersAll(prompt) ? { kind: 'deny', reason: DENY_REASONS.user, scope: 'all' } : { kind: 'failed', reason: DENY_REASONS.malformed };
    case 'allow_all':
      if (!offersAll(prompt)) return { kind: 'failed', reason: DENY_REASONS.malformed };
      return late ? { kind: 'timeout' } : { kind: 'approve', scope: 'all' };
    case 'allow_reuse': {
      const reuse = offersReuse(prompt) ? checkReuse(answer.reuse, prompt.ttl_seconds) : null;
      if (reuse === null) return { kind: 'failed', reason: DENY_REASONS.malformed };
      return late ? { kind: 'timeout' } : { kind: 'approve', reuse };
    }
  }
}

/** Whole seconds left before the deadline, at least 1. Pure. */
export function secondsLeft(now: number, deadline: number): number {
  return Math.max(1, Math.floor((deadline - now) / 1000));
}

/** The first line of a dialog's output without its line ending ("" when it printed nothing). Pure. */
export function firstLine(stdout: string): string {
  const end = stdout.search(/\r?\n/);
  return end === -1 ? stdout : stdout.slice(0, end);
}

/** The short text above the reuse choice (our own words only). */
export function reuseDialogLines(prompt: ApprovalPrompt): string[] {
  return [
    'Allow this exact request again without asking, for a while.',
    'Only the same command, executable, directory, secrets and environment match.',
    `This run counts as one. At most ${durationLabel(prompt.ttl_seconds)} (the request ttl).`,
  ];
}
