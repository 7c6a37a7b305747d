// approvals list and revoke: what reusable approvals are live, and ending them now (their values
// are dropped at once; the end is recorded under the request each was granted to).

import { AgentSecretError } from '../../core/errors.js';
import type { z } from 'zod';
import { ApprovalsRevokeBodySchema, type ApprovalsListBodySchema, type ApprovalsRevokeOkBodySchema } from '../../protocol/messages.js';
import type { Conversation } from '../conversation.js';
import { auditEnded, parseBody, type BrokerCore } from '../core.js';

async function handleApprovalsList(core: BrokerCore, conv: Conversation): Promise<void> {
  const list = core.approvals.list().map((a) => ({
    id: a.id,
    expires_at: new Date(a.expiresAt).toISOString(),
    max_uses: a.maxUses,
    used: a.used,
    remaining_uses: Math.max(0, a.maxUses - a.used - a.reserved),
    reason: a.summary.reason,
    command: a.summary.command,
    cwd: a.summary.cwd,
    aliases: a.summary.aliases,
    secrets: a.summary.secrets,
    profile: a.summary.profile,
    agent: a.summary.agent ?? null,
    policy_rule: a.summary.policyRule ?? null,
  }));
  await conv.send('approvals.list.ok', { approvals: list } satisfies z.input<typeof ApprovalsListBodySchema>);
}

async function handleApprovalsRevoke(core: BrokerCore, conv: Conversation): Promise<void> {
  const body = parseBody(ApprovalsRevokeBodySchema, conv.first.body);
  const ids = 'all' in body ? core.approvals.list().map((a) => a.id) : [body.id];
  const revoked = ids.filter((id) => core.approvals.revoke(id));
  if (!('all' in body) && revoked.length === 0) {
    throw new AgentSecretError('usage.invalid', `no live reusable approval ${body.id}`, { hint: 'see agent-secret approvals list' });
  }
  await auditEnded(core, revoked, core.approvalRequests, 'approval_revoked', (id) => ({ approval_id: id }));
  await conv.send('approvals.revoke.ok', { revoked: revoked.length } satisfies z.input<typeof ApprovalsRevokeOkBodySchema>);
}

/** The approvals.* handlers over the broker's core. */
export function approvalOps(core: BrokerCore) {
  return {
    'approvals.list': (conv: Conversation) => handleApprovalsList(core, conv),
    'approvals.revoke': (conv: Conversation) => handleApprovalsRevoke(core, conv),
  };
}
