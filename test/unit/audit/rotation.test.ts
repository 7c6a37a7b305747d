// Rotation keeps the chain verifiable: with a tiny size limit, the current file moves to `.1`
// (older ones shift, at most N kept), the new file starts with a trail_rotated record linked to
// the rotated one's last line and describing it, and verify walks oldest to newest, checking
// each record against the file before it and saying how far back the trail is complete.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditEvent, openAuditLog, verifyAuditTrail, type AuditLogOptions } from '../../../src/audit/index.js';
import { sampleRequest } from './sample-request.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const MAX = 2000;

let root: string;
let file: string;
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-rotate-')));
  file = join(root, 'agent-secret', 'audit.jsonl');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeEvents(count: number, options: AuditLogOptions): Promise<void> {
  const log = await openAuditLog(file, options);
  for (let i = 0; i < count; i++) log.write(auditEvent('child_started', { requestId: `req_${i}`, request: sampleRequest() }, { pid: i + 1 }));
  await log.close();
}

const linesOf = async (path: string) => (await readFile(path, 'utf8')).split('\n').slice(0, -1);
type Line = { seq: number; prev_hash: string; pid: number; event: string; schema_version: number; previous?: { file: string; last_hash: string; lines: number; bytes: number } };
const records = async (path: string) => (await linesOf(path)).map((l) => JSON.parse(l) as Line);

