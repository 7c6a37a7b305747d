// One daemon per user, the pieces: the lock files (held by a live process, taken over from a
// dead one or an old one, released only while ours), the pid file, and the live-pid check.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isProcessRunning } from '../../../src/platform/file-lock.js';
import { acquireStartLock, parsePidRecord, readPidFile, removePidFileIfOurs, tryLock, writePidFile } from '../../../src/platform/instance.js';

let root: string;
let lock: string;
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-instance-')));
  lock = join(root, 'daemon.lock');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

describe('tryLock', () => {
  it('creates a 0600 lock holding our pid, and release removes it', () => {
    const release = tryLock(lock);
    expect(release).not.toBeNull();
    expect(readFileSync(lock, 'utf8')).toMatch(new RegExp(`^${process.pid}\\n[0-9a-f]{16}\\n$`));
    expect(statSync(lock).mode & 0o777).toBe(0o600);
    release?.();
    expect(existsSync(lock)).toBe(false);
  });

  it('returns null while a live process holds the lock', () => {
    writeFileSync(lock, `${process.ppid}\nnonce\n`);
    expect(tryLock(lock)).toBeNull();
    expect(readFileSync(lock, 'utf8')).toBe(`${process.ppid}\nnonce\n`);
  });

  it('takes over a lock whose holder is gone', async () => {
    writeFileSync(lock, `${await deadPid()}\nnonce\n`);
    const release = tryLock(lock);
    expect(release).not.toBeNull();
    expect(readFileSync(lock, 'utf8').startsWith(`${process.pid}\n`)).toBe(true);
    release?.();
  });

  it('takes over a lock older than 10 s, whoever holds it', () => {
    writeFileSync(lock, `${process.ppid}\nnonce\n`);
    const old = new Date(Date.now() - 11_000);
    utimesSync(lock, old, old);
    expect(tryLock(lock)).not.toBeNull();
  });

  it('release leaves a lock alone that is no longer ours', () => {
    const release = tryLock(lock);
    writeFileSync(lock, `${process.ppid}\nsomeone else\n`);
    release?.();
    expect(readFileSync(lock, 'utf8')).toBe(`${process.ppid}\nsomeone else\n`);
  });

  it('refuses with daemon.unavailable when the lock cannot be created', () => {
    expect(() => tryLock(join(root, 'missing', 'daemon.lock'))).toThrow(expect.objectContaining({ code: 'daemon.unavailable' }));
  });
});

describe('acquireStartLock', () => {
  it('waits while another starter holds the lock, then takes it', async () => {
    const first = tryLock(lock);
    let second: (() => void) | null = null;
    const waiting = acquireStartLock(lock).then((release) => (second = release));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(second).toBeNull();
    first?.();
    await waiting;
    expect(second).not.toBeNull();
  });

  it('gives up with daemon.unavailable after its timeout', async () => {
    writeFileSync(lock, `${process.ppid}\nnonce\n`);
    await expect(acquireStartLock(lock, 60)).rejects.toMatchObject({ code: 'daemon.unavailable' });
  });
});

describe('pid file', () => {
  it('is written atomically as 0600 JSON and read back', () => {
    const path = join(root, 'daemon.pid');
    const record = { pid: process.pid, version: '1.2.3', started_at: '2026-01-01T00:00:00.000Z' };
    writePidFile(path, record);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readPidFile(path)).toEqual(record);
    writePidFile(path, { ...record, version: '1.2.4' });
    expect(readPidFile(path)?.version).toBe('1.2.4');
  });

  it('is removed only while it names the given pid', () => {
    const path = join(root, 'daemon.pid');
    writePidFile(path, { pid: 4242, version: '1', started_at: 'x' });
    removePidFileIfOurs(path, process.pid);
    expect(existsSync(path)).toBe(true);
    removePidFileIfOurs(path, 4242);
    expect(existsSync(path)).toBe(false);
  });

  it.each([
    ['not JSON', 'pid=1'],
    ['no pid', '{"version":"1","started_at":"x"}'],
    ['a negative pid', '{"pid":-1,"version":"1","started_at":"x"}'],
    ['a fractional pid', '{"pid":1.5,"version":"1","started_at":"x"}'],
    ['a numeric version', '{"pid":1,"version":1,"started_at":"x"}'],
    ['null', 'null'],
  ])('a pid file with %s is ignored', (_name, text) => {
    expect(parsePidRecord(text)).toBeNull();
  });
});

describe('isProcessRunning', () => {
  it('is true for a live process and false for one that exited', async () => {
    expect(isProcessRunning(process.pid)).toBe(true);
    expect(isProcessRunning(await deadPid())).toBe(false);
  });
});
