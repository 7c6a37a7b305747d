// What the rotation record proves. Trails written with rotation (tiny size limit) are cut,
// faked, shifted and joined the ways an attacker would, and verify must name each; trails
// written before rotation records (schema_version 1, built by hand here) still verify, with a
// warning where their completeness cannot be proven; and the limits are pinned down too.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditEvent, GENESIS_HASH, openAuditLog, verifyAuditTrail, type AuditLogOptions } from '../../../src/audit/index.js';
import { readFileHead, rotationMismatch } from '../../../src/audit/rotation.js';
import { sampleRequest } from './sample-request.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const MAX = 2000;
const CAUSE = 'lines were removed from the start of the trail or a rotated file was replaced';

let root: string;
let file: string;
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-rotrec-')));
  file = join(root, 'agent-secret', 'audit.jsonl');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const pathOf = (n: number) => (n === 0 ? file : `${file}.${n}`);
const linesOf = async (path: string) => (await readFile(path, 'utf8')).split('\n').slice(0, -1);
const put = (path: string, lines: string[]) => writeFile(path, lines.length === 0 ? '' : `${lines.join('\n')}\n`, { mode: 0o600 });

async function writeEvents(count: number, options: AuditLogOptions = { maxBytes: MAX }): Promise<void> {
  const log = await openAuditLog(file, options);
  for (let i = 0; i < count; i++) log.write(auditEvent('child_started', { requestId: `req_${i}`, request: sampleRequest() }, { pid: i + 1 }));
  await log.close();
}

/** Chained lines of the given schema_version, as an older (1) or this (2) version writes them. */
function chained(version: number, from: { seq: number; prevHash: string }, bodies: Array<Record<string, unknown>>): string[] {
  const out: string[] = [];
  let link = from;
  bodies.forEach((body, i) => {
    const line = JSON.stringify({ schema_version: version, timestamp: `2025-06-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`, seq: link.seq, prev_hash: link.prevHash, ...body });
    out.push(line);
    link = { seq: link.seq + 1, prevHash: sha256(line) };
  });
  return out;
}
const events = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ event: 'child_started', request_id: `${tag}_${i}`, pid: i }));
const after = (lines: string[]) => {
  const last = lines.at(-1) as string;
  return { seq: (JSON.parse(last) as { seq: number }).seq + 1, prevHash: sha256(last) };
};
const recordOf = (lines: string[]) => ({
  event: 'trail_rotated',
  reason: 'size_limit',
  previous: { file: 'audit.jsonl.1', last_hash: sha256(lines.at(-1) as string), lines: lines.length, bytes: Buffer.byteLength(`${lines.join('\n')}\n`) },
});

