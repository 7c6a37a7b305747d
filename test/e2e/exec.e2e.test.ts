// `exec` end to end with the built binary: the fake approver decides, the fake op resolves,
// a real child reports digests of what it received. Every run is scanned for the fake
// vault's canary values in stdout, stderr and the audit log.

import { existsSync, readFileSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectNoLeak, runClean, runCli } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { digest, valueOf } from '../helpers/vault.js';

const PROGRAMS = join(REPO_ROOT, 'test', 'fixtures', 'programs');

const CONFIG = `version: 1
default_profile: deploy
profiles:
  deploy:
    reason: Deploy the web app
    ttl: 30s
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
      API_TOKEN: op://Infra/Deploy/api token
      TLS_KEY: op://Infra/TLS/private key
      NOTES: op://Infra/Deploy/notesPlain
      UNICODE: op://Infra/Edge Cases/unicode
      SAME_TOKEN: op://Infra/Cloudflare/token
  two-accounts:
    reason: Compare accounts
    secrets:
      MY_CF: op://Infra/Cloudflare/token
      WORK_CF: { ref: "op://Infra/Cloudflare/token", account: work.1password.com }
  broken:
    reason: One reference is wrong
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
      MISSING: op://Infra/NoSuchItem/token
`;
const ALIASES = ['CF_TOKEN', 'API_TOKEN', 'TLS_KEY', 'NOTES', 'UNICODE', 'SAME_TOKEN'];

let sb: Sandbox;
let report: string;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
  report = join(sb.root, 'report.json');
});
afterEach(() => sb.cleanup());

const reportArgs = (...aliases: string[]) => ['--', 'node', join(PROGRAMS, 'report-env.mjs'), report, ...aliases];
const readReport = () => JSON.parse(readFileSync(report, 'utf8')) as Record<string, unknown>;
const events = () => sb.auditEvents().map((e) => e.event);

describe('approved', () => {
  it('delivers exactly the approved values to the child and nothing to anyone else', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', '--profile', 'deploy', ...reportArgs(...ALIASES)]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);

    const got = readReport();
    expect(got.CF_TOKEN).toEqual(digest(valueOf('op://Infra/Cloudflare/token')));
    expect(got.SAME_TOKEN).toEqual(got.CF_TOKEN);
    expect(got.API_TOKEN).toEqual(digest(valueOf('op://Infra/Deploy/api token')));
    expect(got.TLS_KEY).toEqual(digest(valueOf('op://Infra/TLS/private key')));
    expect((got.TLS_KEY as { length: number }).length).toBeGreaterThan(40);
    expect(got.NOTES).toEqual({ set: true, length: 0, sha256: digest('').sha256 });
    expect(got.UNICODE).toEqual(digest(valueOf('op://Infra/Edge Cases/unicode')));
    expect(got.AGENT_SECRET_REQUEST_ID).toMatch(/^req_[0-9a-f]{32}$/);

    // One prompt that showed the whole request, one op call for the one account.
    const prompts = sb.prompts();
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatchObject({
      version: 1,
      operation: 'exec',
      id: got.AGENT_SECRET_REQUEST_ID,
      reason: 'Deploy the web app',
      executable: process.execPath,
      cwd: sb.project,
      ttl_seconds: 30,
      profile: 'deploy',
    });
    expect((prompts[0] as { secrets: unknown[] }).secrets).toHaveLength(6);
    expect(sb.opCalls()).toHaveLength(1);
    expect(sb.opCalls()[0]?.argv[0]).toBe('inject');

    expect(events()).toEqual([
      'request_received',
      'approval_granted',
      'resolution_started',
      'resolution_succeeded',
      'child_started',
      'child_exited',
    ]);
    const exited = sb.auditEvents().at(-1) as Record<string, unknown>;
    expect(exited).toMatchObject({ request_id: got.AGENT_SECRET_REQUEST_ID, exit_code: 0 });
    expect(sb.auditEvents()[1]).toMatchObject({ approver: 'command', approver_config: join(sb.root, 'config', 'agent-secret', 'config.yml') });
  });

  it('resolves each account in its own op batch', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', '--profile', 'two-accounts', ...reportArgs('MY_CF', 'WORK_CF')]);
    expect(result.code).toBe(0);
    const got = readReport();
    expect(got.MY_CF).toEqual(digest(valueOf('op://Infra/Cloudflare/token')));
    expect(got.WORK_CF).toEqual(digest(valueOf('op://Infra/Cloudflare/token', 'work.1password.com')));
    expect(sb.opCalls()).toHaveLength(2);
  });

  it("passes the child's exit code through", async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', '--profile', 'deploy', ...reportArgs('CF_TOKEN')], { env: { EXIT_WITH: '7' } });
    expect(result.code).toBe(7);
    expect(result.stderr).toBe('');
    expect(sb.auditEvents().at(-1)).toMatchObject({ event: 'child_exited', exit_code: 7 });
  });

  it('a child killed by a signal gives 128+N', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', '--profile', 'deploy', '--', 'node', '-e', "process.kill(process.pid, 'SIGKILL')"]);
    expect(result.code).toBe(137);
    expect(sb.auditEvents().at(-1)).toMatchObject({ event: 'child_exited', exit_code: 137, signal: 'SIGKILL' });
  });

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const) {
    it(`forwards ${signal} to the child`, async () => {
      sb.useApprover('approve');
      const marker = join(sb.root, 'signal.txt');
      let pid = 0;
      const running = runCli(sb, ['exec', '--profile', 'deploy', '--', 'node', join(PROGRAMS, 'wait-signal.mjs'), marker], {
        onSpawn: (p) => (pid = p),
      });
      const deadline = Date.now() + 15_000;
      while (!(existsSync(marker) && readFileSync(marker, 'utf8') === 'ready') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      process.kill(pid, signal);
      const result = await running;
      expectNoLeak(sb, result);
      expect(readFileSync(marker, 'utf8')).toBe(signal);
      const numbers = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };
      expect(result.code).toBe(40 + numbers[signal]);
    });
  }
});

