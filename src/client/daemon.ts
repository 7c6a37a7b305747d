// The CLI's side of the daemon socket. openConversation connects (starting
// `agent-secret daemon serve` detached when allowed and none answers), says hello, replaces a
// daemon of another version once, and sends the first frame. Error frames from the daemon become
// AgentSecretErrors with its (value-free) code, message and hint; a connection that is refused
// or dropped is daemon.unavailable.

import { spawn } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AgentSecretError } from '../core/errors.js';
import type { DirsInput } from '../platform/dirs.js';
import { VERSION } from '../version.js';
import { connectExisting, definedEnv, isAnswering, protocolError, STATUS_HINT, tryConnect, type ClientConversation } from './conversation.js';
import { isProcessRunning } from '../platform/file-lock.js';
import { readPidFile, tryLock } from '../platform/instance.js';
import { daemonPaths, prepareRuntimeDir, type DaemonPaths } from '../protocol/paths.js';
import { PROTOCOL_VERSION, type Frame } from '../protocol/envelope.js';

export { errorFromFrame, type ClientConversation } from './conversation.js';

export interface OpenOptions {
  dirs: DirsInput;
  /** The environment a started daemon gets (op and the approver run with it). */
  env: Record<string, string | undefined>;
  autoStart: boolean;
  firstType: string;
  firstBody: Record<string, unknown>;
}

export interface DaemonStatus {
  running: boolean;
  pid?: number;
  version?: string;
  started_at?: string;
  /** The user config and audit log the daemon uses (from its own environment). */
  user_config?: string;
  audit_log?: string;
}

export const START_TIMEOUT_MS = 5_000;
const REPLY_TIMEOUT_MS = 5_000;
const STOP_WAIT_MS = 5_000;
const BIN = fileURLToPath(new URL('../../bin/agent-secret.js', import.meta.url));

/** Opens a conversation with the daemon and sends its first frame. */
export async function openConversation(opts: OpenOptions): Promise<ClientConversation> {
  const paths = daemonPaths(opts.dirs);
  for (let attempt = 0; ; attempt += 1) {
    const conv = await connectConversation(paths, opts);
    let hello: Frame;
    try {
      await conv.send('hello', { version: VERSION, protocol: PROTOCOL_VERSION });
      hello = await conv.receive({ timeoutMs: REPLY_TIMEOUT_MS });
      if (hello.type !== 'hello.ok') throw protocolError('the daemon did not answer hello');
    } catch (error) {
      conv.close();
      throw error;
    }
    const theirs = typeof hello.body.version === 'string' ? hello.body.version : '';
    if (theirs === VERSION && hello.body.retiring !== true) {
      try {
        await conv.send(opts.firstType, opts.firstBody);
      } catch (error) {
        conv.close();
        throw error;
      }
      return conv;
    }
    conv.close();
    // A retiring daemon (other version, or its code changed) has let go of the socket already;
    // one that is not retiring is asked to stop. Then a fresh one starts, once.
    if (attempt > 0 || !opts.autoStart) {
      throw new AgentSecretError('daemon.unavailable', `the running agent-secret daemon is version ${displayVersion(theirs)}; this is ${VERSION}`, {
        hint: 'run agent-secret daemon stop, then retry',
      });
    }
    if (hello.body.retiring !== true) await stopDaemon(opts.dirs);
  }
}

/** Asks a running daemon for its status; never starts one. */
export async function daemonStatus(dirs: DirsInput): Promise<DaemonStatus> {
  const paths = daemonPaths(dirs);
  const conv = await connectExisting(paths);
  if (conv === null) return { running: false };
  try {
    await conv.send('daemon.status', {});
    const reply = await conv.receive({ timeoutMs: REPLY_TIMEOUT_MS });
    if (reply.type !== 'daemon.status.ok') throw protocolError('the daemon did not answer daemon.status');
    const status: DaemonStatus = { running: true };
    const { pid, version, started_at: startedAt } = reply.body;
    if (isPid(pid)) status.pid = pid;
    if (typeof version === 'string') status.version = displayVersion(version);
    if (typeof startedAt === 'string' && !Number.isNaN(Date.parse(startedAt)) && startedAt.length <= 40) status.started_at = startedAt;
    const { user_config: userConfig, audit_log: auditLog } = reply.body;
    if (typeof userConfig === 'string' && userConfig.length <= 4096) status.user_config = userConfig;
    if (typeof auditLog === 'string' && auditLog.length <= 4096) status.audit_log = auditLog;
    return status;
  } finally {
    conv.close();
  }
}

/** Stops a running daemon and waits until it is gone; false when none was running. */
export async function stopDaemon(dirs: DirsInput): Promise<boolean> {
  const paths = daemonPaths(dirs);
  const conv = await connectExisting(paths);
  if (conv === null) return false;
  let pid = readPidFile(paths.pidFile)?.pid;
  try {
    await conv.send('daemon.stop', {});
    const reply = await conv.receive({ timeoutMs: REPLY_TIMEOUT_MS });
    if (reply.type !== 'daemon.stop.ok') throw protocolError('the daemon did not answer daemon.stop');
    if (isPid(reply.body.pid)) pid = reply.body.pid;
  } finally {
    conv.close();
  }
  const deadline = Date.now() + STOP_WAIT_MS;
  for (;;) {
    const answering = await isAnswering(paths.socket);
    const alive = pid !== undefined && pid !== process.pid && isProcessRunning(pid);
    if (!answering && !alive) return true;
    if (Date.now() >= deadline) {
      throw new AgentSecretError('daemon.unavailable', `the agent-secret daemon${pid === undefined ? '' : ` (pid ${pid})`} is still running after daemon stop`, {
        hint: pid === undefined ? STATUS_HINT : `kill ${pid}`,
      });
    }
    await sleep(25);
  }
}

