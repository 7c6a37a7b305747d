// Where delivered files live: a private 0700 directory made for one run, never on persistent
// storage. On Linux it is made under $XDG_RUNTIME_DIR when that is a RAM-backed filesystem
// (tmpfs or ramfs) of the caller's own, else under /dev/shm when that is one; with neither,
// delivery is refused (agent-secret never falls back to a disk). On macOS, which has no
// RAM-backed filesystem, it is made under the per-user $TMPDIR and holds FIFOs (the bytes go
// through the pipe, never the disk) unless a profile asked for `mode: file` (the prompt warned).
// The directory's name carries the pid of the process that made it, so a later run can sweep
// the directories of a process that was killed outright (SIGKILL) before it could clean up.

import { lstatSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { chmod, lstat, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { AgentSecretError } from '../core/errors.js';
import { isProcessRunning } from '../platform/file-lock.js';

/** Every private directory's name starts so, followed by the owning pid and a dot. */
export const PRIVATE_DIR_PREFIX = 'agent-secret-files.';

/** statfs f_type of the RAM-backed filesystems (linux/magic.h). */
export const RAM_FS_TYPES: ReadonlySet<number> = new Set([0x01021994 /* tmpfs */, 0x858458f6 /* ramfs */]);

/** What the base choice asks of the host; tests replace it. */
export interface BaseHost {
  /** statfs f_type of a path, or null when it cannot be read. */
  fsType(path: string): number | null;
  /** Owner and mode of a directory (no symlink followed), or null when it is not one. */
  dirInfo(path: string): { uid: number; mode: number } | null;
  uid: number;
}

const realHost: BaseHost = {
  fsType(path) {
    try {
      return statfsSync(path).type;
    } catch {
      return null;
    }
  },
  dirInfo(path) {
    try {
      const info = lstatSync(path);
      return info.isDirectory() ? { uid: info.uid, mode: info.mode } : null;
    } catch {
      return null;
    }
  },
  uid: process.getuid?.() ?? -1,
};

/** The Linux candidates, in order: the caller's runtime directory, then /dev/shm. Pure. */
export function linuxCandidates(env: Readonly<Record<string, string | undefined>>): string[] {
  const runtime = env.XDG_RUNTIME_DIR;
  return [...(runtime !== undefined && isAbsolute(runtime) ? [runtime] : []), '/dev/shm'];
}

/**
 * The directory private directories are made in. Linux: the first candidate that is a
 * RAM-backed filesystem ($XDG_RUNTIME_DIR also must be the caller's own and closed to others),
 * else delivery.unavailable. macOS: $TMPDIR (per user), else the system temporary directory.
 */
export function privateBaseSync(env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform, host: BaseHost = realHost): string {
  if (platform === 'darwin') {
    const own = env.TMPDIR;
    return own !== undefined && isAbsolute(own) ? own : tmpdir();
  }
  for (const candidate of linuxCandidates(env)) {
    const info = host.dirInfo(candidate);
    if (info === null) continue;
    const type = host.fsType(candidate);
    if (type === null || !RAM_FS_TYPES.has(type)) continue;
    // /dev/shm is shared (sticky, world-writable): the private directory made in it is ours alone.
    if (candidate !== '/dev/shm' && (info.uid !== host.uid || (info.mode & 0o022) !== 0)) continue;
    return candidate;
  }
  throw new AgentSecretError('delivery.unavailable', 'no RAM-backed directory for delivered files: neither $XDG_RUNTIME_DIR nor /dev/shm is a tmpfs, and agent-secret never writes secrets to persistent storage', {
    hint: 'set XDG_RUNTIME_DIR to a tmpfs directory you own (mode 0700), or mount one at /dev/shm (mount -t tmpfs tmpfs /dev/shm); or deliver the secret with --secret instead',
  });
}

/** As privateBaseSync, for the planner (refused before any prompt). */
export async function privateBase(env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform): Promise<string> {
  return privateBaseSync(env, platform);
}

/** Makes this run's private directory (0700, ours, not a symlink) under base. */
export async function makePrivateDir(base: string): Promise<string> {
  let dir: string;
  try {
    dir = await mkdtemp(join(base, `${PRIVATE_DIR_PREFIX}${process.pid}.`));
    await chmod(dir, 0o700);
    const info = await lstat(dir);
    const uid = process.getuid?.();
    if (!info.isDirectory() || (uid !== undefined && info.uid !== uid) || (info.mode & 0o777) !== 0o700) throw new Error('not private');
  } catch {
    throw new AgentSecretError('delivery.failed', `could not make a private directory for delivered files in ${base}; nothing was written and the command did not run`, {
      hint: `check that ${base} exists, is writable by you and has room`,
    });
  }
  return dir;
}

/** Removes a private directory and everything in it; never throws (a missing one is fine). */
export function removePrivateDirSync(dir: string): boolean {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    return true;
  } catch {
    return false;
  }
}

/** The pid a private directory's name carries, or null for any other name. Pure. */
export function ownerPidOf(name: string): number | null {
  if (!name.startsWith(PRIVATE_DIR_PREFIX)) return null;
  const match = /^(\d{1,10})\.[A-Za-z0-9]+$/.exec(name.slice(PRIVATE_DIR_PREFIX.length));
  if (match === null) return null;
  const pid = Number(match[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/**
 * Removes the private directories of earlier runs whose process is gone (killed outright before
 * it could clean up), in every place this user's runs make them. Only directories of ours with
 * our name pattern are touched. Returns how many were removed.
 */
export function sweepStaleDirsSync(env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform): number {
  const bases = platform === 'darwin' ? [env.TMPDIR !== undefined && isAbsolute(env.TMPDIR) ? env.TMPDIR : tmpdir()] : linuxCandidates(env);
  const uid = process.getuid?.();
  let removed = 0;
  for (const base of new Set(bases)) {
    let names: string[];
    try {
      names = readdirSync(base);
    } catch {
      continue;
    }
    for (const name of names) {
      const pid = ownerPidOf(name);
      if (pid === null || pid === process.pid || isProcessRunning(pid)) continue;
      const path = join(base, name);
      try {
        const info = lstatSync(path);
        if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
      } catch {
        continue;
      }
      if (removePrivateDirSync(path)) removed += 1;
    }
  }
  return removed;
}
