// The rotation record. When the writer rotates, the new file's first line is a `trail_rotated`
// record describing the file it just renamed to `.1` (that name, the hash of its last line, its
// line count and size), chained like any other line. Verify compares it with the file before
// it, so a rotated file that was shortened, replaced or made up is a finding, and the oldest
// file's record shows that what came before it was dropped by rotation. Pure.

/** The event name of a rotation record. */
export const ROTATION_EVENT = 'trail_rotated';

/**
 * Lines of this `schema_version` or later come from writers that record every rotation, so a
 * file starting with such a line must start with a rotation record (or be the trail's first).
 * Lines of version 1 predate rotation records: their file boundaries cannot be proven.
 */
export const RECORDS_ROTATION_SINCE = 2;

/** The file just rotated, as the rotation record describes it. */
export interface RotatedFile {
  /** The name it was given at rotation (`audit.jsonl.1`); later rotations shift it, so it is not compared. */
  file: string;
  /** SHA-256 (hex) of its last line, without the newline: also the record's own prev_hash. */
  last_hash: string;
  lines: number;
  bytes: number;
}

/**
 * Why the file was rotated: size_limit, the normal case; resumed: the writer found the current
 * file empty beside `.1` (a rotation cut short by a crash, or files shifted by hand) and recorded
 * that rotation before its own line.
 */
export type RotationReason = 'size_limit' | 'resumed';

export interface RotationRecord {
  readonly event: typeof ROTATION_EVENT;
  readonly reason: RotationReason;
  readonly previous: RotatedFile;
}

/** What the first line of a file says: its version, its time, and its rotation record if it is one. */
export interface FileHead {
  version: number | null;
  timestamp: string | null;
  /** null: not a rotation record; 'malformed': a trail_rotated line without a valid `previous`. */
  rotation: RotatedFile | null | 'malformed';
  /** A rotation record whose reason is `resumed`. */
  resumed: boolean;
}

const HASH_PATTERN = /^[0-9a-f]{64}$/;
const NOT_A_RECORD: FileHead = { version: null, timestamp: null, rotation: null, resumed: false };

/** The record to write first in a new file, after `previous` was rotated. */
export function rotationRecord(previous: RotatedFile, reason: RotationReason): RotationRecord {
  return { event: ROTATION_EVENT, reason, previous: { file: previous.file, last_hash: previous.last_hash, lines: previous.lines, bytes: previous.bytes } };
}

/** Reads the first line of a file (bytes without the newline). */
export function readFileHead(bytes: Uint8Array): FileHead {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return NOT_A_RECORD;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return NOT_A_RECORD;
  const record = value as Record<string, unknown>;
  const version = typeof record.schema_version === 'number' && Number.isSafeInteger(record.schema_version) ? record.schema_version : null;
  const timestamp = typeof record.timestamp === 'string' && !Number.isNaN(Date.parse(record.timestamp)) ? record.timestamp : null;
  if (record.event !== ROTATION_EVENT) return { version, timestamp, rotation: null, resumed: false };
  const reason = record.reason === 'size_limit' || record.reason === 'resumed' ? record.reason : null;
  return { version, timestamp, rotation: reason === null ? 'malformed' : readPrevious(record.previous), resumed: reason === 'resumed' };
}

/** Whether a file starting with this head must carry a rotation record when it is not the trail's first. */
export function recordsRotation(head: FileHead): boolean {
  return head.version !== null && head.version >= RECORDS_ROTATION_SINCE;
}

/** How the file before a record differs from what the record says, in words; null when it matches exactly. */
export function rotationMismatch(said: RotatedFile, found: { lastHash: string | null; lines: number; bytes: number }): string | null {
  const differences: string[] = [];
  if (said.lines !== found.lines) differences.push(`${said.lines} lines, not ${found.lines}`);
  if (said.bytes !== found.bytes) differences.push(`${said.bytes} bytes, not ${found.bytes}`);
  if (said.last_hash !== found.lastHash) differences.push(`a last line with hash ${said.last_hash.slice(0, 12)}…, not ${found.lastHash === null ? 'none' : `${found.lastHash.slice(0, 12)}…`}`);
  return differences.length === 0 ? null : differences.join(', ');
}

function readPrevious(value: unknown): RotatedFile | 'malformed' {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'malformed';
  const { file, last_hash: lastHash, lines, bytes } = value as Record<string, unknown>;
  if (typeof file !== 'string' || typeof lastHash !== 'string' || !HASH_PATTERN.test(lastHash)) return 'malformed';
  if (!isCount(lines) || !isCount(bytes) || lines < 1 || bytes < 1) return 'malformed';
  return { file, last_hash: lastHash, lines, bytes };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
