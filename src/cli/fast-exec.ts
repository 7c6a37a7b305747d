// The reused-exec fast path, bundled by the build into dist/fast-exec.cjs: one CommonJS file
// that the bin loads for `exec` before anything else. When a daemon already runs, it sends the
// caller's argv, cwd and environment (exec.argv) right behind hello; the daemon plans, asks or
// reuses, resolves and audits, and answers with the values and how to start the child, which
// this process then runs and reports (client/exec.ts, the same code the full CLI runs). It
// loads no commander, YAML, schema or approval code and plans nothing itself.
//
// It returns null, having done nothing, whenever the full CLI should take over: no daemon
// running, a daemon of another version or retiring, flags whose output the CLI prints itself,
// or the daemon saying the approver needs this terminal (tty). From the moment the request is
// sent it never falls back: an error, planning errors included, is reported with the exit table.

import { homedir } from 'node:os';
import { execArgvBody, followExec } from '../client/exec.js';
import { connectExisting, isNoAnswer, type ClientConversation } from '../client/conversation.js';
import type { ExecArgvBody } from '../protocol/messages.js';
import { daemonPaths } from '../protocol/paths.js';
import { PROTOCOL_VERSION, type Frame } from '../protocol/envelope.js';
import { VERSION } from '../version.js';
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
    body = execArgvBody({ args, command: argv.slice(separator + 1), cwd: process.cwd(), env: process.env, homedir: home, pid: process.pid });
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
  // does not serve the second. A frame that cannot be sent (too large): the full CLI says why.
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

  const code = await followExec(conv, { env: process.env, stderr: { write: writeStderr } }, body);
  // The approver needs the caller's terminal: the full CLI runs the request in-process.
  return code === 'in_process' ? null : code;
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
