// The files a command's argv names. For `bash ./deploy.sh` the program is bash, but what runs is
// deploy.sh: so the identity of every operand that names an existing regular file (device,
// inode, size, mtime, ctime, and a SHA-256 of the content when small) is part of the approval
// request and its reuse key, and it is checked again just before the child starts. A rewritten
// script is then a new request, never a reused one.
// The content is hashed when the request is planned. Before spawn, the identity is checked again,
// and the content too unless the file was already settled when it was hashed: its ctime at
// least SETTLED_AFTER_MS before the read began, as git treats "racily clean" index entries. Any
// write after that read gives the file a later ctime (the kernel sets it, no caller can set it
// back), so the identity alone shows the change; a file changed within one timestamp tick of the
// read keeps its ctime, so only a fresh file is read and hashed again (and pays for node:crypto).
// Operands are the agent's text and planning runs in the daemon: the number of operands looked
// at, the files pinned and the bytes hashed are bounded, only regular files are ever opened
// (O_NONBLOCK, so a FIFO swapped in after the stat cannot hang us), and reads are asynchronous.

import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { AgentSecretError } from '../core/errors.js';
import { nodeCrypto } from '../core/node-crypto.js';
import { MAX_SCRIPTS } from '../request/build.js';
import type { ScriptIdentity } from '../request/types.js';

/** How much of argv is looked at, how many files are pinned, how many bytes are hashed. */
export const SCRIPT_LIMITS = Object.freeze({
  maxOperands: 256,
  maxFiles: MAX_SCRIPTS,
  /** A larger file is pinned by its identity only (sha256 null). */
  maxHashBytes: 4 * 1024 * 1024,
  /** Across all files of one request: about 20 ms of hashing. */
  maxTotalHashBytes: 8 * 1024 * 1024,
  maxPathLength: 4096,
});

/**
 * A file whose ctime is this much older than the moment its content was read is settled: no
 * later write can leave its ctime unchanged. Above every common timestamp granularity (ext4 and
 * APFS: the kernel's coarse clock, milliseconds; HFS+: 1 s; FAT: 2 s).
 */
export const SETTLED_AFTER_MS = 2_000;

export interface ScriptScan {
  /** In argv order, one per distinct path. */
  scripts: ScriptIdentity[];
  /** Operands were left unexamined (more than maxOperands, or maxFiles files found). */
  truncated: boolean;
  /** Paths of hashed files that were settled when read: the check before spawn needs only their identity. */
  settled: string[];
}

const CHUNK = 64 * 1024;

/** The identities of the regular files command[1..] names, relative to cwd or absolute. */
export async function readScriptIdentities(command: readonly string[], cwd: string, clock: () => number = Date.now): Promise<ScriptScan> {
  const scripts: ScriptIdentity[] = [];
  const settled: string[] = [];
  const seen = new Set<string>();
  let hashBudget = SCRIPT_LIMITS.maxTotalHashBytes;
  const operands = command.slice(1);
  for (let i = 0; i < operands.length; i += 1) {
    if (i >= SCRIPT_LIMITS.maxOperands || scripts.length >= SCRIPT_LIMITS.maxFiles) return { scripts, truncated: true, settled };
    const operand = operands[i] as string;
    if (operand === '' || operand.includes('\0') || operand.length > SCRIPT_LIMITS.maxPathLength) continue;
    const path = isAbsolute(operand) ? resolve(operand) : resolve(cwd, operand);
    if (seen.has(path)) continue;
    const stats = await stat(path).catch(() => null);
    if (stats === null || !stats.isFile()) continue;
    seen.add(path);
    const hashIt = stats.size <= SCRIPT_LIMITS.maxHashBytes && stats.size <= hashBudget;
    const readAt = clock();
    const identity = hashIt ? await hashedIdentity(path) : scriptIdentityOf(path, stats, null);
    if (identity === null) continue;
    if (identity.sha256 !== null) hashBudget -= identity.size;
    if (identity.sha256 !== null && identity.ctimeMs < readAt - SETTLED_AFTER_MS) settled.push(path);
    scripts.push(identity);
  }
  return { scripts, truncated: false, settled };
}

