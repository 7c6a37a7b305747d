// A token kept in a file of the user's: regular (never a symlink), owned by the user, readable
// by nobody else (0600 or 0400), at most 64 KiB, one line. Read through one descriptor opened
// with O_NOFOLLOW and checked on that descriptor; written to a fresh 0600 file in a 0700
// directory and renamed into place. The token is returned as a SecretValue and never echoed:
// errors name the path and what is wrong with it.

import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AgentSecretError } from '../../core/errors.js';
import { SecretValue } from '../../core/secret-value.js';
import { errnoOf } from '../../platform/fs.js';

/** Largest token file accepted, in bytes. */
export const MAX_TOKEN_BYTES = 64 * 1024;

/** What is wrong with a token file, or null when it may be read. Pure over the stats. */
export function tokenFileProblem(stats: Stats, uid: number): { problem: string; fix: string } | null {
  if (stats.isSymbolicLink()) return { problem: 'is a symlink', fix: 'replace the symlink with the file itself' };
  if (!stats.isFile()) return { problem: 'is not a regular file', fix: 'make it a plain file' };
  if (uid >= 0 && stats.uid !== uid) return { problem: 'is owned by another user', fix: 'chown it to yourself' };
  if ((stats.mode & 0o077) !== 0) return { problem: 'is readable or writable by group or others', fix: 'chmod 600 it' };
  if (stats.size > MAX_TOKEN_BYTES) return { problem: `is larger than ${MAX_TOKEN_BYTES / 1024} KiB`, fix: 'keep only the token in it' };
  return null;
}

/** The file's state without reading it: missing, unusable (why), or present. */
export async function checkTokenFile(path: string, uid: number): Promise<{ state: 'missing' } | { state: 'bad'; problem: string; fix: string } | { state: 'present'; mode: number }> {
  let stats: Stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return { state: 'missing' };
    return { state: 'bad', problem: 'cannot be read', fix: 'check the permissions of the file and its directories' };
  }
  const problem = tokenFileProblem(stats, uid);
  return problem === null ? { state: 'present', mode: stats.mode & 0o777 } : { state: 'bad', ...problem };
}

/** Reads the token; null when the file does not exist. Throws provider.failed naming the path when it is unusable. */
export async function readTokenFile(path: string, uid: number): Promise<SecretValue | null> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT') return null;
    throw unusable(path, code === 'ELOOP' ? 'is a symlink' : 'cannot be read', code === 'ELOOP' ? 'replace the symlink with the file itself' : 'check the permissions of the file and its directories');
  }
  try {
    const stats = await handle.stat();
    const problem = tokenFileProblem(stats, uid);
    if (problem !== null) throw unusable(path, problem.problem, problem.fix);
    const buffer = Buffer.alloc(MAX_TOKEN_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_TOKEN_BYTES) throw unusable(path, `is larger than ${MAX_TOKEN_BYTES / 1024} KiB`, 'keep only the token in it');
    const token = normalizeToken(buffer.subarray(0, length).toString('utf8'));
    buffer.fill(0);
    if (token === null) throw unusable(path, 'does not hold one token on one line', 'store the token again with agent-secret provider token set');
    return new SecretValue(token);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Writes the token to a fresh 0600 file next to `path`, then renames it over `path`. The directory is made 0700. */
export async function writeTokenFile(path: string, token: SecretValue): Promise<void> {
  const dir = dirname(path);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const stats = await lstat(dir);
    if (!stats.isDirectory()) throw new Error('not a directory');
    if ((stats.mode & 0o022) !== 0) await chmod(dir, stats.mode & 0o755);
  } catch {
    throw new AgentSecretError('provider.failed', `could not prepare the directory ${dir} for the token file`, { hint: 'check that it is a directory of yours, not writable by others' });
  }
  const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      await handle.writeFile(`${token.reveal()}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch {
    await unlink(temp).catch(() => undefined);
    throw new AgentSecretError('provider.failed', `could not write the token file ${path}`, { hint: 'check that the directory is yours and writable, and that the disk is not full' });
  }
}

/** Removes the token file: 'removed', or 'missing' when there was none. */
export async function removeTokenFile(path: string): Promise<'removed' | 'missing'> {
  try {
    await unlink(path);
    return 'removed';
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return 'missing';
    throw new AgentSecretError('provider.failed', `could not remove the token file ${path}`, { hint: 'check the permissions of the file and its directory' });
  }
}

/**
 * A token as stored or typed: surrounding whitespace and line breaks removed; null when nothing
 * is left or it still has a line break, NUL or other control character inside. Pure.
 */
export function normalizeToken(text: string): string | null {
  const token = text.trim();
  // eslint-disable-next-line no-control-regex
  if (token === '' || /[\u0000-\u001f\u007f]/.test(token)) return null;
  return token;
}

function unusable(path: string, problem: string, fix: string): AgentSecretError {
  return new AgentSecretError('provider.failed', `the token file ${path} ${problem}; it was not used`, { hint: `${fix}: ${path}` });
}
