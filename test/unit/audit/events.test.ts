import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../../src/core/secret-value.js';
import { auditEvent, openAuditLog, type AuditContext, type AuditExtra } from '../../../src/audit/index.js';
import { sampleRequest } from './sample-request.js';

const CANARY = 'canary-audit-91c4-never-logged';
const ctx: AuditContext = { requestId: 'req_0123', request: sampleRequest() };

describe('auditEvent', () => {
  it('records the request by names, refs and paths, in snake_case', () => {
    expect(auditEvent('request_received', ctx)).toEqual({
      event: 'request_received',
      request_id: 'req_0123',
      reason: 'deploy the staging stack',
      command: ['terraform', 'apply', '-auto-approve'],
      executable: '/usr/local/bin/terraform',
      cwd: '/work/project',
      secrets: [
        { alias: 'AWS_SECRET_ACCESS_KEY', ref: 'op://Infra/aws/secret', provider: 'op', account: 'team.1password.com' },
        { alias: 'TF_TOKEN', ref: 'op://Infra/terraform cloud/token', provider: 'op', account: null },
      ],
      profile: 'deploy',
      ttl_seconds: 120,
      override_env: false,
      overridden_aliases: [],
      requester_pid: 4242,
      requester_chain: [
        { pid: 4241, name: 'claude' },
        { pid: 4000, name: 'zsh' },
      ],
    });
  });

  it('adds the event-specific fields it is given', () => {
    const record = auditEvent('child_exited', ctx, { pid: 99, exit_code: 143, signal: 'SIGTERM', duration_ms: 1200 });
    expect(record).toMatchObject({ event: 'child_exited', pid: 99, exit_code: 143, signal: 'SIGTERM', duration_ms: 1200 });
    const granted = auditEvent('approval_granted', ctx, { approver: 'zenity', reuse: { ttl_seconds: 300, max_uses: 3 } });
    expect(granted).toMatchObject({ approver: 'zenity', reuse: { ttl_seconds: 300, max_uses: 3 } });
    expect(auditEvent('child_exited', ctx, { signal: null })).toHaveProperty('signal', null);
    expect(auditEvent('approval_denied', ctx)).not.toHaveProperty('decision_reason');
  });

  it('clips an approver\'s free text', () => {
    const record = auditEvent('approval_denied', ctx, { decision_reason: 'x'.repeat(1000) });
    expect(record.decision_reason).toBe(`${'x'.repeat(240)}…`);
  });

  it('does not share arrays with the request', () => {
    const record = auditEvent('request_received', ctx);
    expect(record.command).not.toBe(ctx.request.command);
    expect(record.secrets[0]).not.toBe(ctx.request.secrets[0]);
  });
});

describe('audit records are value-free by construction', () => {
  const secret = new SecretValue(CANARY);

  it('has no parameter that accepts a SecretValue', () => {
    // Each line below is a compile error (checked by `tsc --noEmit`, which covers test/).
    // @ts-expect-error a SecretValue is not a decision reason
    auditEvent('approval_denied', ctx, { decision_reason: secret });
    // @ts-expect-error nor an approver name
    auditEvent('approval_granted', ctx, { approver: secret });
    // @ts-expect-error nor an error code
    auditEvent('resolution_failed', ctx, { error_code: secret });
    // @ts-expect-error nor a signal
    auditEvent('child_exited', ctx, { signal: secret });
    // @ts-expect-error nor a pid
    auditEvent('child_started', ctx, { pid: secret });
    // @ts-expect-error and no other field exists to carry one
    auditEvent('child_started', ctx, { value: secret });
  });

  it('drops a SecretValue (or any object) smuggled past the types', () => {
    const smuggled = { decision_reason: secret, approver: secret, error_code: { toString: () => CANARY }, pid: secret, value: secret } as unknown as AuditExtra;
    const record = auditEvent('approval_denied', ctx, smuggled);
    expect(Object.keys(record)).not.toContain('decision_reason');
    expect(Object.keys(record)).not.toContain('value');
    expect(JSON.stringify(record)).not.toContain(CANARY);
  });

  it('writes no plaintext even when a record object is forged around the API', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'as-audit-canary-'));
    try {
      const log = await openAuditLog(join(dir, 'state', 'audit.jsonl'));
      const forged = { ...auditEvent('child_started', ctx), decision_reason: secret, extra: { nested: secret } } as unknown as ReturnType<typeof auditEvent>;
      log.write(forged);
      await log.close();
      const text = await readFile(join(dir, 'state', 'audit.jsonl'), 'utf8');
      expect(text).not.toContain(CANARY);
      expect(text).toContain('[redacted secret]');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
