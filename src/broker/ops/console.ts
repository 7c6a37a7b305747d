// console.attach: `agent-secret approve` becomes the daemon's approval console for as long as its
// connection lives. One at a time: a second is refused and the attached one is told. Every
// attach, refusal and detach is in the audit log (value-free: who attached, from where). The
// console's answers go to the hub, which checks them and settles the prompt it showed; the
// decide step in core.ts does the rest, as for any approver.

import { randomBytes } from 'node:crypto';
import { auditEvent, openAuditLog, type AuditEventType, type AuditExtra } from '../../audit/index.js';
import { AgentSecretError, isAgentSecretError } from '../../core/errors.js';
import { auditLogPath } from '../../platform/dirs.js';
import { readAncestry, readRequesterChain } from '../../platform/process-tree.js';
import { ConsoleAttachBodySchema } from '../../protocol/messages.js';
import type { ApprovalRequest } from '../../request/types.js';
import type { ConsoleLink } from '../console-hub.js';
import type { Conversation } from '../conversation.js';
import { codeOf, parseBody, type BrokerCore } from '../core.js';
import { metaRequest } from '../validate.js';

/** The command label the audit log shows for a console (the daemon's, not the caller's argv). */
export const CONSOLE_COMMAND = Object.freeze(['agent-secret', 'approve']);

/** The reason the audit log shows for a console's lines (ours, not the caller's). */
export const CONSOLE_AUDIT_REASON = 'Approval console (agent-secret approve)';

async function handleConsoleAttach(core: BrokerCore, conv: Conversation): Promise<void> {
  const body = parseBody(ConsoleAttachBodySchema, conv.first.body);
  // One request id for the console's whole stay, so `audit` shows attach and detach together.
  const requestId = `req_${randomBytes(16).toString('hex')}`;
  // The pid is the caller's word: it must at least be a live process of this user, and the chain
  // recorded is the one read for it.
  const self = await readAncestry({ pid: body.pid, platform: core.opts.platform, maxDepth: 0 });
  if (self[0]?.pid !== body.pid || self[0].uid !== core.uid) {
    throw new AgentSecretError('check.failed', 'the agent-secret approve process could not be identified; it was not attached');
  }
  const chain = await readRequesterChain({ pid: body.pid, platform: core.opts.platform });
  const facts = { reason: CONSOLE_AUDIT_REASON, ttl_seconds: 0, command: CONSOLE_COMMAND, cwd: body.cwd, requester: { pid: body.pid, chain } };
  const request = metaRequest(facts, []);
  // A prompt waiting for a console goes out the moment it attaches: only after console.attached.
  let markReady = () => undefined as void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const link: ConsoleLink = {
    pid: body.pid,
    send: async (type, frame) => {
      await ready;
      return conv.send(type, frame);
    },
  };
  const attached = core.consoles.attached();
  if (attached !== null || !core.consoles.attach(link)) {
    const other = attached?.pid;
    attached?.send('console.notice', { message: `another agent-secret approve (pid ${body.pid}) tried to attach and was refused; this console stays attached` }).catch(() => undefined);
    await auditConsole(core, 'console_refused', requestId, request, { error_code: 'approval.unavailable', pid: body.pid });
    throw new AgentSecretError('approval.unavailable', `another approval console is already attached${other === undefined ? '' : ` (agent-secret approve, pid ${other})`}; only one at a time`, {
      hint: 'answer in that terminal, or stop it with Ctrl-C and run agent-secret approve again; if you did not start it, run agent-secret daemon stop',
    });
  }
  await auditConsole(core, 'console_attached', requestId, request, { pid: body.pid });
  let why = 'closed';
  try {
    await conv.send('console.attached', { pid: process.pid, waiting: core.queue.waiting() });
    markReady();
    for (;;) {
      const frame = await conv.receive();
      if (frame.type !== 'console.answer') throw new AgentSecretError('daemon.protocol', 'the approval console may only send console.answer');
      await conv.send('console.answer.ok', { ...core.consoles.answer(link, frame.body) });
    }
  } catch (error) {
    why = codeOf(error);
    // The console leaving (Ctrl-C) or the daemon stopping is how a console's stay ends.
    if (!isAgentSecretError(error) || error.code !== 'daemon.unavailable') throw error;
  } finally {
    core.consoles.detach(link);
    await auditConsole(core, 'console_detached', requestId, request, { pid: body.pid, error_code: why });
  }
}

// One line per event: the log is opened and closed around it, never held while the console stays.
async function auditConsole(core: BrokerCore, type: AuditEventType, requestId: string, request: ApprovalRequest, extra: AuditExtra): Promise<void> {
  const audit = await openAuditLog(auditLogPath(core.opts.dirs));
  try {
    audit.write(auditEvent(type, { requestId, request }, { approver: 'console', ...extra }));
  } finally {
    await audit.close().catch(() => undefined);
  }
}

/** The console.attach handler over the broker's core. */
export function consoleOps(core: BrokerCore) {
  return { 'console.attach': (conv: Conversation) => handleConsoleAttach(core, conv) };
}
