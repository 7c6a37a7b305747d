// Parallel agents: four separate node processes append 25 events each at the same moment, with
// and without rotation. The chain must verify with all 100 events, seq 1..100, no fork (no two
// lines linking to the same line) and each process's events in its own order. The processes
// run the audit source transpiled with TypeScript into a scratch folder under node_modules.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { verifyAuditTrail } from '../../../src/audit/index.js';
import { REPO_ROOT } from '../../helpers/sandbox.js';

const MODULES = ['audit/chain', 'audit/events', 'audit/fs-checks', 'audit/lock', 'audit/rotation', 'audit/trail', 'audit/writer', 'core/errors', 'core/node-crypto', 'platform/file-lock', 'platform/fs', 'request/codec'];
const WORKER = `
import { openAuditLog } from './audit/writer.js';
const [file, id, count, maxBytes, startAt] = process.argv.slice(2);
const log = await openAuditLog(file, { maxBytes: Number(maxBytes), keepRotated: 50 });
while (Date.now() < Number(startAt)) { /* start together */ }
const pause = new Int32Array(new SharedArrayBuffer(4));
for (let i = 0; i < Number(count); i++) {
  // A short random pause between appends, so that the processes overlap even on a busy machine.
  Atomics.wait(pause, 0, 0, 1 + Math.random() * 4);
  log.write({ event: 'child_started', request_id: 'req_' + id, reason: 'parallel', command: ['true'], executable: '/bin/true', cwd: '/',
    secrets: [], profile: null, ttl_seconds: 60, override_env: false, overridden_aliases: [], requester_pid: process.pid, requester_chain: [], pid: i });
}
await log.close();
`;

let build: string;
let root: string;
let file: string;

beforeAll(() => {
  // Inside node_modules so that the transpiled modules resolve pino from the project.
  build = join(REPO_ROOT, 'node_modules', '.cache', `agent-secret-audit-${process.pid}`);
  for (const name of MODULES) {
    const source = readFileSync(join(REPO_ROOT, 'src', `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    mkdirSync(dirname(join(build, `${name}.js`)), { recursive: true });
    writeFileSync(join(build, `${name}.js`), outputText);
  }
  writeFileSync(join(build, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(build, 'worker.mjs'), WORKER);
});
afterAll(async () => {
  await rm(build, { recursive: true, force: true });
});
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-parallel-')));
  file = join(root, 'agent-secret', 'audit.jsonl');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function runWorker(id: number, count: number, maxBytes: number, startAt: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(build, 'worker.mjs'), file, String(id), String(count), String(maxBytes), String(startAt)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function allLines(): Promise<Array<{ seq: number; prev_hash: string; event: string; request_id: string; pid: number }>> {
  const { files } = await import('../../../src/audit/index.js').then((m) => m.readAuditTrail(file, { keepRotated: 50 }));
  return files.flatMap((f) =>
    f.bytes
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { seq: number; prev_hash: string; event: string; request_id: string; pid: number }),
  );
}

describe('four processes appending at once', () => {
  for (const [label, maxBytes] of [
    ['one file', 10 * 1024 * 1024],
    ['rotating every few lines', 3000],
  ] as const) {
    it(`${label}: 100 events, one unbroken chain, no fork`, async () => {
      const startAt = Date.now() + 1000;
      const results = await Promise.all([0, 1, 2, 3].map((id) => runWorker(id, 25, maxBytes, startAt)));
      for (const result of results) expect(result).toEqual({ code: 0, stderr: '' });

      // Each rotation adds its record to the chain: 100 events plus one line per later file.
      const report = await verifyAuditTrail(file, { keepRotated: 50 });
      const total = 100 + report.rotations;
      expect(report).toMatchObject({ ok: true, events: total, first_seq: 1, last_seq: total, history: 'complete', rotations: report.files.length - 1, broken: null });
      if (maxBytes < 10_000) expect(report.files.length).toBeGreaterThan(10);

      const all = await allLines();
      expect(all.map((l) => l.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(new Set(all.map((l) => l.prev_hash)).size).toBe(total);
      const lines = all.filter((l) => l.event !== 'trail_rotated');
      for (const id of [0, 1, 2, 3]) {
        expect(lines.filter((l) => l.request_id === `req_${id}`).map((l) => l.pid)).toEqual(Array.from({ length: 25 }, (_, i) => i));
      }
      // The processes really interleaved (otherwise this test proves little).
      const switches = lines.filter((l, i) => i > 0 && l.request_id !== lines[i - 1]?.request_id).length;
      expect(switches).toBeGreaterThan(3);
      expect(await readFile(file, 'utf8')).not.toBe('');
    });
  }
});