describe('the project config in use is part of what the human sees', () => {
  it('config_path names the agent-secret.yml the profile came from, and is null without one', async () => {
    sb.useApprover('approve');
    expect((await runClean(sb, ['exec', '--profile', 'deploy', ...reportArgs('CF_TOKEN')])).code).toBe(0);
    const elsewhere = join(sb.root, 'no-config');
    mkdirSync(elsewhere);
    const oneOff = await runClean(sb, ['exec', '--cwd', elsewhere, '--reason', 'One-off token', '--secret', 'CF_TOKEN=op://Infra/Cloudflare/token', ...reportArgs('CF_TOKEN')], { cwd: elsewhere });
    expect(oneOff.code).toBe(0);
    expect(sb.prompts().map((p) => p.config_path)).toEqual([join(sb.project, 'agent-secret.yml'), null]);
    // In the documented place: right after profile.
    const keys = Object.keys(sb.prompts()[0] ?? {});
    expect(keys[keys.indexOf('profile') + 1]).toBe('config_path');
    const dry = await runClean(sb, ['exec', '--dry-run', '--json', '--profile', 'deploy', ...reportArgs('CF_TOKEN')]);
    expect(JSON.parse(dry.stdout)).toMatchObject({ request: { config_path: join(sb.project, 'agent-secret.yml') } });
  });
});