describe('the issue attack and its variants are findings', () => {
  it('cut at a real file start: the oldest record is intact, the next fake file has none', async () => {
    await writeEvents(12);
    const all: string[] = [];
    for (let n = 5; n >= 0; n--) if (existsSync(pathOf(n))) all.push(...(await linesOf(pathOf(n))));
    const cut = all.findIndex((l, i) => i > 0 && l.includes('"event":"trail_rotated"'));
    const kept = all.slice(cut);
    for (let n = 5; n >= 1; n--) await put(pathOf(n), [kept[5 - n] as string]);
    await put(file, kept.slice(5));
    const report = await verifyAuditTrail(file);
    expect(report.broken).toMatchObject({ file: `${file}.4`, line: 1, problem: 'rotation_missing' });
    expect(report.broken?.message).toBe(`${file}.4 line 1 (seq ${(JSON.parse(kept[1] as string) as { seq: number }).seq}) starts a file without a rotation record for ${file}.5: ${CAUSE}`);
  });

  it('the first lines of the oldest file removed, nothing faked', async () => {
    await writeEvents(7);
    await put(`${file}.3`, (await linesOf(`${file}.3`)).slice(1));
    const report = await verifyAuditTrail(file);
    expect(report.broken).toMatchObject({ file: `${file}.3`, line: 1, seq: 2, problem: 'history_removed' });
    expect(report.broken?.message).toContain(CAUSE);
  });

  it('the oldest file removed and the others shifted, leaving an empty `.1`', async () => {
    await writeEvents(7, { maxBytes: MAX, keepRotated: 3 });
    expect(existsSync(`${file}.3`)).toBe(true);
    await rm(`${file}.3`);
    await rename(`${file}.2`, `${file}.3`);
    await rename(`${file}.1`, `${file}.2`);
    await put(`${file}.1`, []);
    const report = await verifyAuditTrail(file, { keepRotated: 3 });
    expect(report.broken).toMatchObject({ file: `${file}.3`, line: 1, problem: 'history_removed' });
    expect(report.broken?.message).toContain('yet rotation has dropped no file (2 of 3 rotated files): a rotated file was removed');
  });

  it('two rotated files joined into one: the inner record is misplaced', async () => {
    await writeEvents(7);
    await put(`${file}.2`, [...(await linesOf(`${file}.2`)), ...(await linesOf(`${file}.1`))]);
    await rm(`${file}.1`);
    const report = await verifyAuditTrail(file);
    expect(report.broken).toMatchObject({ file: `${file}.2`, problem: 'rotation_misplaced' });
    expect(report.broken?.message).toMatch(/is a rotation record inside a file, not at its start: files were joined or lines moved$/);
  });

  it('a forged record as the newest line (nothing links to it yet) is checked against the file before it', async () => {
    await writeEvents(7);
    const [head] = await linesOf(file);
    const record = JSON.parse(head as string) as { previous: { lines: number } };
    const claimed = record.previous.lines + 3;
    await put(file, [(head as string).replace(`"lines":${record.previous.lines}`, `"lines":${claimed}`)]);
    const report = await verifyAuditTrail(file);
    expect(report.broken).toMatchObject({ file, line: 1, problem: 'rotation_mismatch' });
    expect(report.broken?.message).toContain(`records a rotated file unlike ${file}.1 (${claimed} lines, not ${record.previous.lines}): ${CAUSE}`);
    await put(file, [(head as string).replace(/"previous":\{[^}]*\}/, '"previous":{}')]);
    expect((await verifyAuditTrail(file)).broken).toMatchObject({ file, line: 1, problem: 'rotation_mismatch', message: expect.stringContaining('without a valid description') });
  });

  it('an empty rotated file slipped in before a record is a mismatch', async () => {
    await writeEvents(4);
    expect(existsSync(`${file}.2`)).toBe(false);
    await rename(`${file}.1`, `${file}.2`);
    await put(`${file}.1`, []);
    const report = await verifyAuditTrail(file);
    expect(report.broken).toMatchObject({ file, line: 1, problem: 'rotation_mismatch' });
    expect(report.broken?.message).toContain(`unlike ${file}.1`);
  });

  it('the limit: shifting every file, the current one included, drops the oldest like rotation would, leaving only warnings', async () => {
    await writeEvents(9, { maxBytes: MAX, keepRotated: 3 });
    await rm(`${file}.3`);
    await rename(`${file}.2`, `${file}.3`);
    await rename(`${file}.1`, `${file}.2`);
    await rename(file, `${file}.1`);
    const report = await verifyAuditTrail(file, { keepRotated: 3 });
    expect(report).toMatchObject({ ok: true, history: 'rotated_away' });
    expect(report.warnings).toEqual([expect.stringContaining('is missing or empty beside rotated files')]);
    await writeEvents(1, { maxBytes: MAX, keepRotated: 3 });
    const healed = await verifyAuditTrail(file, { keepRotated: 3 });
    expect(healed).toMatchObject({ ok: true, history: 'rotated_away' });
    expect(healed.warnings).toEqual([expect.stringContaining('was found cut short and completed by a later write')]);
  });
});

