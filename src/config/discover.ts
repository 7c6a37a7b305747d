// Finds the project config: `--config PATH` if given, else the first agent-secret.yml or
// .agent-secret.yml walking up from cwd to the root. Paths come from the agent and the repo;
// only file types are checked here (reading, with its size limit, happens in load).

import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AgentSecretError } from '../core/errors.js';
import { errnoOf } from '../platform/fs.js';

/** Names looked for in each directory, in this order. */
export const CONFIG_FILE_NAMES: readonly string[] = Object.freeze(['agent-secret.yml', '.agent-secret.yml']);

/** Returns the absolute path of the project config, or null when there is none (the caller decides if that is an error). */
export async function discoverConfig(opts: { cwd: string; explicitPath?: string | undefined }): Promise<string | null> {
  const cwd = resolve(opts.cwd);
  if (opts.explicitPath !== undefined) return checkExplicit(cwd, opts.explicitPath);
  const candidates: string[] = [];
  for (let dir = cwd; ; dir = dirname(dir)) {
    for (const name of CONFIG_FILE_NAMES) candidates.push(join(dir, name));
    if (dirname(dir) === dir) break;
  }
  // All candidates are looked at together (one wait instead of one per name and directory);
  // the first that exists decides, nearest first, exactly as a walk would.
  const kinds = await Promise.allSettled(candidates.map(kindOf));
  for (const [i, candidate] of candidates.entries()) {
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
