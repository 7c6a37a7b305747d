// The append-only audit log: one JSON line per event in a private file (dir 0700, file 0600, no
// symlinks, fsync'd), chained by `seq` and `prev_hash` (chain.ts). pino is the serializer: it
// renders each record into a line in memory; the append itself (lock, read the last line, link,
// rotate, write, fsync, unlock) is ours, because the link must be computed under the same lock
// as the write when several processes append. Invariant: a write that did not reach the file throws.

import { chmodSync, closeSync, constants, fchmodSync, fstatSync, fsyncSync, ftruncateSync, lstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { access, lstat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import pino from 'pino';
import { AgentSecretError } from '../core/errors.js';
import { nextLink, type ChainLink } from './chain.js';
import type { AuditRecord } from './events.js';
import { codeOf, currentUid, dirProblem, errnoProblem, fileProblem, type Problem } from './fs-checks.js';
import { acquireLock, type LockOptions } from './lock.js';
import { rotationRecord, type RotatedFile, type RotationRecord } from './rotation.js';
import { countLines, DEFAULT_KEEP_ROTATED, DEFAULT_MAX_BYTES, lockPath, readFileFacts, readTail, rotate, rotatedPath, type Tail } from './trail.js';

export interface AuditLog {
  readonly path: string;
  /** Appends one record to the chain and syncs it to disk; throws audit.unwritable when it could not. */
  write(record: AuditRecord): void;
  /** Appends records in order with one lock and one sync: all of them reached the file, or none (throws audit.unwritable). */
  writeAll(records: readonly AuditRecord[]): void;
  close(): Promise<void>;
}

export interface AuditLogOptions {
  /** Rotate before a line would take the current file past this size (default 10 MiB). */
  maxBytes?: number;
  /** Rotated files kept, `.1` … `.N` (default 5). */
  keepRotated?: number;
  lock?: LockOptions;
}

export interface AuditPathCheck {
  ok: boolean;
  problem?: string;
  hint?: string;
}

/**
 * Version of the line format; the first key of every line. 2: every rotation is recorded
 * (rotation.ts), so verify may require the record at the start of each later file.
 */
export const AUDIT_SCHEMA_VERSION = 2;

// O_NONBLOCK: a FIFO planted at the path cannot block the open. O_RDWR: the last line is read back.
const OPEN_FLAGS = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Opens (creating if needed) the audit log after checking its directory and file; throws audit.unwritable. */
export async function openAuditLog(path: string, options: AuditLogOptions = {}): Promise<AuditLog> {
  const uid = currentUid();
  prepareDir(path, dirname(path), uid);
  closeSync(openChecked(path, uid));
  return createLog(path, uid, options);
}

/** Says whether the audit log could be opened and written, without creating or changing anything. */
export async function checkAuditPath(path: string): Promise<AuditPathCheck> {
  const uid = currentUid();
  const dir = dirname(path);
  const problem = await findPathProblem(path, dir, uid);
  return problem === null ? { ok: true } : { ok: false, problem: message(path, problem), hint: problem.hint };
}

function createLog(path: string, uid: number, options: AuditLogOptions): AuditLog {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const keep = options.keepRotated ?? DEFAULT_KEEP_ROTATED;
  const serialize = sharedSerializer();
  let closed = false;
  return {
    path,
    write(record: AuditRecord): void {
      this.writeAll([record]);
    },
    writeAll(records: readonly AuditRecord[]): void {
      if (closed) throw unwritable(path, { reason: 'the log was already closed', hint: 'this is a bug in agent-secret; please report it' });
      if (records.length === 0) return;
      const lock = acquireLock(lockPath(path), options.lock);
      if (!lock.ok) throw unwritable(path, lock.problem);
      try {
        append(path, uid, records, serialize, maxBytes, keep);
      } catch (error) {
        throw error instanceof AgentSecretError ? error : unwritable(path, errnoProblem(error, path));
      } finally {
        lock.release();
      }
    },
    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
  };
}

/** What the serializer renders: a request's event, or the rotation record that starts a file. */
type Renderable = AuditRecord | RotationRecord;

// Lines for records in order, each linked to the one before it (the first to `link`).
function renderChained(records: readonly Renderable[], link: ChainLink, serialize: Serializer): Buffer {
  const lines: Buffer[] = [];
  let next: ChainLink | null = link;
  for (const record of records) {
    if (next === null) throw new AgentSecretError('internal', 'an audit record did not serialize to a chainable line');
    const line = serialize(record, next);
    lines.push(line);
    next = nextLink(line.subarray(0, line.length - 1));
  }
  return Buffer.concat(lines);
}

// Under the lock: link to the last line, rotate if these lines would overflow the file, append,
// fsync. A file started by rotation begins with the rotation record, written together with the
// lines that caused it. A failed write is cut back off, so that no partial line is left behind.
function append(path: string, uid: number, records: readonly AuditRecord[], serialize: Serializer, maxBytes: number, keep: number): void {
  const dir = dirname(path);
  const dirStats = lstatSync(dir);
  throwIf(path, dirProblem(dirStats, dir, uid));
  let fd = openChecked(path, uid);
  try {
    let size = fstatSync(fd).size;
    const after = linkAfter(path, fd, size);
    let lines = renderChained(records, after.link, serialize);
    // A current file left empty beside `.1` (a rotation cut short) gets the record it lacks.
    let rotated = after.unrecorded === null ? null : rotationRecord(after.unrecorded, 'resumed');
    if (size > 0 && size + lines.length > maxBytes) {
      rotated = rotationRecord({ file: basename(rotatedPath(path, 1)), last_hash: after.link.prev_hash, lines: countLines(fd, size), bytes: size }, 'size_limit');
      closeSync(fd);
      fd = -1;
      rotate(path, keep);
      fd = openChecked(path, uid);
      size = fstatSync(fd).size;
    }
    if (rotated !== null) lines = renderChained([rotated, ...records], after.link, serialize);
    try {
      let done = 0;
      while (done < lines.length) done += writeSync(fd, lines, done, lines.length - done);
      fsyncSync(fd);
    } catch (error) {
      try {
        ftruncateSync(fd, size);
      } catch {
        // The write error below is what matters; verify will name the damaged line.
      }
      throw error;
    }
  } finally {
    if (fd !== -1) closeSync(fd);
  }
}

// The link continues from the current file's last line, or from the newest rotated file when
// the current one is empty (a rotation that stopped before its record), or from the genesis
// string when there is neither. In the second case `unrecorded` describes `.1` for the record.
function linkAfter(path: string, fd: number, size: number): { link: ChainLink; unrecorded: RotatedFile | null } {
  const tail = readTail(fd, size);
  if (tail.kind !== 'empty') return { link: linkFrom(path, path, tail), unrecorded: null };
  const where = rotatedPath(path, 1);
  const rotated = readFileFacts(where);
  if (rotated.kind === 'not_a_file') throw damaged(path, `${where} is not a regular file`);
  if (rotated.kind === 'absent' || rotated.tail.kind === 'empty') return { link: linkFrom(path, where, { kind: 'empty' }), unrecorded: null };
  const link = linkFrom(path, where, rotated.tail);
  return { link, unrecorded: { file: basename(where), last_hash: link.prev_hash, lines: rotated.lines, bytes: rotated.bytes } };
}

function linkFrom(path: string, where: string, tail: Tail): ChainLink {
  if (tail.kind === 'damaged') throw damaged(path, `${where}: ${tail.reason}`);
  const link = nextLink(tail.kind === 'line' ? tail.bytes : null);
  if (link === null) throw damaged(path, `${where}: its last line is not an audit record`);
  return link;
}

type Serializer = (record: Renderable, link: ChainLink) => Buffer;
let serializer: Serializer | null = null;

// One serializer for every log this process opens (the daemon opens one per request); it is
// synchronous, so logs cannot interleave in it.
function sharedSerializer(): Serializer {
  serializer ??= createSerializer();
  return serializer;
}

// pino renders a record into one line; the destination only captures it.
function createSerializer(): Serializer {
  let captured = '';
  const logger = pino(
    {
      base: null,
      level: 'info',
      // pino puts the level object first on every line: make it the format version instead.
      formatters: { level: () => ({ schema_version: AUDIT_SCHEMA_VERSION }) },
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    },
    {
      write(text: string): void {
        captured = text;
      },
    },
  );
  return (record, link) => {
    captured = '';
    // The chain fields come first and cannot be overridden by a record carrying the same keys.
    logger.info(Object.assign({ seq: link.seq, prev_hash: link.prev_hash }, record, { seq: link.seq, prev_hash: link.prev_hash }));
    if (!captured.endsWith('\n') || captured.indexOf('\n') !== captured.length - 1) {
      throw new AgentSecretError('internal', 'an audit record did not serialize to one line');
    }
    return Buffer.from(captured, 'utf8');
  };
}

// Checks the path, opens it without following links, and checks that what was opened is what
// was checked. A new file gets exactly 0600 whatever the umask.
function openChecked(path: string, uid: number): number {
  let before: Stats | null;
  try {
    before = lstatSync(path);
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw unwritable(path, errnoProblem(error, path));
    before = null;
  }
  if (before !== null) throwIf(path, fileProblem(before, path, uid));
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS, 0o600);
  } catch (error) {
    throw unwritable(path, errnoProblem(error, path));
  }
  try {
    const opened = fstatSync(fd);
    if (before !== null && (before.dev !== opened.dev || before.ino !== opened.ino)) {
      throw unwritable(path, { reason: 'the file was replaced while it was being opened', hint: 'rerun the command' });
    }
    throwIf(path, fileProblem(opened, path, uid));
    if (before === null) fchmodSync(fd, 0o600);
  } catch (error) {
    closeSync(fd);
    throw error instanceof AgentSecretError ? error : unwritable(path, errnoProblem(error, path));
  }
  return fd;
}

// Creates the directory 0700 if missing. An existing one must be a real directory owned by
// us; if it is ours but more open than 0700 it is tightened, since nobody else needs it.
// Synchronous like every other step of a write: this is our own state directory, and the daemon
// opens the log once per request.
function prepareDir(path: string, dir: string, uid: number): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw unwritable(path, errnoProblem(error, dir));
  }
  let stats: Stats;
  try {
    stats = lstatSync(dir);
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

function damaged(path: string, reason: string): AgentSecretError {
  return unwritable(path, {
    reason: `the chain cannot be continued: ${reason}`,
    hint: `run agent-secret audit verify; then move ${path} away (keep it as evidence) to start a new file`,
  });
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
