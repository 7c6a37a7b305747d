// `agent-secret guard`: a Claude Code PreToolUse hook. Reads the hook's JSON on stdin and, when
// the tool call would read secrets directly (op read, op run, cat .env, rg TOKEN over a tree
// holding a .env, a Grep tool call printing one …), answers with a deny
// that tells the agent which agent-secret command to use. Malformed input is let through
// silently (exit 0, no output): a broken hook must not stop the agent's every tool call.

import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { CliContext } from '../context.js';

const MAX_INPUT_BYTES = 1024 * 1024;
const FILE_HEAD_BYTES = 64 * 1024;
const MAX_DIR_ENTRIES = 10_000;

/** Reads the hook input from stdin and prints the hook decision. Always exits 0. */
export async function runGuard(ctx: CliContext, stdin: AsyncIterable<Buffer | string>): Promise<number> {
  const { decideGuard } = await import('../../guard/decide.js');
  const { toHookOutput } = await import('../../guard/hook-output.js');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_INPUT_BYTES) return 0;
    chunks.push(buffer);
  }
  let input: unknown;
  try {
    input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return 0;
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return 0;
  const hookCwd = (input as { cwd?: unknown }).cwd;
  const cwd = typeof hookCwd === 'string' && isAbsolute(hookCwd) ? hookCwd : ctx.cwd;
  const home = ctx.env.HOME !== undefined && isAbsolute(ctx.env.HOME) ? ctx.env.HOME : ctx.homedir;
  const locate = (path: string): string | null => {
    if (path === '~' || path.startsWith('~/')) return join(home, path.slice(1));
    if (path.startsWith('~')) return null;
    return resolve(cwd, path);
  };
  const decision = decideGuard(input, {
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
  const output = toHookOutput(decision);
  if (output !== null) ctx.stdout.write(`${output}\n`);
  return 0;
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
