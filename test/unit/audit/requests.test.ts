// Requests read back from the trail, and the `audit` command on top of them: grouping by request
// id, decision and outcome, the nearest non-agent-secret requester, filters, the table and the
// JSON document, usage errors, and `audit verify` through the command table.

import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditEvent, filterRequests, openAuditLog, readAuditTrail, summarizeRequests, type AuditEventType, type AuditExtra } from '../../../src/audit/index.js';
import { APPROVER_FAILURE_REASONS } from '../../../src/audit/requests.js';
import { DENY_REASONS } from '../../../src/approval/types.js';
import { main } from '../../../src/cli/main.js';
import { sampleRequest } from './sample-request.js';

let root: string;
let file: string;
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-requests-')));
  file = join(root, 'state', 'agent-secret', 'audit.jsonl');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

type Step = [AuditEventType, AuditExtra?];
const nested = { pid: 50, chain: [{ pid: 49, name: 'agent-secret' }, { pid: 48, name: 'claude' }, { pid: 1, name: 'init' }] };

async function record(requests: Array<{ id: string; steps: Step[]; profile?: string | null; requester?: typeof nested }>): Promise<void> {
  const log = await openAuditLog(file);
  for (const r of requests) {
    const request = sampleRequest({
      ...(r.profile === undefined ? {} : { profile: r.profile }),
      ...(r.requester === undefined ? {} : { requester: r.requester }),
      command: ['terraform', 'apply', "it's"],
    });
    for (const [type, extra] of r.steps) log.write(auditEvent(type, { requestId: r.id, request }, extra));
  }
  await log.close();
}

const SIX = [
  { id: 'req_ok', steps: [['request_received'], ['approval_granted', { approver: 'program' }], ['resolution_started'], ['resolution_succeeded'], ['child_started', { pid: 9 }], ['child_exited', { exit_code: 3 }]] as Step[] },
  { id: 'req_no', steps: [['request_received'], ['approval_denied', { decision_reason: 'no' }]] as Step[], profile: 'other' },
  { id: 'req_late', steps: [['request_received'], ['approval_timed_out']] as Step[] },
  { id: 'req_none', steps: [['request_received'], ['approval_unavailable', { error_code: 'approval.unavailable' }]] as Step[] },
  { id: 'req_op', steps: [['request_received'], ['approval_granted'], ['resolution_started'], ['resolution_failed', { error_code: 'provider.failed' }]] as Step[], requester: nested },
  { id: 'req_wait', steps: [['request_received']] as Step[], profile: null },
];

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    env: { HOME: root, XDG_STATE_HOME: join(root, 'state') },
    platform: 'linux',
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

