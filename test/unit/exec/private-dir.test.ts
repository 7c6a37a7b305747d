// Where delivered files live: the choice of a RAM-backed base (pure, against a described host),
// the private directory itself, and the sweep of directories a killed run left behind.

import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { linuxCandidates, makePrivateDir, ownerPidOf, PRIVATE_DIR_PREFIX, privateBaseSync, removePrivateDirSync, sweepStaleDirsSync, type BaseHost } from '../../../src/exec/private-dir.js';

const TMPFS = 0x01021994;
const EXT4 = 0xef53;

function host(dirs: Record<string, { uid: number; mode: number; fs: number }>, uid = 1000): BaseHost {
  return {
    uid,
    fsType: (path) => dirs[path]?.fs ?? null,
    dirInfo: (path) => (dirs[path] === undefined ? null : { uid: dirs[path].uid, mode: dirs[path].mode }),
  };
}

describe('privateBaseSync', () => {
  const shm = { uid: 0, mode: 0o41777, fs: TMPFS };
  it.each<[string, Record<string, { uid: number; mode: number; fs: number }>, string]>([
    ['the runtime directory when it is a private tmpfs of ours', { '/run/user/1000': { uid: 1000, mode: 0o40700, fs: TMPFS }, '/dev/shm': shm }, '/run/user/1000'],
    ['/dev/shm when the runtime directory is on disk', { '/run/user/1000': { uid: 1000, mode: 0o40700, fs: EXT4 }, '/dev/shm': shm }, '/dev/shm'],
    ['/dev/shm when the runtime directory is someone else’s', { '/run/user/1000': { uid: 0, mode: 0o40700, fs: TMPFS }, '/dev/shm': shm }, '/dev/shm'],
    ['/dev/shm when the runtime directory is open to others', { '/run/user/1000': { uid: 1000, mode: 0o40777, fs: TMPFS }, '/dev/shm': shm }, '/dev/shm'],
  ])('Linux: %s', (_name, dirs, expected) => {
    expect(privateBaseSync({ XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux', host(dirs))).toBe(expected);
  });

  it('Linux: refuses (never a disk) when neither is RAM-backed', () => {
    const dirs = { '/run/user/1000': { uid: 1000, mode: 0o40700, fs: EXT4 }, '/dev/shm': { uid: 0, mode: 0o41777, fs: EXT4 } };
    expect(() => privateBaseSync({ XDG_RUNTIME_DIR: '/run/user/1000', TMPDIR: '/tmp' }, 'linux', host(dirs))).toThrow(AgentSecretError);
    try {
      privateBaseSync({}, 'linux', host({}));
    } catch (error) {
      expect((error as AgentSecretError).code).toBe('delivery.unavailable');
    }
  });

  it('macOS: the per-user TMPDIR', () => {
    expect(privateBaseSync({ TMPDIR: '/var/folders/xy/T/' }, 'darwin', host({}))).toBe('/var/folders/xy/T/');
  });

  it('a relative XDG_RUNTIME_DIR is not a candidate', () => {
    expect(linuxCandidates({ XDG_RUNTIME_DIR: 'run' })).toEqual(['/dev/shm']);
    expect(linuxCandidates({ XDG_RUNTIME_DIR: '/run/user/1' })).toEqual(['/run/user/1', '/dev/shm']);
  });
});

describe('ownerPidOf', () => {
  it.each<[string, number | null]>([
    [`${PRIVATE_DIR_PREFIX}123.Ab9xYz`, 123],
    [`${PRIVATE_DIR_PREFIX}0.Ab9xYz`, null],
    [`${PRIVATE_DIR_PREFIX}123`, null],
    [`${PRIVATE_DIR_PREFIX}12a.Ab9xYz`, null],
    ['agent-secret-e2e-123.x', null],
    [`${PRIVATE_DIR_PREFIX}123.Ab/x`, null],
  ])('%s → %s', (name, pid) => {
    expect(ownerPidOf(name)).toBe(pid);
  });
  it('finds exactly the pid a directory was named with', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.stringMatching(/^[A-Za-z0-9]{6}$/), (pid, tail) => ownerPidOf(`${PRIVATE_DIR_PREFIX}${pid}.${tail}`) === pid));
  });
});

describe('the private directory and the sweep', () => {
  const made: string[] = [];
  afterEach(() => made.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('is 0700, carries our pid, and goes with everything in it', async () => {
    const base = mkdtempSync(join(tmpdir(), 'private-dir-test-'));
    made.push(base);
    const dir = await makePrivateDir(base);
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
    expect(ownerPidOf(dir.slice(base.length + 1))).toBe(process.pid);
    mkdirSync(join(dir, 'A'));
    expect(removePrivateDirSync(dir)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });

  it('sweeps the directories of a process that is gone, and only those', () => {
    const base = mkdtempSync(join(tmpdir(), 'private-dir-sweep-'));
    made.push(base);
    const gone = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const stale = join(base, `${PRIVATE_DIR_PREFIX}${gone}.abc123`);
    const live = join(base, `${PRIVATE_DIR_PREFIX}${process.ppid}.abc123`);
    const other = join(base, 'agent-secret-files-not-ours');
    for (const dir of [stale, live, other]) mkdirSync(join(dir, 'KUBECONFIG'), { recursive: true });
    expect(sweepStaleDirsSync({ XDG_RUNTIME_DIR: base }, 'linux')).toBeGreaterThanOrEqual(1);
    expect([existsSync(stale), existsSync(live), existsSync(other)]).toEqual([false, true, true]);
  });
});
