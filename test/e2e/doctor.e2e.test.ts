// `agent-secret doctor` with the built binary: every check passes in a healthy sandbox, and each
// failure says how to fix it and makes the exit code non-zero. doctor never prompts or resolves.

import { dirname, join } from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.useApprover('approve');
  sb.write('agent-secret.yml', 'version: 1\nprofiles:\n  p:\n    reason: r\n    secrets:\n      A: op://Infra/Cloudflare/token\n');
});
afterEach(() => sb.cleanup());

type Check = { name: string; status: string; detail: string; hint: string | null };
const checksOf = (stdout: string) => Object.fromEntries((JSON.parse(stdout).checks as Check[]).map((c) => [c.name, c]));

describe('doctor', () => {
  it('passes in a healthy setup without prompting or resolving', async () => {
    const result = await runClean(sb, ['doctor', '--json']);
    expect(result.code).toBe(0);
    const checks = checksOf(result.stdout);
    for (const name of ['node', 'user_config', 'op', 'op_signed_in', 'project_config', 'approver', 'audit_log']) {
      expect(checks[name]?.status, name).toBe('ok');
    }
    expect(JSON.parse(result.stdout)).toMatchObject({ schema_version: '1', ok: true });
    expect(sb.prompts()).toEqual([]);
    expect(sb.opCalls().map((c) => c.argv.find((a) => !a.startsWith('-')))).not.toContain('read');
    expect(sb.opCalls().map((c) => c.argv.find((a) => !a.startsWith('-')))).not.toContain('inject');
  });

  it('text output ends with a verdict', async () => {
    const result = await runClean(sb, ['doctor']);
    expect(result.stdout).toContain('agent-secret can run exec here.');
  });

  it('signed out fails with a fix', async () => {
    const result = await runClean(sb, ['doctor'], { env: { FAKE_OP_STATE: 'signed_out' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+op_signed_in/);
    expect(result.stdout).toContain('fix:');
  });

  it('a missing op fails with a fix', async () => {
    sb.useApprover('approve', { op_path: join(sb.root, 'nope') });
    const result = await runClean(sb, ['doctor', '--json'], { env: { PATH: '/usr/bin:/bin' } });
    expect(result.code).toBe(1);
    expect(checksOf(result.stdout).op).toMatchObject({ status: 'fail' });
    expect(checksOf(result.stdout).op?.hint).toBeTruthy();
  });

  it('no approver available fails with a fix', async () => {
    sb.useApprover('approve', { approver: 'auto' });
    const result = await runClean(sb, ['doctor', '--json']);
    expect(result.code).toBe(1);
    expect(checksOf(result.stdout).approver).toMatchObject({ status: 'fail' });
    expect(checksOf(result.stdout).approver?.hint).toContain('config.yml');
  });

  it('an unwritable audit location fails with a fix', async () => {
    writeFileSync(dirname(sb.auditPath), 'not a directory');
    const result = await runClean(sb, ['doctor', '--json']);
    expect(result.code).toBe(1);
    expect(checksOf(result.stdout).audit_log).toMatchObject({ status: 'fail' });
  });

  it('a broken project config fails; a missing one only warns', async () => {
    sb.write('agent-secret.yml', 'version: 1\nprofiles: {}\nbogus: 1\n');
    const broken = await runClean(sb, ['doctor', '--json']);
    expect(broken.code).toBe(1);
    expect(checksOf(broken.stdout).project_config).toMatchObject({ status: 'fail' });
    const missing = await runClean(sb, ['doctor', '--json'], { cwd: join(sb.root, 'tmp') });
    expect(missing.code).toBe(0);
    expect(checksOf(missing.stdout).project_config).toMatchObject({ status: 'warn' });
  });

  it("warns when the running daemon uses another user config and audit log than this shell's", async () => {
    expect((await runClean(sb, ['daemon', 'start'])).code).toBe(0);
    const same = checksOf((await runClean(sb, ['doctor', '--json'])).stdout);
    expect(same.daemon).toMatchObject({ status: 'ok' });
    // Same runtime directory (same daemon), another config and state home.
    const other = join(sb.root, 'other');
    const otherConfig = join(other, 'config', 'agent-secret');
    mkdirSync(otherConfig, { recursive: true, mode: 0o700 });
    writeFileSync(join(otherConfig, 'config.yml'), readFileSync(join(sb.root, 'config', 'agent-secret', 'config.yml')), { mode: 0o600 });
    const result = await runClean(sb, ['doctor', '--json'], { env: { XDG_CONFIG_HOME: join(other, 'config'), XDG_STATE_HOME: join(other, 'state') } });
    const daemon = checksOf(result.stdout).daemon;
    expect(daemon?.status).toBe('warn');
    expect(daemon?.detail).toContain(join(sb.root, 'config', 'agent-secret', 'config.yml'));
    expect(daemon?.detail).toContain('not the one checked above');
    expect(daemon?.hint).toContain('agent-secret daemon stop');
    await runClean(sb, ['daemon', 'stop']);
  });

  it('warns when the user config is not the one in the account home', async () => {
    const result = await runClean(sb, ['doctor', '--json']);
    expect(checksOf(result.stdout).user_config_location).toMatchObject({ status: 'warn' });
  });
});
