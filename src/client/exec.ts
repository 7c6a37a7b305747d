// The client's half of an exec, one way for every exec that runs a command: send what the
// caller typed (exec.argv: flags, command, cwd, environment, terminals) to the broker, wait
// while the request is queued, and run the child the broker describes with the values it
// delivers, reporting start and exit back. The broker is the daemon, or the in-process one
// (broker/local.ts) when the approver needs this terminal. Nothing here plans or decides.

import { isatty } from 'node:tty';
import { AgentSecretError } from '../core/errors.js';
import { SecretValue } from '../core/secret-value.js';
import { runChildForDaemon, type ChildContext } from '../exec/run-child.js';
import { warmScriptCheck } from '../exec/script-identity.js';
import { readExecDeliver } from '../protocol/codec.js';
import type { ExecArgvBody } from '../protocol/messages.js';
import { definedEnv, type ClientConversation } from './conversation.js';

/** What a caller of exec sends: the flags between `exec` and `--`, the command, and its process's facts. */
export function execArgvBody(caller: {
  args: readonly string[];
  command: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  homedir: string;
  pid: number;
}): ExecArgvBody {
  return {
    args: [...caller.args],
    command: [...caller.command],
    cwd: caller.cwd,
    env: definedEnv(caller.env),
    homedir: caller.homedir,
    pid: caller.pid,
    // isatty, not process.stdout.isTTY: that getter builds a whole stream we may never use.
    stdout_is_tty: isatty(1),
    stderr_is_tty: isatty(2),
  };
}

/**
 * Follows an exec conversation whose exec.argv (`sent`) is sent: the child's exit code, or
 * 'in_process' when the daemon says the approver needs the caller's terminal (nothing was asked
 * or resolved).
 */
export async function followExec(conv: ClientConversation, ctx: ChildContext, sent: Pick<ExecArgvBody, 'command' | 'cwd'>): Promise<number | 'in_process'> {
  warmScriptCheck(sent.command, sent.cwd);
  let frame = await conv.receive();
  while (frame.type === 'exec.queued') frame = await conv.receive();
  if (frame.type === 'exec.in_process') return 'in_process';
  const delivered = frame.type === 'exec.deliver' ? readExecDeliver(frame.body) : null;
  if (delivered === null) {
    throw new AgentSecretError('daemon.protocol', 'the agent-secret daemon answered with something other than the approved values', {
      hint: 'agent-secret daemon stop, then retry; agent-secret doctor shows the setup',
    });
  }
  const values = new Map(Object.entries(delivered.env).map(([alias, value]) => [alias, new SecretValue(value)] as const));
  for (const [key, base64] of Object.entries(delivered.file_values)) {
    const bytes = Buffer.from(base64, 'base64');
    values.set(key, new SecretValue(bytes));
    bytes.fill(0);
  }
  return runChildForDaemon(ctx, delivered.spawn, values, delivered.request_id, conv);
}
