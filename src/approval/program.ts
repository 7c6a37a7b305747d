// The approver-program protocol: the prompt as one JSON object on stdin, one JSON decision on
// stdout, exit 0. Used by custom approvers (a phone, a chat) and by the tests. Its output is
// untrusted and never shown: anything but a valid answer for this id, in time, is a failure of
// the approver (exit 17), which nobody may mistake for the human's deny.

import { parseProgramAnswer } from './decision.js';
import { buildProgramEnv, nodeDir } from './approver-env.js';
import { decisionForUnansweredRun, runApproverProcess } from './run-approver-process.js';
import { type ApprovalPrompt, type Approver, type DecideOptions, type Decision } from './types.js';

const PROGRAM_FAILURES = { notStarted: 'the approver program could not be started' } as const;

/** Largest answer read from an approver program, in bytes. */
export const MAX_PROGRAM_OUTPUT = 64 * 1024;

export interface ProgramApproverOptions {
  /** The caller's environment; loader/code variables are removed before the program sees it. */
  env: Readonly<Record<string, string | undefined>>;
  now?: () => number;
}

/** Creates the approver that runs `argv` (argv[0] absolute, no shell) once per prompt. */
export function createProgramApprover(argv: readonly string[], options: ProgramApproverOptions): Approver {
  const [file, ...args] = argv;
  const now = options.now ?? Date.now;
  return {
    name: 'command',
    async decide(prompt: ApprovalPrompt, opts: DecideOptions): Promise<Decision> {
      if (file === undefined) return { kind: 'failed', reason: PROGRAM_FAILURES.notStarted };
      if (now() >= opts.deadline) return { kind: 'timeout' };
      const outcome = await runApproverProcess({
        file,
        args,
        env: buildProgramEnv(options.env, { approvalId: prompt.id, nodeDir: nodeDir() }),
        input: `${JSON.stringify(prompt)}\n`,
        deadline: opts.deadline,
        signal: opts.signal,
        maxOutput: MAX_PROGRAM_OUTPUT,
        now,
      });
      return decisionFromOutcome(outcome, prompt, opts.deadline, now);
    },
  };
}

function decisionFromOutcome(
  outcome: Awaited<ReturnType<typeof runApproverProcess>>,
  prompt: ApprovalPrompt,
  deadline: number,
  now: () => number,
): Decision {
  if (outcome.kind !== 'exited') return decisionForUnansweredRun(outcome, 'the approver program');
  if (outcome.exitCode !== 0) return { kind: 'failed', reason: `the approver program exited with code ${outcome.exitCode}` };
  const decision = parseProgramAnswer(outcome.stdout.trim(), prompt);
  // A late approval is a timeout (a late deny stays a deny).
  return decision.kind === 'approve' && now() > deadline ? { kind: 'timeout' } : decision;
}
