// Verifies the hash chain of the audit trail: walks the rotated files oldest first, then the
// current file, recomputes every link and reports the first one that is broken, named by file,
// line, seq and what most likely happened (edited, removed, inserted or reordered lines). Every
// file after the first must start with a rotation record matching the file before it exactly,
// and the oldest file must start at the genesis line or with a rotation record; the report says
// from which line on the trail is provably complete.

import { GENESIS_HASH, parseChainLine, sha256Hex, type ChainLine } from './chain.js';
import { readAuditTrail, type ReadTrailOptions, type TrailSnapshot } from './reader.js';
import { readFileHead, recordsRotation, rotationMismatch, ROTATION_EVENT } from './rotation.js';

export type ChainProblem =
  | 'hash_mismatch'
  | 'missing'
  | 'inserted'
  | 'reordered'
  | 'seq_mismatch'
  | 'seq_order'
  | 'unparsable'
  | 'truncated'
  | 'unchained'
  | 'history_removed'
  | 'rotation_missing'
  | 'rotation_mismatch'
  | 'rotation_misplaced'
  | 'not_a_file';

export interface ChainBreak {
  file: string;
  /** 1-based line number in file (null when the file itself is the problem). */
  line: number | null;
  seq: number | null;
  problem: ChainProblem;
  /** One line, naming the file, line and seq. */
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Chained lines verified (all of them when ok). */
  events: number;
  files: Array<{ path: string; lines: number }>;
  first_seq: number | null;
  last_seq: number | null;
  /** Hash of the last line: note it somewhere else to detect a later rewrite of the whole trail. */
  last_hash: string | null;
  /**
   * complete: starts at the genesis line; rotated_away: the oldest file starts with an intact
   * rotation record and the file it names was dropped by rotation; unprovable: the oldest file
   * was started by a version that did not record rotations (see warnings).
   */
  history: 'empty' | 'complete' | 'rotated_away' | 'unprovable';
  /** The first line from which nothing can have been removed unnoticed (except the newest lines); null when none. */
  complete_from: { seq: number; time: string | null } | null;
  /** Rotation records checked against the file before them. */
  rotations: number;
  /** Lines from before the chain existed, at the start of the trail (not protected). */
  unchained_lines: number;
  /** What limits the proof without being a break. */
  warnings: string[];
  broken: ChainBreak | null;
}

interface Entry {
  file: string;
  /** Position of its file in the snapshot (oldest first). */
  fileIndex: number;
  line: number;
  bytes: Buffer;
  terminated: boolean;
  parsed: ChainLine;
}
type Chained = Entry & { parsed: { kind: 'chained'; seq: number; prevHash: string; event: string | null } };
type Hasher = (e: Entry) => string;

/** What a missing or wrong rotation record most likely means. */
const CUT_OR_REPLACED = 'lines were removed from the start of the trail or a rotated file was replaced';

/** Reads and verifies the trail at path; throws check.failed only when it cannot be read. */
export async function verifyAuditTrail(path: string, options: ReadTrailOptions = {}): Promise<VerifyReport> {
  return verifySnapshot(await readAuditTrail(path, options));
}

