// The append-only audit log: one JSON line per event, written synchronously through pino to a
// private file and fsync'd. The path's directory and file are untrusted until checked: no
// symlinks, ours, not shared. Invariant: a write that did not reach the file throws.

import { chmodSync, closeSync, constants, fchmodSync, fstatSync, openSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { access, lstat, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import pino from 'pino';
import { AgentSecretError } from '../core/errors.js';
import type { AuditRecord } from './events.js';

export interface AuditLog {
  readonly path: string;
  /** Appends one record and syncs it to disk; throws audit.unwritable when it could not. */
  write(record: AuditRecord): void;
  close(): Promise<void>;
}

export interface AuditPathCheck {
  ok: boolean;
  problem?: string;
  hint?: string;
}

/** Version of the line format; the first key of every line. */
export const AUDIT_SCHEMA_VERSION = 1;

interface Problem {
  reason: string;
  hint: string;
}

// O_NONBLOCK: a FIFO planted at the path fails with ENXIO instead of blocking the open.
const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Opens (creating if needed) the audit log after checking its directory and file; throws audit.unwritable. */
export async function openAuditLog(path: string): Promise<AuditLog> {
  const uid = currentUid();
  const dir = dirname(path);
  await prepareDir(path, dir, uid);
  const before = await lstat(path).catch((error: unknown) => {
    if (codeOf(error) === 'ENOENT') return null;
    throw unwritable(path, errnoProblem(error, path));
  });
  if (before !== null) throwIf(path, fileProblem(before, path, uid));

  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS, 0o600);
  } catch (error) {
    throw unwritable(path, errnoProblem(error, path));
  }
  try {
    const opened = fstatSync(fd);
    // The checked path must still be what was opened; a new file gets exactly 0600 whatever the umask.
    if (before !== null && (before.dev !== opened.dev || before.ino !== opened.ino)) {
      throw unwritable(path, { reason: 'the file was replaced while it was being opened', hint: 'rerun the command' });
    }
    throwIf(path, fileProblem(opened, path, uid));
    if (before === null) fchmodSync(fd, 0o600);
  } catch (error) {
    closeSync(fd);
    throw error instanceof AgentSecretError ? error : unwritable(path, errnoProblem(error, path));
  }
  return createLog(path, fd);
}

/** Says whether the audit log could be opened and written, without creating or changing anything. */
export async function checkAuditPath(path: string): Promise<AuditPathCheck> {
  const uid = currentUid();
  const dir = dirname(path);
  const problem = await findPathProblem(path, dir, uid);
  return problem === null ? { ok: true } : { ok: false, problem: message(path, problem), hint: problem.hint };
}

function createLog(path: string, fd: number): AuditLog {
  const stream = pino.destination({ fd, sync: true, fsync: true });
  let failure: string | null = null;
  let closed = false;
  stream.on('error', (error: unknown) => {
    failure ??= codeOf(error) ?? 'write failed';
  });
  const logger = pino(
    {
      base: null,
      level: 'info',
      // pino puts the level object first on every line: make it the format version instead.
      formatters: { level: () => ({ schema_version: AUDIT_SCHEMA_VERSION }) },
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    },
    stream,
  );
  return {
    path,
    write(record: AuditRecord): void {
      if (closed) throw unwritable(path, { reason: 'the log was already closed', hint: 'this is a bug in agent-secret; please report it' });
      if (failure === null) logger.info(record);
      if (failure !== null) throw unwritable(path, errnoProblem({ code: failure }, path));
    },
    close(): Promise<void> {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.once('error', () => resolve());
        stream.end();
      });
    },
  };
}

// Creates the directory 0700 if missing. An existing one must be a real directory owned by
// us; if it is ours but more open than 0700 it is tightened, since nobody else needs it.
async function prepareDir(path: string, dir: string, uid: number): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw unwritable(path, errnoProblem(error, dir));
  }
  let stats: Stats;
  try {
    stats = await lstat(dir);
  } catch (error) {
    throw unwritable(path, errnoProblem(error, dir));
  }
  throwIf(path, dirProblem(stats, dir, uid));
  if ((stats.mode & 0o777) !== 0o700) {
    try {
      chmodSync(dir, 0o700);
    } catch (error) {
      throw unwritable(path, errnoProblem(error, dir));
    }
  }
}

