// Who may change a project config or env file, decided from owner and mode bits alone (no file
// system here). Such a file chooses what the human is asked to approve and, with `mask: false`
// or plain env entries, how the approved child runs; if another user can write it, or replace it
// in its directory, that user chooses instead. Root is always trusted: it can change anything.

/** The parts of a stat result the decision needs. */
export interface OwnerAndMode {
  readonly uid: number;
  readonly mode: number;
}

export type TrustProblem =
  | { readonly problem: 'file_owner'; readonly uid: number }
  | { readonly problem: 'file_writable' }
  | { readonly problem: 'directory_owner'; readonly uid: number }
  | { readonly problem: 'directory_writable' };

const GROUP_OR_OTHER_WRITE = 0o022;
const OTHER_WRITE = 0o002;
const STICKY = 0o1000;

/**
 * The first reason the file (and the directory holding its name) is not safe to read for
 * `callerUid`, or null. The directory's owner can replace any entry in it; group or others
 * with write access can too, unless the sticky bit limits them to their own entries (a file
 * in /tmp that belongs to the caller cannot be swapped by anyone else).
 */
export function trustProblem(file: OwnerAndMode, directory: OwnerAndMode | null, callerUid: number): TrustProblem | null {
  if (!trustedOwner(file.uid, callerUid)) return { problem: 'file_owner', uid: file.uid };
  if ((file.mode & GROUP_OR_OTHER_WRITE) !== 0) return { problem: 'file_writable' };
  if (directory === null) return null;
  if (!trustedOwner(directory.uid, callerUid)) return { problem: 'directory_owner', uid: directory.uid };
  if ((directory.mode & GROUP_OR_OTHER_WRITE) !== 0 && (directory.mode & STICKY) === 0) return { problem: 'directory_writable' };
  return null;
}

/**
 * Whether the upward search for agent-secret.yml stops before looking in this directory: a
 * shared one (sticky, like /tmp, or writable by everyone) holds whatever anyone put there, so
 * neither it nor anything above it can speak for the project below.
 */
export function endsConfigSearch(directory: OwnerAndMode): boolean {
  return (directory.mode & (STICKY | OTHER_WRITE)) !== 0;
}

function trustedOwner(uid: number, callerUid: number): boolean {
  return uid === 0 || uid === callerUid;
}

/**
 * The command that makes a file the caller's own, for a hint: root can chown it directly; anyone
 * else needs root for that (`sudo`). `$(id -un)` works where `$USER` is unset (containers).
 */
export function chownCommand(quotedPath: string, callerUid: number | undefined): string {
  return `${callerUid === 0 ? '' : 'sudo '}chown "$(id -un)" ${quotedPath}`;
}
