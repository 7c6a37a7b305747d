// Checks shared by the audit writer, lock and reader: the directory and files are untrusted until
// checked (no symlinks, ours, not shared), and a failure is described by its errno code only,
// never by a system message, plus a hint that says how to fix it.

import { errnoOf } from '../platform/fs.js';
import type { Stats } from 'node:fs';

/** What is wrong, and how to fix it. */
export interface Problem {
  reason: string;
  hint: string;
}

/** The audit directory must be a real directory owned by us. */
export function dirProblem(stats: Stats, dir: string, uid: number): Problem | null {
  if (stats.isSymbolicLink()) {
    return { reason: `${dir} is a symlink`, hint: `the audit directory must be a real directory: remove the link ${dir} and rerun` };
  }
  if (!stats.isDirectory()) return { reason: `${dir} is not a directory`, hint: `move ${dir} away and rerun; it is created automatically` };
  if (stats.uid !== uid) {
    return { reason: `${dir} belongs to another user (uid ${stats.uid})`, hint: `the audit directory must be yours: move ${dir} away and rerun` };
  }
  return null;
}

/** An audit file must be a regular file owned by us that nobody else can read or write. */
export function fileProblem(stats: Stats, path: string, uid: number): Problem | null {
  if (stats.isSymbolicLink()) return { reason: 'it is a symlink', hint: `remove the link ${path}; agent-secret creates the file itself` };
  if (!stats.isFile()) return { reason: 'it is not a regular file', hint: `move ${path} away and rerun` };
  if (stats.uid !== uid) return { reason: `it belongs to another user (uid ${stats.uid})`, hint: `move ${path} away and rerun` };
  if ((stats.mode & 0o077) !== 0) {
    return { reason: `it is readable or writable by others (mode ${(stats.mode & 0o777).toString(8)})`, hint: `chmod 600 ${path}` };
  }
  return null;
}

/** Describes a failed system call by its errno code only: a system message may carry text we did not choose. */
export function errnoProblem(error: unknown, where: string): Problem {
  const code = codeOf(error) ?? 'unknown error';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return { reason: code, hint: `${where} must be writable by you; check its owner and permissions, then run agent-secret doctor` };
    case 'ELOOP':
      return { reason: 'it is a symlink', hint: `remove the link ${where}; agent-secret creates the file itself` };
    case 'ENXIO':
      return { reason: 'it is not a regular file', hint: `move ${where} away and rerun` };
    case 'ENOTDIR':
    case 'EEXIST':
      return { reason: code, hint: `a file is in the way of the audit directory; move it away, or point XDG_STATE_HOME elsewhere` };
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EROFS':
    case 'EIO':
      return { reason: code, hint: 'free disk space or fix the file system, then rerun' };
    default:
      return { reason: code, hint: 'run agent-secret doctor to check the audit log' };
  }
}

/** The errno code of a thrown value, when it looks like one (platform/fs.ts's errnoOf). */
export const codeOf = errnoOf;

/** Our effective uid (-1 where there is none). */
export function currentUid(): number {
  return process.geteuid?.() ?? -1;
}
