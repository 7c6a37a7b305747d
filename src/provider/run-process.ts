// Starts a provider's helper process (bws, a provider program, secret-tool, security): no shell,
// an explicit environment, stdin from a string or nothing, a bounded stdout, a deadline that
// escalates SIGTERM to SIGKILL, and cancellation. stdout may hold secret values: it goes back to
// one parser and is never logged, shown or put in an error. stderr is third-party text: it is
// read only when the caller asks (to classify a failure by substring), never shown as it is.

import { execa } from 'execa';

/** Time between SIGTERM and SIGKILL once a helper must stop. */
export const HELPER_KILL_GRACE_MS = 2_000;

/**
 * Certificate authorities added through the environment. Whoever started the daemon (an agent,
 * when its exec auto-started it) chose its environment: with a CA of its own and a proxy, it
 * could read the TLS traffic of op or bws, service-account tokens included. Providers trust the
 * system's certificate store only. A proxy alone (HTTPS_PROXY) stays: it sees only a tunnel.
 */
export const CA_OVERRIDES: readonly string[] = ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'NODE_EXTRA_CA_CERTS'];

/**
 * Variables no helper inherits: they change how node or the helper behaves or what it trusts,
 * are tokens agent-secret manages itself, or are a registered agent's identity (AGENT_SECRET_AGENT_TOKEN).
 */
export const DROPPED_HELPER_ENV: ReadonlySet<string> = new Set([
  ...CA_OVERRIDES,
  'AGENT_SECRET_AGENT_TOKEN',
  'NODE_DEBUG',
  'NODE_OPTIONS',
  'OP_SERVICE_ACCOUNT_TOKEN',
  'OP_CONNECT_HOST',
  'OP_CONNECT_TOKEN',
  'BWS_ACCESS_TOKEN',
]);

export interface HelperCall {
  /** Absolute path of the program. */
  file: string;
  args: readonly string[];
  /** The whole environment the helper gets (build it with helperEnv). */
  env: Readonly<Record<string, string>>;
  /** Written to stdin, then closed; undefined: stdin is /dev/null. */
  input?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Largest stdout accepted, in bytes. */
  maxStdout: number;
  /** Keep stderr (to classify a failure); otherwise it goes nowhere. */
  readStderr?: boolean;
}

export interface HelperResult {
  /** null when the helper did not exit normally (not started, timed out, killed, cancelled). */
  exitCode: number | null;
  /** May hold secret values: hand it to a parser only. */
  stdout: string;
  /** '' unless readStderr; untrusted, for classification only. */
  stderr: string;
  timedOut: boolean;
  canceled: boolean;
  failedToStart: boolean;
  /** The helper printed more than maxStdout; its output is cut and unusable. */
  overflowed: boolean;
}

/** The helper's environment: the broker's defined variables minus DROPPED_HELPER_ENV, plus `extra`. Pure. */
export function helperEnv(env: Readonly<Record<string, string | undefined>>, extra: Readonly<Record<string, string>> = {}, drop: (name: string) => boolean = () => false): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !DROPPED_HELPER_ENV.has(name) && !drop(name)) clean[name] = value;
  }
  return { ...clean, ...extra };
}

/** Runs a helper once and reports how it ended; never rejects for the helper's own failures. */
export async function runHelper(call: HelperCall): Promise<HelperResult> {
  const subprocess = execa(call.file, [...call.args], {
    reject: false,
    verbose: 'none',
    stripFinalNewline: false,
    all: false,
    shell: false,
    env: call.env,
    extendEnv: false,
    ...(call.input === undefined ? { stdin: 'ignore' as const } : { input: call.input }),
    stdout: 'pipe',
    stderr: call.readStderr === true ? 'pipe' : 'ignore',
    encoding: 'utf8',
    maxBuffer: { stdout: call.maxStdout, stderr: 64 * 1024 },
    timeout: Math.max(1, call.timeoutMs),
    killSignal: 'SIGTERM',
    forceKillAfterDelay: HELPER_KILL_GRACE_MS,
    ...(call.signal === undefined ? {} : { cancelSignal: call.signal }),
    windowsHide: true,
  });
  // A grandchild that keeps stdout open after the helper is gone must not hold the deadline.
  let settled = false;
  subprocess.once('exit', () => {
    setTimeout(() => {
      if (settled) return;
      subprocess.stdout?.destroy();
      subprocess.stderr?.destroy();
    }, HELPER_KILL_GRACE_MS).unref();
  });
  // A helper that exits without reading its stdin makes the write fail (EPIPE): that is its answer, not ours.
  subprocess.stdin?.on('error', () => undefined);
  const result = await subprocess;
  settled = true;
  const ended = result.exitCode !== undefined || result.signal !== undefined;
  return {
    exitCode: result.exitCode ?? null,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
    timedOut: result.timedOut,
    canceled: result.isCanceled,
    overflowed: result.isMaxBuffer,
    failedToStart: result.failed && !ended && !result.timedOut && !result.isCanceled && !result.isMaxBuffer,
  };
}

/** How a helper that did not answer ended, in words (no third-party text). Pure. */
export function describeEnd(result: HelperResult, timeoutMs: number): string {
  if (result.failedToStart) return 'could not be started';
  if (result.canceled) return 'was cancelled';
  if (result.timedOut) return `did not finish within ${Math.max(1, Math.round(timeoutMs / 1000))}s`;
  if (result.overflowed) return 'printed more output than expected';
  if (result.exitCode === null) return 'was killed';
  return `exited with code ${result.exitCode}`;
}