/** Verifies a snapshot of the trail. Pure. */
export function verifySnapshot(snapshot: TrailSnapshot): VerifyReport {
  const entries = toEntries(snapshot);
  const hashes = new Map<Entry, string>();
  const hash = (e: Entry) => {
    let h = hashes.get(e);
    if (h === undefined) hashes.set(e, (h = sha256Hex(e.bytes)));
    return h;
  };
  const report: VerifyReport = {
    ok: true,
    events: 0,
    files: snapshot.files.map((f, i) => ({ path: f.path, lines: entries.filter((e) => e.fileIndex === i).length })),
    first_seq: null,
    last_seq: null,
    last_hash: null,
    history: 'empty',
    complete_from: null,
    rotations: 0,
    unchained_lines: 0,
    warnings: [],
    broken: null,
  };
  const fail = (broken: ChainBreak): VerifyReport => ({ ...report, ok: false, broken });

  const notFile = snapshot.notFiles[0];
  if (notFile !== undefined) {
    return fail({ file: notFile, line: null, seq: null, problem: 'not_a_file', message: `${notFile} is not a regular file` });
  }

  let start = 0;
  while (start < entries.length && entries[start]?.terminated === true && entries[start]?.parsed.kind === 'unchained') start++;
  report.unchained_lines = start;
  if (start === entries.length) return report;

  const first = entries[start] as Entry;
  const firstProblem = lineProblem(first);
  if (firstProblem !== null) return fail(firstProblem);
  const head = first as Chained;
  const oldest = oldestStart(snapshot, head, entries[start - 1], hash);
  if ('problem' in oldest) return fail(oldest);
  report.history = oldest.history;
  report.complete_from = oldest.completeFrom;
  if (oldest.warning !== undefined) report.warnings.push(oldest.warning);
  report.first_seq = head.parsed.seq;
  report.events = 1;

  for (let p = start + 1; p < entries.length; p++) {
    const cur = entries[p] as Entry;
    const problem = lineProblem(cur);
    if (problem !== null) return fail(problem);
    const prev = entries[p - 1] as Chained;
    const current = cur as Chained;
    if (!links(prev, current, hash)) return fail(classify(entries, p, start, hash));
    if (current.fileIndex !== prev.fileIndex) {
      const boundary = fileBoundary(snapshot, entries, current, hash);
      if (typeof boundary !== 'string') return fail(boundary);
      if (boundary === 'recorded' || boundary === 'resumed') {
        report.rotations++;
        if (boundary === 'resumed') {
          report.warnings.push(
            `the rotation recorded at ${where(current)} was found cut short and completed by a later write: a crash while rotating, or files shifted by hand (which drops the oldest file without a finding)`,
          );
        }
        // The record pins the whole file before it, so completeness is proven from its first line.
        report.complete_from ??= startOf(entries, current.fileIndex - 1);
      }
    } else if (current.parsed.event === ROTATION_EVENT) {
      return fail({ ...at(current), problem: 'rotation_misplaced', message: `${where(current)} is a rotation record inside a file, not at its start: files were joined or lines moved` });
    }
    report.events++;
  }
  const current = snapshot.files.at(-1);
  if (current !== undefined && (current.index !== 0 || current.bytes.length === 0)) {
    report.warnings.push(`${snapshot.path} is missing or empty beside rotated files: a rotation was cut short, or its lines were removed; the next write records the rotation`);
  }
  const last = entries.at(-1) as Chained;
  report.last_seq = last.parsed.seq;
  report.last_hash = hash(last);
  return report;
}

type OldestStart = { history: 'complete' | 'rotated_away' | 'unprovable'; completeFrom: VerifyReport['complete_from']; warning?: string };

