// The process edge: splits argv at the first `--`, runs the command table, and turns every
// outcome into an exit code. The only module that knows about process.* (besides the bin).

import { homedir } from 'node:os';
import { CommanderError, type Command } from 'commander';
import { AgentSecretError } from '../core/errors.js';
import type { CliContext } from './context.js';
import { usageErrorOf } from '../plan/exec-options.js';
import { buildProgram } from './program.js';
import { renderError } from './render/error.js';

/** Runs agent-secret with the given arguments (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const stdoutFailure = overrides.stdout === undefined ? watchOutput(process.stdout) : () => null;
  if (overrides.stderr === undefined) watchOutput(process.stderr);
  const code = await run(argv, overrides);
  // Output that could not be written (a full disk, not a reader that left) must not pass for
  // success: a session token, say, is printed only once. A failed write reports on a later tick.
  if (overrides.stdout === undefined) await new Promise((resolve) => setImmediate(resolve));
  const failed = stdoutFailure();
  if (failed === null || code !== 0) return code;
  (overrides.stderr ?? process.stderr).write(`agent-secret: could not write the output to stdout (${failed}); the command itself succeeded\n`);
  return 1;
}

async function run(argv: readonly string[], overrides: Partial<CliContext>): Promise<number> {
  const separator = argv.indexOf('--');
  let cwd: string;
  try {
    cwd = overrides.cwd ?? process.cwd();
  } catch {
    const rendered = renderError(
      new AgentSecretError('cwd.invalid', 'the current directory no longer exists', { hint: 'cd to an existing directory and rerun' }),
      { debug: false },
    );
    (overrides.stderr ?? process.stderr).write(`${rendered.lines.join('\n')}\n`);
    return rendered.exitCode;
  }
  const ctx: CliContext = {
    args: separator === -1 ? [...argv] : argv.slice(0, separator),
    childArgv: separator === -1 ? null : argv.slice(separator + 1),
    env: process.env,
    cwd,
    platform: process.platform,
    homedir: homedir(),
    pid: process.pid,
    uid: typeof process.getuid === 'function' ? process.getuid() : -1,
    stdout: process.stdout,
    stderr: process.stderr,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    ...overrides,
  };
  const json = jsonErrorMode(ctx.args);
  const debug = ctx.env.AGENT_SECRET_DEBUG === '1';

  let program: Command | null = null;
  try {
    let result: Promise<number> | undefined;
    program = buildProgram(ctx, (r) => {
      result = r;
    });
    if (ctx.args.length === 0) {
      program.outputHelp();
      return 0;
    }
    if (ctx.childArgv !== null && ctx.args[0] !== 'exec' && ctx.args[0] !== 'with-session' && !(ctx.args[0] === 'policy' && ctx.args[1] === 'explain')) {
      throw new AgentSecretError('usage.invalid', '"--" separates the command to run and is only used by exec, with-session and policy explain', {
        hint: 'agent-secret exec [flags] -- COMMAND [ARGS...]',
      });
    }
    await program.parseAsync([...ctx.args], { from: 'user' });
    return result === undefined ? 0 : await result;
  } catch (thrown) {
    let error = thrown;
    if (thrown instanceof CommanderError) {
      if (thrown.code === 'commander.helpDisplayed' || thrown.code === 'commander.version' || thrown.code === 'commander.help') {
        return 0;
      }
      error = usageErrorOf(thrown, program === null ? [] : commandPathOf(program, ctx.args));
    }
    const rendered = renderError(error, { debug });
    if (json !== null) ctx.stdout.write(`${json === 'compact' ? JSON.stringify(rendered.json) : JSON.stringify(rendered.json, null, 2)}\n`);
    ctx.stderr.write(`${rendered.lines.join('\n')}\n`);
    return rendered.exitCode;
  }
}

// How an error is printed as JSON: `--json`, or `--json=compact` / `--json compact` (the session
// commands), which also gets its error on one line; null without either.
function jsonErrorMode(args: readonly string[]): 'pretty' | 'compact' | null {
  const at = args.findIndex((arg) => arg === '--json' || arg.startsWith('--json='));
  if (at === -1) return null;
  return args[at] === '--json=compact' || (args[at] === '--json' && args[at + 1] === 'compact') ? 'compact' : 'pretty';
}

// Write errors on our own stdout/stderr never become an unhandled EPIPE with a stack trace. A
// reader that goes away (`agent-secret audit | head -1`) is nobody's error: the rest of the
// output is dropped and the command ends with its own exit code. Any other failure (ENOSPC, EIO)
// is remembered and returned. (Masked child output has its own handling: exec/pump.ts.)
function watchOutput(stream: NodeJS.WriteStream): () => string | null {
  let failure: string | null = null;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    const code = typeof error.code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(error.code) ? error.code : 'error';
    if (code !== 'EPIPE' && code !== 'ERR_STREAM_DESTROYED') failure ??= code;
  });
  return () => failure;
}

/** The subcommand words of `args` (`agent add`), for a usage hint that names its own --help. */
export function commandPathOf(program: Command, args: readonly string[]): string[] {
  const path: string[] = [];
  let command = program;
  for (const word of args) {
    if (word.startsWith('-')) continue;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub === undefined) break;
    path.push(sub.name());
    command = sub;
  }
  return path;
}
