// Reads the whole audit trail (rotated files oldest first, then the current file) as one
// consistent snapshot: under the writers' lock, so that no append or rotation is half seen.
// Reading creates nothing but the short-lived lock file (none in a read-only directory); a trail
// that does not exist is empty.

import { lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgentSecretError } from '../core/errors.js';
import { codeOf, currentUid, dirProblem, errnoProblem, type Problem } from './fs-checks.js';
import { acquireLock, type LockOptions } from './lock.js';
import { DEFAULT_KEEP_ROTATED, lockPath, readTrailFiles, type TrailFile } from './trail.js';

export interface ReadTrailOptions {
  /** Rotated files to look for, `.1` … `.N` (default 5). */
  keepRotated?: number;
  lock?: LockOptions;
}

export interface TrailSnapshot {
  path: string;
  keepRotated: number;
  /** Files that exist, oldest first; the current file (index 0) last. */
  files: TrailFile[];
  /** Paths of the trail that exist but are not regular files. */
  notFiles: string[];
}

/** Reads every file of the trail at path; throws check.failed when it cannot be read. */
export async function readAuditTrail(path: string, options: ReadTrailOptions = {}): Promise<TrailSnapshot> {
  const keepRotated = options.keepRotated ?? DEFAULT_KEEP_ROTATED;
  const dir = dirname(path);
  let dirStats;
  try {
    dirStats = lstatSync(dir);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return { path, keepRotated, files: [], notFiles: [] };
    throw unreadable(path, errnoProblem(error, dir));
  }
  const problem = dirProblem(dirStats, dir, currentUid());
  if (problem !== null) throw unreadable(path, problem);
  const lock = acquireLock(lockPath(path), options.lock);
  // Where no lock can be created (a read-only copy or file system), nobody can append either.
  if (!lock.ok && !UNLOCKABLE.has(lock.errno ?? '')) throw unreadable(path, lock.problem);
  try {
    return { path, keepRotated, ...readTrailFiles(path, keepRotated) };
  } catch (error) {
    throw unreadable(path, errnoProblem(error, path));
  } finally {
    if (lock.ok) lock.release();
  }
}

const UNLOCKABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

function unreadable(path: string, problem: Problem): AgentSecretError {
  return new AgentSecretError('check.failed', `cannot read the audit log ${path}: ${problem.reason}`, { hint: problem.hint });
}

/** The longest window a rule's `rate` can have (policy/parse.ts: 7d). */
const MAX_RATE_WINDOW_MS = 7 * 86_400_000;

/**
 * Deliveries the policy granted (approval_granted by the policy, with its rule) within the longest
 * rate window before `now`, from every file of the trail: the daemon counts them again at start,
 * so `daemon stop` does not reset a rule's rate limit. Unreadable lines and files are skipped
 * (nothing is counted from them). Synchronous: the broker is built before it serves anyone.
 */
export function policyGrantsSince(path: string, now: number, keepRotated = DEFAULT_KEEP_ROTATED): Array<{ rule: string; at: number }> {
  const out: Array<{ rule: string; at: number }> = [];
  let files: TrailFile[];
  try {
    files = readTrailFiles(path, keepRotated).files;
  } catch {
    return out;
  }
  for (const file of files) {
    for (const line of file.bytes.toString('utf8').split('\n')) {
      if (!line.includes('"approval_granted"') || !line.includes('"policy_rule"')) continue;
      try {
        const e = JSON.parse(line) as { event?: unknown; approver?: unknown; policy_rule?: unknown; timestamp?: unknown };
        const at = typeof e.timestamp === 'string' ? Date.parse(e.timestamp) : NaN;
        if (e.event === 'approval_granted' && e.approver === 'policy' && typeof e.policy_rule === 'string' && at > now - MAX_RATE_WINDOW_MS && at <= now) out.push({ rule: e.policy_rule, at });
      } catch {
        // Not a record: nothing to count.
      }
    }
  }
  return out;
}