describe('trails written before rotation records (schema_version 1)', () => {
  async function legacyFiles(groups: string[][]): Promise<void> {
    await mkdir(join(root, 'agent-secret'), { recursive: true, mode: 0o700 });
    for (const [i, lines] of groups.entries()) await put(pathOf(groups.length - 1 - i), lines);
  }

  it('rotated from the genesis line: complete, no warning', async () => {
    const a = chained(1, { seq: 1, prevHash: GENESIS_HASH }, events(3, 'a'));
    const b = chained(1, after(a), events(2, 'b'));
    await legacyFiles([a, b]);
    expect(await verifyAuditTrail(file)).toMatchObject({ ok: true, events: 5, history: 'complete', complete_from: { seq: 1 }, rotations: 0, warnings: [] });
  });

  it('older files dropped by rotation: intact, but completeness is not provable (a warning, not a finding)', async () => {
    const groups: string[][] = [];
    let link = { seq: 40, prevHash: sha256('a line rotated away') };
    for (let i = 0; i < 6; i++) {
      groups.push(chained(1, link, events(2, `g${i}`)));
      link = after(groups.at(-1) as string[]);
    }
    await legacyFiles(groups);
    const report = await verifyAuditTrail(file);
    expect(report).toMatchObject({ ok: true, events: 12, first_seq: 40, history: 'unprovable', complete_from: null, rotations: 0 });
    expect(report.warnings).toEqual(['the oldest line (seq 40) was written by an agent-secret that did not record rotations: whether lines before it were removed cannot be proven']);
  });

  it('the same faked with fewer rotated files than kept is still a finding, as before', async () => {
    const a = chained(1, { seq: 40, prevHash: sha256('gone') }, events(2, 'a'));
    await legacyFiles([a, chained(1, after(a), events(2, 'b'))]);
    expect((await verifyAuditTrail(file)).broken).toMatchObject({ file: `${file}.1`, line: 1, problem: 'history_removed' });
  });

  /** Four legacy files from a line rotated away, one started by the old version and rotated by this one, then the current file. */
  function upgradedTrail(): { files: string[][]; upgraded: string[] } {
    const files: string[][] = [];
    let link = { seq: 40, prevHash: sha256('a line rotated away') };
    for (let i = 0; i < 4; i++) {
      files.push(chained(1, link, events(2, `g${i}`)));
      link = after(files.at(-1) as string[]);
    }
    const oldStart = chained(1, link, events(1, 'old'));
    const upgraded = [...oldStart, ...chained(2, after(oldStart), events(1, 'new'))];
    files.push(upgraded, chained(2, after(upgraded), [recordOf(upgraded), ...events(1, 'cur')]));
    return { files, upgraded };
  }

  it('upgraded: complete from the first file a rotation record describes, with the warning for what is older', async () => {
    const { files, upgraded } = upgradedTrail();
    await legacyFiles(files);
    const report = await verifyAuditTrail(file);
    const first = JSON.parse(upgraded[0] as string) as { seq: number; timestamp: string };
    expect(report).toMatchObject({ ok: true, first_seq: 40, history: 'unprovable', rotations: 1, complete_from: { seq: first.seq, time: first.timestamp } });
    expect(report.warnings).toHaveLength(1);
  });

  it('upgraded: a later file this version started without its record is a finding', async () => {
    const { files } = upgradedTrail();
    const current = files.at(-1) as string[];
    await legacyFiles([...files.slice(1), chained(2, after(current), events(1, 'next'))]);
    expect((await verifyAuditTrail(file)).broken).toMatchObject({ file, line: 1, problem: 'rotation_missing' });
  });
});

describe('rotation.ts', () => {
  it('reads a record and says how a file differs from it', () => {
    const line = JSON.stringify({ schema_version: 2, timestamp: '2026-01-01T00:00:00.000Z', seq: 9, prev_hash: 'a'.repeat(64), ...recordOf(['x', 'y']) });
    const head = readFileHead(Buffer.from(line));
    expect(head).toEqual({ version: 2, timestamp: '2026-01-01T00:00:00.000Z', rotation: { file: 'audit.jsonl.1', last_hash: sha256('y'), lines: 2, bytes: 4 }, resumed: false });
    const said = head.rotation as { file: string; last_hash: string; lines: number; bytes: number };
    expect(rotationMismatch(said, { lastHash: sha256('y'), lines: 2, bytes: 4 })).toBeNull();
    expect(rotationMismatch(said, { lastHash: null, lines: 0, bytes: 0 })).toBe(`2 lines, not 0, 4 bytes, not 0, a last line with hash ${sha256('y').slice(0, 12)}…, not none`);
    for (const broken of [{ reason: 'other' }, { previous: { ...said, lines: 0 } }, { previous: { ...said, last_hash: 'x' } }, { previous: null }]) {
      expect(readFileHead(Buffer.from(JSON.stringify({ ...JSON.parse(line), ...broken }))).rotation).toBe('malformed');
    }
    expect(readFileHead(Buffer.from('not json'))).toEqual({ version: null, timestamp: null, rotation: null, resumed: false });
  });
});
