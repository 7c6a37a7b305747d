// Small file-system helpers every layer uses the same way: the errno code of a failure (never
// the system's message, which can quote paths we did not choose), lstat that says "not there"
// as null, unlink that does not care, and a bounded read of a file's head that never follows a
// symlink or blocks on a FIFO.

import { closeSync, constants, lstatSync, openSync, readSync, unlinkSync, type Stats } from 'node:fs';

/** The errno code of a thrown value, when it looks like one. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
}

/** lstat, or null when the path cannot be looked at (missing, or a parent is not searchable). */
export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** Removes a file, ignoring every failure (already gone, or not ours to remove). */
export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Nothing to do: callers only tidy up.
  }
}

/** The first `max` bytes of a file as latin1 text; null when it cannot be opened or read. No symlinks, no blocking. */
export function readHead(path: string, max: number): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const buffer = Buffer.alloc(max);
    return buffer.subarray(0, readSync(fd, buffer, 0, max, 0)).toString('latin1');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Clips text to `max` characters (code points), marking the cut with an ellipsis. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
}
