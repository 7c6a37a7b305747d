// The broker as a component, without the socket: a fake conversation, the real stores, the fake
// approver and the fake op of test/fixtures/bin in a sandbox HOME. For the paths an end-to-end
// test cannot time: a client that is gone exactly when its values or its token would be sent.

import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBroker } from '../../../src/broker/broker.js';
import type { Conversation, DaemonHooks } from '../../../src/broker/conversation.js';
import { CANARIES } from '../../helpers/canaries.js';
import { sessionRequestBodyFor } from '../../helpers/request-body.js';
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
  return sessionRequestBodyFor({ cwd: sandbox.project, reason: 'broker unit test' });
}

function argvBody(args: string[], command: string[] = ['/usr/bin/true']): Record<string, unknown> {
  return {
    args,
    command,
    cwd: sandbox.project,
    env: { ...sandbox.env },
    homedir: sandbox.home,
    pid: process.pid,
    stdout_is_tty: false,
    stderr_is_tty: false,
  };
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
  function execArgv(): Record<string, unknown> {
    return argvBody(['--reason', 'broker unit test', '--secret', 'CF_TOKEN=op://Infra/Cloudflare/token'], ['true']);
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
    const conv = conversation('exec.argv', execArgv());
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
    const conv = conversation('exec.argv', execArgv());
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
  it("are the daemon's own for what it can see (a shell): a client sends only what was typed", async () => {
    const conv = conversation('exec.argv', argvBody(['--reason', 'broker unit test', '--secret', 'CF_TOKEN=op://Infra/Cloudflare/token'], ['sh', '-c', 'true']));
    await broker.handler(conv);
    const [prompt] = sandbox.prompts() as Array<{ warnings: string[] }>;
    expect(prompt?.warnings[0]).toMatch(/shell/);
    expectNoCanary();
  });
});

describe('session create prompt warnings', () => {
  it('are the daemon\'s own too: many secrets are named even when the client sent no warning', async () => {
    const secrets = ['A', 'B', 'C', 'D', 'E', 'F'].map((alias) => ({ alias: `TOKEN_${alias}`, ref: 'op://Infra/Cloudflare/token', provider: 'op', account: null, source: 'flag' }));
    const conv = conversation('session.create', { request: { ...requestBody(), secrets }, max_reads: 1, binding: { mode: 'ancestor', depth: 1 }, pid: process.pid });
    await broker.handler(conv);
    const [prompt] = sandbox.prompts() as Array<{ warnings: string[] }>;
    expect(prompt?.warnings.join(' ')).toMatch(/high scope/);
    expectNoCanary();
  });
});

describe("session create and item describe: what the prompt shows is the daemon's own", () => {
  const session = (request: Record<string, unknown>) => ({ request, max_reads: 1, binding: { mode: 'ancestor', depth: 1 }, pid: process.pid });
  const item = (extra: Record<string, unknown> = {}) => ({ reason: 'broker unit test', ttl_seconds: 60, cwd: sandbox.project, pid: process.pid, ref: 'op://Infra/Cloudflare', account: null, ...extra });

  it.each([
    ['warnings', { warnings: ['verified by agent-secret: read-only command'] }],
    ['command', { command: ['ls'] }],
    ['executable', { executable: '/bin/ls' }],
    ['requester', { requester: { pid: 1, chain: [{ pid: 1, name: 'Terminal' }] } }],
  ])('a session.create request carrying its own %s is refused before anyone is asked (the same without it is asked)', async (_name, forged) => {
    const conv = conversation('session.create', session({ ...requestBody(), ...forged }));
    await expect(broker.handler(conv)).rejects.toMatchObject({ code: 'daemon.protocol' });
    expect(sandbox.prompts()).toEqual([]);
    await broker.handler(conversation('session.create', session(requestBody())));
    expect(sandbox.prompts()).toHaveLength(1);
  });

  it.each([['command', { command: ['ls'] }], ['executable', { executable: '/bin/ls' }], ['requester', { requester: { pid: 1, chain: [] } }]])(
    'an item.describe body carrying its own %s is refused before anyone is asked (the same without it is asked)',
    async (_name, forged) => {
      await expect(broker.handler(conversation('item.describe', item(forged)))).rejects.toMatchObject({ code: 'daemon.protocol' });
      expect(sandbox.prompts()).toEqual([]);
      await broker.handler(conversation('item.describe', item()));
      expect(sandbox.prompts()).toHaveLength(1);
    },
  );

  it('the prompt shows the fixed labels, the daemon program and the chain read for the pid', async () => {
    await broker.handler(conversation('session.create', session(requestBody())));
    await broker.handler(conversation('item.describe', item()));
    const prompts = sandbox.prompts() as Array<{ command: string[]; executable: string; requester: { pid: number; chain: Array<{ pid: number }> } }>;
    expect(prompts.map((p) => p.command)).toEqual([
      ['agent-secret', 'session', 'create'],
      ['agent-secret', 'item', 'describe', 'op://Infra/Cloudflare'],
    ]);
    const program = fileURLToPath(new URL('../../../bin/agent-secret.js', import.meta.url));
    for (const prompt of prompts) {
      expect(prompt.executable).toBe(program);
      expect(prompt.requester.pid).toBe(process.pid);
      expect(prompt.requester.chain[0]?.pid).toBe(process.ppid);
    }
  });

  it('an item.describe pid that names no live process of this user is refused before anyone is asked', async () => {
    await expect(broker.handler(conversation('item.describe', item({ pid: 999_999_999 })))).rejects.toMatchObject({ code: 'check.failed' });
    expect(sandbox.prompts()).toEqual([]);
  });
});

describe('exec.argv: the broker plans from the caller argv', () => {
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
    ['help', ['--help'], 'usage.invalid'],
    ['a dry run', ['--dry-run', '--secret', 'T=op://Infra/Cloudflare/token'], 'usage.invalid'],
    ['an unknown flag', ['--bogus'], 'usage.invalid'],
    ['a bad reference', ['--reason', 'x', '--secret', 'T=not-a-ref'], 'ref.invalid'],
    ['no secrets and no config', [], 'usage.invalid'],
    ['more argv than a request carries', ['--reason', 'x', '--secret', 'T=op://Infra/Cloudflare/token'], 'usage.invalid', ['/usr/bin/true', ...Array.from({ length: 5000 }, (_, i) => String(i))]],
    ['an argument longer than a request carries', ['--reason', 'x', '--secret', 'T=op://Infra/Cloudflare/token'], 'usage.invalid', ['/usr/bin/true', 'x'.repeat(100_000)]],
  ])('reports %s with the planner\'s own error, recording nothing and asking nobody', async (_name, args, code, command?: string[]) => {
    const conv = conversation('exec.argv', argvBody(args, command));
    await expect(broker.handler(conv)).rejects.toMatchObject({ code });
    expect(conv.sent).toEqual([]);
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
