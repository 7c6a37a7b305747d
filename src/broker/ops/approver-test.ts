// approver test: a harmless sample prompt through the configured approver (the real dialog,
// Touch ID included, or the console, or the approver program), with the answer reported back.
// The broker writes the whole request itself (reason, label, no secrets); nothing is resolved and
// nothing runs, and op is not needed. Audited like every prompt, so the log shows the test and
// its answer. With the tty approver the daemon has no terminal: the CLI asks in-process instead.

import { auditEvent } from '../../audit/index.js';
import { AgentSecretError, isAgentSecretError } from '../../core/errors.js';
import { readAncestry, readRequesterChain } from '../../platform/process-tree.js';
import type { z } from 'zod';
import { ApproverTestBodySchema, type ApproverTestOkBodySchema } from '../../protocol/messages.js';
import type { Conversation } from '../conversation.js';
import { decide, parseBody, withScope, withTurn, type BrokerCore } from '../core.js';
import { needsCallerTerminal } from '../terminal.js';
import { metaRequest, validateMetaRequest } from '../validate.js';

/** The reason the sample prompt shows: the broker's words, never the caller's. */
export const APPROVER_TEST_REASON = 'A test of your approver, started with agent-secret approver test';

/** The label an approver test shows as its command. */
export const APPROVER_TEST_COMMAND: readonly string[] = ['agent-secret', 'approver', 'test'];

async function handleApproverTest(core: BrokerCore, conv: Conversation): Promise<void> {
  const body = parseBody(ApproverTestBodySchema, conv.first.body);
  const userConfig = await core.userConfigOf(core.opts.dirs);
  if (needsCallerTerminal(userConfig, core.opts.inProcess)) {
    await conv.send('approver.test.in_process', { reason: 'tty_approver' });
    return;
  }
  const self = await readAncestry({ pid: body.pid, platform: core.opts.platform, maxDepth: 0 });
  if (self[0]?.pid !== body.pid || self[0].uid !== core.uid) {
    throw new AgentSecretError('check.failed', 'the approver test process could not be identified; nothing was asked');
  }
  const chain = await readRequesterChain({ pid: body.pid, platform: core.opts.platform });
  const request = metaRequest({ reason: APPROVER_TEST_REASON, ttl_seconds: body.ttl_seconds, command: APPROVER_TEST_COMMAND, cwd: body.cwd, requester: { pid: body.pid, chain } }, []);
  await validateMetaRequest(request);
  await withScope(core, conv, request, userConfig, async (scope) => {
    const { requestId, deadline, audit, actx, signal } = scope;
    audit.write(auditEvent('request_received', actx));
    let approver = '';
    let answer: 'approve' | 'deny';
    try {
      await withTurn(core, requestId, deadline, signal, audit, actx, () => decide(core, scope, 'approver_test', undefined, (name) => (approver = name)));
      answer = 'approve';
    } catch (error) {
      // A Deny is an answer, which is all the test asks for; a timeout or a broken approver is not.
      if (!isAgentSecretError(error) || error.code !== 'approval.denied') throw error;
      answer = 'deny';
    }
    await conv.send('approver.test.ok', { request_id: requestId, answer, approver } satisfies z.input<typeof ApproverTestOkBodySchema>);
  });
}

/** The approver.test handler over the broker's core. */
export function approverTestOps(core: BrokerCore) {
  return { 'approver.test': (conv: Conversation) => handleApproverTest(core, conv) };
}
