// Running the approved child: masking set up, environment built, identity re-checked just
// before spawn, start and exit reported. Shared by exec (daemon and in-process), with-session
// and the reused-exec fast path (cli/fast-exec.ts, bundled into one CommonJS file), so it
// loads only the exec and mask modules (and request/build.ts's inheritedEnv). Values exist only as SecretValue until buildChildEnv.

import { AgentSecretError } from '../core/errors.js';
import type { SecretValue } from '../core/secret-value.js';
import { buildChildEnv, isNullDevice, openApprovedExecutable, spawnChild, verifyScriptsSync, type ChildResult, type SpawnChildOptions } from './index.js';
import { inheritedEnv } from '../request/build.js';
import type { ExecutableIdentity, ScriptIdentity } from '../request/types.js';

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

/** Runs the child with the values; hooks hear when it started or could not start. */
export async function runChild(ctx: ChildContext, spec: ChildSpec, values: ReadonlyMap<string, SecretValue>, requestId: string, hooks: ChildHooks): Promise<ChildResult> {
  const output = spec.mask ? await maskedOutput(ctx, values) : undefined;
  const env = buildChildEnv({
    base: inheritedEnv(ctx.env, spec.pristine),
    plain: spec.plain,
    removeNames: spec.removeNames,
    secrets: values,
    extra: { AGENT_SECRET_REQUEST_ID: requestId },
  });
  try {
    return await spawnChild({
      file: spec.executable,
      args: spec.command.slice(1),
      argv0: spec.command[0] as string,
      cwd: spec.cwd,
      env,
      ...(output === undefined ? {} : { output }),
      // The identity is checked on the very file exec runs (identity.ts openApprovedExecutable).
      beforeSpawn: () => verifyScriptsSync(spec.scripts),
      target: () => openApprovedExecutable(spec.executable, spec.identity),
      onStart: (pid) => hooks.onStart(pid),
    });
  } catch (error) {
    await hooks.onSpawnFailed(codeOf(error));
    throw error;
  }
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
  await conv.send('exec.exited', { exit_code: result.exitCode, signal: result.signal, duration_ms: Math.round(result.durationMs) }).catch(() => undefined);
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
  const short = [...values.entries()].filter(([, v]) => v.length > 0 && [...v.reveal()].length < MIN_MASK_LENGTH).map(([alias]) => alias);
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
