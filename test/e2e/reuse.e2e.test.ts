// Reusable approvals and the prompt queue end to end: the built binary, its daemon, the fake
// approver answering "allow again for a while", the fake op counting calls, real children
// reporting digests of what they received. Every run is scanned for canary values.

import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectNoLeak, runCli, runClean } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { digest, valueOf } from '../helpers/vault.js';

const PROGRAMS = join(REPO_ROOT, 'test', 'fixtures', 'programs');
const CONFIG = `version: 1
default_profile: cf
profiles:
  cf:
    reason: Purge the CDN cache
    ttl: 60s
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
`;

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
});
afterEach(() => sb.cleanup());

// Every run of one test shares one argv (so one request): children append a line each.
const runs = () => join(sb.root, 'runs.jsonl');
const execArgs = (...flags: string[]) => ['exec', '--profile', 'cf', ...flags, '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, 'CF_TOKEN'];
const seen = (): Array<string | undefined> =>
  existsSync(runs())
    ? readFileSync(runs(), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { CF_TOKEN: { sha256?: string } }).CF_TOKEN.sha256)
    : [];
const events = () => sb.auditEvents().map((e) => e.event);
const cfDigest = () => digest(valueOf('op://Infra/Cloudflare/token')).sha256;

describe('reusable approvals', () => {
  it('serves the same exact request again within its use count, then asks again', async () => {
    sb.useApprover('approve-reuse:60:3');
    for (let i = 0; i < 3; i += 1) {
      const result = await runClean(sb, execArgs());
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
    }
    expect(seen()).toEqual([cfDigest(), cfDigest(), cfDigest()]);
    expect(sb.prompts()).toHaveLength(1);
    expect(sb.opCalls()).toHaveLength(1);
    expect(events().filter((e) => e === 'approval_reused')).toHaveLength(2);

    // The fourth run finds the approval used up: a new prompt, a new op call.
    expect((await runClean(sb, execArgs())).code).toBe(0);
    expect(sb.prompts()).toHaveLength(2);
    expect(sb.opCalls()).toHaveLength(2);
  });

  it('does not reuse for a different command, and a changed NODE_OPTIONS re-prompts while churn does not', async () => {
    sb.useApprover('approve-reuse:60:10');
    expect((await runClean(sb, execArgs())).code).toBe(0);
    expect((await runClean(sb, execArgs(), { env: { CLAUDE_CODE_SESSION_ID: 'turn-42', SHLVL: '7' } })).code).toBe(0);
    expect(sb.prompts()).toHaveLength(1);
    // Another argv is a different request.
    expect((await runClean(sb, ['exec', '--profile', 'cf', '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, 'CF_TOKEN', 'X'])).code).toBe(0);
    expect(sb.prompts()).toHaveLength(2);
    expect((await runClean(sb, execArgs(), { env: { NODE_OPTIONS: '--no-warnings' } })).code).toBe(0);
    expect(sb.prompts()).toHaveLength(3);
    expect(seen()).toHaveLength(4);
  });

  it('expires after the duration the human chose', async () => {
    sb.useApprover('approve-reuse:1:10');
    expect((await runClean(sb, execArgs())).code).toBe(0);
    await sleep(1500);
    const missed = await runClean(sb, execArgs('--reuse-only'));
    expect(missed.code).toBe(14);
    expect(sb.prompts()).toHaveLength(1);
  });

  it('--reuse-only fails with exit 14 and no prompt when nothing matches', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, execArgs('--reuse-only'));
    expect(result.code).toBe(14);
    expect(result.stderr).toMatch(/reusable approval/);
    expect(sb.prompts()).toHaveLength(0);
    expect(sb.opCalls()).toHaveLength(0);
    expect(seen()).toEqual([]);
    expect(events()).toEqual(['request_received', 'approval_reuse_missed']);
  });

  it('--force-refresh resolves again through op without a prompt', async () => {
    sb.useApprover('approve-reuse:60:5');
    expect((await runClean(sb, execArgs())).code).toBe(0);
    const refreshed = await runClean(sb, execArgs('--force-refresh'));
    expect(refreshed.code).toBe(0);
    expect(seen()).toEqual([cfDigest(), cfDigest()]);
    expect(sb.prompts()).toHaveLength(1);
    expect(sb.opCalls()).toHaveLength(2);
    expect(events()).toContain('approval_refreshed');
  });

  it('approvals list shows the references and accounts that were approved, not only the aliases', async () => {
    sb.write(
      'agent-secret.yml',
      `${CONFIG}  two:
    reason: Compare accounts
    ttl: 60s
    secrets:
      MY_CF: op://Infra/Cloudflare/token
      WORK_CF: { ref: "op://Infra/Cloudflare/token", account: work.1password.com }
`,
    );
    sb.useApprover('approve-reuse:60:5');
    const args = ['exec', '--profile', 'two', '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, 'MY_CF'];
    expect((await runClean(sb, args)).code).toBe(0);
    const listed = await runClean(sb, ['approvals', 'list', '--json']);
    expect(listed.code).toBe(0);
    const body = JSON.parse(listed.stdout) as { approvals: Array<{ aliases: string[]; secrets: unknown }> };
    expect(body.approvals).toHaveLength(1);
    expect(body.approvals[0]?.aliases).toEqual(['MY_CF', 'WORK_CF']);
    expect(body.approvals[0]?.secrets).toEqual([
      { alias: 'MY_CF', ref: 'op://Infra/Cloudflare/token', provider: 'op', account: null },
      { alias: 'WORK_CF', ref: 'op://Infra/Cloudflare/token', provider: 'op', account: 'work.1password.com' },
    ]);
    const text = await runClean(sb, ['approvals', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('    MY_CF = op://Infra/Cloudflare/token (default account)\n');
    expect(text.stdout).toContain('    WORK_CF = op://Infra/Cloudflare/token (work.1password.com)\n');
  });

  it('approvals list shows live approvals without values; revoke ends them', async () => {
    sb.useApprover('approve-reuse:60:5');
    expect((await runClean(sb, execArgs())).code).toBe(0);
    const listed = await runClean(sb, ['approvals', 'list', '--json']);
    expect(listed.code).toBe(0);
    const body = JSON.parse(listed.stdout) as { approvals: Array<{ id: string; remaining_uses: number; aliases: string[]; reason: string }> };
    expect(body.approvals).toHaveLength(1);
    expect(body.approvals[0]).toMatchObject({ remaining_uses: 4, aliases: ['CF_TOKEN'], reason: 'Purge the CDN cache' });
    const text = await runClean(sb, ['approvals', 'list']);
    expect(text.stdout).toContain(body.approvals[0]?.id);

    const revoked = await runClean(sb, ['approvals', 'revoke', body.approvals[0]?.id ?? '']);
    expect(revoked.code).toBe(0);
    expect(sb.auditEvents().filter((e) => e.event === 'approval_revoked')).toEqual([expect.objectContaining({ approval_id: body.approvals[0]?.id })]);
    expect((await runClean(sb, execArgs('--reuse-only'))).code).toBe(14);
    expect(JSON.parse((await runClean(sb, ['approvals', 'list', '--json'])).stdout)).toMatchObject({ approvals: [] });
    expect((await runClean(sb, ['approvals', 'revoke', '--all'])).code).toBe(0);
  });
});

describe('approvals list text', () => {
  it('shows a working directory with terminal escapes in its name escaped, never raw', async () => {
    sb.useApprover('approve-reuse:60:5');
    const dir = join(sb.project, 'x\u001b]0;owned\u0007\u001b[2Jy');
    mkdirSync(dir);
    expect((await runClean(sb, ['exec', '--profile', 'cf', '--cwd', dir, '--', 'true'])).code).toBe(0);
    const text = await runClean(sb, ['approvals', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain('\u001b');
    expect(text.stdout).not.toContain('\u0007');
    expect(text.stdout).toContain('\\x1b]0;owned\\x07');
  });
});

describe('one prompt queue', () => {
  it('20 parallel identical execs: 1 prompt, 1 op batch, 20 children that each saw the value', async () => {
    // The approver takes a second, so the other 19 requests are queued behind the prompt.
    sb.useApprover('approve-reuse:60:20:1000');
    const results = await Promise.all(Array.from({ length: 20 }, () => runCli(sb, execArgs(), { timeoutMs: 60_000 })));
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expectNoLeak(sb, ...results);
    expect(sb.prompts()).toHaveLength(1);
    expect(sb.opCalls()).toHaveLength(1);
    expect(seen()).toEqual(Array.from({ length: 20 }, () => cfDigest()));
    expect(events().filter((e) => e === 'child_exited')).toHaveLength(20);
  }, 90_000);

  it('prompts one at a time and tells each prompt how many others wait', async () => {
    // Each prompt takes 4 s; the three requests arrive well within the first one, even on a busy machine.
    sb.useApprover('slow:4000');
    const results = await Promise.all(
      ['x', 'y', 'z'].map((name, i) => sleep(i * 400).then(() => runCli(sb, ['exec', '--profile', 'cf', '--reason', `Request ${name}`, ...execArgs().slice(3)], { timeoutMs: 40_000 }))),
    );
    for (const r of results) expect(r.code).toBe(0);
    expectNoLeak(sb, ...results);
    const prompts = sb.prompts() as Array<{ reason: string; queue: { waiting: number } }>;
    expect(prompts).toHaveLength(3);
    // While the second prompt is shown the third request waits; the last one has nobody behind it.
    expect(prompts.slice(1).map((p) => p.queue.waiting)).toEqual([1, 0]);
    expect(prompts.map((p) => p.reason).sort()).toEqual(['Request x', 'Request y', 'Request z']);
  }, 60_000);
});

describe('the daemon going away', () => {
  it('a daemon killed during the prompt: the CLI fails cleanly, no child runs, nothing is on disk', async () => {
    sb.useApprover('hang');
    // The approver outlives a daemon killed outright (a documented limit): note its pid to end it here.
    const metaLog = join(sb.root, 'approver-meta.log');
    sb.env.FAKE_APPROVER_META_LOG = metaLog;
    const pending = runCli(sb, execArgs(), { timeoutMs: 30_000 });
    await waitFor(() => sb.prompts().length === 1 && existsSync(metaLog));
    const pid = daemonPid(sb);
    process.kill(pid, 'SIGKILL');
    const result = await pending;
    for (const line of readFileSync(metaLog, 'utf8').split('\n').filter((l) => l !== '')) {
      const approver = (JSON.parse(line) as { pid: number }).pid;
      try {
        process.kill(-approver, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    expect(result.code).toBe(15);
    expect(result.stderr).toMatch(/daemon/);
    expect(result.stderr.split('\n').filter((l) => l !== '').length).toBeLessThanOrEqual(2);
    expect(seen()).toEqual([]);
    expectNoLeak(sb, result);
    for (const file of readdirSync(join(sb.root, 'tmp'))) expect(file).not.toMatch(/agent-secret/);
  }, 40_000);
});

function daemonPid(sandbox: Sandbox): number {
  const info = JSON.parse(readFileSync(sandbox.daemonPidFile, 'utf8')) as { pid: number };
  return info.pid;
}

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(50);
  }
}
