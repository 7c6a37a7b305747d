// The pure ownership decision for project configs and env files: who owns the file and its
// directory, and who can write them, for a root and a non-root caller; and which directories
// end the upward search. The owner cases live here because an e2e test can chown only as root.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { endsConfigSearch, trustProblem, type OwnerAndMode } from '../../../src/config/file-trust.js';

const ME = 1000;
const OTHER = 65534;
const ROOT = 0;
const at = (uid: number, mode: number): OwnerAndMode => ({ uid, mode });
const SAFE_DIR = at(ME, 0o40755);

describe('trustProblem', () => {
  it.each([
    ['my file in my directory', ME, at(ME, 0o100644), SAFE_DIR, null],
    ['a read-only file of mine', ME, at(ME, 0o100400), SAFE_DIR, null],
    ["root's file, non-root caller", ME, at(ROOT, 0o100644), at(ROOT, 0o40755), null],
    ["another user's file, non-root caller", ME, at(OTHER, 0o100644), SAFE_DIR, { problem: 'file_owner', uid: OTHER }],
    ["another user's read-only file, non-root caller", ME, at(OTHER, 0o100444), SAFE_DIR, { problem: 'file_owner', uid: OTHER }],
    ["root's file, root caller", ROOT, at(ROOT, 0o100644), at(ROOT, 0o40755), null],
    ["another user's file, root caller", ROOT, at(OTHER, 0o100644), at(ROOT, 0o40755), { problem: 'file_owner', uid: OTHER }],
    ["a non-root user's file, root caller", ROOT, at(ME, 0o100644), at(ROOT, 0o40755), { problem: 'file_owner', uid: ME }],
    ['group-writable file', ME, at(ME, 0o100664), SAFE_DIR, { problem: 'file_writable' }],
    ['world-writable file', ME, at(ME, 0o100666), SAFE_DIR, { problem: 'file_writable' }],
    ['world-writable file of root, root caller', ROOT, at(ROOT, 0o100646), at(ROOT, 0o40755), { problem: 'file_writable' }],
    ['owner is checked before mode', ME, at(OTHER, 0o100666), SAFE_DIR, { problem: 'file_owner', uid: OTHER }],
    ['no directory given: the file alone', ME, at(ME, 0o100644), null, null],
    ["in another user's directory", ME, at(ME, 0o100644), at(OTHER, 0o40755), { problem: 'directory_owner', uid: OTHER }],
    ["in root's directory", ME, at(ME, 0o100644), at(ROOT, 0o40755), null],
    ['in a group-writable directory', ME, at(ME, 0o100644), at(ME, 0o40775), { problem: 'directory_writable' }],
    ['in a world-writable directory', ME, at(ME, 0o100644), at(ME, 0o40777), { problem: 'directory_writable' }],
    ['in a sticky world-writable directory of root (/tmp)', ME, at(ME, 0o100644), at(ROOT, 0o41777), null],
    ["in a sticky directory of another user (its owner can still replace entries)", ME, at(ME, 0o100644), at(OTHER, 0o41777), { problem: 'directory_owner', uid: OTHER }],
    ['root caller, sticky world-writable directory of root', ROOT, at(ROOT, 0o100600), at(ROOT, 0o41777), null],
  ] as const)('%s', (_name, caller, file, directory, expected) => {
    expect(trustProblem(file, directory, caller)).toEqual(expected);
  });

  it('never trusts a file that a user other than the caller or root owns, or that group or others can write (property)', () => {
    const uid = fc.integer({ min: 0, max: 70_000 });
    const mode = fc.integer({ min: 0, max: 0o7777 });
    fc.assert(
      fc.property(uid, uid, mode, uid, mode, (caller, fileUid, fileMode, dirUid, dirMode) => {
        const problem = trustProblem(at(fileUid, 0o100000 | fileMode), at(dirUid, 0o40000 | dirMode), caller);
        const fileOk = (fileUid === 0 || fileUid === caller) && (fileMode & 0o022) === 0;
        const dirOk = (dirUid === 0 || dirUid === caller) && ((dirMode & 0o022) === 0 || (dirMode & 0o1000) !== 0);
        expect(problem === null).toBe(fileOk && dirOk);
      }),
    );
  });
});

describe('endsConfigSearch', () => {
  it.each([
    ['/tmp (sticky, world-writable)', 0o41777, true],
    ['sticky only', 0o41755, true],
    ['world-writable without sticky', 0o40777, true],
    ['a plain directory', 0o40755, false],
    ['a private directory', 0o40700, false],
    ['group-writable (refused when read, not a boundary)', 0o40775, false],
  ] as const)('%s', (_name, mode, expected) => {
    expect(endsConfigSearch(at(ME, mode))).toBe(expected);
  });
});
