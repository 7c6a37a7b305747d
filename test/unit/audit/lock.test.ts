// The audit lock: an append waits for a lock held by another live process, gives up with
// audit.unwritable after its timeout, and breaks a lock left by a dead process or older than
// the stale age. The lock is 0600, released after every append, and release never removes a
// lock that is not ours.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync, utimesSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditEvent, openAuditLog, verifyAuditTrail, type AuditLogOptions } from '../../../src/audit/index.js';
import { acquireLock } from '../../../src/audit/lock.js';
import { AgentSecretError } from '../../../src/core/errors.js';
import { sampleRequest } from './sample-request.js';

const ctx = { requestId: 'req_lock', request: sampleRequest() };
let root: string;
let file: string;
let lock: string;
let holder: ChildProcess | null;

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-lock-')));
  file = join(root, 'agent-secret', 'audit.jsonl');
  lock = `${file}.lock`;
  await mkdir(join(root, 'agent-secret'), { mode: 0o700 });
  holder = null;
});
afterEach(async () => {
  holder?.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

/** Starts a process that takes the lock the way agent-secret does, holds it for ms, then releases it. */
async function holdLock(ms: number): Promise<number> {
  const script = `
    const fs = require('node:fs');
    const fd = fs.openSync(process.argv[1], fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    fs.writeSync(fd, process.pid + '\\n');
    fs.closeSync(fd);
    process.stdout.write('ready\\n');
    setTimeout(() => { fs.unlinkSync(process.argv[1]); process.exit(0); }, Number(process.argv[2]));`;
  const child = spawn(process.execPath, ['-e', script, lock, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  holder = child;
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => resolve());
    child.on('exit', () => reject(new Error('lock holder exited early')));
  });
  return child.pid as number;
}

function writeOne(options: AuditLogOptions) {
  return openAuditLog(file, options).then((log) => {
    const started = Date.now();
    try {
      log.write(auditEvent('request_received', ctx));
      return { ms: Date.now() - started, error: null as AgentSecretError | null };
    } catch (error) {
      return { ms: Date.now() - started, error: error as AgentSecretError };
    }
  });
}

describe('lock contention', () => {
  it('waits for a live holder to release the lock, then appends', async () => {
    await holdLock(300);
    const result = await writeOne({ lock: { timeoutMs: 5000, staleMs: 60_000 } });
    expect(result.error).toBeNull();
    expect(result.ms).toBeGreaterThanOrEqual(150);
    expect(await verifyAuditTrail(file)).toMatchObject({ ok: true, events: 1 });
  });

  it('gives up after its timeout with audit.unwritable naming the holder, and leaves its lock alone', async () => {
    const pid = await holdLock(20_000);
    const result = await writeOne({ lock: { timeoutMs: 200, staleMs: 60_000 } });
    expect(result.error).toBeInstanceOf(AgentSecretError);
    expect(result.error?.code).toBe('audit.unwritable');
    expect(result.error?.message).toBe(`cannot write the audit log ${file}: it is locked by another agent-secret process (pid ${pid})`);
    expect(result.error?.hint).toBe(`rerun in a moment; if no agent-secret is running, remove ${lock}`);
    expect(result.ms).toBeGreaterThanOrEqual(190);
    expect(await readFile(lock, 'utf8')).toBe(`${pid}\n`);
    expect(await readFile(file, 'utf8')).toBe('');
  });
});

describe('stale locks', () => {
  it('breaks at once a lock whose process is gone', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    await writeFile(lock, `${dead}\n`, { mode: 0o600 });
    const result = await writeOne({ lock: { timeoutMs: 5000, staleMs: 60_000 } });
    expect(result.error).toBeNull();
    expect(result.ms).toBeLessThan(4000); // the 5 s timeout was not waited out
    expect(existsSync(lock)).toBe(false);
  });

  it('breaks a lock older than the stale age even when its pid is alive (a reused pid, a hung holder)', async () => {
    await holdLock(20_000);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const result = await writeOne({ lock: { timeoutMs: 5000, staleMs: 2000 } });
    expect(result.error).toBeNull();
  });

  it('an empty lock (its writer died before writing its pid) waits for the stale age, then is broken', async () => {
    await writeFile(lock, '', { mode: 0o600 });
    const busy = await writeOne({ lock: { timeoutMs: 150, staleMs: 60_000 } });
    expect(busy.error?.message).toBe(`cannot write the audit log ${file}: it is locked by another agent-secret process`);
    const old = new Date(Date.now() - 10_000);
    utimesSync(lock, old, old);
    expect((await writeOne({ lock: { timeoutMs: 1000, staleMs: 5000 } })).error).toBeNull();
  });

  it('a lock path that is not a file is refused with a fix', async () => {
    await mkdir(lock);
    const result = await writeOne({ lock: { timeoutMs: 200 } });
    expect(result.error?.message).toBe(`cannot write the audit log ${file}: the lock ${lock} is not a regular file`);
    expect(result.error?.hint).toBe(`remove ${lock} and rerun`);
  });
});

describe('acquireLock', () => {
  it('creates the lock 0600 with our pid and removes it on release', async () => {
    const taken = acquireLock(lock);
    expect(taken.ok).toBe(true);
    expect(statSync(lock).mode & 0o777).toBe(0o600);
    expect(await readFile(lock, 'utf8')).toMatch(new RegExp(`^${process.pid}\n[0-9a-f]{16}\n$`));
    if (taken.ok) taken.release();
    expect(existsSync(lock)).toBe(false);
  });

  it('release leaves alone a lock that replaced ours after ours was judged stale', async () => {
    const taken = acquireLock(lock);
    await unlink(lock);
    await writeFile(lock, '99999\n', { mode: 0o600 });
    if (taken.ok) taken.release();
    expect(await readFile(lock, 'utf8')).toBe('99999\n');
  });
});
