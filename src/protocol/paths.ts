// Where the daemon's socket, pid file and start lock live, and the checks that make that
// directory private: a real directory (not a symlink), ours, mode 0700 (no group or world
// bits). A Unix socket path must fit in sun_path (108 bytes on Linux, 104 on macOS, NUL
// included); when the runtime dir is too deep for that, everything moves to the short private
// directory /tmp/agent-secret-<uid>-<8 hex of the runtime dir's SHA-256>/ under the same checks:
// one daemon per runtime dir still, so two HOMEs of one uid never share a daemon (macOS runtime
// dirs under a deep HOME are the usual case).

import { chmodSync, mkdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { AgentSecretError } from '../core/errors.js';
import { nodeCrypto } from '../core/node-crypto.js';
import { runtimeDir, type DirsInput } from '../platform/dirs.js';
import { errnoOf, lstatOrNull } from '../platform/fs.js';

export interface DaemonPaths {
  dir: string;
  socket: string;
  /** JSON: pid, version, started_at. */
  pidFile: string;
  /** Created exclusively while a daemon starts (single instance). */
  lockFile: string;
  /** Held by the one client that spawns a daemon, so parallel clients do not each spawn one. */
  spawnLockFile: string;
  /** True when the runtime dir was too deep for a socket path and /tmp/agent-secret-<uid>-<hash> is used. */
  fallback: boolean;
}

export const SOCKET_NAME = 'daemon.sock';

/** The longest socket path (bytes, without the NUL) the platform's sun_path holds. */
export function socketPathLimit(platform: NodeJS.Platform): number {
  return platform === 'linux' ? 107 : 103;
}

/** Our effective uid (-1 where there is none). */
export function currentUid(): number {
  return process.geteuid?.() ?? -1;
}

/** Computes the daemon's paths (pure). */
export function daemonPaths(dirs: DirsInput, uid: number = currentUid()): DaemonPaths {
  const preferred = runtimeDir(dirs);
  const fits = Buffer.byteLength(join(preferred, SOCKET_NAME)) <= socketPathLimit(dirs.platform);
  const dir = fits ? preferred : `/tmp/agent-secret-${uid}-${nodeCrypto().createHash('sha256').update(preferred).digest('hex').slice(0, 8)}`;
  return {
    dir,
    socket: join(dir, SOCKET_NAME),
    pidFile: join(dir, 'daemon.pid'),
    lockFile: join(dir, 'daemon.lock'),
    spawnLockFile: join(dir, 'daemon.spawn.lock'),
    fallback: !fits,
  };
}

/**
 * Checks the runtime dir, creating it (0700, parents too) when `create` is set. Returns false
 * when it does not exist and was not to be created; throws daemon.unavailable when it is not
 * private.
 */
export function prepareRuntimeDir(paths: DaemonPaths, options: { create: boolean; uid?: number }): boolean {
  const uid = options.uid ?? currentUid();
  let stats = lstatOrNull(paths.dir);
  if (stats === null) {
    if (!options.create) return false;
    try {
      mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw unavailable(paths.dir, `it cannot be created (${errnoOf(error) ?? 'unknown error'})`, `check the permissions of its parent directory, or set XDG_RUNTIME_DIR to a private directory`);
    }
    stats = lstatOrNull(paths.dir);
    // A fresh directory of ours may still carry bits a umask let through on some systems.
    if (stats !== null && stats.isDirectory() && stats.uid === uid && (stats.mode & 0o077) !== 0) {
      chmodSync(paths.dir, 0o700);
      stats = lstatOrNull(paths.dir);
    }
    if (stats === null) throw unavailable(paths.dir, 'it vanished after it was created', 'rerun');
  }
  const problem = runtimeDirProblem(stats, paths.dir, uid);
  if (problem !== null) throw unavailable(paths.dir, problem.reason, problem.hint);
  return true;
}

/** What makes an existing runtime dir unsafe, or null. */
export function runtimeDirProblem(stats: Stats, dir: string, uid: number): { reason: string; hint: string } | null {
  if (stats.isSymbolicLink()) return { reason: 'it is a symlink', hint: `remove the link ${dir}; agent-secret creates the directory itself` };
  if (!stats.isDirectory()) return { reason: 'it is not a directory', hint: `move ${dir} away; agent-secret creates the directory itself` };
  if (stats.uid !== uid) return { reason: `it belongs to another user (uid ${stats.uid})`, hint: `move ${dir} away, or set XDG_RUNTIME_DIR to a directory of yours` };
  if ((stats.mode & 0o077) !== 0) {
    return { reason: `other users can enter it (mode ${(stats.mode & 0o777).toString(8)})`, hint: `chmod 700 ${dir}` };
  }
  return null;
}

function unavailable(dir: string, reason: string, hint: string): AgentSecretError {
  return new AgentSecretError('daemon.unavailable', `the daemon's runtime directory ${dir} cannot be used: ${reason}`, { hint });
}