describe('summarizeRequests', () => {
  it('groups events by request id with decision, outcome, requester and exit code', async () => {
    await record(SIX);
    const { requests, unreadable } = summarizeRequests(await readAuditTrail(file));
    expect(unreadable).toBe(0);
    expect(requests.map((r) => [r.request_id, r.decision, r.outcome, r.exit_code, r.error])).toEqual([
      ['req_ok', 'approved', 'approved', 3, null],
      ['req_no', 'denied', 'denied', null, null],
      ['req_late', 'timed_out', 'timed_out', null, null],
      ['req_none', 'unavailable', 'failed', null, 'no approver (approval.unavailable)'],
      ['req_op', 'approved', 'failed', null, 'op failed (provider.failed)'],
      ['req_wait', null, 'pending', null, null],
    ]);
    expect(requests[0]).toEqual({
      request_id: 'req_ok',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      requester: { name: 'claude', pid: 4241 },
      command: ['terraform', 'apply', "it's"],
      profile: 'deploy',
      aliases: ['AWS_SECRET_ACCESS_KEY', 'TF_TOKEN'],
      names: {},
      decision: 'approved',
      outcome: 'approved',
      exit_code: 3,
      error: null,
      decided_by: null,
      agent: null,
    });
    // The nearest process that is not agent-secret itself (a nested exec).
    expect(requests[4]?.requester).toEqual({ name: 'claude', pid: 48 });
  });

  it('names the policy rule that decided, and the agent', async () => {
    await record([
      { id: 'req_pol', steps: [['request_received', { policy_decision: 'allow', policy_rule: 'ci-tests', agent: 'builder' }], ['approval_granted', { approver: 'policy', policy_rule: 'ci-tests' }]] },
      { id: 'req_den', steps: [['request_received', { policy_decision: 'deny' }], ['approval_denied', { approver: 'policy', decision_reason: 'no rule' }]] },
      { id: 'req_hum', steps: [['request_received', { policy_decision: 'ask', policy_rule: 'ask-ssh' }], ['approval_granted', { approver: 'command' }]] },
      { id: 'req_tok', steps: [['request_received', {}], ['approval_denied', { approver: 'policy', decision_reason: 'unknown agent token' }]] },
      { id: 'req_bnd', steps: [['request_received', { agent: 'builder' }], ['approval_denied', { approver: 'policy', decision_reason: 'agent token bound to another process tree' }]] },
      {
        id: 'req_rate',
        steps: [
          ['request_received', { policy_decision: 'deny', policy_rule: 'cf' }],
          ['approval_denied', { approver: 'policy', policy_rule: 'cf', decision_reason: 'policy rule cf already allowed its 1 delivery per 1h, and approver is none' }],
        ],
      },
      {
        id: 'req_env',
        steps: [
          ['request_received', { policy_decision: 'deny', policy_rule: 'cf' }],
          ['approval_denied', { approver: 'policy', policy_rule: 'cf', decision_reason: 'policy rule cf would allow it, but the command would start with NODE_OPTIONS set, which can change what runs' }],
        ],
      },
      { id: 'req_rule', steps: [['request_received', { policy_decision: 'deny', policy_rule: 'no-prod' }], ['approval_denied', { approver: 'policy', policy_rule: 'no-prod', decision_reason: 'policy rule no-prod denies it' }]] },
    ]);
    const { requests } = summarizeRequests(await readAuditTrail(file));
    expect(requests.map((r) => [r.request_id, r.decided_by, r.agent])).toEqual([
      ['req_pol', 'rule ci-tests', 'builder'],
      ['req_den', 'policy', null],
      ['req_hum', null, null],
      ['req_tok', 'unknown agent token', null],
      ['req_bnd', 'agent token bound elsewhere', 'builder'],
      ['req_rate', 'rate limit of rule cf', null],
      ['req_env', 'not covered by rule cf', null],
      ['req_rule', 'rule no-prod', null],
    ]);
  });

  it('keeps the logical name of a named secret; the table shows it beside the alias', async () => {
    const log = await openAuditLog(file);
    const secrets = [
      { alias: 'OPENAI_API_KEY', name: 'openai_key', ref: 'op://AI/OpenAI/credential', provider: 'op', account: null, source: 'profile', delivery: 'env', file: null },
      { alias: 'TF_TOKEN', ref: 'op://Infra/terraform cloud/token', provider: 'op', account: null, source: 'flag', delivery: 'env', file: null },
    ] as const;
    const request = sampleRequest({ secrets: secrets.map((s) => ({ ...s })) });
    log.write(auditEvent('request_received', { requestId: 'req_named', request }));
    await log.close();
    const { requests } = summarizeRequests(await readAuditTrail(file));
    expect(requests.map((r) => r.names)).toEqual([{ OPENAI_API_KEY: 'openai_key' }]);
    const table = await cli(['audit']);
    expect(table.stdout).toContain('deploy: OPENAI_API_KEY(openai_key),');
  });

  it('filters by time, profile and outcome, and keeps the newest `limit` in time order', async () => {
    await record(SIX);
    const { requests } = summarizeRequests(await readAuditTrail(file));
    expect(filterRequests(requests, { profile: 'other' }).map((r) => r.request_id)).toEqual(['req_no']);
    expect(filterRequests(requests, { outcome: 'failed' }).map((r) => r.request_id)).toEqual(['req_none', 'req_op']);
    expect(filterRequests(requests, { limit: 2 }).map((r) => r.request_id)).toEqual(['req_op', 'req_wait']);
    expect(filterRequests(requests, { sinceMs: Date.now() + 60_000 })).toEqual([]);
    expect(filterRequests(requests, { sinceMs: Date.now() - 60_000 })).toHaveLength(6);
  });

  it('skips and counts lines that are not audit records; never copies fields it does not know', async () => {
    await record(SIX.slice(0, 1));
    const text = await readFile(file, 'utf8');
    await writeFile(file, `${text}garbage\n{"timestamp":"x","event":"e","request_id":"r"}\n${text.split('\n')[0]?.replace('"cwd"', '"value":"CANARY","cwd"')}\n`);
    const { requests, unreadable } = summarizeRequests(await readAuditTrail(file));
    expect(unreadable).toBe(2);
    expect(JSON.stringify(requests)).not.toContain('CANARY');
  });
});

