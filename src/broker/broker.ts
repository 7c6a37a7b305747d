// The broker: everything between a request arriving and its values leaving. It plans exec from
// what the caller typed, re-validates, serves from a live reusable approval or queues for the
// one prompt at a time, resolves exactly the approved references through op, records every step
// in the audit log, and holds values (SecretValue, in memory only) for reusable approvals and
// sessions until they expire, run out, are revoked or the broker stops. The daemon serves it on
// its socket; the CLI runs one in-process for the tty approver (local.ts). One module per
// operation (ops/*.ts) over a shared core (core.ts).

import { AgentSecretError } from '../core/errors.js';
import type { Conversation, DaemonHooks } from './conversation.js';
import { createCore, type BrokerOptions } from './core.js';
import { approvalOps } from './ops/approvals.js';
import { approverTestOps } from './ops/approver-test.js';
import { consoleOps } from './ops/console.js';
import { execOps } from './ops/exec.js';
import { itemOps } from './ops/item.js';
import { sessionOps } from './ops/session.js';

export type { BrokerOptions } from './core.js';

/** Creates the broker a transport calls for every conversation. */
export function createBroker(opts: BrokerOptions): DaemonHooks {
  const core = createCore(opts);
  const handlers: Record<string, (conv: Conversation) => Promise<void>> = {
    ...execOps(core),
    ...sessionOps(core),
    ...itemOps(core),
    ...approvalOps(core),
    ...approverTestOps(core),
    ...consoleOps(core),
  };
  let active = 0;

  return {
    async handler(conv) {
      const handle = handlers[conv.first.type];
      if (handle === undefined) throw new AgentSecretError('daemon.protocol', `this daemon does not handle ${conv.first.type}`);
      active += 1;
      try {
        await handle(conv);
      } finally {
        active -= 1;
      }
    },
    isIdle() {
      core.approvals.sweep();
      const liveSessions = new Set(core.sessions.list().map((x) => x.id));
      for (const id of core.sessionRequests.keys()) if (!liveSessions.has(id)) core.sessionRequests.delete(id);
      const liveApprovals = new Set(core.approvals.list().map((a) => a.id));
      for (const id of core.approvalRequests.keys()) if (!liveApprovals.has(id)) core.approvalRequests.delete(id);
      return active === 0 && core.queue.size() === 0 && core.approvals.size() === 0 && core.sessions.size() === 0;
    },
    async shutdown() {
      core.queue.cancelAll(new AgentSecretError('daemon.unavailable', 'the agent-secret daemon stopped before the request was answered'));
      for (const controller of core.controllers) controller.abort();
      core.approvals.revokeAll();
      core.sessions.destroyAll();
      core.sessionRequests.clear();
      core.approvalRequests.clear();
    },
  };
}
