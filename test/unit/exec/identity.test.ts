import { chmod, chown, mkdir, mkdtemp, realpath, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { findMutability, readIdentity, verifyIdentity, verifyIdentitySync } from '../../../src/exec/index.js';

let root: string;
let file: string;
const uid = process.getuid?.() ?? -1;
const isRoot = uid === 0;

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-identity-')));
  await chmod(root, 0o755);
  file = join(root, 'prog');
  await writeFile(file, '#!/bin/sh\necho one\n');
  await chmod(file, 0o755);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

// Both forms (async for the daemon, sync right before spawn) must refuse the same way.
async function expectChanged(path: string, expected: Awaited<ReturnType<typeof readIdentity>>): Promise<void> {
  const asyncError = await verifyIdentity(path, expected).then(
    () => null,
    (e: unknown) => e,
  );
  let syncError: unknown = null;
  try {
    verifyIdentitySync(path, expected);
  } catch (e) {
    syncError = e;
  }
  for (const error of [asyncError, syncError]) {
    expect(error).toBeInstanceOf(AgentSecretError);
    expect((error as AgentSecretError).code).toBe('exec.identity_changed');
    expect((error as AgentSecretError).message).toBe(`the approved executable changed before it could start: ${path}`);
    expect((error as AgentSecretError).hint).toBe('rerun the command to approve the current file');
  }
}

describe('readIdentity and verifyIdentity', () => {
  it('reads device, inode, size, mtime, mode and owner', async () => {
    const stats = await stat(file);
    expect(await readIdentity(file)).toEqual({ dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, mode: stats.mode, uid: stats.uid });
  });

  it('accepts an unchanged file', async () => {
    const identity = await readIdentity(file);
    await expect(verifyIdentity(file, identity)).resolves.toBeUndefined();
    expect(() => verifyIdentitySync(file, identity)).not.toThrow();
  });

  it('detects a touched file (mtime only)', async () => {
    const before = await readIdentity(file);
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    await expectChanged(file, before);
  });

  it('detects a rewrite in place with the same length', async () => {
    const before = await readIdentity(file);
    await writeFile(file, '#!/bin/sh\necho two\n');
    await utimes(file, new Date(), new Date(before.mtimeMs + 1000));
    await expectChanged(file, before);
  });

  it('detects a file swapped in by rename, even with the same size and mtime', async () => {
    const before = await readIdentity(file);
    const other = join(root, 'other');
    await writeFile(other, '#!/bin/sh\necho two\n');
    await chmod(other, 0o755);
    await utimes(other, new Date(), new Date(before.mtimeMs));
    await rename(other, file);
    await expectChanged(file, before);
  });

  it('detects a mode change and a deleted file', async () => {
    const before = await readIdentity(file);
    await chmod(file, 0o700);
    await expectChanged(file, before);
    await rm(file);
    await expectChanged(file, before);
  });
});

describe('findMutability', () => {
  it('flags a world-writable parent directory', async () => {
    const dir = join(root, 'open');
    await mkdir(dir);
    await chmod(dir, 0o777);
    const prog = join(dir, 'prog');
    await writeFile(prog, '');
    await chmod(prog, 0o755);
    const findings = await findMutability(prog, { uid: 0 });
    expect(findings).toContainEqual({ path: dir, problem: 'world_writable' });
    expect(findings).toContainEqual({ path: dir, problem: 'group_writable' });
    expect(findings.filter((f) => f.path === prog)).toEqual([]);
  });

  it('flags a group-writable file and reports the file before its directories', async () => {
    await chmod(file, 0o775);
    const findings = await findMutability(file, { uid: 0 });
    expect(findings[0]).toEqual({ path: file, problem: 'group_writable' });
    expect(findings.some((f) => f.problem === 'world_writable' && f.path === file)).toBe(false);
  });

  it('accepts a sticky world-writable directory when the entry below it is ours or root\'s', async () => {
    const dir = join(root, 'sticky');
    await mkdir(dir);
    await chmod(dir, 0o1777);
    const prog = join(dir, 'prog');
    await writeFile(prog, '');
    const findings = await findMutability(prog, { uid: isRoot ? 0 : uid });
    expect(findings.filter((f) => f.path === dir)).toEqual([]);
  });

  it('flags a sticky directory and the entry when another user owns the entry', async () => {
    if (!isRoot) return; // chown to another user needs root; the rule above covers non-root callers
    const dir = join(root, 'sticky-other');
    await mkdir(dir);
    await chmod(dir, 0o1777);
    const prog = join(dir, 'prog');
    await writeFile(prog, '');
    await chown(prog, 4242, 4242);
    const findings = await findMutability(prog, { uid: 0 });
    expect(findings).toContainEqual({ path: prog, problem: 'owned_by_other_user' });
    expect(findings).toContainEqual({ path: dir, problem: 'world_writable' });
  });

  it('flags a file owned by the requesting user, but never for root', async () => {
    const owner = isRoot ? 4242 : uid;
    if (isRoot) await chown(file, owner, 0);
    expect(await findMutability(file, { uid: owner })).toContainEqual({ path: file, problem: 'owned_by_user' });
    const asRoot = await findMutability(file, { uid: 0 });
    expect(asRoot.some((f) => f.problem === 'owned_by_user')).toBe(false);
  });

  it('follows a symlink and reports on the real file', async () => {
    await chmod(file, 0o777);
    const link = join(root, 'link');
    await symlink(file, link);
    const findings = await findMutability(link, { uid: 0 });
    expect(findings).toContainEqual({ path: file, problem: 'world_writable' });
    expect(findings.some((f) => f.path === link)).toBe(false);
  });

  it('does not flag a root-owned system program for root', async () => {
    const env = await realpath('/usr/bin/env');
    const stats = await stat(env);
    expect(stats.uid).toBe(0);
    expect(await findMutability('/usr/bin/env', { uid: 0 })).toEqual([]);
  });
});

describe('verifyIdentity and ctime', () => {
  it('notices a rewrite whose mtime was put back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctime-'));
    const file = join(dir, 'tool');
    await writeFile(file, '#!/bin/sh\necho a\n', { mode: 0o755 });
    const before = await readIdentity(file);
    const { atime, mtime } = await stat(file);
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(file, '#!/bin/sh\necho b\n');
    await utimes(file, atime, mtime);
    await expect(verifyIdentity(file, before)).rejects.toMatchObject({ code: 'exec.identity_changed' });
    await rm(dir, { recursive: true, force: true });
  });
});
