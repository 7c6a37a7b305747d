// File identity of the approved executable and how replaceable its path is. The file system
// is untrusted: anyone who can write the file or a directory above it could swap what runs.
// Invariant: a path whose identity no longer matches the approved one is never started.

import { closeSync, constants, existsSync, fstatSync, openSync, readSync, stat as statCallback, statSync, type Stats } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AgentSecretError } from '../core/errors.js';
import type { ExecutableIdentity } from '../request/types.js';

export interface MutabilityFinding {
  path: string;
  problem: 'owned_by_user' | 'owned_by_other_user' | 'group_writable' | 'world_writable';
}

/** The identity of a file from one stat call. Pure. */
export function identityOf(stats: Stats): ExecutableIdentity {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, mode: stats.mode, uid: stats.uid };
}

/** Reads the identity (device, inode, size, mtime, mode, owner) of the file at path. */
export async function readIdentity(path: string): Promise<ExecutableIdentity> {
  // The callback form: the reused-exec fast path checks identity without loading node:fs/promises.
  const stats = await new Promise<Stats>((resolve, reject) => statCallback(path, (error, result) => (error ? reject(error) : resolve(result))));
  return identityOf(stats);
}

/** Throws exec.identity_changed unless the file at path still has the expected identity. */
export async function verifyIdentity(path: string, expected: ExecutableIdentity): Promise<void> {
  // A file that vanished has changed as much as a file can.
  const actual = await readIdentity(path).catch(() => null);
  assertIdentity(path, actual, expected);
}

/**
 * verifyIdentity with one synchronous stat: for the process about to spawn the child, which has
 * nothing else to do meanwhile and then needs no libuv thread pool at all.
 */
export function verifyIdentitySync(path: string, expected: ExecutableIdentity): void {
  let actual: ExecutableIdentity | null = null;
  try {
    actual = identityOf(statSync(path));
  } catch {
    // As above: vanished means changed.
  }
  assertIdentity(path, actual, expected);
}

/** What to hand to exec for the approved executable, and when to let go of it. */
export interface ExecTarget {
  /** A /proc magic link to the verified open file, or the approved path itself. */
  readonly execPath: string;
  /** Closes the descriptor behind execPath, if any; idempotent. Call once spawn has returned. */
  release(): void;
}

/**
 * The approved executable, pinned: on Linux the file is opened, its identity is checked on the
 * descriptor (fstat), and exec is given /proc/<our pid>/fd/<fd>, a link the kernel resolves to
 * the open file itself, not to whatever the path names by then. Checking a path and then
 * exec'ing it are two lookups, and an agent that can rename a directory above the file can
 * exchange it in between (measured: 4 of 40 reused runs under a renameat2 swap loop ran the
 * other file); the descriptor closes that gap. spawn() returns only after the child's execve
 * (libuv waits for it), so release() right after spawn is safe.
 *
 * Left on the path check (verifyIdentitySync), knowingly:
 * - a `#!` script: the kernel hands the interpreter the path exec was given as the script
 *   name, so a /proc link would become the script's $0 and break `dirname "$0"`, and the
 *   interpreter opens it after our descriptor may be closed. The interpreter opens the path
 *   itself in any case, so a descriptor would not pin what it reads either. The residual race
 *   needs write access to a directory above the script, which is a mutability finding
 *   (refused without --allow-mutable-executable, warned about with it) or a root caller inside
 *   the project (warned about too);
 * - a file we may execute but not read (mode 0111), and systems without /proc (macOS).
 */
export function openApprovedExecutable(path: string, expected: ExecutableIdentity, platform: NodeJS.Platform = process.platform): ExecTarget {
  const byPath = (): ExecTarget => {
    verifyIdentitySync(path, expected);
    return { execPath: path, release: () => undefined };
  };
  if (platform !== 'linux') return byPath();
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO put in its place must not hang us (its identity fails below).
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return byPath();
  }
  let pinned = false;
  try {
    let actual: ExecutableIdentity | null = null;
    try {
      actual = identityOf(fstatSync(fd));
    } catch {
      // Reported as changed below.
    }
    assertIdentity(path, actual, expected);
    const link = `/proc/${process.pid}/fd/${fd}`;
    if (startsWithShebang(fd) || !existsSync(link)) return byPath();
    pinned = true;
    let open = true;
    return {
      execPath: link,
      release: () => {
        if (open) closeSync(fd);
        open = false;
      },
    };
  } finally {
    if (!pinned) closeSync(fd);
  }
}

