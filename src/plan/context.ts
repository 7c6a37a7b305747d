// What planning a request may know of the caller's process: its arguments, environment,
// directory, identity and whether its output is a terminal. The CLI passes its own; the broker
// passes the caller's, as it arrived over the socket. Nothing here prints.

export interface PlanContext {
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
  /** Whether the caller's stdout/stderr are terminals (decides output masking). */
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
}
