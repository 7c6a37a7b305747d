// One daemon per user: the locks (daemon.lock, created exclusively while a daemon starts;
// daemon.spawn.lock, held by the one client that spawns it), the pid file (daemon.pid, JSON),
// Unix-socket connects with a deadline, and "is that process still running". Shared by the server (single instance, stale socket) and the client
// (auto-start, stop). Filesystem errors are described by errno code only.

import { closeSync, constants, openSync, renameSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { AgentSecretError } from '../core/errors.js';
import { acquireFileLock, tryFileLock, type LockAttempt } from './file-lock.js';
import { readHead, unlinkQuietly } from './fs.js';

export const START_LOCK_STALE_MS = 10_000;

export interface PidRecord {
  pid: number;
  version: string;
  started_at: string;
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

/**
 * Takes the start lock (platform/file-lock.ts), waiting asynchronously while another live starter
 * holds it. A lock whose owner is gone, or older than START_LOCK_STALE_MS, is removed. Returns
 * the release function.
 */
export async function acquireStartLock(lockPath: string, timeoutMs = START_LOCK_STALE_MS + 2_000): Promise<() => void> {
  const attempt = await acquireFileLock(lockPath, { timeoutMs, staleMs: START_LOCK_STALE_MS });
  if (attempt.kind === 'held') {
    throw new AgentSecretError('daemon.unavailable', `another agent-secret daemon is starting and holds ${lockPath}`, {
      hint: `rerun in a moment; if no agent-secret daemon is running, remove ${lockPath}`,
    });
  }
  return acquired(attempt, lockPath);
}

/** The lock and its release, or null when a live holder has it (one attempt; a stale lock is removed first). */
export function tryLock(lockPath: string): (() => void) | null {
  const attempt = tryFileLock(lockPath, START_LOCK_STALE_MS);
  return attempt.kind === 'held' ? null : acquired(attempt, lockPath);
}

function acquired(attempt: Exclude<LockAttempt, { kind: 'held' }>, lockPath: string): () => void {
  if (attempt.kind === 'acquired') return attempt.release;
  const why = attempt.kind === 'not_a_file' ? 'it is not a regular file' : (attempt.errno ?? 'unknown error');
  throw new AgentSecretError('daemon.unavailable', `cannot create the lock ${lockPath} (${why})`, {
    hint: 'check the permissions of the runtime directory, then run agent-secret daemon start',
  });
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

// A pid file is ASCII JSON of at most 4096 bytes (parsePidRecord refuses more): read one byte past that.
function readText(path: string): string | null {
  return readHead(path, 4097);
}
