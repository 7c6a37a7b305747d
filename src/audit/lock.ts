// The audit lock: platform/file-lock.ts next to the log (audit.jsonl.lock), held for one append
// (or one read of the whole trail) so that parallel agent-secret processes extend the chain one
// at a time; synchronous, like audit writes. This module only sets the audit's timing (wait up
// to 10 s, a lock older than 5 s is broken) and turns the outcome into a Problem to report.

import { acquireFileLockSync } from '../platform/file-lock.js';
import { errnoProblem, type Problem } from './fs-checks.js';

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

/** Takes the lock at lockPath, waiting (blocking) with backoff; never throws. */
export function acquireLock(lockPath: string, options: LockOptions = {}): LockResult {
  const attempt = acquireFileLockSync(lockPath, {
    timeoutMs: options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    staleMs: options.staleMs ?? DEFAULT_STALE_LOCK_MS,
  });
  switch (attempt.kind) {
    case 'acquired':
      return { ok: true, release: attempt.release };
    case 'held':
      return {
        ok: false,
        problem: {
          reason: `it is locked by another agent-secret process${attempt.pid === null ? '' : ` (pid ${attempt.pid})`}`,
          hint: `rerun in a moment; if no agent-secret is running, remove ${lockPath}`,
        },
      };
    case 'not_a_file':
      return { ok: false, problem: { reason: `the lock ${lockPath} is not a regular file`, hint: `remove ${lockPath} and rerun` } };
    case 'failed':
      return { ok: false, problem: errnoProblem({ code: attempt.errno }, lockPath), ...(attempt.stage === 'create' && attempt.errno !== undefined ? { errno: attempt.errno } : {}) };
  }
}
