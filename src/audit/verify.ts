// Verifies the hash chain of the audit trail: walks the rotated files oldest first, then the
// current file, recomputes every link and reports the first one that is broken, named by file,
// line, seq and what most likely happened (edited, removed, inserted or reordered lines).

import { GENESIS_HASH, parseChainLine, sha256Hex, type ChainLine } from './chain.js';
import { readAuditTrail, type ReadTrailOptions, type TrailSnapshot } from './reader.js';

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
  /** complete: starts at genesis; rotated_away: older files were dropped by rotation. */
  history: 'empty' | 'complete' | 'rotated_away';
  /** Lines from before the chain existed, at the start of the trail (not protected). */
  unchained_lines: number;
  broken: ChainBreak | null;
}

interface Entry {
  file: string;
  line: number;
  bytes: Buffer;
  terminated: boolean;
  parsed: ChainLine;
}
type Chained = Entry & { parsed: { kind: 'chained'; seq: number; prevHash: string } };

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
    files: snapshot.files.map((f) => ({ path: f.path, lines: entries.filter((e) => e.file === f.path).length })),
    first_seq: null,
    last_seq: null,
    last_hash: null,
    history: 'empty',
    unchained_lines: 0,
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
  const before = entries[start - 1];
  if (before !== undefined) {
    // The first chained line after lines from before the chain links to the last of them.
    if (head.parsed.prevHash !== hash(before)) return fail(hashMismatch(before, head));
    if (head.parsed.seq !== 1) return fail(seqMismatch(head, 1));
    report.history = 'complete';
  } else if (head.parsed.prevHash === GENESIS_HASH) {
    if (head.parsed.seq !== 1) return fail(seqMismatch(head, 1));
    report.history = 'complete';
  } else {
    const rotated = snapshot.files.filter((f) => f.index > 0).length;
    if (head.parsed.seq === 1 || rotated < snapshot.keepRotated) {
      return fail({
        ...at(head),
        problem: 'history_removed',
        message: `${where(head)} links to a line that is not in the trail, and rotation dropped no file: the lines or files before it were removed`,
      });
    }
    report.history = 'rotated_away';
  }
  report.first_seq = head.parsed.seq;
  report.events = 1;

  for (let p = start + 1; p < entries.length; p++) {
    const cur = entries[p] as Entry;
    const problem = lineProblem(cur);
    if (problem !== null) return fail(problem);
    const prev = entries[p - 1] as Chained;
    const current = cur as Chained;
    if (!links(prev, current, hash)) return fail(classify(entries, p, start, hash));
    report.events++;
  }
  const last = entries.at(-1) as Chained;
  report.last_seq = last.parsed.seq;
  report.last_hash = hash(last);
  return report;
}

// Names the first broken link at p (p-1 is intact) by what most likely happened, looking at
// the neighbours: a swap, an inserted line (at p-1 or p), an edit, or removed lines.
function classify(entries: Entry[], p: number, start: number, hash: (e: Entry) => string): ChainBreak {
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

function links(a: Chained, b: Chained, hash: (e: Entry) => string): boolean {
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
  for (const file of snapshot.files) {
    let offset = 0;
    let line = 1;
    while (offset < file.bytes.length) {
      const newline = file.bytes.indexOf(0x0a, offset);
      const end = newline === -1 ? file.bytes.length : newline;
      const bytes = file.bytes.subarray(offset, end);
      entries.push({ file: file.path, line, bytes, terminated: newline !== -1, parsed: parseChainLine(bytes) });
      offset = end + 1;
      line++;
    }
  }
  return entries;
}