describe('rotation', () => {
  it('rotates before a line would pass the limit; the new file starts with a record of the rotated one', async () => {
    await writeEvents(7, { maxBytes: MAX });
    const files = [`${file}.3`, `${file}.2`, `${file}.1`, file];
    for (const path of files) {
      expect((await stat(path)).size).toBeLessThanOrEqual(MAX);
      expect((await lstat(path)).mode & 0o777).toBe(0o600);
    }
    expect(existsSync(`${file}.4`)).toBe(false);
    const all = (await Promise.all(files.map(records))).flat();
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(all.filter((r) => r.event === 'child_started').map((r) => r.pid)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Each later file: a trail_rotated record first, chained to the rotated file's last line,
    // describing that file as it was renamed to `.1` (its last hash, line count and size).
    for (let i = 1; i < files.length; i++) {
      const before = await linesOf(files[i - 1] as string);
      const [head] = await records(files[i] as string);
      const lastHash = sha256(before.at(-1) as string);
      expect(head).toMatchObject({
        schema_version: 2,
        event: 'trail_rotated',
        reason: 'size_limit',
        prev_hash: lastHash,
        previous: { file: 'audit.jsonl.1', last_hash: lastHash, lines: before.length, bytes: (await stat(files[i - 1] as string)).size },
      });
    }
    const report = await verifyAuditTrail(file);
    expect(report).toMatchObject({ ok: true, events: 10, first_seq: 1, last_seq: 10, history: 'complete', rotations: 3, warnings: [] });
    expect(report.complete_from).toEqual({ seq: 1, time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(report.files.map((f) => f.path)).toEqual(files);
  });

  it('keeps at most N rotated files; the oldest kept starts with the record of the dropped one', async () => {
    await writeEvents(20, { maxBytes: MAX, keepRotated: 3 });
    expect(existsSync(`${file}.3`)).toBe(true);
    expect(existsSync(`${file}.4`)).toBe(false);
    const kept = (await Promise.all([`${file}.3`, `${file}.2`, `${file}.1`, file].map(records))).flat();
    expect(kept[0]?.event).toBe('trail_rotated');
    const report = await verifyAuditTrail(file, { keepRotated: 3 });
    expect(report).toMatchObject({ ok: true, events: kept.length, first_seq: kept[0]?.seq, last_seq: kept.at(-1)?.seq, history: 'rotated_away', rotations: 3 });
    expect(report.complete_from?.seq).toBe(kept[0]?.seq);
    expect(kept[0]?.seq).toBeGreaterThan(1);
  });

  it('with the default of 5 rotated files, the sixth is dropped', async () => {
    await writeEvents(16, { maxBytes: MAX });
    expect(existsSync(`${file}.5`)).toBe(true);
    expect(existsSync(`${file}.6`)).toBe(false);
    expect(await verifyAuditTrail(file)).toMatchObject({ ok: true, history: 'rotated_away', rotations: 5 });
  });

  it('a tampered rotated file is named', async () => {
    await writeEvents(7, { maxBytes: MAX });
    const lines = await linesOf(`${file}.2`);
    expect(lines[1]).toContain('"pid":3');
    await writeFile(`${file}.2`, `${lines.map((l, i) => (i === 1 ? l.replace('"pid":3', '"pid":4') : l)).join('\n')}\n`);
    expect((await verifyAuditTrail(file)).broken).toMatchObject({ file: `${file}.2`, line: 2, problem: 'hash_mismatch' });
  });

  it('a removed rotated file shows as missing lines where the chain resumes', async () => {
    await writeEvents(7, { maxBytes: MAX });
    const removed = await records(`${file}.2`);
    await rm(`${file}.2`);
    const report = await verifyAuditTrail(file);
    expect(report.broken).toMatchObject({ file: `${file}.1`, line: 1, problem: 'missing' });
    expect(report.broken?.message).toContain(`${removed.length} lines are missing`);
  });

  it('a rotation cut short (the current file missing) gets its record on the next write', async () => {
    await writeEvents(2, { maxBytes: MAX });
    const rotatedLines = await linesOf(file);
    await rename(file, `${file}.1`);
    expect((await verifyAuditTrail(file)).warnings).toEqual([`${file} is missing or empty beside rotated files: a rotation was cut short, or its lines were removed; the next write records the rotation`]);
    await writeEvents(1, { maxBytes: MAX });
    const lastHash = sha256(rotatedLines.at(-1) as string);
    const [head, event] = await records(file);
    expect(head).toMatchObject({ seq: 3, event: 'trail_rotated', prev_hash: lastHash, previous: { file: 'audit.jsonl.1', last_hash: lastHash, lines: 2, bytes: (await stat(`${file}.1`)).size } });
    expect(event).toMatchObject({ seq: 4, event: 'child_started', prev_hash: sha256((await linesOf(file))[0] as string) });
    expect(head).toMatchObject({ reason: 'resumed' });
    const report = await verifyAuditTrail(file);
    expect(report).toMatchObject({ ok: true, events: 4, rotations: 1, history: 'complete' });
    // The record says the rotation was completed later: a crash, or files shifted by hand.
    expect(report.warnings).toEqual([expect.stringMatching(new RegExp(`^the rotation recorded at ${file} line 1 \\(seq 3\\) was found cut short and completed by a later write`))]);
  });

  it('a rotated path that is not a regular file breaks verification', async () => {
    await writeEvents(2, { maxBytes: MAX });
    await mkdir(`${file}.4`);
    expect((await verifyAuditTrail(file)).broken).toMatchObject({ file: `${file}.4`, line: null, problem: 'not_a_file' });
  });
});

describe('the issue attack: lines removed from the start, the rest spread over faked rotated files', () => {
  /** Every line of the trail, oldest first. */
  async function allLines(): Promise<string[]> {
    const out: string[] = [];
    for (let n = 5; n >= 0; n--) {
      const path = n === 0 ? file : `${file}.${n}`;
      if (existsSync(path)) out.push(...(await linesOf(path)));
    }
    return out;
  }

  /** Deletes every file, then writes one line into each of .5 … .1 and the rest into the current file. */
  async function fake(lines: string[]): Promise<void> {
    for (let n = 1; n <= 5; n++) await rm(`${file}.${n}`, { force: true });
    for (let n = 5; n >= 1; n--) await writeFile(`${file}.${n}`, `${lines[5 - n]}\n`, { mode: 0o600 });
    await writeFile(file, `${lines.slice(5).join('\n')}\n`, { mode: 0o600 });
  }

  it('the first lines deleted and one line in each rotated file is a finding, not "intact, rotated away"', async () => {
    await writeEvents(9, { maxBytes: MAX });
    const before = await verifyAuditTrail(file);
    expect(before.ok).toBe(true);
    const lines = await allLines();
    await fake(lines.slice(3));
    const report = await verifyAuditTrail(file);
    expect(report.ok).toBe(false);
    expect(report.last_hash).toBeNull();
    expect(report.broken).toMatchObject({ file: `${file}.5`, line: 1 });
    expect(report.broken?.message).toContain('lines were removed from the start of the trail or a rotated file was replaced');
  });
});
