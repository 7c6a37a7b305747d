// The files of one audit trail: `audit.jsonl` and its rotated predecessors `audit.jsonl.1` (the
// newest) … `.N`. Naming, rotation (callers hold the lock), reading the last line of a file
// from its tail, counting its lines for the rotation record, and reading every file oldest
// first. Files are opened without following links.

import { lstatOrNull } from '../platform/fs.js';
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { codeOf } from './fs-checks.js';

/** How many rotated files are kept by default; the oldest beyond that is dropped. */
export const DEFAULT_KEEP_ROTATED = 5;
/** Default size at which the current file is rotated. */
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

const TAIL_CHUNK = 64 * 1024;
const COUNT_CHUNK = 1024 * 1024;
/** Longer lines are not ours: the writer refuses to continue from one. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** The path of rotated file number n (1 is the newest), or the current file for 0. */
export function rotatedPath(path: string, n: number): string {
  return n === 0 ? path : `${path}.${n}`;
}

/** The lock file of a trail. */
export function lockPath(path: string): string {
  return `${path}.lock`;
}

/** The last line of an open file: its bytes without the newline, or null when the file is empty. */
export type Tail = { kind: 'empty' } | { kind: 'line'; bytes: Buffer } | { kind: 'damaged'; reason: string };

/** Reads the last line of fd (size bytes long) backwards from the end, never the whole file. */
export function readTail(fd: number, size: number): Tail {
  if (size === 0) return { kind: 'empty' };
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  if (last[0] !== 0x0a) return { kind: 'damaged', reason: 'its last line is cut off (no newline)' };
  const end = size - 1;
  let start = end;
  let chunk = TAIL_CHUNK;
  while (start > 0) {
    const from = Math.max(0, start - chunk);
    const buffer = Buffer.alloc(start - from);
    readFully(fd, buffer, from);
    const newline = buffer.lastIndexOf(0x0a);
    if (newline !== -1) {
      start = from + newline + 1;
      break;
    }
    start = from;
    if (end - start > MAX_LINE_BYTES) return { kind: 'damaged', reason: 'its last line is too long' };
    chunk *= 2;
  }
  const bytes = Buffer.alloc(end - start);
  readFully(fd, bytes, start);
  return { kind: 'line', bytes };
}

/** The last line, size and line count of the file at path (not following links), or absent. */
export type FileFacts = { kind: 'absent' } | { kind: 'not_a_file' } | { kind: 'file'; tail: Tail; bytes: number; lines: number };

/** Describes the file at path for a rotation record: its tail, size and newline count. */
export function readFileFacts(path: string): FileFacts {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return { kind: 'absent' };
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { kind: 'not_a_file' };
    return { kind: 'file', tail: readTail(fd, stats.size), bytes: stats.size, lines: countLines(fd, stats.size) };
  } finally {
    closeSync(fd);
  }
}

/** Counts the newlines in the first size bytes of fd, reading it in chunks (a full file is 10 MiB). */
export function countLines(fd: number, size: number): number {
  const buffer = Buffer.alloc(Math.min(size, COUNT_CHUNK));
  let lines = 0;
  for (let position = 0; position < size; ) {
    const got = readSync(fd, buffer, 0, Math.min(buffer.length, size - position), position);
    if (got === 0) break;
    for (let at = buffer.indexOf(0x0a, 0); at !== -1 && at < got; at = buffer.indexOf(0x0a, at + 1)) lines++;
    position += got;
  }
  return lines;
}

/** Shifts `.1`→`.2` … and the current file to `.1`, dropping `.keep`. The caller holds the lock. */
export function rotate(path: string, keep: number): void {
  unlinkIfPresent(rotatedPath(path, keep));
  for (let n = keep - 1; n >= 0; n--) {
    try {
      renameSync(rotatedPath(path, n), rotatedPath(path, n + 1));
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') throw error;
    }
  }
  syncDir(dirname(path));
}

/** One file of the trail, read whole. */
export interface TrailFile {
  path: string;
  /** 0 for the current file, n for `.n`. */
  index: number;
  bytes: Buffer;
}

/** Reads the files that exist, oldest (`.keep`) first and the current file last. */
export function readTrailFiles(path: string, keep: number): { files: TrailFile[]; notFiles: string[] } {
  const files: TrailFile[] = [];
  const notFiles: string[] = [];
  for (let n = keep; n >= 0; n--) {
    const file = rotatedPath(path, n);
    const stats = lstatOrNull(file);
    if (stats === null) continue;
    if (!stats.isFile()) {
      notFiles.push(file);
      continue;
    }
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const opened = fstatSync(fd);
      if (!opened.isFile()) {
        notFiles.push(file);
        continue;
      }
      const bytes = Buffer.alloc(opened.size);
      const got = readFully(fd, bytes, 0);
      files.push({ path: file, index: n, bytes: bytes.subarray(0, got) });
    } finally {
      closeSync(fd);
    }
  }
  return { files, notFiles };
}

// Reads until the buffer is full or the file ends; returns the bytes read.
function readFully(fd: number, buffer: Buffer, position: number): number {
  let done = 0;
  while (done < buffer.length) {
    const got = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
  }
}

// Makes the renames durable; a file system that cannot sync a directory is not an error.
function syncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // Best effort: the lines themselves were fsync'd when written.
  } finally {
    closeSync(fd);
  }
}

