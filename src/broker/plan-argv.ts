// The broker plans every exec from what the caller typed: its flags, its command, and what the
// plan depends on in the caller's process (cwd, environment, home, pid, terminals). It uses the
// one parser (plan/exec-options.ts) and the one planner (plan/exec-plan.ts). Any error is the
// planner's own, reported once to the caller as it is. A dry run, --json and --help are the
// CLI's to answer (they print and ask nobody): a body carrying them is refused.

import { AgentSecretError } from '../core/errors.js';
import type { PlanContext } from '../plan/context.js';
import { parseExecOptions } from '../plan/exec-options.js';
import { planExec, type ExecPlan } from '../plan/exec-plan.js';
import type { ExecArgvBody } from '../protocol/messages.js';
import { planFingerprint } from './reuse-key.js';

export interface ArgvPlan {
  plan: ExecPlan;
  fingerprint: string;
  reuseOnly: boolean;
  forceRefresh: boolean;
}

/** The plan for an exec.argv body, in the caller's context; throws the planner's error. */
export async function planFromArgv(body: ExecArgvBody, uid: number): Promise<ArgvPlan> {
  const ctx: PlanContext = {
    args: ['exec', ...body.args],
    childArgv: body.command,
    env: body.env,
    cwd: body.cwd,
    platform: process.platform,
    homedir: body.homedir,
    pid: body.pid,
    uid,
    stdoutIsTTY: body.stdout_is_tty,
    stderrIsTTY: body.stderr_is_tty,
  };
  const options = parseExecOptions(body.args, body.command);
  if (options.dryRun === true || options.json === true) {
    throw new AgentSecretError('usage.invalid', '--dry-run and --json are answered by the agent-secret command itself, not by the broker', {
      hint: 'run agent-secret exec --dry-run ... -- COMMAND',
    });
  }
  const plan = await planExec(ctx, options);
  return { plan, fingerprint: planFingerprint(body.env, plan), reuseOnly: options.reuseOnly === true, forceRefresh: options.forceRefresh === true };
}
