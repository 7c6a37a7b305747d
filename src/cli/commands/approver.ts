// `agent-secret approver test`: a harmless sample request through the configured approver (the
// real dialog with Touch ID, the console, the approver program, or the terminal for `tty`), and
// what the human answered. The daemon writes the request (no secrets, its own reason and label),
// resolves nothing, runs nothing and audits the prompt like any other; this process only asks
// and reports. Allow and Deny are both answers (exit 0); nobody answering is exit 11.

import type { z } from 'zod';
import { AgentSecretError } from '../../core/errors.js';
import { parseTtl } from '../../core/ttl.js';
import { ApproverTestOkBodySchema } from '../../protocol/messages.js';
import { dirsInput, type CliContext } from '../context.js';
import { writeJson, writeLines } from '../render/output.js';

export interface ApproverTestOptions {
  ttl?: string;
  json?: boolean;
}

/** How long the sample prompt waits when --ttl is not given. */
export const APPROVER_TEST_TTL_SECONDS = 60;

type Answer = z.infer<typeof ApproverTestOkBodySchema>;

interface Conv {
  receive(opts?: { timeoutMs?: number }): Promise<{ type: string; body: Record<string, unknown> }>;
  close(): void;
}

export async function runApproverTest(ctx: CliContext, options: ApproverTestOptions): Promise<number> {
  const ttl = options.ttl === undefined ? { ok: true as const, seconds: APPROVER_TEST_TTL_SECONDS } : parseTtl(options.ttl);
  if (!ttl.ok) throw new AgentSecretError('ttl.invalid', `invalid --ttl: ${ttl.message}`, { details: { flag: '--ttl' } });
  const body = { ttl_seconds: ttl.seconds, cwd: ctx.cwd, pid: ctx.pid };

  // As exec: with the tty approver no daemon is started (it has no terminal); the daemon's own config still decides when one runs.
  const { loadUserConfig } = await import('../../config/user-config.js');
  const { needsCallerTerminal } = await import('../../broker/terminal.js');
  let answer: Answer | 'in_process' = 'in_process';
  if (!needsCallerTerminal(await loadUserConfig(dirsInput(ctx)))) {
    const { openConversation } = await import('../../client/daemon.js');
    answer = await ask(await openConversation({ dirs: dirsInput(ctx), env: { ...ctx.env }, autoStart: true, firstType: 'approver.test', firstBody: body }));
  }
  if (answer === 'in_process') {
    // The tty approver asks on this terminal: the same broker runs in this process.
    const { openLocalConversation } = await import('../../broker/local.js');
    answer = await ask(openLocalConversation({ dirs: dirsInput(ctx), env: ctx.env, platform: ctx.platform, uid: ctx.uid }, 'approver.test', body));
    if (answer === 'in_process') throw new Error('the in-process broker sent the approver test away');
  }
  if (options.json === true) {
    writeJson(ctx.stdout, { answer: answer.answer, approver: answer.approver, request_id: answer.request_id, resolved: false });
    return 0;
  }
  writeLines(ctx.stdout, [
    `approver test: you answered ${answer.answer === 'approve' ? 'Allow' : 'Deny'} (approver: ${answer.approver})`,
    'Nothing was read from 1Password and nothing ran; the audit log records the test.',
  ]);
  return 0;
}

async function ask(conv: Conv): Promise<Answer | 'in_process'> {
  try {
    const frame = await conv.receive();
    if (frame.type === 'approver.test.in_process') return 'in_process';
    const parsed = frame.type === 'approver.test.ok' ? ApproverTestOkBodySchema.safeParse(frame.body) : null;
    if (parsed === null || !parsed.success) throw new AgentSecretError('daemon.protocol', 'the agent-secret daemon sent an unreadable approver test answer');
    return parsed.data;
  } finally {
    conv.close();
  }
}