describe('failures are told apart from successes and denials', () => {
  const FAILING = [
    // An approver program that answered garbage: recorded today as a denial with a fixed reason.
    { id: 'req_garbage', steps: [['request_received'], ['approval_denied', { approver: 'program', decision_reason: 'malformed approver output' }]] as Step[] },
    // The distinct event for it, when the broker writes one.
    { id: 'req_failed', steps: [['request_received'], ['approval_failed' as AuditEventType, { approver: 'program', error_code: 'approval.failed' }]] as Step[] },
    { id: 'req_human', steps: [['request_received'], ['approval_denied', { approver: 'program', decision_reason: 'denied by user' }]] as Step[] },
    { id: 'req_signed_out', steps: [['request_received'], ['approval_granted'], ['resolution_started'], ['resolution_failed', { error_code: 'provider.signed_out' }]] as Step[] },
    { id: 'req_spawn', steps: [['request_received'], ['approval_granted'], ['resolution_started'], ['resolution_succeeded'], ['child_spawn_failed', { error_code: 'exec.spawn_failed' }]] as Step[] },
  ];

  it('an approver failure is "approver failed", an op failure is approved but failed, with the error code', async () => {
    await record(FAILING);
    const { requests } = summarizeRequests(await readAuditTrail(file));
    expect(requests.map((r) => [r.request_id, r.decision, r.outcome, r.error])).toEqual([
      ['req_garbage', 'approver_failed', 'failed', 'approver failed (malformed approver output)'],
      ['req_failed', 'approver_failed', 'failed', 'approver failed (approval.failed)'],
      ['req_human', 'denied', 'denied', null],
      ['req_signed_out', 'approved', 'failed', 'op failed (provider.signed_out)'],
      ['req_spawn', 'approved', 'failed', 'spawn failed (exec.spawn_failed)'],
    ]);
    const table = (await cli(['audit'])).stdout.trimEnd().split('\n').slice(1);
    expect(table.map((r) => r.split(/\s{2,}/).slice(2, 5))).toEqual([
      ['approver failed', 'approver failed (malformed approver output)', '-'],
      ['approver failed', 'approver failed (approval.failed)', '-'],
      ['denied', 'denied', '-'],
      ['approved', 'op failed (provider.signed_out)', '-'],
      ['approved', 'spawn failed (exec.spawn_failed)', '-'],
    ]);
    const failed = JSON.parse((await cli(['audit', '--json', '--outcome', 'failed'])).stdout) as { requests: Array<{ request_id: string }> };
    expect(failed.requests.map((r) => r.request_id)).toEqual(['req_garbage', 'req_failed', 'req_signed_out', 'req_spawn']);
  });

  it('the approver-failure reasons are the approver\'s own deny reasons', () => {
    // 'wrong id' is what earlier versions wrote; a wrong id is now an approval_failed event.
    expect(APPROVER_FAILURE_REASONS).toEqual([DENY_REASONS.malformed, 'wrong id', DENY_REASONS.tooLarge, DENY_REASONS.notStarted]);
  });

  it('a free-text reason or odd error code is never shown', async () => {
    await record([{ id: 'req_odd', steps: [['request_received'], ['approval_granted'], ['resolution_failed', { error_code: 'Token ABC123 <script>' }]] }]);
    expect(summarizeRequests(await readAuditTrail(file)).requests[0]?.error).toBe('op failed');
  });

  it('rotation records belong to no request and are not counted as unreadable', async () => {
    const log = await openAuditLog(file, { maxBytes: 2000 });
    for (let i = 0; i < 8; i++) log.write(auditEvent('child_started', { requestId: `req_${i}`, request: sampleRequest() }, { pid: i }));
    await log.close();
    expect((await readFile(`${file}.1`, 'utf8')).length).toBeGreaterThan(0);
    const { requests, unreadable } = summarizeRequests(await readAuditTrail(file));
    expect(unreadable).toBe(0);
    expect(requests.map((r) => r.request_id)).toEqual(Array.from({ length: 8 }, (_, i) => `req_${i}`));
    expect((await cli(['audit'])).stderr).toBe('');
  });
});

