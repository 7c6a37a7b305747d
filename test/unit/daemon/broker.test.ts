// The broker as a component, without the socket: a fake conversation, the real stores, the fake
// approver and the fake op of test/fixtures/bin in a sandbox HOME. For the paths an end-to-end
// test cannot time: a client that is gone exactly when its values or its token would be sent.

import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBroker } from '../../../src/daemon/broker.js';
import type { Conversation, DaemonHooks } from '../../../src/daemon/server.js';
import { CANARIES } from '../../helpers/canaries.js';
import { requestBodyFor } from '../../helpers/request-body.js';
import { createSandbox, type Sandbox } from '../../helpers/sandbox.js';

let sandbox: Sandbox;
let broker: DaemonHooks;

beforeEach(() => {
  sandbox = createSandbox();
  sandbox.useApprover('approve');
  broker = createBroker({ dirs: { env: sandbox.env, platform: process.platform, homedir: sandbox.home }, env: sandbox.env, platform: process.platform });
});

afterEach(async () => {
  await broker.shutdown();
  sandbox.cleanup();
});

interface FakeConv extends Conversation {
  sent: Array<{ type: string; body: Record<string, unknown> }>;
}

/** A conversation whose client is gone when the broker sends a frame of type `failOn`. */
function conversation(type: string, body: Record<string, unknown>, failOn: string | null = null): FakeConv {
  const abort = new AbortController();
  const sent: FakeConv['sent'] = [];
  return {
    first: { v: 1, id: 'c1', type, body },
    sent,
    signal: abort.signal,
    send(frameType, frameBody) {
      if (frameType === failOn) {
        abort.abort();
        return Promise.reject(new Error('the client closed the connection'));
      }
      sent.push({ type: frameType, body: frameBody });
      return Promise.resolve();
    },
    receive: () => Promise.reject(new Error('the client closed the connection')),
  };
}

function requestBody(): Record<string, unknown> {
  return requestBodyFor({ cwd: sandbox.project, command: ['agent-secret', 'session', 'create'], executable: process.execPath, reason: 'broker unit test' });
}

function expectNoCanary(): void {
  const audit = existsSync(sandbox.auditPath) ? readFileSync(sandbox.auditPath, 'utf8') : '';
  for (const canary of CANARIES) expect(audit).not.toContain(canary);
}

describe('session create', () => {
  it('a client gone when the token would be sent leaves no session (its values are dropped at once)', async () => {
    const conv = conversation('session.create', { request: requestBody(), max_reads: 2, binding: { mode: 'ancestor', depth: 1 }, pid: process.pid }, 'session.created');
    await expect(broker.handler(conv)).rejects.toThrow();
    expect(sandbox.opCalls().length).toBeGreaterThan(0);

    const list = conversation('session.list', {});
    await broker.handler(list);
    expect(list.sent[0]?.body).toEqual({ sessions: [] });
    expect(broker.isIdle()).toBe(true);
    expect(sandbox.auditEvents().map((e) => e.event)).toContain('session_destroyed');
    expectNoCanary();
  });

  it('a client that stays gets its token and the session lives', async () => {
    const conv = conversation('session.create', { request: requestBody(), max_reads: 2, binding: { mode: 'ancestor', depth: 1 }, pid: process.pid });
    await broker.handler(conv);
    expect(conv.sent.map((f) => f.type)).toEqual(['session.created']);
    const list = conversation('session.list', {});
    await broker.handler(list);
    expect((list.sent[0]?.body.sessions as unknown[]).length).toBe(1);
    expectNoCanary();
  });
});

describe('exec with a reusable approval', () => {
  function execRequest(): Record<string, unknown> {
    const executable = realpathSync('/usr/bin/true');
    const st = statSync(executable);
    return {
      ...requestBody(),
      command: ['true'],
      executable,
      executable_identity: { dev: st.dev, ino: st.ino, size: st.size, mtime_ms: st.mtimeMs, ctime_ms: st.ctimeMs, mode: st.mode, uid: st.uid },
    };
  }

  function slowOpBroker(): DaemonHooks {
    return createBroker({
      dirs: { env: sandbox.env, platform: process.platform, homedir: sandbox.home },
      env: { ...sandbox.env, FAKE_OP_DELAY_MS: '1500' },
      platform: process.platform,
    });
  }

  it('a reuse window shorter than op took still delivers the approved run, and keeps no approval', async () => {
    sandbox.useApprover('approve-reuse:1:5');
    await broker.shutdown();
    broker = slowOpBroker();
    const conv = conversation('exec.request', { request: execRequest(), fingerprint: `env-v1:${'0'.repeat(64)}`, reuse_only: false, force_refresh: false });
    await broker.handler(conv);
    expect(conv.sent.map((f) => f.type)).toEqual(['exec.queued', 'exec.deliver']);
    const list = conversation('approvals.list', {});
    await broker.handler(list);
    expect(list.sent[0]?.body).toEqual({ approvals: [] });
    expectNoCanary();
  });

  it('the approval lives the duration the human chose from the moment of approval, not from after op answered', async () => {
    sandbox.useApprover('approve-reuse:30:5');
    await broker.shutdown();
    broker = slowOpBroker();
    const conv = conversation('exec.request', { request: execRequest(), fingerprint: `env-v1:${'0'.repeat(64)}`, reuse_only: false, force_refresh: false });
    await broker.handler(conv);
    expect(conv.sent.map((f) => f.type)).toEqual(['exec.queued', 'exec.deliver']);

    const granted = sandbox.auditEvents().find((e) => e.event === 'approval_granted');
    const list = conversation('approvals.list', {});
    await broker.handler(list);
    const [approval] = list.sent[0]?.body.approvals as Array<{ expires_at: string }>;
    // op took 1.5 s after the approval; the 30 s window must not start after it.
    expect(Date.parse(approval?.expires_at ?? '') - Date.parse(String(granted?.timestamp))).toBeLessThanOrEqual(30_000);
    expectNoCanary();
  });
});