// How the oldest chained line may begin the trail: after lines from before the chain, at the
// genesis line, with a rotation record whose file rotation dropped, or (written before
// rotation records) anywhere once rotation has dropped a file.
function oldestStart(snapshot: TrailSnapshot, head: Chained, before: Entry | undefined, hash: Hasher): OldestStart | ChainBreak {
  const info = readFileHead(head.bytes);
  const from = { seq: head.parsed.seq, time: info.timestamp };
  if (before !== undefined) {
    // The first chained line after lines from before the chain links to the last of them.
    if (head.parsed.prevHash !== hash(before)) return hashMismatch(before, head);
    if (head.parsed.seq !== 1) return seqMismatch(head, 1);
    return { history: 'complete', completeFrom: from };
  }
  if (head.parsed.prevHash === GENESIS_HASH) return head.parsed.seq === 1 ? { history: 'complete', completeFrom: from } : seqMismatch(head, 1);
  // Rotation keeps exactly keepRotated files once it has dropped one; an emptied file does not count.
  const rotated = snapshot.files.filter((f) => f.index > 0 && f.bytes.length > 0).length;
  const full = rotated >= snapshot.keepRotated;
  if (info.rotation === 'malformed') return malformedRecord(head);
  if (info.rotation !== null) {
    if (info.rotation.last_hash !== head.parsed.prevHash) {
      return { ...at(head), problem: 'rotation_mismatch', message: `${where(head)} is a rotation record that does not link to the last line it names: it was forged` };
    }
    if (!full) {
      return {
        ...at(head),
        problem: 'history_removed',
        message: `${where(head)} records the rotation of a file that is not in the trail, yet rotation has dropped no file (${rotated} of ${snapshot.keepRotated} rotated files): a rotated file was removed`,
      };
    }
    return { history: 'rotated_away', completeFrom: from };
  }
  if (recordsRotation(info)) {
    return { ...at(head), problem: 'history_removed', message: `${where(head)} links to a line that is not in the trail and is not a rotation record: ${CUT_OR_REPLACED}` };
  }
  if (head.parsed.seq === 1 || !full) {
    return {
      ...at(head),
      problem: 'history_removed',
      message: `${where(head)} links to a line that is not in the trail, and rotation dropped no file: the lines or files before it were removed`,
    };
  }
  return {
    history: 'unprovable',
    completeFrom: null,
    warning: `the oldest line (seq ${head.parsed.seq}) was written by an agent-secret that did not record rotations: whether lines before it were removed cannot be proven`,
  };
}

// The first line of a file after the first: a rotation record matching the file before it
// exactly, or (written before rotation records) any line that links to it.
function fileBoundary(snapshot: TrailSnapshot, entries: Entry[], cur: Chained, hash: Hasher): 'recorded' | 'resumed' | 'legacy' | ChainBreak {
  const info = readFileHead(cur.bytes);
  const previous = snapshot.files[cur.fileIndex - 1];
  const previousPath = previous?.path ?? '(none)';
  if (info.rotation === 'malformed') return malformedRecord(cur);
  if (info.rotation === null) {
    if (!recordsRotation(info)) return 'legacy';
    return { ...at(cur), problem: 'rotation_missing', message: `${where(cur)} starts a file without a rotation record for ${previousPath}: ${CUT_OR_REPLACED}` };
  }
  const lines = entries.filter((e) => e.fileIndex === cur.fileIndex - 1);
  const last = lines.at(-1);
  const found = { lastHash: last === undefined ? null : hash(last), lines: lines.length, bytes: previous?.bytes.length ?? 0 };
  const difference = rotationMismatch(info.rotation, found);
  if (difference === null) return info.resumed ? 'resumed' : 'recorded';
  return { ...at(cur), problem: 'rotation_mismatch', message: `${where(cur)} records a rotated file unlike ${previousPath} (${difference}): ${CUT_OR_REPLACED}` };
}

function malformedRecord(e: Chained): ChainBreak {
  return { ...at(e), problem: 'rotation_mismatch', message: `${where(e)} is a rotation record without a valid description of the file before it: it was edited or forged` };
}

// The first line of a file (all its lines are chained and verified by the time this is asked).
function startOf(entries: Entry[], fileIndex: number): VerifyReport['complete_from'] {
  const first = entries.find((e) => e.fileIndex === fileIndex);
  if (first === undefined || first.parsed.kind !== 'chained') return null;
  return { seq: first.parsed.seq, time: readFileHead(first.bytes).timestamp };
}

