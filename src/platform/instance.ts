// One daemon per user: the locks (daemon.lock, created exclusively while a daemon starts;
// daemon.spawn.lock, held by the one client that spawns it), the pid file (daemon.pid, JSON),
// Unix-socket connects with a deadline, and "is that process still running". Shared by the server (single instance, stale socket) and the client
// (auto-start, stop). Filesystem errors are described by errno code only.

import { closeSync, constants, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { AgentSecretError } from '../core/errors.js';
import { nodeCrypto } from '../core/node-crypto.js';

export const START_LOCK_STALE_MS = 10_000;

export interface PidRecord {
  pid: number;
  version: string;
  started_at: string;
}

/** The errno code of a thrown value, when it looks like one. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
}

/** Connects to a Unix socket; rejects with the errno-carrying error, or ETIMEDOUT after timeoutMs. */
export function connectUnix(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

/** Whether pid is a live process (a zombie counts as gone). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return errnoOf(error) === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Takes the start lock, waiting (asynchronously) while another live starter holds it. A lock
 * whose owner is gone, or older than START_LOCK_STALE_MS, is removed. Returns the release function.
 */
export async function acquireStartLock(lockPath: string, timeoutMs = START_LOCK_STALE_MS + 2_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const release = tryLock(lockPath);
    if (release !== null) return release;
    if (Date.now() >= deadline) {
      throw new AgentSecretError('daemon.unavailable', `another agent-secret daemon is starting and holds ${lockPath}`, {
        hint: `rerun in a moment; if no agent-secret daemon is running, remove ${lockPath}`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 25));
  }
}

/**
 * Creates the lock file exclusively (our pid and a nonce in it) and returns its release, or null
 * when a live holder has it. A lock left by a dead process, or older than START_LOCK_STALE_MS,
 * is removed first. Release removes the lock only while it is still ours.
 */
export function tryLock(lockPath: string): (() => void) | null {
  const content = `${process.pid}\n${nodeCrypto().randomBytes(8).toString('hex')}\n`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      return () => {
        if (readText(lockPath) === content) unlinkQuietly(lockPath);
      };
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST') {
        throw new AgentSecretError('daemon.unavailable', `cannot create the lock ${lockPath} (${errnoOf(error) ?? 'unknown error'})`, {
          hint: 'check the permissions of the runtime directory, then run agent-secret daemon start',
        });
      }
    }
    removeIfStale(lockPath);
  }
  return null;
}

function removeIfStale(lockPath: string): void {
  let stats;
  try {
    stats = lstatSync(lockPath);
  } catch {
    return;
  }
  const match = /^([1-9][0-9]{0,9})\n/.exec(readText(lockPath) ?? '');
  const pid = match === null ? null : Number(match[1]);
  const ownerGone = pid !== null && pid !== process.pid && !isProcessRunning(pid);
  if (!ownerGone && Date.now() - stats.mtimeMs <= START_LOCK_STALE_MS) return;
  try {
    const again = lstatSync(lockPath);
    if (again.ino === stats.ino && again.mtimeMs === stats.mtimeMs) unlinkSync(lockPath);
  } catch {
    // Gone already, or removed by another starter.
  }
}

/** Writes the pid file atomically (0600, then rename over the old one). */
export function writePidFile(path: string, record: PidRecord): void {
  const temp = `${path}.${process.pid}.tmp`;
  unlinkQuietly(temp);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/** Reads a pid file; null when missing or not ours in shape. */
export function readPidFile(path: string): PidRecord | null {
  const text = readText(path);
  return text === null ? null : parsePidRecord(text);
}

/** Parses a pid file's content (pure). */
export function parsePidRecord(text: string): PidRecord | null {
  if (text.length > 4096) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const record = value as Partial<PidRecord> | null;
  if (record === null || typeof record !== 'object') return null;
  if (!Number.isSafeInteger(record.pid) || (record.pid as number) <= 0) return null;
  if (typeof record.version !== 'string' || typeof record.started_at !== 'string') return null;
  return { pid: record.pid as number, version: record.version, started_at: record.started_at };
}

/** Removes the pid file when it still names pid (a newer daemon may have replaced it). */
export function removePidFileIfOurs(path: string, pid: number): void {
  const record = parsePidRecord(readText(path) ?? '');
  if (record !== null && record.pid === pid) unlinkQuietly(path);
}

function readText(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    return readFileSync(fd, 'utf8');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or not ours to remove; the next start checks again.
  }
}
