// Reads a config or env file that anyone with write access to the repo may have placed:
// refuses non-regular files and files over 1 MiB before reading a byte, never blocks on a
// FIFO, and refuses a file another user could change or replace (file-trust.ts), judged on
// the descriptor that is then read. Errors name the path and the system error code only,
// never file content.

import { errnoOf } from '../platform/fs.js';
import { constants, type Stats } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AgentSecretError, type ErrorCode } from '../core/errors.js';
import { shellQuote } from '../core/display-text.js';
import { chownCommand, trustProblem, type TrustProblem } from './file-trust.js';

export const MAX_FILE_BYTES = 1024 * 1024;

/** Which kind of file is read, which decides the error codes and wording. */
export type FileKind = 'config' | 'env_file' | 'template';

const LABEL: Record<FileKind, string> = { config: 'config file', env_file: 'env file', template: 'template file' };

/**
 * Reads a regular, UTF-8 text file of at most 1 MiB that only `callerUid` or root can change,
 * or throws an AgentSecretError naming the path. Without a uid (no POSIX owners) the owner and
 * mode checks are left out.
 */
export async function readSmallTextFile(path: string, kind: FileKind, callerUid: number | undefined = process.getuid?.()): Promise<string> {
  const bytes = await readSmallFile(path, kind, callerUid);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fileError(kind, 'unreadable', `${LABEL[kind]} is not UTF-8 text: ${path}`, path);
  }
}

/** As readSmallTextFile, the file's exact bytes (a template is hashed and rendered byte for byte). */
export async function readSmallFile(path: string, kind: FileKind, callerUid: number | undefined = process.getuid?.()): Promise<Buffer> {
  const label = LABEL[kind];
  const info = await stat(path).catch((error: unknown) => {
    const errno = errnoOf(error);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') throw fileError(kind, 'missing', `${label} not found: ${path}`, path, error);
    throw fileError(kind, 'unreadable', `${label} cannot be read: ${path} (${errno ?? 'error'})`, path, error);
  });
  checkShape(kind, path, info.isFile(), info.size);

  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch((error: unknown) => {
    throw fileError(kind, 'unreadable', `${label} cannot be opened: ${path} (${errnoOf(error) ?? 'error'})`, path, error);
  });
  try {
    // Re-check on the open handle: the path may have been swapped since the stat above.
    const opened = await handle.stat();
    checkShape(kind, path, opened.isFile(), opened.size);
    if (callerUid !== undefined) await checkTrust(kind, path, opened, callerUid);
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    checkShape(kind, path, true, filled);
    return Buffer.from(buffer.subarray(0, filled));
  } catch (error) {
    if (error instanceof AgentSecretError) throw error;
    throw fileError(kind, 'unreadable', `${label} cannot be read: ${path} (${errnoOf(error) ?? 'error'})`, path, error);
  } finally {
    await handle.close();
  }
}

function checkShape(kind: FileKind, path: string, isFile: boolean, size: number): void {
  if (!isFile) throw fileError(kind, 'unreadable', `${LABEL[kind]} must be a regular file: ${path}`, path);
  if (size > MAX_FILE_BYTES) {
    throw fileError(kind, 'unreadable', `${LABEL[kind]} exceeds ${MAX_FILE_BYTES} bytes (1 MiB): ${path}`, path);
  }
}

// Owner and mode come from the open descriptor, so what was judged is what is read. The
// directories holding the name (and, for a symlink, its target) can only be looked at by
// path; the target is then checked to still be the opened file.
async function checkTrust(kind: FileKind, path: string, opened: Stats, callerUid: number): Promise<void> {
  const own = trustProblem(opened, null, callerUid);
  if (own !== null) throw trustError(kind, own, path, path, callerUid);
  let real: string;
  let target: Stats;
  try {
    real = await realpath(path);
    target = await stat(real);
  } catch (error) {
    throw fileError(kind, 'unreadable', `${LABEL[kind]} cannot be checked: ${path} (${errnoOf(error) ?? 'error'})`, path, error);
  }
  if (target.dev !== opened.dev || target.ino !== opened.ino) {
    throw fileError(kind, 'unreadable', `${LABEL[kind]} changed while it was being read: ${path}`, path, undefined, 'run the command again');
  }
  for (const file of new Set([path, real])) {
    // A directory that cannot be looked at cannot be vouched for either.
    const directory = await stat(dirname(file)).catch(() => null);
    if (directory === null) throw fileError(kind, 'unreadable', `${LABEL[kind]} is in a directory that cannot be checked: ${path}`, path);
    const problem = trustProblem(opened, directory, callerUid);
    if (problem !== null) throw trustError(kind, problem, path, file, callerUid);
  }
}

// `file` is the name whose directory is at fault (the symlink's target when that differs).
function trustError(kind: FileKind, found: TrustProblem, path: string, file: string, callerUid: number): AgentSecretError {
  const dir = shellQuote(dirname(file));
  const [problem, hint] =
    found.problem === 'file_owner'
      ? [`is owned by another user (uid ${found.uid}), who could change what it asks for`, `use a copy of your own, or ${chownCommand(shellQuote(path), callerUid)} if you trust its content`]
      : found.problem === 'file_writable'
        ? ['is writable by group or others, who could change what it asks for', `chmod go-w ${shellQuote(file)}`]
        : found.problem === 'directory_owner'
          ? [`is in a directory owned by another user (uid ${found.uid}), who could replace it`, `keep the file in a directory you own (not ${dir})`]
          : ['is in a directory that group or others can write, so they could replace it', `chmod go-w ${dir}`];
  return fileError(kind, 'unreadable', `${LABEL[kind]} ${problem}: ${path}`, path, undefined, hint);
}

function fileError(kind: FileKind, problem: 'missing' | 'unreadable', message: string, path: string, cause?: unknown, hint?: string): AgentSecretError {
  const code: ErrorCode = kind === 'env_file' ? 'env_file.invalid' : kind === 'template' ? 'template.invalid' : problem === 'missing' ? 'config.not_found' : 'config.unreadable';
  return new AgentSecretError(code, message, { details: { file: path }, ...(cause === undefined ? {} : { cause }), ...(hint === undefined ? {} : { hint }) });
}

/** The errno code (`ENOENT`, `EACCES`, …) of a system error, if it has one. */
