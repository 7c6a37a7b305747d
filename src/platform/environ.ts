// The initial environment of another process, asked one question only: does it hold exactly
// NAME=VALUE? Linux only (/proc/<pid>/environ, readable for processes of the same user). The
// value is a credential: the file is read as bytes and searched as bytes, never turned into a
// string, and both buffers are zeroed before they are dropped. Also: whether a process seen
// before is still the same live process. Invariant: nothing here throws.

import { readFileSync } from 'node:fs';
import { parseProcStatFull, readAncestry, type AncestryEntry } from './process-tree.js';

/**
 * True when `environ` (NUL-separated `NAME=VALUE` entries, as /proc/<pid>/environ) has an entry
 * that is exactly `entry`: at offset 0 followed by NUL, or between two NULs. Pure.
 */
export function environHasEntry(environ: Buffer, entry: Buffer): boolean {
  if (entry.length === 0 || environ.length <= entry.length) return false;
  if (environ[entry.length] === 0 && environ.subarray(0, entry.length).equals(entry)) return true;
  // `\0ENTRY\0`, built in a buffer of its own and zeroed after.
  const needle = Buffer.alloc(entry.length + 2);
  try {
    entry.copy(needle, 1);
    return environ.indexOf(needle) !== -1;
  } finally {
    needle.fill(0);
  }
}

/**
 * Whether the process `entry` (as its ancestry read it: pid and start time) was started with
 * exactly NAME=VALUE in its environment. Linux reads /proc/<pid>/environ, then checks the start
 * time again so that a pid reused meanwhile does not answer for it. False when it cannot be read
 * or on any other platform (macOS has no such file).
 */
export function initialEnvironHolds(entry: AncestryEntry, name: string, value: string, platform: NodeJS.Platform): boolean {
  if (platform !== 'linux') return false;
  let environ: Buffer | null = null;
  const wanted = Buffer.from(`${name}=${value}`, 'utf8');
  try {
    environ = readFileSync(`/proc/${entry.pid}/environ`);
    return environHasEntry(environ, wanted) && procStartTime(entry.pid) === entry.startTime;
  } catch {
    return false;
  } finally {
    environ?.fill(0);
    wanted.fill(0);
  }
}

/**
 * Whether `entry` still runs: the same pid with the same start time, not a zombie (Linux). An exec
 * keeps a process alive under another executable. Never throws.
 */
export async function isSameLiveProcess(entry: AncestryEntry, platform: NodeJS.Platform): Promise<boolean> {
  if (entry.startTime === '') return false;
  if (platform === 'linux') {
    const stat = procStat(entry.pid);
    return stat !== null && stat.state !== 'Z' && stat.state !== 'X' && stat.startTime === entry.startTime;
  }
  const now = await readAncestry({ pid: entry.pid, platform, maxDepth: 0 });
  return now[0]?.pid === entry.pid && now[0].startTime === entry.startTime;
}

function procStartTime(pid: number): string | null {
  return procStat(pid)?.startTime ?? null;
}

// /proc/<pid>/stat: the start time and the state letter (field 3, the first after the comm).
function procStat(pid: number): { startTime: string; state: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const parsed = parseProcStatFull(text);
  if (parsed === null || parsed.pid !== pid) return null;
  return { startTime: parsed.startTime, state: text.slice(text.lastIndexOf(')') + 1).trim().split(' ')[0] ?? '' };
}