describe('not approved: nothing resolved, no child', () => {
  const cases: Array<[string, string, number, string, string]> = [
    ['denied', 'deny', 10, 'approval_denied', 'denied'],
  ];
  for (const [name, mode, code, event, fragment] of cases) {
    it(name, async () => {
      sb.useApprover(mode);
      const result = await runClean(sb, ['exec', '--profile', 'deploy', ...reportArgs('CF_TOKEN')]);
      expect(result.code).toBe(code);
      expect(result.stderr).toMatch(/^agent-secret: /);
      expect(result.stderr).toContain(fragment);
      expect(existsSync(report)).toBe(false);
      expect(sb.opCalls()).toEqual([]);
      expect(events()).toEqual(['request_received', event]);
    });
  }

  // A broken approver is not a human's deny: its own exit code (17), the check that failed on
  // stderr and in the audit, and `audit` calls the request failed, not denied.
  const broken: Array<[string, string, string]> = [
    ['malformed approver output', 'garbage', 'approval failed: the approver program answered something malformed: not one JSON object'],
    ['wrong id in the answer', 'wrong-id', 'approval failed: the approver program answered something malformed: id is not the id of this request'],
    ['a reuse longer than the request ttl', 'approve-reuse:31:2', "approval failed: the approver program answered something malformed: reuse.ttl_seconds is longer than the request's ttl_seconds"],
    ['a reuse with too many uses', 'approve-reuse:10:21', 'approval failed: the approver program answered something malformed: reuse.max_uses is out of bounds'],
    ['approver exits non-zero', 'exit1', 'approval failed: the approver program exited with code 1'],
    ['approver crashes', 'crash', 'approval failed: the approver program was killed by SIGKILL'],
  ];
  for (const [name, mode, says] of broken) {
    it(`a broken approver is exit 17, not a denial: ${name}`, async () => {
      sb.useApprover(mode);
      const result = await runClean(sb, ['exec', '--profile', 'deploy', ...reportArgs('CF_TOKEN')]);
      expect(result.code).toBe(17);
      expect(result.stderr).toMatch(/^agent-secret: /);
      expect(result.stderr).toContain(says);
      expect(result.stderr).not.toContain('denied');
      expect(existsSync(report)).toBe(false);
      expect(sb.opCalls()).toEqual([]);
      expect(events()).toEqual(['request_received', 'approval_failed']);
      const reason = says.replace('approval failed: ', '');
      expect(sb.auditEvents().at(-1)).toMatchObject({ event: 'approval_failed', error_code: 'approval.failed', decision_reason: reason, approver: 'command' });
      const listed = JSON.parse((await runClean(sb, ['audit', '--json'])).stdout) as { requests: Array<{ decision: string; outcome: string }> };
      expect(listed.requests.map((r) => [r.decision, r.outcome])).toEqual([['approver_failed', 'failed']]);
    });
  }

  it('agent-context lists exit 17 and approval.failed', async () => {
    const context = JSON.parse((await runClean(sb, ['agent-context', '--json'])).stdout) as { exit_codes: Array<{ code: number | string; kind: string }>; error_codes: Array<{ code: string; exit_code: number }> };
    expect(context.exit_codes).toContainEqual(expect.objectContaining({ code: 17, kind: 'approver_failed' }));
    expect(context.error_codes).toContainEqual({ code: 'approval.failed', exit_code: 17 });
  });

  it('times out when nobody answers before the ttl', async () => {
    sb.useApprover('hang');
    const started = Date.now();
    const result = await runClean(sb, ['exec', '--profile', 'deploy', '--ttl', '10s', ...reportArgs('CF_TOKEN')]);
    expect(result.code).toBe(11);
    expect(result.stderr).toContain('ttl');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(existsSync(report)).toBe(false);
    expect(sb.opCalls()).toEqual([]);
    expect(events()).toEqual(['request_received', 'approval_timed_out']);
  });

  it('no approver available is its own exit code with a fix', async () => {
    sb.useApprover('approve', { approver: 'auto' });
    const result = await runClean(sb, ['exec', '--profile', 'deploy', ...reportArgs('CF_TOKEN')]);
    expect(result.code).toBe(12);
    expect(result.stderr).toContain('config.yml');
    expect(sb.opCalls()).toEqual([]);
  });

  it('an unwritable audit log stops everything before the prompt', async () => {
    sb.useApprover('approve');
    writeFileSync(dirname(sb.auditPath), 'not a directory');
    const result = await runClean(sb, ['exec', '--profile', 'deploy', ...reportArgs('CF_TOKEN')]);
    expect(result.code).toBe(16);
    expect(sb.prompts()).toEqual([]);
    expect(sb.opCalls()).toEqual([]);
    expect(existsSync(report)).toBe(false);
  });
});

