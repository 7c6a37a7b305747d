// `agent-secret approvals list|revoke`: see and end the reusable approvals the daemon holds.
// Listing shows what the human approved (reason, command, cwd, each alias with its reference and
// account), uses and expiry, never
// a value. Neither command starts the daemon: with no daemon there is nothing live to show.

import type { z } from 'zod';
import { AgentSecretError, isAgentSecretError } from '../../core/errors.js';
import { ApprovalsListBodySchema, ApprovalsRevokeOkBodySchema } from '../../protocol/messages.js';
import { dirsInput, type CliContext } from '../context.js';
import { shellQuote, writeJson, writeLines } from '../render/output.js';

type Listing = z.infer<typeof ApprovalsListBodySchema>['approvals'];

const APPROVAL_ID = /^appr_[A-Za-z0-9_-]{1,64}$/;

export async function runApprovalsList(ctx: CliContext, options: { json?: boolean }): Promise<number> {
  const approvals = await ask(ctx, 'approvals.list', {}, (body) => {
    const parsed = ApprovalsListBodySchema.safeParse(body);
    if (!parsed.success) throw new AgentSecretError('daemon.protocol', 'the agent-secret daemon sent an unreadable approvals list');
    return parsed.data.approvals;
  });
  const list: Listing = approvals ?? [];
  if (options.json === true) {
    writeJson(ctx.stdout, { daemon_running: approvals !== null, approvals: list });
    return 0;
  }
  if (list.length === 0) {
    writeLines(ctx.stdout, [approvals === null ? 'no live reusable approvals (the daemon is not running)' : 'no live reusable approvals']);
    return 0;
  }
  const now = Date.now();
  writeLines(
    ctx.stdout,
    list.flatMap((a) => [
      `${a.id}  ${a.remaining_uses} of ${a.max_uses} uses left, expires in ${Math.max(0, Math.ceil((Date.parse(a.expires_at) - now) / 1000))}s`,
      `  reason:  ${a.reason}`,
      `  command: ${a.command.map(shellQuote).join(' ')}`,
      // A directory name can hold terminal escapes: shown quoted and escaped like the command.
      `  cwd:     ${shellQuote(a.cwd)}`,
      `  secrets: ${a.secrets.length}${a.profile === null ? '' : ` (profile ${shellQuote(a.profile)})`}`,
      ...(typeof a.agent === 'string' ? [`  agent:   ${shellQuote(a.agent)}`] : []),
      `  granted: ${typeof a.policy_rule === 'string' ? `by policy rule ${shellQuote(a.policy_rule)}` : 'by the human'}`,
      // References and accounts come from the agent or its config: quoted and escaped like the command.
      ...a.secrets.map((s) => `    ${shellQuote(s.alias)} = ${typeof s.name === 'string' ? `${shellQuote(s.name)} → ` : ''}${shellQuote(s.ref)} (${identityWords(s.provider, s.account)})`),
    ]),
  );
  return 0;
}

export async function runApprovalsRevoke(ctx: CliContext, id: string | undefined, options: { all?: boolean; json?: boolean }): Promise<number> {
  if ((id === undefined) === (options.all !== true)) {
    throw new AgentSecretError('usage.invalid', 'approvals revoke needs exactly one of: an approval id, or --all', { hint: 'agent-secret approvals list shows the ids' });
  }
  if (id !== undefined && !APPROVAL_ID.test(id)) {
    throw new AgentSecretError('usage.invalid', 'approval ids look like appr_…', { hint: 'agent-secret approvals list shows the ids' });
  }
  const revoked = await ask(ctx, 'approvals.revoke', id === undefined ? { all: true } : { id }, (body) => {
    const parsed = ApprovalsRevokeOkBodySchema.safeParse(body);
    if (!parsed.success) throw new AgentSecretError('daemon.protocol', 'the agent-secret daemon sent an unreadable answer');
    return parsed.data.revoked;
  });
  if (revoked === null && id !== undefined) {
    throw new AgentSecretError('usage.invalid', `no live reusable approval ${id} (the daemon is not running)`);
  }
  const count = revoked ?? 0;
  if (options.json === true) writeJson(ctx.stdout, { revoked: count });
  else writeLines(ctx.stdout, [count === 1 ? 'revoked 1 reusable approval; its values were dropped from the daemon' : `revoked ${count} reusable approvals; their values were dropped from the daemon`]);
  return 0;
}

// One request to a running daemon; null when none runs (nothing is live then).
async function ask<T>(ctx: CliContext, type: string, body: Record<string, unknown>, read: (body: Record<string, unknown>) => T): Promise<T | null> {
  const { openConversation } = await import('../../client/daemon.js');
  let conv;
  try {
    conv = await openConversation({ dirs: dirsInput(ctx), env: { ...ctx.env }, autoStart: false, firstType: type, firstBody: body });
  } catch (error) {
    if (isAgentSecretError(error) && error.code === 'daemon.unavailable') return null;
    throw error;
  }
  try {
    const frame = await conv.receive({ timeoutMs: 10_000 });
    // The reply to `approvals.list` is `approvals.list.ok`, and so on: anything else is not an answer.
    if (frame.type !== `${type}.ok`) throw new AgentSecretError('daemon.protocol', `the agent-secret daemon did not answer ${type}`);
    return read(frame.body);
  } finally {
    conv.close();
  }
}

// A 1Password account as before; a bws source; a provider program's scheme and account.
function identityWords(provider: string, account: string | null): string {
  if (provider === 'bws') return account === null ? 'Bitwarden default source' : `Bitwarden source ${shellQuote(account)}`;
  if (provider !== 'op') return account === null ? `provider ${shellQuote(provider)}` : `provider ${shellQuote(provider)}, account ${shellQuote(account)}`;
  return account === null ? 'default account' : shellQuote(account);
}
