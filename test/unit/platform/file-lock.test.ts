// The one file lock the audit log and the daemon's start and spawn locks share: who counts as
// holding it (a live process, this process; not a dead one and not a zombie, which the two
// earlier locks disagreed about), age-based breaking, refusing what is not a file, and a release
// that removes only our own lock.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireFileLock, acquireFileLockSync, isProcessRunning, tryFileLock } from '../../../src/platform/file-lock.js';

let dir: string;
let lock: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'as-file-lock-'));
  lock = join(dir, 'x.lock');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('tryFileLock', () => {
  it('creates a 0600 lock with our pid, and release removes it', () => {
    const attempt = tryFileLock(lock, 5_000);
    expect(attempt.kind).toBe('acquired');
    expect(statSync(lock).mode & 0o777).toBe(0o600);
    expect(readFileSync(lock, 'latin1').split('\n')[0]).toBe(String(process.pid));
    if (attempt.kind === 'acquired') attempt.release();
    expect(existsSync(lock)).toBe(false);
  });

  it.each([
    ['a live other process', () => String(process.ppid), 'held'],
    ['this process (an async holder)', () => String(process.pid), 'held'],
    ['a process that is gone', () => String(deadPid()), 'acquired'],
    ['no pid yet (its writer just created it)', () => '', 'held'],
  ])('a fresh lock held by %s is %s', (_name, pid, expected) => {
    writeFileSync(lock, `${pid()}\nnonce\n`);
    expect(tryFileLock(lock, 5_000).kind).toBe(expected);
  });

  it.runIf(process.platform === 'linux')('a zombie holds nothing: its lock is taken over', async () => {
    // The background `sleep 0.3` exits after its parent shell has become `sleep 5`, which never
    // reaps it (a `sleep 0` could exit while the shell still runs and be reaped by it).
    const parent = spawn('/bin/sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
      const state = () => {
        try {
          return readFileSync(`/proc/${zombie}/stat`, 'latin1').includes(') Z ') ? 'zombie' : 'running';
        } catch {
          return 'gone';
        }
      };
      for (let i = 0; i < 150 && state() === 'running'; i += 1) await new Promise((r) => setTimeout(r, 20));
      expect(state()).toBe('zombie');
      expect(isProcessRunning(zombie)).toBe(false);
      writeFileSync(lock, `${zombie}\nnonce\n`);
      expect(tryFileLock(lock, 5_000).kind).toBe('acquired');
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('breaks a lock older than the stale age, whoever holds it', () => {
    writeFileSync(lock, `${process.ppid}\nnonce\n`);
    const old = (Date.now() - 10_000) / 1000;
    utimesSync(lock, old, old);
    expect(tryFileLock(lock, 5_000).kind).toBe('acquired');
  });

  it('refuses a lock path that is not a regular file', () => {
    mkdirSync(lock);
    expect(tryFileLock(lock, 5_000).kind).toBe('not_a_file');
  });

  it('reports a lock that cannot be created with its errno', () => {
    expect(tryFileLock(join(dir, 'missing', 'x.lock'), 5_000)).toMatchObject({ kind: 'failed', errno: 'ENOENT', stage: 'create' });
  });

  it('release leaves alone a lock that replaced ours', () => {
    const attempt = tryFileLock(lock, 5_000);
    writeFileSync(lock, `${process.ppid}\nsomeone else\n`);
    if (attempt.kind === 'acquired') attempt.release();
    expect(readFileSync(lock, 'latin1')).toContain('someone else');
  });
});

describe('waiting for the lock', () => {
  it('the blocking form gives up after its timeout with the holder', () => {
    writeFileSync(lock, `${process.ppid}\nnonce\n`);
    expect(acquireFileLockSync(lock, { timeoutMs: 50, staleMs: 5_000 })).toEqual({ kind: 'held', pid: process.ppid });
  });

  it('the polling form takes the lock once its holder releases it', async () => {
    const first = tryFileLock(lock, 5_000);
    const waiting = acquireFileLock(lock, { timeoutMs: 2_000, staleMs: 5_000 });
    setTimeout(() => first.kind === 'acquired' && first.release(), 100);
    expect((await waiting).kind).toBe('acquired');
  });
});
