// The reused-exec fast path, bundled by the build into dist/fast-exec.cjs: one CommonJS file
// that the bin loads for `exec` before anything else. When a daemon already runs, it sends the
// caller's argv, cwd and environment (exec.argv) right behind hello; the daemon plans, asks or
// reuses, resolves and audits, and answers with the values and how to start the child, which
// this process then runs and reports like the full CLI does. It loads no commander, YAML,
// schema or approval code and plans nothing itself.
//
// It returns null, having done nothing, whenever the full CLI should take over: no daemon
// running, a daemon of another version or retiring, flags whose output the CLI prints itself,
// or the daemon saying "plan locally" (any usage or config error, the tty approver). From the
// moment the request is sent it never falls back: an error is reported with the exit table.

import { homedir } from 'node:os';
import { isatty } from 'node:tty';
import { AgentSecretError } from '../core/errors.js';
import { SecretValue } from '../core/secret-value.js';
import { connectExisting, definedEnv, isNoAnswer, type ClientConversation } from '../daemon/conversation.js';
import type { ExecArgvBody } from '../daemon/messages.js';
import { daemonPaths } from '../daemon/paths.js';
import { PROTOCOL_VERSION, type Frame } from '../daemon/protocol.js';
import { readExecDeliver, readSpawnSpec } from '../daemon/wire.js';
import { VERSION } from '../version.js';
import { runChildForDaemon } from './commands/exec-child.js';
import { renderError } from './render/error.js';

/** Flags the CLI answers itself (help, dry run): never sent to the daemon. */
const LOCAL_FLAGS = new Set(['--help', '-h', '--dry-run', '--json']);
const HELLO_TIMEOUT_MS = 5_000;

/** Runs `exec` through a running daemon; the exit code, or null when the full CLI should run it. */
export async function fastExec(argv: readonly string[]): Promise<number | null> {
  const separator = argv.indexOf('--');
  if (argv[0] !== 'exec' || separator < 1 || separator === argv.length - 1) return null;
  const args = argv.slice(1, separator);
  if (args.some((arg) => LOCAL_FLAGS.has(arg))) return null;

  let body: ExecArgvBody;
  let conv: ClientConversation | null;
  try {
    const home = homedir();
    body = {
      args,
      command: argv.slice(separator + 1),
      cwd: process.cwd(),
      env: definedEnv(process.env),
      homedir: home,
      pid: process.pid,
      // isatty, not process.stdout.isTTY: that getter builds a whole stream we may never use.
      stdout_is_tty: isatty(1),
      stderr_is_tty: isatty(2),
    };
    conv = await connectExisting(daemonPaths({ env: process.env, platform: process.platform, homedir: home }));
  } catch {
    // A deleted cwd, an unsafe runtime dir, a refused connection: the full CLI says what is wrong.
    return null;
  }
  if (conv === null) return null;
  try {
    return await converse(conv, body);
  } catch (error) {
    const rendered = renderError(error, { debug: process.env.AGENT_SECRET_DEBUG === '1' });
    writeStderr(`${rendered.lines.join('\n')}\n`);
    return rendered.exitCode;
  } finally {
    conv.close();
  }
}

// null until the daemon has taken the request; from then on, an exit code or a throw.
async function converse(conv: ClientConversation, body: ExecArgvBody): Promise<number | null> {
  // Both frames go out at once; a daemon that answers hello with another version or "retiring"
  // does not serve the second. A frame that cannot be sent (too large) means: plan locally.
  const sent = Promise.all([conv.send('hello', { version: VERSION, protocol: PROTOCOL_VERSION }), conv.send('exec.argv', body)]);
  let hello: Frame;
  try {
    await sent;
    hello = await conv.receive({ timeoutMs: HELLO_TIMEOUT_MS });
  } catch (error) {
    sent.catch(() => undefined);
    // A daemon that took the connection and does not answer would keep the full CLI waiting
    // just as long again, for the same message: say it now.
    if (isNoAnswer(error)) throw error;
    return null;
  }
  if (hello.type !== 'hello.ok' || hello.body.version !== VERSION || hello.body.retiring === true) return null;

  let frame = await conv.receive();
  while (frame.type === 'exec.queued') frame = await conv.receive();
  if (frame.type === 'exec.in_process') return null;
  const delivered = frame.type === 'exec.deliver' ? readExecDeliver(frame.body) : null;
  const spec = delivered === null ? null : readSpawnSpec(frame.body.spawn);
  if (delivered === null || spec === null) {
    throw new AgentSecretError('daemon.protocol', 'the agent-secret daemon answered with something other than the approved values', {
      hint: 'agent-secret daemon stop, then retry; agent-secret doctor shows the setup',
    });
  }
  const values = new Map(Object.entries(delivered.env).map(([alias, value]) => [alias, new SecretValue(value)] as const));
  return runChildForDaemon({ env: process.env, stderr: { write: writeStderr } }, spec, values, delivered.request_id, conv);
}

// Our stderr, built on first use; a reader that went away is nobody's error (as in cli/main.ts).
let stderrReady = false;
function writeStderr(text: string): boolean {
  if (!stderrReady) {
    process.stderr.on('error', () => undefined);
    stderrReady = true;
  }
  return process.stderr.write(text);
}
