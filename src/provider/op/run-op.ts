// The only place agent-secret starts `op`. No shell, a cleaned explicit environment, always
// --no-color, a timeout that escalates SIGTERM to SIGKILL, and cancellation. op's stdout may
// hold secret values: it is returned to one parser and never logged, shown or put in an error.
// A call for a service-account account gets OP_SERVICE_ACCOUNT_TOKEN in its own environment
// (a `reveal()` site) and nothing that would choose another way in (no --account, no Connect).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { execa } from 'execa';
import { AgentSecretError } from '../../core/errors.js';
import type { SecretValue } from '../../core/secret-value.js';
import { CA_OVERRIDES } from '../run-process.js';

export const DEFAULT_OP_TIMEOUT_MS = 60_000;
/** Time between SIGTERM and SIGKILL once op must stop. */
export const KILL_GRACE_MS = 2_000;
const MAX_STDOUT = 32 * 1024 * 1024;
const MAX_STDERR = 1024 * 1024;

/** Variables removed from op's environment: they change op's output or what it trusts (CA_OVERRIDES), load code into node, or are a registered agent's identity. */
const DROPPED_ENV = new Set(['AGENT_SECRET_AGENT_TOKEN', 'NODE_DEBUG', 'NODE_OPTIONS', 'OP_DEBUG', 'OP_FORMAT', 'OP_ISO_TIMESTAMPS', ...CA_OVERRIDES]);
/** Removed as well when op runs with a service-account token: they would pick another account or way in (Connect wins over a token). */
const SERVICE_ACCOUNT_DROPPED = (name: string) => name === 'OP_ACCOUNT' || name.startsWith('OP_SESSION_') || name.startsWith('OP_CONNECT_') || name === 'OP_SERVICE_ACCOUNT_TOKEN';

export interface OpOptions {
  /** Absolute path to op. */
  opPath: string;
  /** Environment for op: the caller's environment; agent-secret removes what must not reach op. */
  env: Readonly<Record<string, string | undefined>>;
  /** Per op call; default 60_000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Service-account tokens by account name: those accounts' calls run with their token, not the desktop app. */
  serviceTokens?: ReadonlyMap<string, SecretValue>;
}

export interface OpCall {
  /** Subcommand and its own flags, e.g. ['whoami', '--format', 'json']. */
  args: readonly string[];
  /** Passed as --account when not null (and no service-account token is given). */
  account?: string | null;
  /** Run as a service account: OP_SERVICE_ACCOUNT_TOKEN in op's environment for this call only. */
  serviceToken?: SecretValue | undefined;
  /**
   * Text handed to op through `--in-file` (a 0600 file in a fresh 0700 directory, removed when
   * op exits). Not stdin: Node gives a child a socket, and op reads piped input only from a FIFO.
   * Only references may go here, never a value.
   */
  inFile?: string;
  /** Keep op's stdout as bytes (stdoutBytes): values that must reach a file byte for byte. */
  binary?: boolean;
}

export interface OpRunResult {
  /** null when op did not exit normally (not started, timed out, killed). */
  exitCode: number | null;
  /** May contain secret values. Hand it to a parser only. Empty for a binary call. */
  stdout: string;
  /** A binary call's stdout, exactly as op wrote it. May contain secret values. */
  stdoutBytes?: Uint8Array;
  stderr: string;
  timedOut: boolean;
  failedToStart: boolean;
  canceled: boolean;
  /** op printed more than agent-secret accepts; its output is truncated and unusable. */
  overflowed: boolean;
}

/** Builds op's environment from the caller's: defined values only, minus DROPPED_ENV. */
export function buildOpEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !DROPPED_ENV.has(name)) clean[name] = value;
  }
  return clean;
}

