// The daemon's half of the reused-exec fast path: it plans `exec` from the caller's argv with
// the CLI's own parser and planner (warm here, where a fresh CLI process would spend most of
// its start loading them), as the caller's process would have: the caller's cwd, environment,
// home and pid, this user's file system. Whatever the CLI would print itself (--help, --dry-run,
// --json, any usage or config error) is not planned here: the caller is told to plan locally,
// which repeats the same checks with the same messages.

import type { ExecPlan } from '../cli/commands/exec-plan.js';
import type { CliContext } from '../cli/context.js';
import type { Out } from '../cli/render/output.js';
import type { ExecArgvBody } from './messages.js';
import { planFingerprint } from './reuse-key.js';

export interface ArgvPlan {
  plan: ExecPlan;
  fingerprint: string;
  reuseOnly: boolean;
  forceRefresh: boolean;
}

const SILENT: Out = { write: () => true };

/** The plan for an exec.argv body, or null when the caller should plan (and report) it locally. */
export async function planFromArgv(body: ExecArgvBody, uid: number): Promise<ArgvPlan | null> {
  const { parseExecOptions } = await import('../cli/program.js');
  const { planExec } = await import('../cli/commands/exec-plan.js');
  const ctx: CliContext = {
    args: ['exec', ...body.args],
    childArgv: body.command,
    env: body.env,
    cwd: body.cwd,
    platform: process.platform,
    homedir: body.homedir,
    pid: body.pid,
    uid,
    stdout: SILENT,
    stderr: SILENT,
    stdoutIsTTY: body.stdout_is_tty,
    stderrIsTTY: body.stderr_is_tty,
  };
  let plan: ExecPlan;
  let reuseOnly: boolean;
  let forceRefresh: boolean;
  try {
    // --help throws here; a dry run and --json print the request, which the CLI does itself.
    const options = parseExecOptions(body.args);
    if (options.dryRun === true || options.json === true) return null;
    reuseOnly = options.reuseOnly === true;
    forceRefresh = options.forceRefresh === true;
    plan = await planExec(ctx, options);
  } catch {
    return null;
  }
  const fingerprint = planFingerprint(body.env, plan);
  return { plan, fingerprint, reuseOnly, forceRefresh };
}