function startsWithShebang(fd: number): boolean {
  const head = Buffer.alloc(2);
  try {
    return readSync(fd, head, 0, 2, 0) === 2 && head.toString('latin1') === '#!';
  } catch {
    return false;
  }
}

function assertIdentity(path: string, actual: ExecutableIdentity | null, expected: ExecutableIdentity): void {
  if (actual === null || !sameIdentity(actual, expected)) {
    throw new AgentSecretError('exec.identity_changed', `the approved executable changed before it could start: ${path}`, {
      hint: 'rerun the command to approve the current file',
    });
  }
}

/** Lists who besides root could replace the file: it and every directory above it. */
export async function findMutability(path: string, opts: { uid: number }): Promise<MutabilityFinding[]> {
  let current: string;
  try {
    current = await realpath(path);
  } catch {
    current = path;
  }
  const findings: MutabilityFinding[] = [];
  let below: Stats | null = null;
  for (;;) {
    const stats = await lstat(current).catch(() => null);
    if (stats !== null) findings.push(...problemsOf(current, stats, opts.uid, below));
    below = stats;
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return findings;
}

/**
 * For a root caller: which of these files lie inside the project, that is the repository (the
 * nearest directory at or above cwd holding `.git`, else the project config's directory) or
 * cwd. Root owns what it writes, so findMutability finds nothing there, yet whatever runs as
 * root in the project (a build step, the agent itself) can rewrite those files: the prompt says so.
 */
export async function findProjectFiles(paths: readonly string[], opts: { cwd: string; configPath: string | null }): Promise<Array<{ path: string; dir: string }>> {
  const top = (await repositoryRoot(opts.cwd)) ?? (opts.configPath === null ? null : dirname(await realpath(opts.configPath).catch(() => opts.configPath as string)));
  // "/" would make every file a project file: it says nothing then.
  const dirs = [top, opts.cwd].filter((d): d is string => d !== null && d !== '/');
  const found: Array<{ path: string; dir: string }> = [];
  for (const path of paths) {
    const real = await realpath(path).catch(() => path);
    const dir = dirs.find((d) => real.startsWith(`${d.replace(/\/+$/, '')}/`));
    if (dir !== undefined) found.push({ path: real, dir });
  }
  return found;
}

// The nearest directory at or above dir that holds .git (a directory, or a worktree's file):
// one lstat per level, no git process.
async function repositoryRoot(dir: string): Promise<string | null> {
  let current = dir;
  for (;;) {
    if ((await lstat(join(current, '.git')).catch(() => null)) !== null) return current;
    const parent = dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}

function sameIdentity(a: ExecutableIdentity, b: ExecutableIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.mode === b.mode && a.uid === b.uid;
}

// Whoever can write a path component can swap what runs. Root owns system binaries, so root
// ownership is never a finding; another user owning a component is; for non-root callers,
// owning it yourself is too (the agent runs as you). A sticky world-writable directory (/tmp)
// only lets others rename their own entries, so it is safe when the entry below it belongs
// to root or to the caller.
function problemsOf(path: string, stats: Stats, uid: number, below: Stats | null): MutabilityFinding[] {
  const found: MutabilityFinding[] = [];
  if (stats.uid !== 0 && stats.uid !== uid) found.push({ path, problem: 'owned_by_other_user' });
  if (uid !== 0 && stats.uid === uid) found.push({ path, problem: 'owned_by_user' });
  const stickyAndSafe = stats.isDirectory() && (stats.mode & 0o1000) !== 0 && below !== null && (below.uid === 0 || below.uid === uid);
  if (!stickyAndSafe) {
    if ((stats.mode & 0o020) !== 0) found.push({ path, problem: 'group_writable' });
    if ((stats.mode & 0o002) !== 0) found.push({ path, problem: 'world_writable' });
  }
  return found;
}
