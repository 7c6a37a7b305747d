// item describe: one prompt (never reusable), one `op item get` through the op provider (a
// service-account account with its token), a value-free description back.

import { auditEvent } from '../../audit/index.js';
import { AgentSecretError } from '../../core/errors.js';
import { readAncestry, readRequesterChain } from '../../platform/process-tree.js';
import type { z } from 'zod';
import { ItemDescribeBodySchema, type ItemDescribeOkBodySchema } from '../../protocol/messages.js';
import { checkItemRef } from '../../provider/op/item.js';
import type { Conversation } from '../conversation.js';
import { codeOf, decide, parseBody, withScope, withTurn, type BrokerCore } from '../core.js';
import { metaRequest, validateMetaRequest } from '../validate.js';

async function handleItemDescribe(core: BrokerCore, conv: Conversation): Promise<void> {
  const body = parseBody(ItemDescribeBodySchema, conv.first.body);
  const ref = checkItemRef(body.ref);
  // The pid is the caller's word (no peer credentials here): it must at least be a live process
  // of this user; the chain shown is the one read for it, never one the client sent.
  const self = await readAncestry({ pid: body.pid, platform: core.opts.platform, maxDepth: 0 });
  if (self[0]?.pid !== body.pid || self[0].uid !== core.uid) {
    throw new AgentSecretError('check.failed', 'the item describe process could not be identified; nothing was asked');
  }
  const chain = await readRequesterChain({ pid: body.pid, platform: core.opts.platform });
  const facts = { reason: body.reason, ttl_seconds: body.ttl_seconds, command: itemDescribeCommand(ref.raw), cwd: body.cwd, requester: { pid: body.pid, chain } };
  const request = metaRequest(facts, [{ alias: 'ITEM', ref: ref.raw, provider: 'op', account: body.account, source: 'flag' }]);
  await validateMetaRequest(request);
  const userConfig = await core.userConfigOf(core.opts.dirs);
  await withScope(core, conv, request, userConfig, async (scope) => {
    const { requestId, deadline, audit, actx, signal } = scope;
    audit.write(auditEvent('request_received', actx));
    const { resolution } = await withTurn(core, requestId, deadline, signal, audit, actx, () => decide(core, scope, 'item_describe'));
    audit.write(auditEvent('resolution_started', actx));
    let description;
    try {
      if (resolution.op === undefined) throw new AgentSecretError('internal', 'item describe has no op provider');
      description = await resolution.op.describe(ref.raw, body.account, { requestId, deadline, timeoutMs: Math.max(1000, deadline - core.now()), signal });
    } catch (error) {
      audit.write(auditEvent('resolution_failed', actx, { error_code: codeOf(error) }));
      throw error;
    }
    audit.write(auditEvent('resolution_succeeded', actx));
    await conv.send('item.describe.ok', { request_id: requestId, description: { ...description } } satisfies z.input<typeof ItemDescribeOkBodySchema>);
  });
}

/** The label an item describe prompt shows as its command: the operation and the item it reads, chosen here. */
export function itemDescribeCommand(ref: string): string[] {
  return ['agent-secret', 'item', 'describe', ref];
}

/** The item.describe handler over the broker's core. */
export function itemOps(core: BrokerCore) {
  return { 'item.describe': (conv: Conversation) => handleItemDescribe(core, conv) };
}