describe('prompt warnings', () => {
  it('are the daemon\'s own for what it can see (a shell), whatever warnings the client sent', async () => {
    const executable = realpathSync('/bin/sh');
    const st = statSync(executable);
    const request = {
      ...requestBody(),
      command: ['sh', '-c', 'true'],
      executable,
      executable_identity: { dev: st.dev, ino: st.ino, size: st.size, mtime_ms: st.mtimeMs, ctime_ms: st.ctimeMs, mode: st.mode, uid: st.uid },
      // A client of its own that leaves the warnings out (or writes its own).
      warnings: ['nothing to see here'],
    };
    const conv = conversation('exec.request', { request, fingerprint: `env-v1:${'0'.repeat(64)}`, reuse_only: false, force_refresh: false });
    await broker.handler(conv);
    const [prompt] = sandbox.prompts() as Array<{ warnings: string[] }>;
    expect(prompt?.warnings[0]).toMatch(/shell/);
    expect(prompt?.warnings).toContain('nothing to see here');
    expectNoCanary();
  });
});

describe('session create prompt warnings', () => {
  it('are the daemon\'s own too: many secrets are named even when the client sent no warning', async () => {
    const secrets = ['A', 'B', 'C', 'D', 'E', 'F'].map((alias) => ({ alias: `TOKEN_${alias}`, ref: 'op://Infra/Cloudflare/token', account: null, source: 'flag' }));
    const conv = conversation('session.create', { request: { ...requestBody(), secrets }, max_reads: 1, binding: { mode: 'ancestor', depth: 1 }, pid: process.pid });
    await broker.handler(conv);
    const [prompt] = sandbox.prompts() as Array<{ warnings: string[] }>;
    expect(prompt?.warnings.join(' ')).toMatch(/high scope/);
    expectNoCanary();
  });
});

describe('exec.argv (the fast path): the daemon plans from the caller argv', () => {
  const argvBody = (args: string[], command: string[] = ['/usr/bin/true']) => ({
    args,
    command,
    cwd: sandbox.project,
    env: { ...sandbox.env },
    homedir: sandbox.home,
    pid: process.pid,
    stdout_is_tty: false,
    stderr_is_tty: false,
  });

  it('plans, delivers the values with how to start the child, and records planned_by', async () => {
    const conv = conversation('exec.argv', argvBody(['--reason', 'fast path unit test', '--secret', 'CF_TOKEN=op://Infra/Cloudflare/token']));
    // The fake client leaves right after delivery; how the broker ends that is not this test's matter.
    await broker.handler(conv).catch(() => undefined);
    const deliver = conv.sent.find((f) => f.type === 'exec.deliver');
    expect(Object.keys(deliver?.body.env as object)).toEqual(['CF_TOKEN']);
    expect(deliver?.body.spawn).toMatchObject({
      command: ['/usr/bin/true'],
      executable: realpathSync('/usr/bin/true'),
      cwd: realpathSync(sandbox.project),
      pristine: false,
      plain: [],
      remove_names: [],
      mask: true,
    });
    expect(sandbox.auditEvents().find((e) => e.event === 'request_received')?.planned_by).toBe('daemon');
    expectNoCanary();
  });

  it.each([
    ['help', ['--help']],
    ['a dry run', ['--dry-run', '--secret', 'T=op://Infra/Cloudflare/token']],
    ['an unknown flag', ['--bogus']],
    ['a bad reference', ['--secret', 'T=not-a-ref']],
    ['no secrets and no config', []],
    ['more argv than a request carries', ['--reason', 'x', '--secret', 'T=op://Infra/Cloudflare/token'], ['/usr/bin/true', ...Array.from({ length: 5000 }, (_, i) => String(i))]],
    ['an argument longer than a request carries', ['--reason', 'x', '--secret', 'T=op://Infra/Cloudflare/token'], ['/usr/bin/true', 'x'.repeat(100_000)]],
  ])('sends %s back to the CLI to plan and report locally, recording nothing', async (_name, args, command?: string[]) => {
    const conv = conversation('exec.argv', argvBody(args, command));
    await broker.handler(conv);
    expect(conv.sent).toEqual([{ type: 'exec.in_process', body: { reason: 'plan_locally' } }]);
    expect(sandbox.auditEvents()).toEqual([]);
    expect(sandbox.prompts()).toEqual([]);
  });

  it('sends exec with the tty approver back to the CLI, which has the terminal', async () => {
    sandbox.useApprover('approve', { approver: 'tty' });
    const conv = conversation('exec.argv', argvBody(['--secret', 'T=op://Infra/Cloudflare/token']));
    await broker.handler(conv);
    expect(conv.sent).toEqual([{ type: 'exec.in_process', body: { reason: 'tty_approver' } }]);
  });
});
