// The one file lock: a file created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW, 0600) holding its
// owner's pid and a nonce. Release removes it only while it still holds our nonce, so a lock
// that replaced ours after ours was judged stale (even one reusing our inode) is left alone. A
// lock is stale when its owner is gone (a zombie counts as gone; our own pid counts as alive,
// since this process may hold it across an await) or when it is older than staleMs, whoever
// holds it;
// a stale lock is removed only if it is still the same file. Used by the audit log (blocking,
// held for one append) and by the daemon's start and spawn locks (polling, asynchronous).

import { closeSync, constants, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { nodeCrypto } from '../core/node-crypto.js';
import { errnoOf, lstatOrNull, readHead, unlinkQuietly } from './fs.js';

/** One attempt: the lock and its release, a live holder (pid when readable), or a failure to create or read it. */
export type LockAttempt =
  | { kind: 'acquired'; release: () => void }
  | { kind: 'held'; pid: number | null }
  | { kind: 'not_a_file' }
  | { kind: 'failed'; errno: string | undefined; stage: 'create' | 'write' | 'remove' };

/** Tries to take the lock once, removing a stale one first. Never throws. */
export function tryFileLock(lockPath: string, staleMs: number): LockAttempt {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    let fd: number;
    try {
      fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST') return { kind: 'failed', errno: errnoOf(error), stage: 'create' };
      const holder = inspect(lockPath, staleMs);
      if (holder.kind !== 'stale') return holder;
      const removed = removeIfUnchanged(lockPath, holder);
      if (removed !== null) return removed;
      continue;
    }
    return claim(lockPath, fd);
  }
  return { kind: 'held', pid: null };
}

const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));
const MAX_BACKOFF_MS = 50;

/** Takes the lock, blocking this thread with backoff until timeoutMs; the last attempt when it gives up. */
export function acquireFileLockSync(lockPath: string, opts: { timeoutMs: number; staleMs: number }): LockAttempt {
  const deadline = Date.now() + opts.timeoutMs;
  let backoff = 1;
  for (;;) {
    const attempt = tryFileLock(lockPath, opts.staleMs);
    const now = Date.now();
    if (attempt.kind !== 'held' || now >= deadline) return attempt;
    Atomics.wait(SLEEP_CELL, 0, 0, Math.max(1, Math.min(backoff + Math.random() * backoff, deadline - now)));
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
}

/** Takes the lock, polling without blocking the event loop until timeoutMs; the last attempt when it gives up. */
export async function acquireFileLock(lockPath: string, opts: { timeoutMs: number; staleMs: number }): Promise<LockAttempt> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const attempt = tryFileLock(lockPath, opts.staleMs);
    if (attempt.kind !== 'held' || Date.now() >= deadline) return attempt;
    await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 25));
  }
}

/** Whether pid is a live process; a zombie counts as gone (it will never release anything). */
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

function claim(lockPath: string, fd: number): LockAttempt {
  const content = `${process.pid}\n${nodeCrypto().randomBytes(8).toString('hex')}\n`;
  try {
    writeSync(fd, content);
  } catch (error) {
    closeSync(fd);
    unlinkQuietly(lockPath);
    return { kind: 'failed', errno: errnoOf(error), stage: 'write' };
  }
  closeSync(fd);
  return {
    kind: 'acquired',
    release: () => {
      if (readHead(lockPath, 64) === content) unlinkQuietly(lockPath);
    },
  };
}

type Holder = { kind: 'held'; pid: number | null } | { kind: 'stale'; ino: number; mtimeMs: number } | { kind: 'not_a_file' };

function inspect(lockPath: string, staleMs: number): Holder {
  const stats = lstatOrNull(lockPath);
  // Gone between our create and this look: try again at once.
  if (stats === null) return { kind: 'stale', ino: -1, mtimeMs: -1 };
  if (!stats.isFile()) return { kind: 'not_a_file' };
  const match = /^([1-9][0-9]{0,9})\n/.exec(readHead(lockPath, 64) ?? '');
  const pid = match === null ? null : Number(match[1]);
  // Our own pid: held by this process (an async holder may be waiting); only its age breaks it.
  const ownerGone = pid !== null && pid !== process.pid && !isProcessRunning(pid);
  if (ownerGone || Date.now() - stats.mtimeMs > staleMs) return { kind: 'stale', ino: stats.ino, mtimeMs: stats.mtimeMs };
  return { kind: 'held', pid };
}

function removeIfUnchanged(lockPath: string, stale: { ino: number; mtimeMs: number }): LockAttempt | null {
  const again = lstatOrNull(lockPath);
  if (again === null || again.ino !== stale.ino || again.mtimeMs !== stale.mtimeMs) return null;
  try {
    unlinkSync(lockPath);
    return null;
  } catch (error) {
    return errnoOf(error) === 'ENOENT' ? null : { kind: 'failed', errno: errnoOf(error), stage: 'remove' };
  }
}
