// Whether one of our own output descriptors is the null device. Output written there reaches
// nobody, so the child may write to it directly instead of through the masker: the same
// bytes are discarded either way, without a pipe and a transform per exec.

import { fstatSync, statSync } from 'node:fs';

/** True when fd is open on the null device (same character device as /dev/null); false on any doubt. */
export function isNullDevice(fd: number): boolean {
  try {
    const stats = fstatSync(fd);
    if (!stats.isCharacterDevice()) return false;
    const nul = statSync('/dev/null');
    return nul.isCharacterDevice() && nul.rdev === stats.rdev;
  } catch {
    return false;
  }
}
