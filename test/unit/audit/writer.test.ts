import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { auditEvent, checkAuditPath, GENESIS_HASH, openAuditLog, type AuditContext } from '../../../src/audit/index.js';
import { sampleRequest } from './sample-request.js';

const isRoot = process.getuid?.() === 0;
const ctx: AuditContext = { requestId: 'req_abc', request: sampleRequest() };
let root: string;
let dir: string;
let file: string;

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-audit-')));
  dir = join(root, 'state', 'agent-secret');
  file = join(dir, 'audit.jsonl');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<AgentSecretError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentSecretError);
  expect((error as AgentSecretError).code).toBe('audit.unwritable');
  expect((error as AgentSecretError).message.startsWith(`cannot write the audit log ${file}: `)).toBe(true);
  return error as AgentSecretError;
}

const mode = async (path: string) => (await lstat(path)).mode & 0o7777;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('openAuditLog', () => {
  it('creates the directory 0700 and the file 0600, whatever the umask', async () => {
    const previous = process.umask(0);
    try {
      const log = await openAuditLog(file);
      await log.close();
    } finally {
      process.umask(previous);
    }
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(file)).toBe(0o600);
    expect((await stat(file)).size).toBe(0);
  });

  it('writes one JSON line per event with the expected fields', async () => {
    const log = await openAuditLog(file);
    expect(log.path).toBe(file);
    log.write(auditEvent('request_received', ctx));
    log.write(auditEvent('approval_granted', ctx, { approver: 'program' }));
    log.write(auditEvent('child_exited', ctx, { pid: 7, exit_code: 0, signal: null, duration_ms: 15 }));
    await log.close();
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(3);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r.event)).toEqual(['request_received', 'approval_granted', 'child_exited']);
    for (const record of records) {
      expect(Object.keys(record).slice(0, 5)).toEqual(['schema_version', 'timestamp', 'seq', 'prev_hash', 'event']);
      expect(record.schema_version).toBe(2);
      expect(record.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(record).not.toHaveProperty('level');
      expect(record).not.toHaveProperty('msg');
      expect(record).not.toHaveProperty('pid', process.pid);
      expect(record).not.toHaveProperty('hostname');
      expect(record).toMatchObject({ request_id: 'req_abc', executable: '/usr/local/bin/terraform', requester_pid: 4242 });
    }
    expect(records[2]).toMatchObject({ pid: 7, exit_code: 0, signal: null, duration_ms: 15 });
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(records[0]?.prev_hash).toBe(GENESIS_HASH);
    expect(records[1]?.prev_hash).toBe(sha256(lines[0] as string));
    expect(records[2]?.prev_hash).toBe(sha256(lines[1] as string));
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('keeps a multiline reason or argv on one line', async () => {
    const log = await openAuditLog(file);
    log.write(auditEvent('request_received', { requestId: 'r', request: sampleRequest({ command: ['sh', '-c', 'echo a\necho b'] }) }));
    await log.close();
    const text = await readFile(file, 'utf8');
    expect(text.split('\n')).toHaveLength(2);
    expect((JSON.parse(text) as { command: string[] }).command).toEqual(['sh', '-c', 'echo a\necho b']);
  });

  it('appends to an existing log instead of replacing it', async () => {
    const first = await openAuditLog(file);
    first.write(auditEvent('request_received', ctx));
    await first.close();
    const second = await openAuditLog(file);
    second.write(auditEvent('child_started', ctx, { pid: 1 }));
    await second.close();
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('tightens an existing directory of ours to 0700', async () => {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await chmod(dir, 0o755);
    await (await openAuditLog(file)).close();
    expect(await mode(dir)).toBe(0o700);
  });

  it('refuses a symlinked file and leaves its target alone', async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const target = join(root, 'elsewhere.txt');
    await writeFile(target, 'untouched', { mode: 0o600 });
    await symlink(target, file);
    const error = await refusal(openAuditLog(file));
    expect(error.message).toBe(`cannot write the audit log ${file}: it is a symlink`);
    expect(await readFile(target, 'utf8')).toBe('untouched');
  });

  it('refuses a symlinked directory', async () => {
    const real = join(root, 'real-dir');
    await mkdir(real, { mode: 0o700 });
    await mkdir(join(root, 'state'));
    await symlink(real, dir);
    const error = await refusal(openAuditLog(file));
    expect(error.message).toBe(`cannot write the audit log ${file}: ${dir} is a symlink`);
    expect(readdirSync(real)).toEqual([]);
  });

  it('refuses an existing file that others can read, with a chmod hint', async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(file, '');
    await chmod(file, 0o644);
    const error = await refusal(openAuditLog(file));
    expect(error.message).toBe(`cannot write the audit log ${file}: it is readable or writable by others (mode 644)`);
    expect(error.hint).toBe(`chmod 600 ${file}`);
  });

  it('refuses a FIFO at the path without blocking', async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    execFileSync('mkfifo', ['-m', '600', file]);
    const error = await refusal(openAuditLog(file));
    expect(error.message).toBe(`cannot write the audit log ${file}: it is not a regular file`);
  });

  it('fails with audit.unwritable when a file is in the way of the directory', async () => {
    await mkdir(join(root, 'state'));
    await writeFile(dir, 'not a directory');
    const error = await refusal(openAuditLog(file));
    expect(error.message).toMatch(/: (EEXIST|ENOTDIR|.* is not a directory)$/);
  });

  it.skipIf(isRoot)('fails with audit.unwritable (EACCES) when the directory cannot be created', async () => {
    await mkdir(join(root, 'state'), { mode: 0o500 });
    await chmod(join(root, 'state'), 0o500);
    const error = await refusal(openAuditLog(file));
    expect(error.message).toBe(`cannot write the audit log ${file}: EACCES`);
  });

  it.runIf(isRoot)('refuses a directory or a file owned by another user', async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chown(dir, 4242, 4242);
    expect((await refusal(openAuditLog(file))).message).toContain('belongs to another user (uid 4242)');
    await chown(dir, 0, 0);
    await writeFile(file, '', { mode: 0o600 });
    await chown(file, 4242, 4242);
    expect((await refusal(openAuditLog(file))).message).toContain('it belongs to another user (uid 4242)');
  });

  it('checks the path again at every write: a symlink planted after open is refused', async () => {
    const log = await openAuditLog(file);
    log.write(auditEvent('request_received', ctx));
    const target = join(root, 'elsewhere.txt');
    await writeFile(target, 'untouched', { mode: 0o600 });
    await rm(file);
    await symlink(target, file);
    expect(() => log.write(auditEvent('child_started', ctx, { pid: 1 }))).toThrowError(`cannot write the audit log ${file}: it is a symlink`);
    expect(await readFile(target, 'utf8')).toBe('untouched');
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('refuses to write after close', async () => {
    const log = await openAuditLog(file);
    await log.close();
    await log.close();
    expect(() => log.write(auditEvent('request_received', ctx))).toThrowError(AgentSecretError);
  });
});

