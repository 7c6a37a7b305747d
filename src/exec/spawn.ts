// Runs the approved child: argv exec without a shell, inherited stdio, the exact env given,
// INT/TERM/HUP/QUIT forwarded while it runs, and its exit status passed through (signal N →
// 128+N). The env holds plaintext: it is never logged, and spawn errors are reduced to a code.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { AgentSecretError } from '../core/errors.js';
import { pumpThrough, type PipedOutput } from './pump.js';

export interface ChildResult {
  exitCode: number;
  signal: NodeJS.Signals | null;
  pid: number | undefined;
  durationMs: number;
}

export interface SpawnChildOptions {
  /** Absolute path of the program (the approved executable). */
  file: string;
  args: readonly string[];
  /**
   * Called right before spawn (after beforeSpawn): what exec is given instead of file (a /proc
   * link to the verified open executable, identity.ts), released once spawn() has returned.
   * If it throws, nothing is spawned. Messages still name file.
   */
  target?: () => { execPath: string; release(): void };
  /** argv[0] the child sees; defaults to file. */
  argv0?: string;
  cwd: string;
  /** The complete environment; nothing of ours is added. */
  env: Record<string, string>;
  /** Called right after spawn with the child's pid; if it fails, the child is stopped and the error thrown. */
  onStart?: (pid: number) => void | Promise<void>;
  /** Called synchronously the moment the child has exited, before its output is drained (delivered files go here). */
  onExit?: () => void;
  /** Run (and awaited) before spawn; if it throws, nothing is spawned. */
  beforeSpawn?: () => void | Promise<void>;
  /**
   * Pipe the child's stdout and/or stderr through a filter into a destination instead of
   * inheriting it (output masking); a stream left out is inherited. The result waits until
   * the piped streams are drained.
   */
  output?: { stdout?: PipedOutput; stderr?: PipedOutput };
}

/** Signals passed on to the child while it runs; agent-secret itself survives them. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** How long a child gets after SIGTERM before SIGKILL when its start could not be recorded. */
const STOP_GRACE_MS = 2000;

/** Spawns the child, waits for it and returns how it ended. */
export async function spawnChild(opts: SpawnChildOptions): Promise<ChildResult> {
  if (opts.beforeSpawn !== undefined) await opts.beforeSpawn();
  const target = opts.target?.() ?? { execPath: opts.file, release: () => undefined };
  return new Promise<ChildResult>((resolve, reject) => {
    let child: ChildProcess;
    // The child shares our process group (setsid would cost it the terminal), so a Ctrl-C
    // typed at the terminal reaches it directly and once more through this forwarder.
    const forward = (signal: NodeJS.Signals) => {
      try {
        child.kill(signal);
      } catch {
        // The child is already gone; its exit is on its way.
      }
    };
    const listen = () => FORWARDED_SIGNALS.forEach((s) => process.on(s, forward));
    const unlisten = () => FORWARDED_SIGNALS.forEach((s) => process.off(s, forward));

    listen();
    try {
      child = spawn(target.execPath, [...opts.args], {
        cwd: opts.cwd,
        env: opts.env,
        stdio: ['inherit', opts.output?.stdout === undefined ? 'inherit' : 'pipe', opts.output?.stderr === undefined ? 'inherit' : 'pipe'],
        shell: false,
        detached: false,
        windowsHide: true,
        ...(opts.argv0 === undefined ? {} : { argv0: opts.argv0 }),
      });
    } catch (error) {
      target.release();
      unlisten();
      reject(spawnFailed(opts.file, error));
      return;
    }
    // libuv returns from spawn only once the child has exec'd: the pinned file is no longer needed.
    target.release();
    const started = process.hrtime.bigint();
    const drained = pipeOutput(child, opts.output);
    let settled = false;
    let startFailure: { error: unknown } | null = null;
    let killTimer: NodeJS.Timeout | undefined;

    const stop = () => {
      forward('SIGTERM');
      killTimer = setTimeout(() => forward('SIGKILL'), STOP_GRACE_MS);
    };
    const onStartDone = runOnStart(opts.onStart, child.pid, (error) => {
      startFailure = { error };
      stop();
    });

    child.once('error', (error) => {
      // After a successful spawn 'error' only reports a failed kill; 'exit' still follows.
      if (settled || child.pid !== undefined) return;
      settled = true;
      unlisten();
      reject(spawnFailed(opts.file, error));
    });
    child.once('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      unlisten();
      opts.onExit?.();
      clearTimeout(killTimer);
      const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
      void Promise.all([onStartDone, drained]).then(() => {
        if (startFailure !== null) return reject(startFailure.error);
        resolve({ exitCode: exitCodeOf(code, signal), signal, pid: child.pid, durationMs });
      });
    });
  });
}

// Connects each piped child stream through its filter to its destination and resolves once
// everything the child wrote has been passed on (or its reader has gone away).
function pipeOutput(child: ChildProcess, output: SpawnChildOptions['output']): Promise<void> {
  const streams = [
    [child.stdout, output?.stdout],
    [child.stderr, output?.stderr],
  ] as const;
  // Our reader went away (EPIPE): the child gets the SIGPIPE it would have got writing there
  // itself. Other failures (a full disk) only close the child's output.
  const outputFailed = (code: string) => {
    if (code !== 'EPIPE') return;
    try {
      child.kill('SIGPIPE');
    } catch {
      // Already gone.
    }
  };
  return Promise.all(streams.map(([source, piped]) => (source === null || piped === undefined ? undefined : pumpThrough(source, piped, outputFailed)))).then(() => undefined);
}

/** The shell convention for a child's status: its exit code, or 128+N for death by signal N. Pure. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal !== null) {
    const number = (constants.signals as Record<string, number | undefined>)[signal];
    return number === undefined ? 1 : 128 + number;
  }
  return code ?? 1;
}

// Calls onStart once the pid is known; a throw or rejection goes to onFailure. Never rejects.
function runOnStart(onStart: SpawnChildOptions['onStart'], pid: number | undefined, onFailure: (error: unknown) => void): Promise<void> {
  if (onStart === undefined || pid === undefined) return Promise.resolve();
  try {
    const result = onStart(pid);
    return Promise.resolve(result).catch(onFailure);
  } catch (error) {
    onFailure(error);
    return Promise.resolve();
  }
}

// Node's spawn errors can quote the options, env included: keep only the errno code.
function spawnFailed(file: string, error: unknown): AgentSecretError {
  const raw = (error as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(raw) ? raw : 'unknown error';
  const hint = HINTS[code];
  return new AgentSecretError('exec.spawn_failed', `cannot start ${file}: ${code}`, hint === undefined ? {} : { hint });
}

const HINTS: Record<string, string | undefined> = {
  ENOENT: 'the program, its #! interpreter or the working directory no longer exists',
  EACCES: 'check the execute permission of the program and of the directories above it',
  ENOEXEC: 'the file is not a program this system can run; add a #! line or run it through its interpreter',
  E2BIG: 'the arguments and environment are too large for one process',
};
