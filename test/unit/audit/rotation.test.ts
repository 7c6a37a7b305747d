// Rotation keeps the chain verifiable: with a tiny size limit, the current file moves to `.1`
// (older ones shift, at most N kept), the new file's first line links to the rotated one's last,
// and verify walks oldest to newest, saying when older history was rotated away.

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
const records = async (path: string) => (await linesOf(path)).map((l) => JSON.parse(l) as { seq: number; prev_hash: string; pid: number });

describe('rotation', () => {
  it('rotates before a line would pass the limit and links the new file to the rotated one', async () => {
    await writeEvents(7, { maxBytes: MAX });
    const files = [`${file}.3`, `${file}.2`, `${file}.1`, file];
    for (const path of files) {
      expect((await stat(path)).size).toBeLessThanOrEqual(MAX);
      expect((await lstat(path)).mode & 0o777).toBe(0o600);
    }
    expect(existsSync(`${file}.4`)).toBe(false);
    const seqs = (await Promise.all(files.map(records))).flat().map((r) => r.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const lastOfRotated = (await linesOf(`${file}.1`)).at(-1) as string;
    expect((await records(file))[0]?.prev_hash).toBe(sha256(lastOfRotated));
    expect(await verifyAuditTrail(file)).toMatchObject({ ok: true, events: 7, first_seq: 1, last_seq: 7, history: 'complete' });
    expect((await verifyAuditTrail(file)).files.map((f) => f.path)).toEqual(files);
  });

  it('keeps at most N rotated files; verify starts at the first kept line and says older history was rotated away', async () => {
    await writeEvents(20, { maxBytes: MAX, keepRotated: 3 });
    expect(existsSync(`${file}.3`)).toBe(true);
    expect(existsSync(`${file}.4`)).toBe(false);
    const kept = (await Promise.all([`${file}.3`, `${file}.2`, `${file}.1`, file].map(records))).flat();
    const report = await verifyAuditTrail(file, { keepRotated: 3 });
    expect(report).toMatchObject({ ok: true, events: kept.length, first_seq: kept[0]?.seq, last_seq: 20, history: 'rotated_away' });
    expect(kept[0]?.seq).toBeGreaterThan(1);
  });

  it('with the default of 5 rotated files, the sixth is dropped', async () => {
    await writeEvents(16, { maxBytes: MAX });
    expect(existsSync(`${file}.5`)).toBe(true);
    expect(existsSync(`${file}.6`)).toBe(false);
    expect(await verifyAuditTrail(file)).toMatchObject({ ok: true, last_seq: 16, history: 'rotated_away' });
  });

  it('a tampered rotated file is named', async () => {
    await writeEvents(7, { maxBytes: MAX });
    const lines = await linesOf(`${file}.2`);
    await writeFile(`${file}.2`, `${lines.map((l, i) => (i === 0 ? l.replace('"pid":3', '"pid":4') : l)).join('\n')}\n`);
    expect((await verifyAuditTrail(file)).broken).toMatchObject({ file: `${file}.2`, line: 1, problem: 'hash_mismatch' });
  });

  it('a removed rotated file shows as missing lines where the chain resumes', async () => {
    await writeEvents(7, { maxBytes: MAX });
    const removed = await records(`${file}.2`);
    await rm(`${file}.2`);
    const report = await verifyAuditTrail(file);
    expect(report.broken).toMatchObject({ file: `${file}.1`, line: 1, problem: 'missing' });
    expect(report.broken?.message).toContain(`${removed.length} lines are missing`);
  });

  it('continues from `.1` when the current file is missing (a rotation interrupted before the new file)', async () => {
    await writeEvents(2, { maxBytes: MAX });
    await rename(file, `${file}.1`);
    await writeEvents(1, { maxBytes: MAX });
    expect((await records(file))[0]).toMatchObject({ seq: 3, prev_hash: sha256((await linesOf(`${file}.1`)).at(-1) as string) });
    expect(await verifyAuditTrail(file)).toMatchObject({ ok: true, events: 3 });
  });

  it('a rotated path that is not a regular file breaks verification', async () => {
    await writeEvents(2, { maxBytes: MAX });
    await mkdir(`${file}.4`);
    expect((await verifyAuditTrail(file)).broken).toMatchObject({ file: `${file}.4`, line: null, problem: 'not_a_file' });
  });
});
