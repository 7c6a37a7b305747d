// The broker when the audit log refuses one line: a request served from a reusable approval
// granted to an identical request ahead of it in the queue must give its reserved use back when
// its `approval_reused` line cannot be written (it never delivers), so the approval keeps every
// use the human granted. The audit writer is wrapped (vi.mock) to fail on that one event.

import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { createBroker } from '../../../src/broker/broker.js';
import type { Conversation, DaemonHooks } from '../../../src/broker/conversation.js';
import type * as AuditModule from '../../../src/audit/index.js';
import { createSandbox, type Sandbox } from '../../helpers/sandbox.js';

const failing = { event: null as string | null };

vi.mock('../../../src/audit/index.js', async (importOriginal) => {
  const original = await importOriginal<typeof AuditModule>();
  return {
    ...original,
    openAuditLog: async (...args: Parameters<typeof original.openAuditLog>) => {
      const log = await original.openAuditLog(...args);
      return {
        path: log.path,
        write(record: Parameters<typeof log.write>[0]) {
          this.writeAll([record]);
        },
        writeAll(records: Parameters<typeof log.writeAll>[0]) {
          if (records.some((record) => record.event === failing.event)) throw new AgentSecretError('audit.unwritable', 'the audit log could not be written (test)');
          log.writeAll(records);
        },
        close: () => log.close(),
      };
    },
  };
});

let sandbox: Sandbox;
let broker: DaemonHooks;

beforeEach(() => {
  sandbox = createSandbox();
  failing.event = null;
  broker = createBroker({ dirs: { env: sandbox.env, platform: process.platform, homedir: sandbox.home }, env: sandbox.env, platform: process.platform });
});

afterEach(async () => {
  await broker.shutdown();
  sandbox.cleanup();
});

function conversation(type: string, body: Record<string, unknown>): Conversation & { sent: string[] } {
  const sent: string[] = [];
  return {
    first: { v: 1, id: 'c1', type, body },
    sent,
    signal: new AbortController().signal,
    send(frameType) {
      sent.push(frameType);
      return Promise.resolve();
    },
    receive: () => Promise.reject(new Error('the client closed the connection')),
  };
}

// What a client sends for `exec --reason … --secret … -- true` in the sandbox project.
function execBody(): Record<string, unknown> {
  return {
    args: ['--reason', 'broker audit failure test', '--secret', 'CF_TOKEN=op://Infra/Cloudflare/token'],
    command: ['true'],
    cwd: sandbox.project,
    env: { ...sandbox.env },
    homedir: sandbox.home,
    pid: process.pid,
    stdout_is_tty: false,
    stderr_is_tty: false,
  };
}

describe('a queued identical request whose approval_reused line cannot be written', () => {
  it('gives its reserved use back: the approval keeps every use but the one delivered', async () => {
    // The prompt stays open 3 s, so the second request is queued behind it and coalesces.
    sandbox.useApprover('approve-reuse:60:5:3000');
    const first = conversation('exec.argv', execBody());
    const firstDone = broker.handler(first);
    while (sandbox.prompts().length === 0) await sleep(20);
    failing.event = 'approval_reused';
    const second = conversation('exec.argv', execBody());
    const secondDone = broker.handler(second);
    await firstDone;
    await expect(secondDone).rejects.toMatchObject({ code: 'audit.unwritable' });
    expect(second.sent).toEqual(['exec.queued']);
    expect(sandbox.prompts()).toHaveLength(1);

    const list = conversation('approvals.list', {});
    const sent: Array<Record<string, unknown>> = [];
    await broker.handler({ ...list, send: (_type, body) => (sent.push(body), Promise.resolve()) });
    expect(sent[0]).toMatchObject({ approvals: [{ max_uses: 5, used: 1, remaining_uses: 4 }] });
  });
});