describe('agent-secret audit', () => {
  it('prints a table, one row per request, with shell-quoted commands', async () => {
    await record(SIX);
    const result = await cli(['audit']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const rows = result.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^TIME \(UTC\)\s+REQUESTER\s+DECISION\s+OUTCOME\s+EXIT\s+PROFILE \/ ALIASES\s+COMMAND$/);
    expect(rows).toHaveLength(7);
    expect(rows[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}claude \(4241\)\s+approved\s+approved\s+3\s+deploy: AWS_SECRET_ACCESS_KEY,TF_TO…\s+terraform apply 'it'\\''s'$/);
    expect(rows.slice(2).map((r) => r.split(/\s{2,}/).slice(2, 5))).toEqual([
      ['denied', 'denied', '-'],
      ['timed out', 'timed out', '-'],
      ['unavailable', 'no approver (approval.unavailable)', '-'],
      ['approved', 'op failed (provider.failed)', '-'],
      ['-', 'pending', '-'],
    ]);
    expect(rows[6]).toContain(' -: AWS');
  });

  it('--json prints {schema_version, requests}; filters apply', async () => {
    await record(SIX);
    const result = await cli(['audit', '--json', '--outcome', 'denied', '--since', '1h']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { schema_version: string; requests: Array<Record<string, unknown>> };
    expect(Object.keys(doc)).toEqual(['schema_version', 'requests']);
    expect(doc.schema_version).toBe('1');
    expect(doc.requests.map((r) => r.request_id)).toEqual(['req_no']);
    expect(Object.keys(doc.requests[0] as object)).toEqual(['request_id', 'time', 'requester', 'command', 'profile', 'aliases', 'names', 'decision', 'outcome', 'exit_code', 'error', 'decided_by', 'agent']);
  });

  it('says so when there is no trail yet, and creates nothing', async () => {
    const result = await cli(['audit']);
    expect(result).toEqual({ code: 0, stdout: 'no requests in the audit log yet\n', stderr: '' });
    await expect(readFile(file)).rejects.toThrow();
  });

  const usage: Array<[string[], RegExp]> = [
    [['audit', '--since', '5x'], /--since takes a duration such as 30m, 1h or 2d/],
    [['audit', '--since', '1h30m'], /--since takes a duration/],
    [['audit', '--outcome', 'maybe'], /--outcome takes one of approved, denied, timed_out, failed/],
    [['audit', '--limit', '0'], /--limit takes a whole number from 1/],
    [['audit', 'verify', '--since', '1h'], /--since is not used by audit verify/],
    [['audit', 'frobnicate'], /unknown audit action; the only one is verify/],
    [['audit', 'verify', 'extra'], /too many arguments|unknown command/],
  ];
  for (const [args, message] of usage) {
    it(`${args.join(' ')} is a usage error (exit 2)`, async () => {
      const result = await cli(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    });
  }

  it('audit verify after rotation: how far back the trail is complete, and warnings on stderr', async () => {
    const log = await openAuditLog(file, { maxBytes: 2000 });
    for (let i = 0; i < 16; i++) log.write(auditEvent('child_started', { requestId: `req_${i}`, request: sampleRequest() }, { pid: i }));
    await log.close();
    const oldest = JSON.parse((await readFile(`${file}.5`, 'utf8')).split('\n')[0] as string) as { seq: number; timestamp: string; event: string };
    expect(oldest.event).toBe('trail_rotated');
    const lastSeq = (JSON.parse((await readFile(file, 'utf8')).trimEnd().split('\n').at(-1) as string) as { seq: number }).seq;
    const ok = await cli(['audit', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe('');
    expect(ok.stdout.split('\n').slice(0, 2)).toEqual([
      `audit trail intact: ${lastSeq - oldest.seq + 1} events (seq ${oldest.seq}..${lastSeq}) in 6 files`,
      `complete from seq ${oldest.seq} (${oldest.timestamp}); history before seq ${oldest.seq} was rotated away (the record of it is intact)`,
    ]);
    const json = JSON.parse((await cli(['audit', 'verify', '--json'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ ok: true, history: 'rotated_away', rotations: 5, complete_from: { seq: oldest.seq, time: oldest.timestamp }, warnings: [] });
    await rm(file);
    const warned = await cli(['audit', 'verify']);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toBe(`agent-secret: warning: ${file} is missing or empty beside rotated files: a rotation was cut short, or its lines were removed; the next write records the rotation\n`);
  });

  it('audit verify: exit 0 with a count, or 1 naming the broken line with the hint', async () => {
    await record(SIX);
    const ok = await cli(['audit', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^audit trail intact: 17 events \(seq 1\.\.17\) in 1 file\ncomplete from seq 1 \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\)\nlast hash: [0-9a-f]{64}\n$/);
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[7] = (lines[7] as string).replace('"decision_reason":"no"', '"decision_reason":"yes"');
    await writeFile(file, lines.join('\n'));
    const broken = await cli(['audit', 'verify']);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toBe(
      `agent-secret: the audit trail is broken: ${file} line 8 (seq 8) was edited after it was written: it no longer matches the prev_hash of ${file} line 9 (seq 9)\n` +
        'hint: the audit trail was modified after it was written; compare with a backup\n',
    );
    const json = await cli(['audit', 'verify', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      schema_version: '1',
      ok: false,
      events: 8,
      broken: { file, line: 8, seq: 8, problem: 'hash_mismatch' },
      error: { code: 'check.failed', exit_code: 1, details: { file, line: 8 } },
    });
    expect(json.stderr).toContain('agent-secret: the audit trail is broken');
  });
});
