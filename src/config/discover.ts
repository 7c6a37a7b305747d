// Finds the project config: `--config PATH` if given, else the first agent-secret.yml or
// .agent-secret.yml walking up from cwd, stopping before a shared directory (sticky or
// writable by everyone, such as /tmp). Paths come from the agent and the repo; only file types
// are checked here (reading, with its size, owner and mode checks, happens in load).

import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AgentSecretError } from '../core/errors.js';
import { errnoOf } from '../platform/fs.js';
import { endsConfigSearch } from './file-trust.js';

/** Names looked for in each directory, in this order. */
export const CONFIG_FILE_NAMES: readonly string[] = Object.freeze(['agent-secret.yml', '.agent-secret.yml']);

/** Returns the absolute path of the project config, or null when there is none (the caller decides if that is an error). */
export async function discoverConfig(opts: { cwd: string; explicitPath?: string | undefined }): Promise<string | null> {
  const cwd = resolve(opts.cwd);
  if (opts.explicitPath !== undefined) return checkExplicit(cwd, opts.explicitPath);
  const dirs: string[] = [];
  for (let dir = cwd; ; dir = dirname(dir)) {
    dirs.push(dir);
    if (dirname(dir) === dir) break;
  }
  const candidates = dirs.flatMap((dir) => CONFIG_FILE_NAMES.map((name) => join(dir, name)));
  // All directories and candidates are looked at together (one wait instead of one per name
  // and directory); the first that exists below the first shared directory decides, nearest
  // first, exactly as a walk would.
  const [shared, kinds] = await Promise.all([Promise.all(dirs.map(isShared)), Promise.allSettled(candidates.map(kindOf))]);
  const firstShared = shared.indexOf(true);
  const searched = candidates.slice(0, (firstShared === -1 ? dirs.length : firstShared) * CONFIG_FILE_NAMES.length);
  for (const [i, candidate] of searched.entries()) {
    const kind = kinds[i]!;
    if (kind.status === 'rejected') throw kind.reason;
    if (kind.value === 'file') return candidate;
    if (kind.value === 'other') {
      throw new AgentSecretError('config.unreadable', `config file must be a regular file: ${candidate}`, { details: { file: candidate } });
    }
  }
  return null;
}

async function checkExplicit(cwd: string, explicitPath: string): Promise<string> {
  if (explicitPath.trim() === '') {
    throw new AgentSecretError('usage.invalid', '--config needs a path', { details: { flag: '--config' } });
  }
  const path = resolve(cwd, explicitPath);
  const kind = await kindOf(path);
  if (kind === 'missing') {
    throw new AgentSecretError('config.not_found', `config file not found: ${path}`, { details: { file: path, flag: '--config' } });
  }
  if (kind !== 'file') {
    throw new AgentSecretError('config.unreadable', `config file must be a regular file: ${path}`, { details: { file: path, flag: '--config' } });
  }
  return path;
}

// A directory anyone can add files to (or one that cannot be looked at) ends the search: what
// is in it, or above it, was not necessarily put there by the project's owner.
async function isShared(dir: string): Promise<boolean> {
  // Without POSIX owners (Windows) mode bits say nothing; read-file.ts skips its checks too.
  if (process.getuid === undefined) return false;
  try {
    return endsConfigSearch(await stat(dir));
  } catch {
    return true;
  }
}

// Follows symlinks: a link to a regular file is a regular file.
async function kindOf(path: string): Promise<'file' | 'directory' | 'other' | 'missing'> {
  try {
    const info = await stat(path);
    if (info.isFile()) return 'file';
    return info.isDirectory() ? 'directory' : 'other';
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return 'missing';
    throw new AgentSecretError('config.unreadable', `config file cannot be checked: ${path} (${errno ?? 'error'})`, {
      details: { file: path },
      cause: error,
    });
  }
}
