// The hash chain: links across appends and reopenings, the genesis line, lines from before the
// chain, refusing to continue from a damaged last line, and the tampering table: what verify
// says about an edited, deleted, reordered, truncated, duplicated or forged line.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditEvent, GENESIS, GENESIS_HASH, openAuditLog, verifyAuditTrail, type AuditEventType } from '../../../src/audit/index.js';
import { AgentSecretError } from '../../../src/core/errors.js';
import { sampleRequest } from './sample-request.js';

const TYPES: AuditEventType[] = ['request_received', 'approval_granted', 'resolution_started', 'resolution_succeeded', 'child_started', 'child_exited'];
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

let root: string;
let file: string;
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-chain-')));
  file = join(root, 'agent-secret', 'audit.jsonl');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeEvents(count: number, from = 0): Promise<void> {
  const log = await openAuditLog(file);
  for (let i = from; i < from + count; i++) {
    log.write(auditEvent(TYPES[i % TYPES.length] as AuditEventType, { requestId: `req_${Math.floor(i / TYPES.length)}`, request: sampleRequest() }, { pid: i }));
  }
  await log.close();
}

async function lines(): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').slice(0, -1);
}

async function setLines(next: string[], trailingNewline = true): Promise<void> {
  await writeFile(file, next.join('\n') + (trailingNewline ? '\n' : ''));
}

/** A forged line: a real one with fields replaced, and whatever seq and prev_hash the forger chose. */
function forge(line: string, seq: number, prevHash: string): string {
  const record = JSON.parse(line) as Record<string, unknown>;
  return JSON.stringify({ ...record, seq, prev_hash: prevHash, reason: 'nothing to see here' });
}

