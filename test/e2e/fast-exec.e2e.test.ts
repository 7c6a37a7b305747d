// The reused-exec fast path end to end: with a daemon running, `exec` sends its argv, cwd and
// environment and the daemon plans it (the audit line says planned_by: daemon); without one, or
// for anything the CLI reports itself, the full CLI runs, with the same output either way.
// Built binary, fake op and approver, canary scans on every run.

import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectNoLeak, runCli, runClean } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { digest, valueOf } from '../helpers/vault.js';
import { exitCodeFor } from '../../src/core/errors.js';

const DAEMON_EXIT = exitCodeFor('daemon.unavailable');

const APPEND_ENV = join(REPO_ROOT, 'test', 'fixtures', 'programs', 'append-env.mjs');
const TOKEN_REF = 'op://Infra/Cloudflare/token';

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.useApprover('approve');
});
afterEach(() => sb.cleanup());

const runs = () => join(sb.root, 'runs.jsonl');
const seen = (name: string): Array<Record<string, unknown>> =>
  existsSync(runs())
    ? readFileSync(runs(), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as Record<string, Record<string, unknown>>)[name] as Record<string, unknown>)
    : [];
const received = () => sb.auditEvents().filter((e) => e.event === 'request_received');

describe('exec through a running daemon', () => {
  it('the first exec starts the daemon through the full CLI, the next goes straight to it; the daemon plans both from argv', async () => {
    const args = ['exec', '--reason', 'Purge the CDN cache', '--secret', `CF_TOKEN=${TOKEN_REF}`, '--', 'node', APPEND_ENV, sb.root, 'CF_TOKEN'];
    const first = await runClean(sb, args);
    const second = await runClean(sb, args);
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(second.stderr).toBe('');
    const want = digest(valueOf(TOKEN_REF)).sha256;
    expect(seen('CF_TOKEN').map((v) => v.sha256)).toEqual([want, want]);
    const [full, fast] = received();
    expect(full?.planned_by).toBe('daemon');
    expect(fast?.planned_by).toBe('daemon');
    // The daemon's plan is the caller's: same argv, executable, cwd and references.
    for (const key of ['command', 'executable', 'cwd', 'secrets', 'reason', 'ttl_seconds']) expect(fast?.[key]).toEqual(full?.[key]);
    expect(fast?.cwd).toBe(realpathSync(sb.project));
    expect(sb.auditEvents().filter((e) => e.request_id === fast?.request_id).map((e) => e.event)).toEqual([
      'request_received',
      'approval_granted',
      'resolution_started',
      'resolution_succeeded',
      'child_started',
      'child_exited',
    ]);
  });

  it("plans as the caller would: its cwd, relative --cwd and --env-file, the project's agent-secret.yml, its PATH", async () => {
    sb.write('agent-secret.yml', `version: 1\nprofiles:\n  cf:\n    reason: Purge the CDN cache\n    secrets:\n      CF_TOKEN: ${TOKEN_REF}\n`);
    sb.write('.env.op', `DEPLOY_USER=op://Infra/Deploy/username\nREGION=eu-west-1\n`);
    mkdirSync(join(sb.project, 'sub'));
    // A program only the caller's PATH can find.
    const tools = join(sb.root, 'tools');
    mkdirSync(tools);
    writeFileSync(join(tools, 'report-env'), `#!/bin/sh\nexec node ${APPEND_ENV} ${sb.root} CF_TOKEN DEPLOY_USER REGION PWD_MARK\n`);
    chmodSync(join(tools, 'report-env'), 0o755);
    expect((await runCli(sb, ['daemon', 'start'])).code).toBe(0);
    if (process.platform === 'linux') {
      // The daemon runs with a small young generation (its resident size after a burst).
      const { pid } = JSON.parse(readFileSync(sb.daemonPidFile, 'utf8')) as { pid: number };
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain('--max-semi-space-size=2');
    }

    const env = { PATH: `${tools}:${sb.env.PATH}` };
    const result = await runClean(sb, ['exec', '--profile', 'cf', '--env-file', '.env.op', '--cwd', 'sub', '--allow-mutable-executable', '--', 'report-env'], { env });
    expect(result.code).toBe(0);
    const [line] = received();
    expect(line?.planned_by).toBe('daemon');
    expect(line?.executable).toBe(realpathSync(join(tools, 'report-env')));
    expect(line?.cwd).toBe(realpathSync(join(sb.project, 'sub')));
    expect((line?.secrets as Array<{ alias: string }>).map((s) => s.alias).sort()).toEqual(['CF_TOKEN', 'DEPLOY_USER']);
    expect(seen('CF_TOKEN')[0]?.sha256).toBe(digest(valueOf(TOKEN_REF)).sha256);
    expect(seen('DEPLOY_USER')[0]?.sha256).toBe(digest(valueOf('op://Infra/Deploy/username')).sha256);
    expect(seen('REGION')[0]).toEqual({ set: true, length: 'eu-west-1'.length, sha256: digest('eu-west-1').sha256 });
  });

  it('reports what the CLI reports itself exactly as without a daemon (help, dry run, usage and config errors)', async () => {
    const cases: string[][] = [
      ['exec', '--bogus', '--', 'true'],
      ['exec', '--secret', 'NOT_A_REF', '--', 'true'],
      ['exec', '--profile', 'missing', '--', 'true'],
      ['exec', '--json', '--secret', `T=${TOKEN_REF}`, '--', 'true'],
      ['exec', '--secret', `T=${TOKEN_REF}`, '--', 'no-such-program-here'],
      ['exec', '--secret', `T=${TOKEN_REF}`, '--cwd', 'nowhere', '--', 'true'],
      ['exec', '--dry-run', '--json', '--secret', `T=${TOKEN_REF}`, '--', 'true'],
      ['exec', '--help', '--', 'true'],
      // More argv than a request carries (the daemon's exec.argv schema refuses it too).
      ['exec', '--reason', 'big argv', '--secret', `T=${TOKEN_REF}`, '--', 'true', ...Array.from({ length: 5000 }, (_, i) => String(i))],
      ['exec', '--reason', 'big argv', '--secret', `T=${TOKEN_REF}`, '--', 'true', 'x'.repeat(100_000)],
    ];
    // Each case first with no daemon running (the full CLI, which may start one), then with one.
    const without = [];
    const withRunning = [];
    for (const args of cases) {
      expect((await runCli(sb, ['daemon', 'stop'])).code).toBe(0);
      without.push(await runCli(sb, args));
      expect((await runCli(sb, ['daemon', 'start'])).code).toBe(0);
      withRunning.push(await runCli(sb, args));
    }
    for (const [i, args] of cases.entries()) {
      const withDaemon = withRunning[i] as (typeof withRunning)[number];
      const strip = (text: string) => text.replace(/"requester": \{[\s\S]*?\n {4}\}/, '').replace(/pid \d+/g, 'pid N');
      expect({ args, code: withDaemon.code, stdout: strip(withDaemon.stdout), stderr: withDaemon.stderr }).toEqual({
        args,
        code: without[i]?.code,
        stdout: strip(without[i]?.stdout ?? ''),
        stderr: without[i]?.stderr,
      });
      expectNoLeak(sb, withDaemon);
    }
    expect(sb.prompts()).toHaveLength(0);
    expect(received()).toHaveLength(0);
    const big = without.slice(-2);
    for (const result of big) {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^agent-secret: the command is too large for an approval request: /);
    }
  }, 120_000); // 40 CLI runs and 20 daemon starts: more than the default 30 s on a loaded machine

  it('a daemon that takes the connection and never answers is reported once, not waited for twice', async () => {
    // Stands in for a hung daemon: accepts, reads, never writes.
    mkdirSync(sb.daemonDir, { recursive: true, mode: 0o700 });
    chmodSync(sb.daemonDir, 0o700);
    let connections = 0;
    const sockets: Socket[] = [];
    const hung = createServer((socket) => {
      connections += 1;
      sockets.push(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => hung.listen(join(sb.daemonDir, 'daemon.sock'), resolve));
    try {
      const result = await runClean(sb, ['exec', '--reason', 'Purge the CDN cache', '--secret', `CF_TOKEN=${TOKEN_REF}`, '--', 'node', APPEND_ENV, sb.root, 'CF_TOKEN']);
      expect(result.code).toBe(DAEMON_EXIT);
      expect(result.stderr).toContain('the agent-secret daemon did not answer in time');
      expect(connections).toBe(1);
      expect(seen('CF_TOKEN')).toEqual([]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hung.close(resolve));
    }
  });
});