// Connects, starting a daemon when allowed and none answers.
async function connectConversation(paths: DaemonPaths, opts: OpenOptions): Promise<ClientConversation> {
  if (!opts.autoStart) {
    const conv = await connectExisting(paths);
    if (conv === null) throw notRunning();
    return conv;
  }
  prepareRuntimeDir(paths, { create: true });
  const first = await tryConnect(paths.socket);
  if (first !== null) return first;
  // Parallel clients: the one holding the spawn lock starts the daemon, the others wait for it
  // (and take over when that client went away without a daemon answering).
  const deadline = Date.now() + START_TIMEOUT_MS;
  let release: (() => void) | null = null;
  let exitCode: number | null | undefined;
  let backoff = 5;
  try {
    for (;;) {
      if (release === null) {
        release = tryLock(paths.spawnLockFile);
        if (release !== null) {
          const [file, ...args] = daemonCommand(process.execPath, BIN);
          const child = spawn(file as string, args, { detached: true, stdio: 'ignore', env: daemonEnv(opts.env), cwd: '/' });
          child.once('exit', (code, signal) => (exitCode = signal === null ? code : 128));
          child.once('error', () => (exitCode = 127));
          child.unref();
        }
      }
      const conv = await tryConnect(paths.socket);
      if (conv !== null) return conv;
      if (exitCode !== undefined && exitCode !== 0) {
        if (inTheWay(paths.socket)) {
          throw new AgentSecretError('daemon.unavailable', `${paths.socket} is in the way of the daemon socket: it is not a socket`, {
            hint: `move ${paths.socket} away, then rerun`,
          });
        }
        throw new AgentSecretError('daemon.unavailable', `the agent-secret daemon exited while starting (exit ${exitCode})`, {
          hint: 'run agent-secret daemon serve in a terminal to see why',
        });
      }
      if (Date.now() >= deadline) {
        throw new AgentSecretError('daemon.unavailable', `the agent-secret daemon did not start within ${START_TIMEOUT_MS / 1000} s`, {
          hint: 'run agent-secret daemon serve in a terminal to see why',
        });
      }
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 50);
    }
  } finally {
    release?.();
  }
}

function displayVersion(version: string): string {
  return /^[0-9A-Za-z.+-]{1,40}$/.test(version) ? version : 'unknown';
}

function isPid(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/**
 * Node flags of the daemon. A young generation of 2 MB semi-spaces (Node's default is 16): the
 * daemon allocates little per request but lives long, and a burst of requests would otherwise
 * leave it tens of MB larger (bench: 50 parallel reused execs, 82 -> 69 MB resident).
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2'] as const;

/**
 * How the daemon is started: through `sh`, which sets RLIMIT_CORE to 0 (soft and hard) and then
 * becomes node (`exec`, same pid). The daemon holds every cached value, so a core file of it
 * (a crash, or anyone sending it SIGABRT or SIGQUIT while the starter had `ulimit -c unlimited`)
 * would put them on disk. Node cannot set rlimits itself; if `ulimit` fails the daemon does not
 * start. `op` and the approver programs it starts inherit the 0. Pure.
 */
export function daemonCommand(node: string, bin: string): string[] {
  return ['/bin/sh', '-c', 'ulimit -c 0 && exec "$0" "$@"', node, ...DAEMON_NODE_FLAGS, bin, 'daemon', 'serve'];
}

/**
 * Variables that load code into a process, and the registered agent's token of whichever caller
 * happens to start it: the daemon outlives that agent and holds everyone's values, so it never
 * inherits them (each request carries its own caller's token).
 */
export const DAEMON_ENV_DROPPED = ['AGENT_SECRET_AGENT_TOKEN', 'NODE_OPTIONS', 'NODE_PATH', 'NODE_COMPILE_CACHE', 'BASH_ENV', 'ENV', 'PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'RUBYOPT', 'RUBYLIB'] as const;
const DAEMON_ENV_DROPPED_PREFIXES = ['LD_', 'DYLD_'] as const;

/** The environment a daemon is started with: the caller's, without DAEMON_ENV_DROPPED and the LD_ and DYLD_ prefixes. Pure. */
export function daemonEnv(env: Record<string, string | undefined>): Record<string, string> {
  const dropped = new Set<string>(DAEMON_ENV_DROPPED);
  const out = definedEnv(env);
  for (const name of Object.keys(out)) {
    if (dropped.has(name) || DAEMON_ENV_DROPPED_PREFIXES.some((prefix) => name.startsWith(prefix))) delete out[name];
  }
  return out;
}

function notRunning(): AgentSecretError {
  return new AgentSecretError('daemon.unavailable', 'the agent-secret daemon is not running', { hint: 'run agent-secret daemon start' });
}



function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Something other than a socket at the socket path (the daemon refuses to remove it).
function inTheWay(socketPath: string): boolean {
  try {
    return !lstatSync(socketPath).isSocket();
  } catch {
    return false;
  }
}
