// Who asked: the ancestors of this process, nearest first, read from /proc on Linux and from
// `ps` elsewhere. Two readers: the requester chain (pid and a display name, for prompts) and
// the ancestry (pid, ppid, uid, gid, start time, executable path, for session binding).
// Process names are chosen by those processes: untrusted, so display names are cleaned of
// control characters and clipped. Invariant: reading never throws.

/** One process of a requester chain: its pid and a display name. */
export interface ProcessInfo {
  readonly pid: number;
  readonly name: string;
}

import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

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
  const chars = [...cleanChars(name)];
  return chars.length > MAX_NAME_LENGTH ? chars.slice(0, MAX_NAME_LENGTH).join('') : chars.join('');
}

/** Text made safe to show, unclipped: control, bidi and zero-width characters replaced by '?'. Pure. */
export function cleanChars(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu, '?');
}

// The kernel cuts comm at 15 bytes; when /proc/<pid>/exe is readable (our own processes)
// and its basename starts with the cut name, the full program name is shown instead.
// /proc is read synchronously: its files are generated in memory and never wait on a disk, and a
// walk of a dozen small reads is several times faster without a thread-pool hop for each.
async function readProcEntry(pid: number): Promise<ProcEntry | null> {
  const text = procText(`/proc/${pid}/stat`);
  const stat = text === null ? null : parseProcStat(text);
  if (stat === null || stat.pid !== pid) return null;
  let name = stat.comm;
  if (Buffer.byteLength(name) >= COMM_LIMIT) {
    const exe = procLink(`/proc/${pid}/exe`);
    const exeName = exe === null ? '' : basename(exe.replace(/ \(deleted\)$/, ''));
    if (exeName.startsWith(name)) name = exeName;
  }
  return { pid: stat.pid, ppid: stat.ppid, name };
}

// One `ps` call per ancestor: a fixed program, a fixed env and argv, no shell, output parsed only.
async function readPsEntry(pid: number): Promise<ProcEntry | null> {
  const stdout = await runPs(psArgs(pid));
  const entry = stdout === null ? null : parsePsLine(stdout);
  return entry === null || entry.pid !== pid ? null : entry;
}