describe('checkAuditPath', () => {
  it('accepts a path whose directory does not exist yet, without creating it', async () => {
    expect(await checkAuditPath(file)).toEqual({ ok: true });
    await expect(lstat(join(root, 'state'))).rejects.toThrow();
  });

  it('accepts a log that openAuditLog created', async () => {
    await (await openAuditLog(file)).close();
    expect(await checkAuditPath(file)).toEqual({ ok: true });
  });

  it('reports a symlinked directory and a too-open file, with hints, changing nothing', async () => {
    const real = join(root, 'real-dir');
    await mkdir(real, { mode: 0o700 });
    await mkdir(join(root, 'state'));
    await symlink(real, dir);
    expect(await checkAuditPath(file)).toMatchObject({ ok: false, problem: `cannot write the audit log ${file}: ${dir} is a symlink` });
    await rm(dir);
    await mkdir(dir, { mode: 0o700 });
    await writeFile(file, '');
    await chmod(file, 0o640);
    const check = await checkAuditPath(file);
    expect(check).toEqual({ ok: false, problem: `cannot write the audit log ${file}: it is readable or writable by others (mode 640)`, hint: `chmod 600 ${file}` });
    expect(await mode(file)).toBe(0o640);
  });

  it('reports a file in the way of the directory', async () => {
    await mkdir(join(root, 'state'));
    await writeFile(dir, '');
    const check = await checkAuditPath(file);
    expect(check.ok).toBe(false);
    expect(check.hint).toBeDefined();
  });
});
