// `audit` and `audit verify` end to end with the built binary: real exec requests (approved,
// denied, failed in op or at the approver, several at once) land in the hash-chained trail,
// `audit --json` shows them with the right decisions and failures, verify passes, and an
// edited line makes verify fail naming it.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean, runCli } from '../helpers/run-cli.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

const CONFIG = `version: 1
default_profile: deploy
profiles:
  deploy:
    reason: Deploy the web app
    ttl: 30s
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
`;
const CHILD = ['--', 'node', '-e', 'process.exit(3)'];

interface Listed {
  request_id: string;
  time: string;
  requester: { name: string; pid: number } | null;
  command: string[];
  profile: string | null;
  aliases: string[];
  decision: string | null;
  outcome: string;
  exit_code: number | null;
  error: string | null;
}

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
});
afterEach(() => sb.cleanup());

async function approveThenDeny(): Promise<void> {
  sb.useApprover('approve');
  expect((await runClean(sb, ['exec', '--profile', 'deploy', ...CHILD])).code).toBe(3);
  sb.useApprover('deny');
  expect((await runClean(sb, ['exec', '--profile', 'deploy', ...CHILD])).code).toBe(10);
}

describe('audit', () => {
  it('lists the requests with their decisions, and verify passes', async () => {
    await approveThenDeny();
    const listed = await runClean(sb, ['audit', '--json']);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toBe('');
    const doc = JSON.parse(listed.stdout) as { schema_version: string; requests: Listed[] };
    expect(doc.schema_version).toBe('1');
    expect(doc.requests).toHaveLength(2);
    expect(doc.requests.map((r) => [r.decision, r.outcome, r.exit_code, r.error])).toEqual([
      ['approved', 'approved', 3, null],
      ['denied', 'denied', null, null],
    ]);
    for (const r of doc.requests) {
      expect(r).toMatchObject({ command: ['node', '-e', 'process.exit(3)'], profile: 'deploy', aliases: ['CF_TOKEN'] });
      expect(r.request_id).toMatch(/^req_[0-9a-f]{32}$/);
      expect(r.requester?.pid).toBeGreaterThan(0);
    }

    const denied = JSON.parse((await runClean(sb, ['audit', '--json', '--outcome', 'denied', '--since', '1h'])).stdout) as { requests: Listed[] };
    expect(denied.requests.map((r) => r.decision)).toEqual(['denied']);

    const table = await runClean(sb, ['audit']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/approved\s+approved\s+3\s+deploy: CF_TOKEN\s+node -e 'process\.exit\(3\)'/);
    expect(table.stdout).toMatch(/denied\s+denied\s+-\s+deploy: CF_TOKEN/);

    const verified = await runClean(sb, ['audit', 'verify']);
    const events = sb.auditEvents().length;
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`audit trail intact: ${events} events (seq 1..${events}) in 1 file\ncomplete from seq 1 (`);
    const json = await runClean(sb, ['audit', 'verify', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ schema_version: '1', ok: true, events, history: 'complete', complete_from: { seq: 1 }, rotations: 0, warnings: [], broken: null });
  });

  it('a request that failed in op is approved but failed, and a garbage approver answer is "approver failed"', async () => {
    sb.useApprover('approve');
    const signedOut = await runClean(sb, ['exec', '--profile', 'deploy', ...CHILD], { env: { FAKE_OP_STATE: 'signed_out' } });
    expect(signedOut.code).not.toBe(0);
    expect(signedOut.code).not.toBe(3);
    sb.useApprover('garbage');
    expect((await runClean(sb, ['exec', '--profile', 'deploy', ...CHILD])).code).not.toBe(0);
    const listed = JSON.parse((await runClean(sb, ['audit', '--json'])).stdout) as { requests: Listed[] };
    expect(listed.requests.map((r) => [r.decision, r.outcome, r.exit_code, r.error])).toEqual([
      ['approved', 'failed', null, 'op failed (provider.signed_out)'],
      ['approver_failed', 'failed', null, 'approver failed (approval.failed)'],
    ]);
    const table = await runClean(sb, ['audit']);
    expect(table.stdout).toMatch(/approved\s+op failed \(provider\.signed_out\)\s+-\s+deploy: CF_TOKEN/);
    expect(table.stdout).toMatch(/approver failed\s+approver failed \(approval\.failed\)\s+-\s+deploy: CF_TOKEN/);
  });

  it('an edited line makes verify fail (exit 1), naming the line', async () => {
    await approveThenDeny();
    const lines = readFileSync(sb.auditPath, 'utf8').split('\n');
    expect(lines[1]).toContain('"event":"approval_granted"');
    lines[1] = (lines[1] as string).replace('"event":"approval_granted"', '"event":"approval_denied"');
    writeFileSync(sb.auditPath, lines.join('\n'));

    const result = await runClean(sb, ['audit', 'verify']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `agent-secret: the audit trail is broken: ${sb.auditPath} line 2 (seq 2) was edited after it was written: it no longer matches the prev_hash of ${sb.auditPath} line 3 (seq 3)\n` +
        'hint: the audit trail was modified after it was written; compare with a backup\n',
    );
    const json = await runClean(sb, ['audit', 'verify', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, broken: { file: sb.auditPath, line: 2, seq: 2, problem: 'hash_mismatch' }, error: { code: 'check.failed' } });
  });

  it('parallel requests from several agents keep one unbroken chain', async () => {
    sb.useApprover('approve');
    const results = await Promise.all([1, 2, 3, 4].map(() => runClean(sb, ['exec', '--profile', 'deploy', ...CHILD])));
    expect(results.map((r) => r.code)).toEqual([3, 3, 3, 3]);
    const seqs = sb.auditEvents().map((e) => e.seq);
    expect(seqs.length).toBeGreaterThanOrEqual(4 * 6);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const verified = await runClean(sb, ['audit', 'verify', '--json']);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, events: seqs.length });
    const listed = JSON.parse((await runClean(sb, ['audit', '--json'])).stdout) as { requests: Listed[] };
    expect(listed.requests.map((r) => r.outcome)).toEqual(['approved', 'approved', 'approved', 'approved']);
  });

  it('a directory where the audit log belongs is reported, not taken for an empty log', async () => {
    mkdirSync(sb.auditPath, { recursive: true, mode: 0o700 });
    // runCli, not runClean: the leak scan would read the audit path, a directory here (no exec runs).
    for (const args of [['audit'], ['audit', '--json']]) {
      const result = await runCli(sb, args);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`agent-secret: cannot read the audit log: ${sb.auditPath} is not a regular file`);
      expect(result.stdout).not.toContain('no requests');
    }
    expect((await runCli(sb, ['audit', 'verify'])).code).toBe(1);
  });

  it('flags are checked', async () => {
    const result = await runClean(sb, ['audit', '--since', 'yesterday']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--since takes a duration such as 30m, 1h or 2d');
    const help = await runClean(sb, ['audit', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('agent-secret audit verify');
  });
});
