// `agent-secret approver test` through the built binary and the fake approver program: the
// sample prompt reaches the configured approver (operation approver_test, no secrets, the
// daemon's own reason and label), the answer comes back (Allow and Deny both exit 0), nobody
// answering is exit 11 and a broken approver is approval.failed; op is never called and not
// even needed; the audit log records the test and its answer. doctor names the command.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
});
afterEach(() => sb.cleanup());

const eventsOf = (requestId: string) => sb.auditEvents().filter((e) => e.request_id === requestId).map((e) => e.event);

describe('approver test', () => {
  it('Allow: the sample prompt reaches the approver, the answer is reported, nothing resolved, op not needed', async () => {
    // An op that does not exist: the test must not need it.
    sb.useApprover('approve', { op_path: '/nonexistent/op' });
    const result = await runClean(sb, ['approver', 'test', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(report)[0]).toBe('schema_version');
    expect(report).toMatchObject({ schema_version: '1', answer: 'approve', approver: 'command', resolved: false });

    const prompts = sb.prompts();
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatchObject({
      operation: 'approver_test',
      allows_reusable: false,
      command: ['agent-secret', 'approver', 'test'],
      secrets: [],
      reason: 'A test of your approver, started with agent-secret approver test',
      ttl_seconds: 60,
      cwd: sb.project,
    });
    expect(sb.opCalls()).toHaveLength(0);
    expect(eventsOf(report.request_id as string)).toEqual(['request_received', 'approval_granted']);
  });

  it('Deny is an answer too: exit 0, reported as Deny, audited as denied', async () => {
    sb.useApprover('deny');
    const result = await runClean(sb, ['approver', 'test']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('approver test: you answered Deny (approver: command)\nNothing was read from 1Password and nothing ran; the audit log records the test.\n');
    const received = sb.auditEvents().find((e) => e.event === 'request_received')!;
    expect(eventsOf(received.request_id as string)).toEqual(['request_received', 'approval_denied']);
    expect(sb.opCalls()).toHaveLength(0);
  });

  it('nobody answers within --ttl: exit 11, the approver is not blamed', async () => {
    sb.useApprover('hang');
    const result = await runClean(sb, ['approver', 'test', '--ttl', '10s'], { timeoutMs: 40_000 });
    expect(result.code).toBe(11);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(sb.prompts()[0]).toMatchObject({ operation: 'approver_test', ttl_seconds: 10 });
  }, 60_000);

  it('a broken approver program: approval.failed, nobody decided', async () => {
    sb.useApprover('garbage');
    const result = await runClean(sb, ['approver', 'test', '--json']);
    // With --json the error is the JSON document on stdout.
    const error = JSON.parse(result.stdout) as { error: { code: string; exit_code: number } };
    expect(error.error.code).toBe('approval.failed');
    expect(result.code).toBe(error.error.exit_code);
  });

  it('refuses a ttl out of range before asking anyone', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['approver', 'test', '--ttl', '2s']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--ttl/);
    expect(sb.prompts()).toHaveLength(0);
  });

  it('the audit table shows the test as its own request', async () => {
    sb.useApprover('approve');
    expect((await runClean(sb, ['approver', 'test'])).code).toBe(0);
    const audit = await runClean(sb, ['audit', '--json']);
    const rows = (JSON.parse(audit.stdout) as { requests: Array<Record<string, unknown>> }).requests;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ command: ['agent-secret', 'approver', 'test'], aliases: [] });
  });

  it('doctor names it next to the approver', async () => {
    sb.useApprover('approve');
    const doctor = await runClean(sb, ['doctor', '--json']);
    const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; hint: string | null }> }).checks;
    expect(checks.find((c) => c.name === 'approver')?.hint).toContain('agent-secret approver test');
  });
});