async function findPathProblem(path: string, dir: string, uid: number): Promise<Problem | null> {
  const dirStat = await tryLstat(dir);
  if ('error' in dirStat) return codeOf(dirStat.error) === 'ENOENT' ? creatableProblem(dir) : errnoProblem(dirStat.error, dir);
  const problem = dirProblem(dirStat.stats, dir, uid);
  if (problem !== null) return problem;
  // A directory of ours without owner rwx is fixed to 0700 on first write; only test access otherwise.
  if ((dirStat.stats.mode & 0o700) === 0o700) {
    const denied = await tryAccess(dir, constants.W_OK | constants.X_OK);
    if (denied !== null) return errnoProblem(denied, dir);
  }
  const fileStat = await tryLstat(path);
  if ('error' in fileStat) return codeOf(fileStat.error) === 'ENOENT' ? null : errnoProblem(fileStat.error, path);
  const fileIssue = fileProblem(fileStat.stats, path, uid);
  if (fileIssue !== null) return fileIssue;
  const denied = await tryAccess(path, constants.W_OK);
  return denied === null ? null : errnoProblem(denied, path);
}

async function tryLstat(path: string): Promise<{ stats: Stats } | { error: unknown }> {
  try {
    return { stats: await lstat(path) };
  } catch (error) {
    return { error };
  }
}

async function tryAccess(path: string, mode: number): Promise<unknown> {
  try {
    await access(path, mode);
    return null;
  } catch (error) {
    return error;
  }
}

// A missing directory is fine when its nearest existing ancestor lets us create it.
async function creatableProblem(dir: string): Promise<Problem | null> {
  let current = dirname(dir);
  for (;;) {
    const stats = await lstat(current).catch(() => null);
    if (stats !== null) {
      if (!stats.isDirectory() && !stats.isSymbolicLink()) return { reason: `${current} is not a directory`, hint: `move ${current} away, or point XDG_STATE_HOME elsewhere` };
      const denied = await tryAccess(current, constants.W_OK | constants.X_OK);
      return denied === null ? null : errnoProblem(denied, current);
    }
    const parent = dirname(current);
    if (parent === current) return { reason: 'no existing parent directory', hint: 'check HOME and XDG_STATE_HOME' };
    current = parent;
  }
}

function dirProblem(stats: Stats, dir: string, uid: number): Problem | null {
  if (stats.isSymbolicLink()) {
    return { reason: `${dir} is a symlink`, hint: `the audit directory must be a real directory: remove the link ${dir} and rerun` };
  }
  if (!stats.isDirectory()) return { reason: `${dir} is not a directory`, hint: `move ${dir} away and rerun; it is created automatically` };
  if (stats.uid !== uid) {
    return { reason: `${dir} belongs to another user (uid ${stats.uid})`, hint: `the audit directory must be yours: move ${dir} away and rerun` };
  }
  return null;
}

function fileProblem(stats: Stats, path: string, uid: number): Problem | null {
  if (stats.isSymbolicLink()) return { reason: 'it is a symlink', hint: `remove the link ${path}; agent-secret creates the file itself` };
  if (!stats.isFile()) return { reason: 'it is not a regular file', hint: `move ${path} away and rerun` };
  if (stats.uid !== uid) return { reason: `it belongs to another user (uid ${stats.uid})`, hint: `move ${path} away and rerun` };
  if ((stats.mode & 0o077) !== 0) {
    return { reason: `it is readable or writable by others (mode ${(stats.mode & 0o777).toString(8)})`, hint: `chmod 600 ${path}` };
  }
  return null;
}

// Only the errno code is kept: a system message may carry text we did not choose.
function errnoProblem(error: unknown, where: string): Problem {
  const code = codeOf(error) ?? 'unknown error';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return { reason: code, hint: `${where} must be writable by you; check its owner and permissions, then run agent-secret doctor` };
    case 'ELOOP':
      return { reason: 'it is a symlink', hint: `remove the link ${where}; agent-secret creates the file itself` };
    case 'ENXIO':
      return { reason: 'it is not a regular file', hint: `move ${where} away and rerun` };
    case 'ENOTDIR':
    case 'EEXIST':
      return { reason: code, hint: `a file is in the way of the audit directory; move it away, or point XDG_STATE_HOME elsewhere` };
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EROFS':
    case 'EIO':
      return { reason: code, hint: 'free disk space or fix the file system, then rerun' };
    default:
      return { reason: code, hint: 'run agent-secret doctor to check the audit log' };
  }
}

function throwIf(path: string, problem: Problem | null): void {
  if (problem !== null) throw unwritable(path, problem);
}

function unwritable(path: string, problem: Problem): AgentSecretError {
  return new AgentSecretError('audit.unwritable', message(path, problem), { hint: problem.hint });
}

function message(path: string, problem: Problem): string {
  return `cannot write the audit log ${path}: ${problem.reason}`;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
}

function currentUid(): number {
  return process.geteuid?.() ?? -1;
}