/** op's environment for a service-account call: buildOpEnv without the variables that choose another account or way in, plus the token. */
export function serviceAccountEnv(env: Readonly<Record<string, string | undefined>>, token: SecretValue): Record<string, string> {
  const clean = buildOpEnv(env);
  for (const name of Object.keys(clean)) if (SERVICE_ACCOUNT_DROPPED(name)) delete clean[name];
  return { ...clean, OP_SERVICE_ACCOUNT_TOKEN: token.reveal() };
}

/** Runs op once and reports how it ended; never rejects for op's own failures. */
export async function runOp(call: OpCall, options: OpOptions): Promise<OpRunResult> {
  if (call.inFile === undefined) return spawnOp([...call.args], call, options);
  const dir = await makePrivateDir(options.env);
  try {
    const file = join(dir, 'template');
    try {
      await writeFile(file, call.inFile, { mode: 0o600, flag: 'wx' });
    } catch {
      throw new AgentSecretError('provider.failed', 'could not write the op template to a private temporary directory', {
        hint: 'make sure TMPDIR (or the system temporary directory) is writable and not full',
      });
    }
    return await spawnOp([...call.args, '--in-file', file], call, options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function spawnOp(args: string[], call: OpCall, options: OpOptions): Promise<OpRunResult> {
  // A service account is the token's own account: --account would make op look for a signed-in one.
  const account = call.serviceToken === undefined ? (call.account ?? null) : null;
  const argv = [...args, '--no-color', ...(account === null ? [] : ['--account', account])];
  const subprocess = execa(options.opPath, argv, {
    reject: false,
    verbose: 'none',
    stripFinalNewline: false,
    all: false,
    shell: false,
    env: call.serviceToken === undefined ? buildOpEnv(options.env) : serviceAccountEnv(options.env, call.serviceToken),
    extendEnv: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    encoding: call.binary === true ? 'buffer' : 'utf8',
    maxBuffer: { stdout: MAX_STDOUT, stderr: MAX_STDERR },
    timeout: options.timeoutMs ?? DEFAULT_OP_TIMEOUT_MS,
    killSignal: 'SIGTERM',
    forceKillAfterDelay: KILL_GRACE_MS,
    ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
    windowsHide: true,
  });
  // Something op started (a wrapper script's child, say) can keep op's output open after op has
  // exited or been killed at the deadline; execa would wait for it forever. Give it the same
  // grace as a SIGTERM, then stop reading: the deadline holds whatever op leaves behind.
  let settled = false;
  subprocess.once('exit', () => {
    setTimeout(() => {
      if (settled) return;
      subprocess.stdout?.destroy();
      subprocess.stderr?.destroy();
    }, KILL_GRACE_MS).unref();
  });
  const result = await subprocess;
  settled = true;
  const ended = result.exitCode !== undefined || result.signal !== undefined;
  const text = (output: unknown): string => (typeof output === 'string' ? output : output instanceof Uint8Array ? Buffer.from(output).toString('utf8') : '');
  return {
    exitCode: result.exitCode ?? null,
    stdout: call.binary === true ? '' : text(result.stdout),
    ...(call.binary === true ? { stdoutBytes: result.stdout instanceof Uint8Array ? result.stdout : new Uint8Array() } : {}),
    stderr: text(result.stderr),
    timedOut: result.timedOut,
    canceled: result.isCanceled,
    overflowed: result.isMaxBuffer,
    failedToStart: result.failed && !ended && !result.timedOut && !result.isCanceled && !result.isMaxBuffer,
  };
}

// The template holds references and random markers only; still keep it in a private directory.
async function makePrivateDir(env: Readonly<Record<string, string | undefined>>): Promise<string> {
  const candidates = [env.TMPDIR, tmpdir()].filter((d): d is string => d !== undefined && isAbsolute(d));
  for (const base of new Set(candidates)) {
    try {
      return await mkdtemp(join(base, 'agent-secret-op-'));
    } catch {
      // try the next candidate
    }
  }
  throw new AgentSecretError('provider.failed', 'could not create a private temporary directory for the op template', {
    hint: 'make sure TMPDIR (or the system temporary directory) exists and is writable',
  });
}
