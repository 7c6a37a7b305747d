// Runs the built bin/agent-secret.js as a separate process in a sandbox and checks every
// byte it printed (and the audit log) for the fake vault's canary values.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { CANARIES } from './canaries.js';
import { BIN, type Sandbox } from './sandbox.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number | undefined;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  /** Called once the process has started, e.g. to send it a signal. */
  onSpawn?: (pid: number) => void;
  timeoutMs?: number;
  /** Run agent-secret as the child of a short-lived `sh` (its parent is then that shell, not the test). */
  viaShell?: boolean;
  /** Give agent-secret /dev/null as its stdout instead of a pipe (stdout is then ''). */
  stdoutToNull?: boolean;
  /** Stop reading agent-secret's stdout (close the pipe) once this many bytes have arrived, like `| head -c N`; 0: before it writes anything. */
  closeStdoutAfter?: number;
}

/** Runs agent-secret with args and returns its exit code and output. */
export function runCli(sandbox: Sandbox, args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...sandbox.env, ...options.env };
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
    const [file, argv] = options.viaShell === true ? ['/bin/sh', ['-c', '"$0" "$@"; exit $?', process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]];
    const child = spawn(file as string, argv as string[], {
      cwd: options.cwd ?? sandbox.project,
      env: env as Record<string, string>,
      stdio: ['pipe', options.stdoutToNull === true ? 'ignore' : 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (options.closeStdoutAfter !== undefined && stdout.length >= options.closeStdoutAfter) child.stdout?.destroy();
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, pid: child.pid });
    });
    if (options.closeStdoutAfter === 0) child.stdout?.destroy();
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.stdin?.end(options.input ?? '');
  });
}

/** Fails the test if any canary value appears in the output or the audit log. */
export function expectNoLeak(sandbox: Sandbox, ...results: CliResult[]): void {
  const audit = existsSync(sandbox.auditPath) ? readFileSync(sandbox.auditPath, 'utf8') : '';
  const texts = [...results.flatMap((r) => [r.stdout, r.stderr]), audit];
  for (const canary of CANARIES) {
    for (const text of texts) {
      if (text.includes(canary)) expect.fail(`a secret value from the fake vault leaked: ${canary.slice(0, 12)}…`);
    }
  }
}

/** Runs and leak-scans in one step. */
export async function runClean(sandbox: Sandbox, args: string[], options: RunOptions = {}): Promise<CliResult> {
  const result = await runCli(sandbox, args, options);
  expectNoLeak(sandbox, result);
  return result;
}
