// Finds a dialog program (zenity, kdialog) in a fixed list of system directories, never on the
// caller's PATH: the agent controls PATH, and a fake "zenity" that exits 0 would approve
// everything. A candidate must be an executable regular file that not everyone can rewrite.

import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** First usable `name` in `dirs`, or null. */
export async function findProgram(name: string, dirs: readonly string[]): Promise<string | null> {
  for (const dir of dirs) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, name);
    if (await isTrustedExecutable(candidate)) return candidate;
  }
  return null;
}

/** True for an executable regular file that is not world-writable (symlinks followed). */
export async function isTrustedExecutable(path: string): Promise<boolean> {
  try {
    const stats = await stat(path);
    if (!stats.isFile() || (stats.mode & 0o002) !== 0) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