describe('the chain', () => {
  it('links every line to the one before, from the genesis string, across reopenings', async () => {
    await writeEvents(3);
    await writeEvents(3, 3);
    const text = await lines();
    expect(text).toHaveLength(6);
    const records = text.map((l) => JSON.parse(l) as { seq: number; prev_hash: string });
    expect(GENESIS_HASH).toBe(sha256(GENESIS));
    expect(records[0]?.prev_hash).toBe(GENESIS_HASH);
    records.forEach((r, i) => {
      expect(r.seq).toBe(i + 1);
      if (i > 0) expect(r.prev_hash).toBe(sha256(text[i - 1] as string));
    });
    expect(await verifyAuditTrail(file)).toEqual({
      ok: true,
      events: 6,
      files: [{ path: file, lines: 6 }],
      first_seq: 1,
      last_seq: 6,
      last_hash: sha256(text[5] as string),
      history: 'complete',
      complete_from: { seq: 1, time: (JSON.parse(text[0] as string) as { timestamp: string }).timestamp },
      rotations: 0,
      unchained_lines: 0,
      warnings: [],
      broken: null,
    });
  });

  it('writeAll links its records to each other and to what came before, like single writes', async () => {
    await writeEvents(2);
    const log = await openAuditLog(file);
    const ctx = { requestId: 'req_batch', request: sampleRequest() };
    log.writeAll([auditEvent('request_received', ctx), auditEvent('approval_reused', ctx, { approval_id: 'apr_1', remaining_uses: 3 })]);
    log.writeAll([]);
    log.write(auditEvent('child_started', ctx, { pid: 7 }));
    await log.close();
    const text = await lines();
    expect(text.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(['request_received', 'approval_granted', 'request_received', 'approval_reused', 'child_started']);
    text.forEach((l, i) => {
      const record = JSON.parse(l) as { seq: number; prev_hash: string };
      expect(record.seq).toBe(i + 1);
      expect(record.prev_hash).toBe(i === 0 ? GENESIS_HASH : sha256(text[i - 1] as string));
    });
    expect((await verifyAuditTrail(file)).ok).toBe(true);
  });

  it('an absent or empty trail verifies as empty, and verify creates nothing', async () => {
    expect(await verifyAuditTrail(file)).toMatchObject({ ok: true, events: 0, history: 'empty', files: [] });
    expect(existsSync(join(root, 'agent-secret'))).toBe(false);
    await (await openAuditLog(file)).close();
    expect(await verifyAuditTrail(file)).toMatchObject({ ok: true, events: 0, history: 'empty' });
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it.skipIf(process.getuid?.() === 0)('verifies a read-only copy, where no lock can be taken', async () => {
    await writeEvents(3);
    await chmod(join(root, 'agent-secret'), 0o500);
    try {
      expect(await verifyAuditTrail(file)).toMatchObject({ ok: true, events: 3 });
    } finally {
      await chmod(join(root, 'agent-secret'), 0o700);
    }
  });

  it('starts from the last line written before the chain existed, which stays unprotected', async () => {
    await mkdir(join(root, 'agent-secret'), { mode: 0o700 });
    const legacy = ['{"schema_version":1,"timestamp":"2026-01-01T00:00:00.000Z","event":"request_received","request_id":"old"}', '{"schema_version":1,"timestamp":"2026-01-01T00:00:01.000Z","event":"approval_denied","request_id":"old"}'];
    await writeFile(file, `${legacy.join('\n')}\n`, { mode: 0o600 });
    await writeEvents(2);
    const text = await lines();
    expect(JSON.parse(text[2] as string)).toMatchObject({ seq: 1, prev_hash: sha256(legacy[1] as string) });
    expect(await verifyAuditTrail(file)).toMatchObject({ ok: true, events: 2, unchained_lines: 2, history: 'complete' });
    // The last line before the chain is linked; an edit to it is detected.
    await setLines([legacy[0] as string, (legacy[1] as string).replace('denied', 'granted'), ...text.slice(2)]);
    expect((await verifyAuditTrail(file)).broken).toMatchObject({ problem: 'hash_mismatch', line: 2 });
  });

  it('refuses to continue from a cut-off or foreign last line, and leaves the file alone', async () => {
    await writeEvents(2);
    const text = await lines();
    for (const damaged of [`${text.join('\n')}\n${(text[1] as string).slice(0, 30)}`, `${text.join('\n')}\nnot json\n`]) {
      await writeFile(file, damaged);
      const log = await openAuditLog(file);
      let error: unknown;
      try {
        log.write(auditEvent('request_received', { requestId: 'r', request: sampleRequest() }));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AgentSecretError);
      expect((error as AgentSecretError).code).toBe('audit.unwritable');
      expect((error as AgentSecretError).message).toContain('the chain cannot be continued');
      expect((error as AgentSecretError).hint).toContain('agent-secret audit verify');
      expect(await readFile(file, 'utf8')).toBe(damaged);
      expect(existsSync(`${file}.lock`)).toBe(false);
    }
  });
});

describe('tampering is detected and named', () => {
  // Six lines, seq 1..6, in one file. Each case changes them and says what verify reports.
  const table: Array<{ name: string; tamper: (l: string[]) => string[] | { lines: string[]; newline: boolean }; problem: string; line: number; seq: number | null; says: RegExp }> = [
    {
      name: 'a field of line 3 edited',
      tamper: (l) => l.map((x, i) => (i === 2 ? x.replace('deploy the staging stack', 'deploy the prod stack') : x)),
      problem: 'hash_mismatch',
      line: 3,
      seq: 3,
      says: /line 3 \(seq 3\) was edited after it was written: it no longer matches the prev_hash of .* line 4 \(seq 4\)/,
    },
    { name: 'line 3 deleted', tamper: (l) => l.filter((_, i) => i !== 2), problem: 'missing', line: 3, seq: 4, says: /1 line is missing before .*line 3 \(seq 4\) \(seq 3\)/ },
    { name: 'lines 3 and 4 deleted', tamper: (l) => l.filter((_, i) => i !== 2 && i !== 3), problem: 'missing', line: 3, seq: 5, says: /2 lines are missing .*\(seq 3\.\.4\)/ },
    { name: 'lines 3 and 4 swapped', tamper: (l) => [l[0], l[1], l[3], l[2], l[4], l[5]] as string[], problem: 'reordered', line: 3, seq: 4, says: /line 3 \(seq 4\) and the line after it are in the wrong order/ },
    { name: 'the last line cut short', tamper: (l) => ({ lines: [...l.slice(0, 5), (l[5] as string).slice(0, -15)], newline: false }), problem: 'truncated', line: 6, seq: null, says: /line 6 is cut off/ },
    { name: 'only the final newline cut', tamper: (l) => ({ lines: l, newline: false }), problem: 'truncated', line: 6, seq: 6, says: /line 6 \(seq 6\) is cut off/ },
    {
      name: 'a forged line inserted after line 3, its prev_hash recomputed but a wrong seq',
      tamper: (l) => [...l.slice(0, 3), forge(l[2] as string, 99, sha256(l[2] as string)), ...l.slice(3)],
      problem: 'inserted',
      line: 4,
      seq: 99,
      says: /line 4 \(seq 99\) was inserted/,
    },
    {
      name: 'a forged line inserted after line 3 with a perfect link (seq 4, recomputed hash)',
      tamper: (l) => [...l.slice(0, 3), forge(l[2] as string, 4, sha256(l[2] as string)), ...l.slice(3)],
      problem: 'inserted',
      line: 4,
      seq: 4,
      says: /line 4 \(seq 4\) was inserted/,
    },
    {
      name: 'a forged line appended with a recomputed hash but a wrong seq',
      tamper: (l) => [...l, forge(l[5] as string, 9, sha256(l[5] as string))],
      problem: 'seq_mismatch',
      line: 7,
      seq: 9,
      says: /line 7 \(seq 9\) should have seq 7/,
    },
    { name: "line 3's seq edited", tamper: (l) => l.map((x, i) => (i === 2 ? x.replace('"seq":3,', '"seq":30,') : x)), problem: 'seq_mismatch', line: 3, seq: 30, says: /should have seq 3/ },
    { name: 'line 3 duplicated', tamper: (l) => [...l.slice(0, 3), l[2] as string, ...l.slice(3)], problem: 'inserted', line: 3, seq: 3, says: /was inserted/ },
    { name: 'line 2 moved after line 4', tamper: (l) => [l[0], l[2], l[3], l[1], l[4], l[5]] as string[], problem: 'missing', line: 2, seq: 3, says: /1 line is missing before .*line 2 \(seq 3\)/ },
    { name: 'line 5 moved before line 3', tamper: (l) => [l[0], l[1], l[4], l[2], l[3], l[5]] as string[], problem: 'inserted', line: 3, seq: 5, says: /line 3 \(seq 5\) was inserted/ },
    { name: 'line 3 copied to the end', tamper: (l) => [...l, l[2] as string], problem: 'seq_order', line: 7, seq: 3, says: /line 7 \(seq 3\) comes after seq 6/ },
    { name: 'a garbage line inserted', tamper: (l) => [...l.slice(0, 2), 'hello', ...l.slice(2)], problem: 'unparsable', line: 3, seq: null, says: /line 3 is not an audit record/ },
    { name: 'an empty line inserted', tamper: (l) => [...l.slice(0, 2), '', ...l.slice(2)], problem: 'unparsable', line: 3, seq: null, says: /line 3 is not an audit record/ },
    {
      name: 'a line without chain fields inserted',
      tamper: (l) => [...l.slice(0, 2), '{"schema_version":1,"event":"approval_granted","request_id":"req_0"}', ...l.slice(2)],
      problem: 'unchained',
      line: 3,
      seq: null,
      says: /line 3 has no seq and prev_hash/,
    },
    {
      name: 'the first line deleted (no rotation happened)',
      tamper: (l) => l.slice(1),
      problem: 'history_removed',
      line: 1,
      seq: 2,
      says: /line 1 \(seq 2\) links to a line that is not in the trail and is not a rotation record: lines were removed from the start of the trail/,
    },
  ];

  for (const row of table) {
    it(`${row.name} → ${row.problem} at line ${row.line}`, async () => {
      await writeEvents(6);
      const result = row.tamper(await lines());
      if (Array.isArray(result)) await setLines(result);
      else await setLines(result.lines, result.newline);
      const report = await verifyAuditTrail(file);
      expect(report.ok).toBe(false);
      expect(report.broken).toMatchObject({ file, problem: row.problem, line: row.line, seq: row.seq });
      expect(report.broken?.message).toMatch(row.says);
      expect(report.broken?.message).not.toContain('\n');
    });
  }

  it('the limit of a chain: an edit of the newest line, which nothing links to yet, is not detected', async () => {
    await writeEvents(6);
    const text = await lines();
    await setLines([...text.slice(0, 5), (text[5] as string).replace('"pid":5', '"pid":6')]);
    expect(await verifyAuditTrail(file)).toMatchObject({ ok: true, events: 6 });
  });
});