// Runs /bin/ps with fixed argv and env; its stdout, or null when it failed. execa is loaded only
// here (macOS), so Linux never pays for it.
async function runPs(args: string[]): Promise<string | null> {
  const { execa } = await import('execa');
  const result = await execa('/bin/ps', args, {
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
  return result.exitCode !== 0 || typeof result.stdout !== 'string' ? null : result.stdout;
}

// ---------------------------------------------------------------------------------------------
// Ancestry for session binding: who a process is, precisely enough to recognise it again.

/** One process of an ancestry. Identity for binding is (pid, uid, gid, startTime, path). */
export interface AncestryEntry {
  pid: number;
  ppid: number;
  /** Effective user id. */
  uid: number;
  /** Effective group id. */
  gid: number;
  /** Opaque and stable for the life of the process: /proc stat field 22 on Linux, `ps` lstart on macOS. */
  startTime: string;
  /** The executable: /proc/<pid>/exe on Linux, `ps` comm on macOS when it is an absolute path; null when unknown. */
  path: string | null;
  /** Basename of the executable (of comm when the path is unknown), raw: clean it before showing it. */
  name: string;
}

const DEFAULT_ANCESTRY_DEPTH = 64;

/**
 * The process `pid` (depth 0) and its ancestors up to depth `maxDepth` (default 64), nearest
 * first, ending at pid 1, at a process that cannot be read (it exited, or belongs to someone
 * we cannot see), or at a loop. Never throws; an unreadable `pid` gives [].
 */
export async function readAncestry(opts: { pid: number; platform: NodeJS.Platform; maxDepth?: number }): Promise<AncestryEntry[]> {
  const maxDepth = opts.maxDepth ?? DEFAULT_ANCESTRY_DEPTH;
  if (opts.platform === 'win32' || !isPid(opts.pid) || !Number.isInteger(maxDepth) || maxDepth < 0) return [];
  const read = opts.platform === 'linux' ? readProcAncestryEntry : readPsAncestryEntry;
  const ancestry: AncestryEntry[] = [];
  const seen = new Set<number>();
  try {
    let pid = opts.pid;
    while (ancestry.length <= maxDepth && isPid(pid) && !seen.has(pid)) {
      seen.add(pid);
      const entry = await read(pid);
      if (entry === null) break;
      ancestry.push(entry);
      if (entry.pid === 1) break;
      pid = entry.ppid;
    }
  } catch {
    // A process that exits mid-walk ends the ancestry; what was read so far stands.
  }
  return ancestry;
}

/** Parses /proc/<pid>/stat with the start time (field 22, clock ticks after boot). Pure. */
export function parseProcStatFull(text: string): { pid: number; comm: string; ppid: number; startTime: string } | null {
  const base = parseProcStat(text);
  if (base === null) return null;
  // Fields after the comm start at field 3 (state); field 22 is the 20th of them.
  const startTime = text.slice(text.lastIndexOf(')') + 1).trim().split(' ')[19];
  if (startTime === undefined || !/^\d+$/.test(startTime)) return null;
  return { ...base, startTime };
}

/** The effective uid and gid from /proc/<pid>/status (`Uid:` and `Gid:` lines: real, effective, saved, fs). Pure. */
export function parseProcStatus(text: string): { uid: number; gid: number } | null {
  const uid = /^Uid:[ \t]+\d+[ \t]+(\d+)\b/m.exec(text)?.[1];
  const gid = /^Gid:[ \t]+\d+[ \t]+(\d+)\b/m.exec(text)?.[1];
  if (uid === undefined || gid === undefined) return null;
  return { uid: Number(uid), gid: Number(gid) };
}

/** Builds an entry from the three /proc reads of one process; null when stat or status is missing or names another pid. Pure. */
export function procAncestryEntry(pid: number, statText: string | null, statusText: string | null, exeLink: string | null): AncestryEntry | null {
  const stat = statText === null ? null : parseProcStatFull(statText);
  const ids = statusText === null ? null : parseProcStatus(statusText);
  if (stat === null || ids === null || stat.pid !== pid) return null;
  const path = exeLink === null || exeLink === '' ? null : exeLink;
  // A deleted executable keeps its link text with " (deleted)": the path stays as the kernel says it.
  const name = path === null ? stat.comm : basename(path.replace(/ \(deleted\)$/, ''));
  return { pid: stat.pid, ppid: stat.ppid, uid: ids.uid, gid: ids.gid, startTime: stat.startTime, path, name: name === '' ? stat.comm : name };
}

/** The exact argv for `/bin/ps` to describe one process for the ancestry. Pure. */
export function psAncestryArgs(pid: number): string[] {
  return ['-o', 'pid=,ppid=,uid=,gid=,lstart=,comm=', '-p', String(pid)];
}

// lstart under LC_ALL=C: weekday, month, day (space padded), time, year: `Tue Mar  4 09:05:07 2025`.
const PS_ANCESTRY_LINE = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([A-Z][a-z]{2}\s+[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}\s+\d{4})\s(.*)$/;

/** Parses the output of `ps -o pid=,ppid=,uid=,gid=,lstart=,comm= -p PID`; the start time has its padding collapsed. Pure. */
export function parsePsAncestryLine(text: string): { pid: number; ppid: number; uid: number; gid: number; startTime: string; comm: string } | null {
  const line = text.split('\n').find((l) => l.trim().length > 0);
  const match = line === undefined ? null : PS_ANCESTRY_LINE.exec(line);
  if (match === null) return null;
  const [, pid, ppid, uid, gid, lstart, comm] = match as unknown as [string, string, string, string, string, string, string];
  const trimmed = comm.trim();
  if (trimmed.length === 0) return null;
  return { pid: Number(pid), ppid: Number(ppid), uid: Number(uid), gid: Number(gid), startTime: lstart.split(/\s+/).join(' '), comm: trimmed };
}

/** Builds an entry from parsed `ps` output: comm is the path when absolute, and its basename is the name. Pure. */
export function psAncestryEntry(parsed: { pid: number; ppid: number; uid: number; gid: number; startTime: string; comm: string }): AncestryEntry {
  const { comm } = parsed;
  const name = comm.endsWith('/') ? comm : basename(comm);
  return {
    pid: parsed.pid,
    ppid: parsed.ppid,
    uid: parsed.uid,
    gid: parsed.gid,
    startTime: parsed.startTime,
    path: comm.startsWith('/') ? comm : null,
    name: name === '' ? comm : name,
  };
}

function isPid(pid: number): boolean {
  return Number.isSafeInteger(pid) && pid > 0;
}

// stat is read again after status and exe: if the start time changed, the pid was reused
// while we looked and the reads describe two processes.
async function readProcAncestryEntry(pid: number): Promise<AncestryEntry | null> {
  const statText = procText(`/proc/${pid}/stat`);
  const statusText = procText(`/proc/${pid}/status`);
  const exeLink = procLink(`/proc/${pid}/exe`);
  const again = procText(`/proc/${pid}/stat`);
  const entry = procAncestryEntry(pid, statText, statusText, exeLink);
  if (entry === null || again === null || parseProcStatFull(again)?.startTime !== entry.startTime) return null;
  return entry;
}

function procText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function procLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

async function readPsAncestryEntry(pid: number): Promise<AncestryEntry | null> {
  const stdout = await runPs(psAncestryArgs(pid));
  const parsed = stdout === null ? null : parsePsAncestryLine(stdout);
  return parsed === null || parsed.pid !== pid ? null : psAncestryEntry(parsed);
}
