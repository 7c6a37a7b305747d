// `agent-secret guard [--agent claude|codex|cursor|gemini]`: the tool-call hook of a coding
// agent. Reads the hook's JSON on stdin and, when the tool call would read secrets directly
// (op read, op run, cat .env, rg TOKEN over a tree holding a .env, a file-read or search tool
// printing one …), answers with a deny in that agent's contract that tells the model which
// agent-secret command to use. Malformed input is allowed (the agent's allow answer, exit 0):
// a broken hook must not stop the agent's every tool call. An unknown --agent is exit 1 with
// one stderr line, which every agent treats as a non-blocking hook error.

import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { CliContext } from '../context.js';

const MAX_INPUT_BYTES = 1024 * 1024;
const FILE_HEAD_BYTES = 64 * 1024;
const MAX_DIR_ENTRIES = 10_000;

/** Reads the hook input from stdin and prints the hook decision in the agent's contract. */
export async function runGuard(ctx: CliContext, stdin: AsyncIterable<Buffer | string>, options: { agent?: string } = {}): Promise<number> {
  const { decideHookCall, isGuardAgent, readHookCall, GUARD_AGENTS } = await import('../../guard/agents.js');
  const { hookAnswer } = await import('../../guard/hook-output.js');
  const agent = options.agent ?? 'claude';
  if (!isGuardAgent(agent)) {
    // Not exit 2: for Claude Code, Codex and Gemini that blocks the tool call; 1 is a visible, non-blocking hook error.
    ctx.stderr.write(`agent-secret guard: unknown --agent ${JSON.stringify(agent.slice(0, 40))}; use one of ${GUARD_AGENTS.join(', ')} (hook-install writes the right command for each agent)\n`);
    return 1;
  }
  const answer = (decision: Parameters<typeof hookAnswer>[1]): number => {
    const { stdout, stderr, exitCode } = hookAnswer(agent, decision);
    if (stdout !== null) ctx.stdout.write(`${stdout}\n`);
    if (stderr !== null) ctx.stderr.write(`${stderr}\n`);
    return exitCode;
  };
  const allow = { decision: 'allow' } as const;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_INPUT_BYTES) return answer(allow);
    chunks.push(buffer);
  }
  let input: unknown;
  try {
    input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return answer(allow);
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return answer(allow);
  const call = readHookCall(agent, input);
  const cwd = call.cwd !== null && isAbsolute(call.cwd) ? call.cwd : ctx.cwd;
  const home = ctx.env.HOME !== undefined && isAbsolute(ctx.env.HOME) ? ctx.env.HOME : ctx.homedir;
  const locate = (path: string): string | null => {
    if (path === '~' || path.startsWith('~/')) return join(home, path.slice(1));
    if (path.startsWith('~')) return null;
    return resolve(cwd, path);
  };
  const decision = decideHookCall(call, {
    readFileHead: (path) => {
      const located = locate(path);
      return located === null ? null : readHead(located);
    },
    listDir: (path) => {
      const located = locate(path);
      return located === null ? null : listDir(located);
    },
    readDir: (path) => {
      const located = locate(path);
      return located === null ? null : readDir(located);
    },
  });
  return answer(decision);
}

// The first bytes of a regular file, or null (missing, unreadable, a FIFO or device: never
// blocks). The content is only tested by the guard, never printed.
function readHead(path: string): string | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    if (!fstatSync(fd).isFile()) return null;
    const buffer = Buffer.alloc(FILE_HEAD_BYTES);
    const length = readSync(fd, buffer, 0, FILE_HEAD_BYTES, 0);
    return buffer.subarray(0, length).toString('utf8');
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

// Entries with their type, without following symlinks (a link to a directory is not walked).
function readDir(path: string): Array<{ name: string; dir: boolean }> | null {
  try {
    return readdirSync(path, { withFileTypes: true })
      .slice(0, MAX_DIR_ENTRIES)
      .map((entry) => ({ name: entry.name, dir: entry.isDirectory() }));
  } catch {
    return null;
  }
}

function listDir(path: string): string[] | null {
  try {
    return readdirSync(path).slice(0, MAX_DIR_ENTRIES);
  } catch {
    return null;
  }
}
