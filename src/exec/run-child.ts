// Running the approved child: masking set up, environment built, identity re-checked just
// before spawn, start and exit reported. Shared by exec (daemon and in-process), with-session
// and the reused-exec fast path (cli/fast-exec.ts, bundled into one CommonJS file), so it
// loads only the exec and mask modules (and request/build.ts's inheritedEnv). Values exist only as SecretValue until buildChildEnv.

import { AgentSecretError } from '../core/errors.js';
import type { SecretValue } from '../core/secret-value.js';
import { buildChildEnv, isNullDevice, openApprovedExecutable, spawnChild, verifyScriptsSync, type ChildResult, type SpawnChildOptions } from './index.js';
import { inheritedEnv } from '../request/build.js';
import type { ExecutableIdentity, ScriptIdentity } from '../request/types.js';
import { fileValueKeys, type FileSpec } from '../request/template.js';
import type { DeliveredFiles } from './file-delivery.js';
import { FORWARDED_SIGNALS } from './spawn.js';
import { constants } from 'node:os';

/** What it takes to start the approved child. */
export interface ChildSpec {
  /** argv as approved; command[0] is the child's argv0. */
  command: readonly string[];
  /** The resolved executable and its identity at approval time. */
  executable: string;
  identity: ExecutableIdentity;
  cwd: string;
  /** Start from the minimal environment instead of the caller's. */
  pristine: boolean;
  /** Plain env-file entries (not secrets, never printed). */
  plain: ReadonlyArray<{ key: string; value: string }>;
  /** Names removed from the caller's environment before the secrets are added. */
  removeNames: readonly string[];
  /** Pipe the child's output through the masker. */
  mask: boolean;
  /** The files argv names, as approved: checked again right before spawn. */
  scripts: readonly ScriptIdentity[];
  /** Values delivered as files (file secrets, rendered templates): the variable gets the file's path. */
  files: readonly FileSpec[];
}

/** What became of the delivered files, for the daemon's audit log. */
export interface FilesReport {
  /** How many files were removed. */
  removed: number;
  removed_on: 'child_exit' | 'signal' | 'spawn_failed';
  /** From the child's exit to the files being gone (0 when they went before the child ran). */
  removed_after_exit_ms: number;
  /** Private directories of earlier, killed runs swept before this one. */
  stale_dirs_swept: number;
}

/** What running the child needs of the calling process: its environment and a place for warnings. */
export interface ChildContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stderr: { write(text: string): unknown };
}

export interface ChildHooks {
  onStart(pid: number): void;
  onSpawnFailed(errorCode: string): unknown;
}

/**
 * Runs the child with the values (each resolution key of the request: environment values, and
 * the values of its delivered files); hooks hear when it started or could not start. Delivered
 * files are written just before spawn and removed the moment the child exits.
 */
export async function runChild(ctx: ChildContext, spec: ChildSpec, values: ReadonlyMap<string, SecretValue>, requestId: string, hooks: ChildHooks): Promise<ChildResult & { files: FilesReport | null }> {
  const fileKeys = fileValueKeys(spec.files);
  const envValues = new Map([...values].filter(([key]) => !fileKeys.has(key)));
  const output = spec.mask ? await maskedOutput(ctx, values) : undefined;
  const base = {
    base: inheritedEnv(ctx.env, spec.pristine),
    plain: spec.plain,
    removeNames: spec.removeNames,
    secrets: envValues,
    extra: { AGENT_SECRET_REQUEST_ID: requestId },
  };
  // Checked before any file is written: a value that cannot be delivered leaves nothing behind.
  buildChildEnv(base);
  const files = spec.files.length === 0 ? null : await deliverFilesNow(ctx, spec.files, values);
  let exitedAt: bigint | null = null;
  try {
    const env = buildChildEnv({ ...base, files: files?.delivered.paths ?? new Map() });
    const result = await spawnChild({
      file: spec.executable,
      args: spec.command.slice(1),
      argv0: spec.command[0] as string,
      cwd: spec.cwd,
      env,
      ...(output === undefined ? {} : { output }),
      // The identity is checked on the very file exec runs (identity.ts openApprovedExecutable).
      beforeSpawn: () => verifyScriptsSync(spec.scripts),
      target: () => openApprovedExecutable(spec.executable, spec.identity),
      onStart: (pid) => {
        files?.running();
        hooks.onStart(pid);
      },
      onExit: () => {
        exitedAt = process.hrtime.bigint();
        files?.delivered.remove('child_exit');
      },
    });
    return { ...result, files: files === null ? null : files.report(exitedAt) };
  } catch (error) {
    files?.delivered.remove(exitedAt === null ? 'spawn_failed' : 'child_exit');
    await hooks.onSpawnFailed(codeOf(error));
    throw error;
  } finally {
    files?.stop();
  }
}

