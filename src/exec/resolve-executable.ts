// Finds the program a command line names, the way execvp would, but done by us so the human
// approves the exact file that will run. argv[0] and PATH come from the agent: untrusted.
// Invariant: the result is an absolute, symlink-free path to an executable regular file.

import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { AgentSecretError } from '../core/errors.js';
import { SYSTEM_PROGRAM_DIRS } from '../core/program-dirs.js';
import type { ExecutableIdentity } from '../request/types.js';
import { identityOf } from './identity.js';

export interface ResolvedExecutable {
  path: string;
  identity: ExecutableIdentity;
}

type Candidate = { kind: 'ok'; path: string; stats: Stats } | { kind: 'missing' | 'directory' | 'not_regular' | 'not_executable' };

/**
 * The system-directory paths by which argv[0] names this very executable: `/usr/bin/npm` for a
 * request whose program resolved to `/usr/lib/node_modules/npm/bin/npm-cli.js`. A policy's bare
 * program name (`npm`) matches through them; each is a link only an administrator can change,
 * and what runs is the resolved file itself. Empty when argv[0] has a `/` outside those
 * directories. At most one realpath per system directory.
 */
export async function systemPathsOf(argv0: string, executable: string): Promise<string[]> {
  const name = argv0.slice(argv0.lastIndexOf('/') + 1);
  if (name === '' || name === '.' || name === '..' || argv0.includes('\0')) return [];
  const dirs = argv0.includes('/') ? SYSTEM_PROGRAM_DIRS.filter((d) => argv0 === `${d}/${name}`) : SYSTEM_PROGRAM_DIRS;
  const found = await Promise.all(dirs.map(async (d) => ((await realpath(`${d}/${name}`).catch(() => null)) === executable ? `${d}/${name}` : null)));
  return found.filter((p): p is string => p !== null);
}

/** Resolves argv[0] against cwd (when it has a '/') or PATH, to a real executable file. */
export async function resolveExecutable(argv0: string, opts: { cwd: string; pathEnv: string | undefined }): Promise<ResolvedExecutable> {
  if (argv0.length === 0 || argv0.includes('\0')) {
    throw new AgentSecretError('exec.not_found', 'the command name is empty', { hint: 'pass the program to run after --' });
  }
  const shown = printable(argv0);
  if (argv0.includes('/')) {
    const candidate = await inspect(isAbsolute(argv0) ? argv0 : resolve(opts.cwd, argv0));
    if (candidate.kind === 'ok') return { path: candidate.path, identity: identityOf(candidate.stats) };
    throw refusal(shown, candidate.kind);
  }
  // Like Go's LookPath, an empty PATH string has no entries; an empty entry inside it is cwd.
  const entries = opts.pathEnv === undefined || opts.pathEnv === '' ? [] : opts.pathEnv.split(':');
  for (const entry of entries) {
    const candidate = await inspect(resolve(opts.cwd, entry === '' ? '.' : entry, argv0));
    if (candidate.kind === 'ok') return { path: candidate.path, identity: identityOf(candidate.stats) };
  }
  throw new AgentSecretError('exec.not_found', `executable "${shown}" not found in PATH`, {
    hint: 'check the command name, or pass an absolute path',
  });
}

async function inspect(path: string): Promise<Candidate> {
  let real: string;
  let stats: Stats;
  try {
    real = await realpath(path);
    stats = await stat(real);
  } catch {
    return { kind: 'missing' };
  }
  if (stats.isDirectory()) return { kind: 'directory' };
  if (!stats.isFile()) return { kind: 'not_regular' };
  // access(X_OK) answers for our uid and groups; as root it passes when any x bit is set,
  // which the mode test below also demands on systems where root's X_OK is looser.
  if ((stats.mode & 0o111) === 0) return { kind: 'not_executable' };
  try {
    await access(real, constants.X_OK);
  } catch {
    return { kind: 'not_executable' };
  }
  return { kind: 'ok', path: real, stats };
}

function refusal(shown: string, kind: Exclude<Candidate['kind'], 'ok'>): AgentSecretError {
  switch (kind) {
    case 'missing':
      return new AgentSecretError('exec.not_found', `executable "${shown}" not found`, { hint: 'check the command name, or pass an absolute path' });
    case 'directory':
      return new AgentSecretError('exec.not_found', `"${shown}" is a directory, not an executable`, { hint: 'name the program file to run' });
    case 'not_regular':
      return new AgentSecretError('exec.not_found', `"${shown}" is not a regular file`, { hint: 'name the program file to run' });
    case 'not_executable':
      return new AgentSecretError('exec.not_found', `"${shown}" is not executable`, { hint: 'make it executable (chmod +x) or run it through its interpreter' });
  }
}

// argv[0] is the agent's text, echoed in a message: keep it short and printable.
function printable(text: string): string {
  const clipped = [...text].length > 128 ? `${[...text].slice(0, 128).join('')}…` : text;
  // eslint-disable-next-line no-control-regex
  return clipped.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff"]/gu, '?');
}
