// Who asked: the ancestors of this process, nearest first, read from /proc on Linux and from
// `ps` elsewhere. Process names are chosen by those processes: untrusted, so they are cleaned
// of control characters and clipped. Invariant: reading the chain never throws.

import { readFile, readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { execa } from 'execa';
import type { ProcessInfo } from '../request/types.js';

const DEFAULT_MAX_DEPTH = 6;
const MAX_NAME_LENGTH = 64;
/** Linux TASK_COMM_LEN - 1: a comm this long may have been cut. */
const COMM_LIMIT = 15;
const PS_TIMEOUT_MS = 2000;

interface ProcEntry {
  pid: number;
  ppid: number;
  name: string;
}

/** The requester's ancestors, starting at pid's parent, at most maxDepth of them. Never throws. */
export async function readRequesterChain(opts: { pid: number; platform: NodeJS.Platform; maxDepth?: number }): Promise<ProcessInfo[]> {
  if (opts.platform === 'win32') return [];
  const read = opts.platform === 'linux' ? readProcEntry : readPsEntry;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const chain: ProcessInfo[] = [];
  try {
    const self = await read(opts.pid);
    let next = self?.ppid ?? 0;
    const seen = new Set<number>([opts.pid]);
    while (chain.length < maxDepth && next > 0 && !seen.has(next)) {
      seen.add(next);
      const entry = await read(next);
      if (entry === null) break;
      chain.push({ pid: entry.pid, name: cleanName(entry.name) });
      if (entry.pid === 1) break;
      next = entry.ppid;
    }
  } catch {
    // A process that exits mid-walk ends the chain; what was read so far stands.
  }
  return chain;
}

/** Parses /proc/<pid>/stat: `pid (comm) state ppid …`; comm may hold spaces and ')'. Pure. */
export function parseProcStat(text: string): { pid: number; comm: string; ppid: number } | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open <= 0 || close < open) return null;
  const pidText = text.slice(0, open).trim();
  const rest = text.slice(close + 1).trim().split(' ');
  const ppidText = rest[1];
  if (!/^\d+$/.test(pidText) || ppidText === undefined || !/^\d+$/.test(ppidText)) return null;
  return { pid: Number(pidText), comm: text.slice(open + 1, close), ppid: Number(ppidText) };
}

/** Parses one line of `ps -o pid=,ppid=,comm= -p <pid>`; name is the basename of comm. Pure. */
export function parsePsLine(text: string): { pid: number; ppid: number; name: string } | null {
  const line = text.split('\n').find((l) => l.trim().length > 0);
  const match = line === undefined ? null : /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(line);
  if (match === null) return null;
  const [, pid, ppid, comm] = match as unknown as [string, string, string, string];
  const trimmed = comm.trim();
  const name = trimmed.endsWith('/') ? trimmed : basename(trimmed);
  if (name.length === 0) return null;
  return { pid: Number(pid), ppid: Number(ppid), name };
}

/** The exact argv for `/bin/ps` to describe one process. Pure. */
export function psArgs(pid: number): string[] {
  return ['-o', 'pid=,ppid=,comm=', '-p', String(pid)];
}

/** A process name made safe to show: control, bidi and zero-width characters replaced, 64 chars at most. Pure. */
export function cleanName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu, '?');
  const chars = [...cleaned];
  return chars.length > MAX_NAME_LENGTH ? chars.slice(0, MAX_NAME_LENGTH).join('') : cleaned;
}

// The kernel cuts comm at 15 bytes; when /proc/<pid>/exe is readable (our own processes)
// and its basename starts with the cut name, the full program name is shown instead.
async function readProcEntry(pid: number): Promise<ProcEntry | null> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  const stat = text === null ? null : parseProcStat(text);
  if (stat === null || stat.pid !== pid) return null;
  let name = stat.comm;
  if (Buffer.byteLength(name) >= COMM_LIMIT) {
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => null);
    const exeName = exe === null ? '' : basename(exe.replace(/ \(deleted\)$/, ''));
    if (exeName.startsWith(name)) name = exeName;
  }
  return { pid: stat.pid, ppid: stat.ppid, name };
}

// One `ps` call per ancestor: a fixed program, a fixed env and argv, no shell, output parsed only.
async function readPsEntry(pid: number): Promise<ProcEntry | null> {
  const result = await execa('/bin/ps', psArgs(pid), {
    reject: false,
    timeout: PS_TIMEOUT_MS,
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
    extendEnv: false,
    stdin: 'ignore',
    stderr: 'ignore',
    verbose: 'none',
    stripFinalNewline: false,
    maxBuffer: 64 * 1024,
  });
  if (result.exitCode !== 0 || typeof result.stdout !== 'string') return null;
  const entry = parsePsLine(result.stdout);
  return entry === null || entry.pid !== pid ? null : entry;
}
