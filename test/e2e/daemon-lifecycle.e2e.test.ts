// The daemon's lifecycle end to end, with the built binary, the fake approver and the fake op:
// a request that expires while queued is never shown, `daemon stop` with a prompt open and a
// request waiting fails both cleanly and kills the approver, a stop drops every cached value,
// and the idle exit happens only when nothing is live. Every run is scanned for canary values.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectNoLeak, runCli, runClean, type CliResult } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';

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
let metaLog: string;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
  // The daemon inherits the environment of the CLI that starts it, and passes this on to the
  // approver program: one line per approver run, with its pid.
  metaLog = join(sb.root, 'approver-meta.log');
  sb.env.FAKE_APPROVER_META_LOG = metaLog;
});
afterEach(() => sb.cleanup());

const runs = () => join(sb.root, 'runs.jsonl');
const execArgs = (...flags: string[]) => ['exec', '--profile', 'cf', ...flags, '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, 'CF_TOKEN'];
const childRuns = () => (existsSync(runs()) ? readFileSync(runs(), 'utf8').split('\n').filter((l) => l !== '').length : 0);
const eventsOf = (reason: string) => sb.auditEvents().filter((e) => e.reason === reason);
const approverMeta = (): Array<{ pid: number; ppid: number }> =>
  existsSync(metaLog)
    ? readFileSync(metaLog, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { pid: number; ppid: number })
    : [];
const approverPids = () => approverMeta().map((m) => m.pid);
const stderrLines = (r: CliResult) => r.stderr.split('\n').filter((l) => l !== '');

describe('a request that expires while queued', () => {
  it('fails with exit 11 at its own deadline, is never shown, and nothing is resolved', async () => {
    sb.useApprover('hang');
    // A holds the prompt (the approver never answers) for its whole 60 s ttl.
    const a = runCli(sb, execArgs('--reason', 'Request A'), { timeoutMs: 90_000 });
    await waitFor(() => sb.prompts().length === 1);
    let aDone = false;
    void a.then(() => (aDone = true));

    // B queues behind it with the shortest ttl and must give up on its own.
    const started = Date.now();
    const b = await runCli(sb, execArgs('--reason', 'Request B', '--ttl', '10s'), { timeoutMs: 60_000 });
    const elapsed = Date.now() - started;
    expectNoLeak(sb, b);
    expect(b.code).toBe(11);
    expect(b.stdout).toBe('');
    expect(stderrLines(b).length).toBeGreaterThanOrEqual(1);
    expect(stderrLines(b).length).toBeLessThanOrEqual(2);
    expect(b.stderr).toMatch(/ttl/);
    // It waited out its ttl (it cannot time out before the daemon received it) and no more:
    // A is still at the prompt, so B did not wait for A's turn to end.
    expect(elapsed).toBeGreaterThanOrEqual(10_000);
    expect(elapsed).toBeLessThan(30_000);
    expect(aDone).toBe(false);

    // Only A was ever shown.
    const prompts = sb.prompts() as Array<{ id: string; reason: string }>;
    expect(prompts.map((p) => p.reason)).toEqual(['Request A']);
    const bEvents = eventsOf('Request B');
    expect(bEvents.map((e) => e.event)).toEqual(['request_received', 'approval_timed_out']);
    expect(bEvents[1]).toMatchObject({ decision_reason: 'expired while queued' });
    expect(prompts[0]?.id).not.toBe(bEvents[0]?.request_id);
    expect(sb.opCalls()).toHaveLength(0);
    expect(childRuns()).toBe(0);

    // End A by stopping the daemon, so no prompt outlives the test.
    const stopped = await runClean(sb, ['daemon', 'stop']);
    expect(stopped.code).toBe(0);
    const aResult = await a;
    expectNoLeak(sb, aResult);
    expect(aResult.code).toBe(15);
    expect(eventsOf('Request A').map((e) => e.event)).toEqual(['request_received', 'approval_cancelled']);
    expect(childRuns()).toBe(0);
    console.info(`queued request with --ttl 10s exited after ${elapsed} ms`);
  }, 120_000);
});

describe('daemon stop with a prompt open and a request waiting', () => {
  it('both CLIs fail with exit 15 naming the daemon, the approver is killed, nothing ran or resolved', async () => {
    sb.useApprover('hang');
    const a = runCli(sb, execArgs('--reason', 'Request A'), { timeoutMs: 60_000 });
    await waitFor(() => sb.prompts().length === 1 && approverPids().length === 1);
    const b = runCli(sb, execArgs('--reason', 'Request B'), { timeoutMs: 60_000 });
    await waitFor(() => eventsOf('Request B').some((e) => e.event === 'request_received'));
    const [approverPid] = approverPids() as [number];
    expect(isApprover(approverPid)).toBe(true);

    const stopped = await runClean(sb, ['daemon', 'stop']);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toBe('agent-secret daemon: stopped\n');
    const results = await Promise.all([a, b]);
    expectNoLeak(sb, ...results);
    for (const r of results) {
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 15, stdout: '' });
      expect(r.stderr).toMatch(/daemon/);
      expect(stderrLines(r).length).toBeGreaterThanOrEqual(1);
      expect(stderrLines(r).length).toBeLessThanOrEqual(2);
    }

    // The approver's process (group) was killed with the daemon, not left behind holding a dialog.
    await waitFor(() => !isApprover(approverPid), 10_000);
    expect(sb.prompts()).toHaveLength(1);
    expect(sb.opCalls()).toHaveLength(0);
    expect(childRuns()).toBe(0);
    // Both are recorded as cancelled by the stop: not as a denial by the human, not as an internal failure.
    for (const reason of ['Request A', 'Request B']) {
      expect(eventsOf(reason).map((e) => [e.event, e.error_code])).toEqual([
        ['request_received', undefined],
        ['approval_cancelled', 'daemon.unavailable'],
      ]);
    }

    const listed = await runClean(sb, ['approvals', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({ daemon_running: false, approvals: [] });
  }, 90_000);
});

describe('daemon stop drops every value', () => {
  it('a reusable approval does not survive a stop: --reuse-only then exits 14 without a prompt', async () => {
    sb.useApprover('approve-reuse:60:5');
    expect((await runClean(sb, execArgs())).code).toBe(0);
    expect((await runClean(sb, execArgs('--reuse-only'))).code).toBe(0);
    expect(sb.prompts()).toHaveLength(1);
    expect(sb.opCalls()).toHaveLength(1);

    expect((await runClean(sb, ['daemon', 'stop'])).code).toBe(0);
    const missed = await runClean(sb, execArgs('--reuse-only'));
    expect(missed.code).toBe(14);
    expect(missed.stderr).toMatch(/reusable approval/);
    expect(sb.prompts()).toHaveLength(1);
    expect(sb.opCalls()).toHaveLength(1);
    expect(childRuns()).toBe(2);
    expect(sb.auditEvents().at(-1)).toMatchObject({ event: 'approval_reuse_missed' });
  }, 60_000);
});

describe('idle exit', () => {
  const IDLE = { AGENT_SECRET_DAEMON_IDLE_MS: '1500' };

  it('exits by itself soon after a once-only exec', async () => {
    // The approver takes a second: while the exec's connection is open the daemon cannot go idle,
    // so the pid it ran the approver from is certainly the live daemon at that point.
    sb.useApprover('slow:1000');
    const pending = runCli(sb, execArgs(), { env: IDLE, timeoutMs: 30_000 });
    await waitFor(() => approverMeta().length === 1);
    const pid = approverMeta()[0]?.ppid as number;
    expect(isDaemon(pid)).toBe(true);
    expect(daemonPid()).toBe(pid);
    const result = await pending;
    expectNoLeak(sb, result);
    expect(result.code).toBe(0);
    expect(childRuns()).toBe(1);
    const started = Date.now();
    await waitFor(() => !isDaemon(pid), 20_000);
    expect(existsSync(sb.daemonPidFile)).toBe(false);
    console.info(`idle daemon (1500 ms) exited ${Date.now() - started} ms after the exec returned`);
  }, 60_000);

  it('stays while a reusable approval is live, and exits once it is revoked', async () => {
    sb.useApprover('approve-reuse:60:5');
    expect((await runClean(sb, execArgs(), { env: IDLE })).code).toBe(0);
    const pid = daemonPid();
    // Several idle periods (the once-only case above exits in about one) pass without an exit.
    await sleep(6_000);
    expect(isDaemon(pid)).toBe(true);
    // The same environment: the reuse key covers it (IDLE included).
    const reused = await runClean(sb, execArgs('--reuse-only'), { env: IDLE });
    expect(reused.code).toBe(0);
    expect(sb.prompts()).toHaveLength(1);
    expect(daemonPid()).toBe(pid);

    // Nothing live any more: now the quiet period ends it.
    expect((await runClean(sb, ['approvals', 'revoke', '--all'])).code).toBe(0);
    await waitFor(() => !isDaemon(pid), 20_000);
    expect(childRuns()).toBe(2);
  }, 60_000);
});

function daemonPid(): number {
  return (JSON.parse(readFileSync(sb.daemonPidFile, 'utf8')) as { pid: number }).pid;
}

// Alive and not a zombie, and running the given marker in its argv (so a reused pid never counts).
function runsWith(pid: number, marker: (argv: string[]) => boolean): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    return marker(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
  } catch {
    // No /proc (macOS): the signal check above is all there is.
    return process.platform !== 'linux';
  }
}
const isDaemon = (pid: number) => runsWith(pid, (argv) => argv.includes('daemon') && argv.includes('serve'));
const isApprover = (pid: number) => runsWith(pid, (argv) => argv.some((a) => a.endsWith(join('fixtures', 'bin', 'approver'))));

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(50);
  }
}
