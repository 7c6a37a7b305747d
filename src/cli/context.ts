// What a command may touch of the outside world, injected by cli/main.ts so that commands
// never read process.* themselves (tests and, later, the daemon pass their own).

import type { Out } from './render/output.js';

export interface CliContext {
  /** Arguments before the first `--`. */
  readonly args: readonly string[];
  /** Arguments after the first `--`, or null when there was none. */
  readonly childArgv: readonly string[] | null;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly platform: NodeJS.Platform;
  readonly homedir: string;
  readonly pid: number;
  readonly uid: number;
  readonly stdout: Out;
  readonly stderr: Out;
  /** Whether our stdout/stderr are terminals (decides output masking). */
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
}

/** DirsInput for platform/dirs.ts, from a context. */
export function dirsInput(ctx: Pick<CliContext, 'env' | 'platform' | 'homedir'>) {
  return { env: ctx.env, platform: ctx.platform, homedir: ctx.homedir };
}