// Names the first broken link at p (p-1 is intact) by what most likely happened, looking at
// the neighbours: a swap, an inserted line (at p-1 or p), an edit, or removed lines.
function classify(entries: Entry[], p: number, start: number, hash: Hasher): ChainBreak {
  const prev = entries[p - 1] as Chained;
  const cur = entries[p] as Chained;
  const next = chainedAt(entries, p + 1);
  const prev2 = p - 2 >= start ? (entries[p - 2] as Chained) : null;
  const expected = prev.parsed.seq + 1;
  if (next !== null && cur.parsed.prevHash === hash(next) && links(prev, next, hash)) {
    return { ...at(cur), problem: 'reordered', message: `${where(cur)} and the line after it are in the wrong order` };
  }
  if (prev2 !== null && links(prev2, cur, hash)) {
    return { ...at(prev), problem: 'inserted', message: `${where(prev)} was inserted: the line after it links to the line before it` };
  }
  if (next !== null && links(prev, next, hash)) {
    return { ...at(cur), problem: 'inserted', message: `${where(cur)} was inserted: the line after it links to the line before it` };
  }
  const hashOk = cur.parsed.prevHash === hash(prev);
  if (hashOk) return seqMismatch(cur, expected);
  if (cur.parsed.seq === expected) return hashMismatch(prev, cur);
  if (cur.parsed.seq > expected) {
    const count = cur.parsed.seq - expected;
    const range = count === 1 ? `seq ${expected}` : `seq ${expected}..${cur.parsed.seq - 1}`;
    return { ...at(cur), problem: 'missing', message: `${count} line${count === 1 ? ' is' : 's are'} missing before ${where(cur)} (${range}): removed after they were written` };
  }
  return { ...at(cur), problem: 'seq_order', message: `${where(cur)} comes after seq ${prev.parsed.seq}: lines were duplicated or moved` };
}

function links(a: Chained, b: Chained, hash: Hasher): boolean {
  return b.parsed.seq === a.parsed.seq + 1 && b.parsed.prevHash === hash(a);
}

function chainedAt(entries: Entry[], index: number): Chained | null {
  const e = entries[index];
  return e !== undefined && e.terminated && e.parsed.kind === 'chained' ? (e as Chained) : null;
}

function lineProblem(e: Entry): ChainBreak | null {
  if (!e.terminated) return { ...at(e), problem: 'truncated', message: `${where(e)} is cut off (no newline): the file was truncated` };
  if (e.parsed.kind === 'unparsable') return { ...at(e), problem: 'unparsable', message: `${where(e)} is not an audit record with a valid seq and prev_hash` };
  if (e.parsed.kind === 'unchained') return { ...at(e), problem: 'unchained', message: `${where(e)} has no seq and prev_hash: it was inserted or edited` };
  return null;
}

function hashMismatch(edited: Entry, next: Entry): ChainBreak {
  return {
    ...at(edited),
    problem: 'hash_mismatch',
    message: `${where(edited)} was edited after it was written: it no longer matches the prev_hash of ${where(next)}`,
  };
}

function seqMismatch(e: Chained, expected: number): ChainBreak {
  return { ...at(e), problem: 'seq_mismatch', message: `${where(e)} should have seq ${expected}: its seq was edited, or the line was forged` };
}

function at(e: Entry): { file: string; line: number; seq: number | null } {
  return { file: e.file, line: e.line, seq: e.parsed.kind === 'chained' ? e.parsed.seq : null };
}

function where(e: Entry): string {
  return `${e.file} line ${e.line}${e.parsed.kind === 'chained' ? ` (seq ${e.parsed.seq})` : ''}`;
}

function toEntries(snapshot: TrailSnapshot): Entry[] {
  const entries: Entry[] = [];
  snapshot.files.forEach((file, fileIndex) => {
    let offset = 0;
    let line = 1;
    while (offset < file.bytes.length) {
      const newline = file.bytes.indexOf(0x0a, offset);
      const end = newline === -1 ? file.bytes.length : newline;
      const bytes = file.bytes.subarray(offset, end);
      entries.push({ file: file.path, fileIndex, line, bytes, terminated: newline !== -1, parsed: parseChainLine(bytes) });
      offset = end + 1;
      line++;
    }
  });
  return entries;
}