describe('op failures: nothing delivered, the child never starts', () => {
  it('one bad reference among several names its alias and ref', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', '--profile', 'broken', ...reportArgs('CF_TOKEN', 'MISSING')]);
    expect(result.code).toBe(13);
    expect(result.stderr).toContain('MISSING');
    expect(result.stderr).toContain('op://Infra/NoSuchItem/token');
    expect(result.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
    expect(existsSync(report)).toBe(false);
    expect(events()).toEqual(['request_received', 'approval_granted', 'resolution_started', 'resolution_failed']);
  });

  it('signed out points at doctor', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', '--profile', 'deploy', ...reportArgs('CF_TOKEN')], { env: { FAKE_OP_STATE: 'signed_out' } });
    expect(result.code).toBe(13);
    expect(result.stderr).toContain('doctor');
    expect(existsSync(report)).toBe(false);
  });

  it('a missing op fails before anyone is asked', async () => {
    sb.useApprover('approve', { op_path: join(sb.root, 'no-such-op') });
    const result = await runClean(sb, ['exec', '--profile', 'deploy', ...reportArgs('CF_TOKEN')], {
      env: { PATH: `${join(REPO_ROOT, 'test', 'fixtures', 'programs')}:/usr/bin:/bin:${process.execPath.replace(/\/node$/, '')}` },
    });
    expect(result.code).toBe(13);
    expect(result.stderr).toContain('doctor');
    expect(sb.prompts()).toEqual([]);
  });
});

describe('the executable', () => {
  it('is refused if it changes between approval and start', async () => {
    const tool = join(sb.project, 'bin', 'tool.sh');
    mkdirSync(join(sb.project, 'bin'));
    writeFileSync(tool, '#!/bin/sh\nexit 0\n');
    chmodSync(tool, 0o755);
    // The approver rewrites the tool while the human "looks at" the prompt.
    sb.useApprover('approve');
    const approver = join(sb.root, 'swap-approver.sh');
    writeFileSync(approver, `#!/bin/sh\nprintf '#!/bin/sh\\nexit 3\\n' > '${tool}'\nexec '${join(REPO_ROOT, 'test', 'fixtures', 'bin', 'approver')}' approve\n`);
    chmodSync(approver, 0o755);
    sb.useApprover('approve', { approver: { command: [approver] } });
    const result = await runClean(sb, ['exec', '--profile', 'deploy', '--', tool]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('changed');
    expect(events()).toContain('child_spawn_failed');
    expect(events()).not.toContain('child_started');
  });
});

describe('the tty approver runs every step in the CLI, without the daemon', () => {
  const useTty = (text: string) => {
    const dir = join(sb.root, 'config', 'agent-secret');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'config.yml'), text, { mode: 0o600 });
  };
  const daemonPidFile = () => sb.daemonPidFile;

  it('approver: tty with no terminal to ask on: exit 12, no daemon started, nothing resolved', async () => {
    useTty(`version: 1\napprover: tty\nop_path: ${JSON.stringify(join(REPO_ROOT, 'test', 'fixtures', 'bin', 'op'))}\n`);
    const result = await runClean(sb, ['exec', '--profile', 'deploy', ...reportArgs('CF_TOKEN')]);
    expect(result.code).toBe(12);
    expect(existsSync(daemonPidFile())).toBe(false);
    expect(sb.opCalls()).toHaveLength(0);
    expect(existsSync(report)).toBe(false);
    expect(events()).toEqual(['request_received', 'approval_unavailable']);
    expect((await runClean(sb, ['exec', '--profile', 'deploy', '--reuse-only', ...reportArgs('CF_TOKEN')])).code).toBe(2);
  });

  it('a spelling the quick look misses is sent back by the daemon and still asks in the CLI', async () => {
    useTty(`{version: 1, approver: tty}\n`);
    const result = await runClean(sb, ['exec', '--profile', 'deploy', ...reportArgs('CF_TOKEN')]);
    expect(result.code).toBe(12);
    expect(sb.opCalls()).toHaveLength(0);
    expect(events()).toEqual(['request_received', 'approval_unavailable']);
  });
});
