// Reads a config or env file that anyone with write access to the repo may have placed:
// refuses non-regular files and files over 1 MiB before reading a byte, and never blocks on
// a FIFO. Errors name the path and the system error code only, never file content.

import { errnoOf } from '../platform/fs.js';
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { AgentSecretError, type ErrorCode } from '../core/errors.js';

export const MAX_FILE_BYTES = 1024 * 1024;

/** Which kind of file is read, which decides the error codes and wording. */
export type FileKind = 'config' | 'env_file';

const LABEL: Record<FileKind, string> = { config: 'config file', env_file: 'env file' };

/** Reads a regular, UTF-8 text file of at most 1 MiB, or throws an AgentSecretError naming the path. */
export async function readSmallTextFile(path: string, kind: FileKind): Promise<string> {
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
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    checkShape(kind, path, true, filled);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, filled));
    } catch {
      throw fileError(kind, 'unreadable', `${label} is not UTF-8 text: ${path}`, path);
    }
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

function fileError(kind: FileKind, problem: 'missing' | 'unreadable', message: string, path: string, cause?: unknown): AgentSecretError {
  const code: ErrorCode = kind === 'env_file' ? 'env_file.invalid' : problem === 'missing' ? 'config.not_found' : 'config.unreadable';
  return new AgentSecretError(code, message, { details: { file: path }, ...(cause === undefined ? {} : { cause }) });
}

/** The errno code (`ENOENT`, `EACCES`, …) of a system error, if it has one. */