// Opened without blocking, checked to be a regular file on the descriptor, read and hashed in
// chunks. null when it is no longer a regular file (it was replaced after the stat).
async function hashedIdentity(path: string): Promise<ScriptIdentity | null> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => null);
  if (handle === null) return null;
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return null;
    if (stats.size > SCRIPT_LIMITS.maxHashBytes) return scriptIdentityOf(path, stats, null);
    const hash = nodeCrypto().createHash('sha256');
    const buffer = Buffer.alloc(Math.min(CHUNK, Math.max(1, stats.size)));
    let total = 0;
    // Up to the size at open: a file growing meanwhile has a new ctime, which the check at spawn sees.
    while (total < stats.size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, stats.size - total), total);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      total += bytesRead;
    }
    return scriptIdentityOf(path, stats, hash.digest('hex'));
  } catch {
    return null;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function scriptIdentityOf(path: string, stats: Stats, sha256: string | null): ScriptIdentity {
  return { path, dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, sha256 };
}

/**
 * Called while the broker plans: when argv names a fresh file (changed within the last few
 * seconds) small enough to be hashed, load the hash code now, so the check before spawn does not
 * pay node:crypto's first load (about 5 ms) after the values arrived. A guess from the caller's
 * side (the broker decides what is pinned and what is settled, and `--cwd` may move the
 * operands): it never changes what is checked, only when the code loads.
 */
export function warmScriptCheck(command: readonly string[], cwd: string): void {
  const operands = command.slice(1, 1 + SCRIPT_LIMITS.maxOperands);
  const hashed = operands.some((operand) => {
    if (operand === '' || operand.includes('\0') || operand.length > SCRIPT_LIMITS.maxPathLength) return false;
    try {
      const stats = statSync(isAbsolute(operand) ? operand : resolve(cwd, operand));
      return stats.isFile() && stats.size <= SCRIPT_LIMITS.maxHashBytes && stats.ctimeMs >= Date.now() - 2 * SETTLED_AFTER_MS;
    } catch {
      return false;
    }
  });
  if (hashed) setImmediate(() => nodeCrypto().createHash('sha256'));
}

/**
 * Throws exec.identity_changed unless every approved script still has its identity (and its
 * content hash, when the spawn body carries one: the broker leaves it out for settled files).
 * Synchronous: for the process about to spawn the child.
 */
export function verifyScriptsSync(scripts: readonly ScriptIdentity[]): void {
  for (const script of scripts) {
    if (!sameScript(script)) {
      throw new AgentSecretError('exec.identity_changed', `a file the approved command names changed before it could start: ${script.path}`, {
        hint: 'rerun the command to approve the current file',
      });
    }
  }
}

function sameScript(expected: ScriptIdentity): boolean {
  let stats: Stats;
  try {
    stats = statSync(expected.path);
  } catch {
    return false;
  }
  if (!stats.isFile() || !sameStats(stats, expected)) return false;
  if (expected.sha256 === null) return true;
  let fd: number;
  try {
    fd = openSync(expected.path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const onFd = fstatSync(fd);
    if (!onFd.isFile() || !sameStats(onFd, expected)) return false;
    const hash = nodeCrypto().createHash('sha256');
    const buffer = Buffer.alloc(Math.min(CHUNK, Math.max(1, expected.size)));
    let total = 0;
    while (total < expected.size) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, expected.size - total), total);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      total += read;
    }
    return total === expected.size && hash.digest('hex') === expected.sha256;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

function sameStats(stats: Stats, expected: ScriptIdentity): boolean {
  return stats.dev === expected.dev && stats.ino === expected.ino && stats.size === expected.size && stats.mtimeMs === expected.mtimeMs && stats.ctimeMs === expected.ctimeMs;
}