// Writes the files (exec/file-delivery.ts, loaded only then). Until the child runs, a signal to
// this process removes them and ends it as the signal would have; once it runs, signals are
// passed to the child (spawn.ts) and the files go at its exit.
async function deliverFilesNow(ctx: ChildContext, specs: readonly FileSpec[], values: ReadonlyMap<string, SecretValue>) {
  const { deliverFiles } = await import('./file-delivery.js');
  let delivered: DeliveredFiles | null = null;
  let running = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (running) return;
    delivered?.remove('signal');
    process.exit(128 + ((constants.signals as Record<string, number | undefined>)[signal] ?? 0));
  };
  FORWARDED_SIGNALS.forEach((s) => process.on(s, onSignal));
  const stop = () => FORWARDED_SIGNALS.forEach((s) => process.off(s, onSignal));
  try {
    delivered = await deliverFiles(specs, values, { env: ctx.env, platform: process.platform });
  } catch (error) {
    stop();
    throw error;
  }
  const done = delivered;
  return {
    delivered: done,
    stop,
    /** The child runs: from now on a signal is the child's to answer (spawn.ts forwards it). */
    running() {
      running = true;
    },
    /** The removal as the audit log records it. */
    report(exitedAt: bigint | null): FilesReport | null {
      const removal = done.removal;
      if (removal === null) return null;
      const after = exitedAt === null ? 0 : Math.max(0, Math.round(Number(removal.at - exitedAt) / 1e6));
      return { removed: removal.count, removed_on: removal.cause, removed_after_exit_ms: after, stale_dirs_swept: done.swept };
    },
  };
}

/** The part of a conversation this module needs to report a child to the daemon. */
export interface ChildReportChannel {
  send(type: string, body: Record<string, unknown>): Promise<void>;
  receive(opts?: { timeoutMs?: number }): Promise<unknown>;
}

/** Runs the child with delivered values and tells the daemon when it started and how it ended. */
export async function runChildForDaemon(ctx: ChildContext, spec: ChildSpec, values: ReadonlyMap<string, SecretValue>, requestId: string, conv: ChildReportChannel): Promise<number> {
  const result = await runChild(ctx, spec, values, requestId, {
    onStart: (pid) => void conv.send('exec.started', { pid }).catch(() => undefined),
    onSpawnFailed: (code) => conv.send('exec.spawn_failed', { error_code: code }).catch(() => undefined),
  });
  const exited = { exit_code: result.exitCode, signal: result.signal, duration_ms: Math.round(result.durationMs), ...(result.files === null ? {} : { files: result.files }) };
  await conv.send('exec.exited', exited).catch(() => undefined);
  // The daemon answers once the exit is in the audit log.
  await conv.receive({ timeoutMs: 2000 }).catch(() => undefined);
  return result.exitCode;
}

// One masker pair for the two streams (shared index and cross-stream state). A stream of ours that is the null
// device is left to the child: what it writes there reaches nobody. Values too short to mask
// safely are named (never shown) on stderr, since the prompt came before anyone knew their length.
async function maskedOutput(ctx: ChildContext, values: ReadonlyMap<string, SecretValue>): Promise<SpawnChildOptions['output']> {
  const piped = { stdout: !isNullDevice(1), stderr: !isNullDevice(2) };
  if (!piped.stdout && !piped.stderr) return undefined;
  const { compileMaskPatterns, maskerPair, MIN_MASK_LENGTH } = await import('../mask/masker.js');
  const plain = [...values.values()].map((v) => v.reveal());
  // A template's reference values are keyed ALIAS#n: named by the template's alias.
  const short = [...new Set([...values.entries()].filter(([, v]) => v.length > 0 && [...v.reveal()].length < MIN_MASK_LENGTH).map(([key]) => key.split('#')[0] as string))];
  if (short.length > 0) {
    ctx.stderr.write(`agent-secret: warning: ${short.join(', ')} ${short.length === 1 ? 'is' : 'are'} shorter than ${MIN_MASK_LENGTH} characters and will not be masked in the output\n`);
  }
  // One masker for both streams (a value split once between them is still caught), compiled
  // only when the child first writes something.
  const pair = maskerPair(() => compileMaskPatterns(plain));
  return {
    ...(piped.stdout ? { stdout: { filter: pair.stdout, destination: () => process.stdout } } : {}),
    ...(piped.stderr ? { stderr: { filter: pair.stderr, destination: () => process.stderr } } : {}),
  };
}

/** The error code of a thrown value, for the audit log. */
export function codeOf(error: unknown): string {
  return error instanceof AgentSecretError ? error.code : 'internal';
}
