// The audit lock: a file created exclusively (O_CREAT|O_EXCL, 0600) next to the log, holding
// its owner's pid and a nonce. Held for one append (or one read of the whole trail) so that
// parallel agent-secret processes extend the chain one at a time; synchronous, like audit
// writes. A lock whose owner is gone, or older than staleMs, is broken.

import { randomBytes } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { codeOf, errnoProblem, type Problem } from './fs-checks.js';

export interface LockOptions {
  /** How long to wait for a busy lock before giving up (default 10 s). */
  timeoutMs?: number;
  /** Age after which a lock is taken to be left behind, whoever holds it (default 5 s). */
  staleMs?: number;
}

/** On failure, errno is set when the lock file could not be created at all (EACCES, EROFS, …). */
export type LockResult = { ok: true; release: () => void } | { ok: false; problem: Problem; errno?: string };

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
export const DEFAULT_STALE_LOCK_MS = 5_000;
const MAX_BACKOFF_MS = 50;
const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));

type Holder = { kind: 'gone' } | { kind: 'held'; pid: number | null } | { kind: 'stale'; ino: number; mtimeMs: number } | { kind: 'bad'; problem: Problem };

/** Takes the lock at lockPath, waiting (blocking) with backoff; never throws. */
export function acquireLock(lockPath: string, options: LockOptions = {}): LockResult {
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  const staleMs = options.staleMs ?? DEFAULT_STALE_LOCK_MS;
  let backoff = 1;
  for (;;) {
    let fd: number;
    try {
      fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (error) {
      const errno = codeOf(error);
      if (errno !== 'EEXIST') return { ok: false, problem: errnoProblem(error, lockPath), ...(errno === undefined ? {} : { errno }) };
      const holder = inspectHolder(lockPath, staleMs);
      if (holder.kind === 'bad') return { ok: false, problem: holder.problem };
      if (holder.kind === 'stale') {
        const removed = removeIfUnchanged(lockPath, holder);
        if (removed !== null) return { ok: false, problem: removed };
      }
      const now = Date.now();
      if (now >= deadline) return { ok: false, problem: busy(lockPath, holder.kind === 'held' ? holder.pid : null) };
      if (holder.kind === 'held') {
        sleep(Math.min(backoff + Math.random() * backoff, deadline - now));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
      continue;
    }
    return claim(lockPath, fd);
  }
}

// Writes our pid and a nonce into the fresh lock, so that release removes this lock and not
// one that replaced it after ours was judged stale (a new file may even reuse our inode).
function claim(lockPath: string, fd: number): LockResult {
  const content = `${process.pid}\n${randomBytes(8).toString('hex')}\n`;
  try {
    writeSync(fd, content);
  } catch (error) {
    closeSync(fd);
    unlinkQuietly(lockPath);
    return { ok: false, problem: errnoProblem(error, lockPath) };
  }
  closeSync(fd);
  return {
    ok: true,
    release: () => {
      if (readHead(lockPath) === content) unlinkQuietly(lockPath);
    },
  };
}

function inspectHolder(lockPath: string, staleMs: number): Holder {
  const stats = lstatOrNull(lockPath);
  if (stats === null) return { kind: 'gone' };
  if (!stats.isFile()) {
    return { kind: 'bad', problem: { reason: `the lock ${lockPath} is not a regular file`, hint: `remove ${lockPath} and rerun` } };
  }
  const pid = readPid(lockPath);
  // Our own pid in a lock means a previous process with our pid left it: we hold none now.
  const ownerGone = pid !== null && (pid === process.pid || !isAlive(pid));
  if (ownerGone || Date.now() - stats.mtimeMs > staleMs) return { kind: 'stale', ino: stats.ino, mtimeMs: stats.mtimeMs };
  return { kind: 'held', pid };
}

function removeIfUnchanged(lockPath: string, stale: { ino: number; mtimeMs: number }): Problem | null {
  const again = lstatOrNull(lockPath);
  if (again === null || again.ino !== stale.ino || again.mtimeMs !== stale.mtimeMs) return null;
  try {
    unlinkSync(lockPath);
    return null;
  } catch (error) {
    return codeOf(error) === 'ENOENT' ? null : errnoProblem(error, lockPath);
  }
}

function readPid(lockPath: string): number | null {
  const match = /^([1-9][0-9]{0,9})\n/.exec(readHead(lockPath) ?? '');
  return match === null ? null : Number(match[1]);
}

// The first bytes of the lock (ours are 34 at most), or null when it cannot be read.
function readHead(lockPath: string): string | null {
  let fd: number;
  try {
    fd = openSync(lockPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const buffer = Buffer.alloc(64);
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('latin1');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return codeOf(error) !== 'ESRCH';
  }
}

function busy(lockPath: string, pid: number | null): Problem {
  return {
    reason: `it is locked by another agent-secret process${pid === null ? '' : ` (pid ${pid})`}`,
    hint: `rerun in a moment; if no agent-secret is running, remove ${lockPath}`,
  };
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Left behind, it is broken as stale by the next writer.
  }
}

function sleep(ms: number): void {
  if (ms > 0) Atomics.wait(SLEEP_CELL, 0, 0, ms);
}
