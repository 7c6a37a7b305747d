import { chmod, mkdir, mkdtemp, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { resolveExecutable, systemPathsOf } from '../../../src/exec/index.js';

let root: string;
const isRoot = process.getuid?.() === 0;

async function program(path: string, mode = 0o755): Promise<string> {
  await writeFile(path, '#!/bin/sh\nexit 0\n');
  await chmod(path, mode);
  return path;
}

async function refusal(promise: Promise<unknown>): Promise<AgentSecretError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentSecretError);
  return error as AgentSecretError;
}

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-resolve-')));
  for (const dir of ['a', 'b', 'cwd', 'cwd/bin', 'cwd/rel', 'dirs/tool', 'noexec']) await mkdir(join(root, dir), { recursive: true });
  await program(join(root, 'a', 'tool'));
  await program(join(root, 'b', 'tool'));
  await program(join(root, 'b', 'only-b'));
  await program(join(root, 'cwd', 'here'));
  await program(join(root, 'cwd', 'bin', 'local'));
  await program(join(root, 'cwd', 'rel', 'relprog'));
  await program(join(root, 'noexec', 'tool'), 0o644);
  await program(join(root, 'b', 'plain'), 0o644);
  await symlink(join(root, 'b', 'only-b'), join(root, 'a', 'linked'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('resolveExecutable', () => {
  const cwd = () => join(root, 'cwd');

  it('takes the first match in PATH order', async () => {
    const found = await resolveExecutable('tool', { cwd: cwd(), pathEnv: `${root}/a:${root}/b` });
    expect(found.path).toBe(join(root, 'a', 'tool'));
    const reversed = await resolveExecutable('tool', { cwd: cwd(), pathEnv: `${root}/b:${root}/a` });
    expect(reversed.path).toBe(join(root, 'b', 'tool'));
  });

  it('skips a directory or a non-executable file of that name and keeps searching', async () => {
    const found = await resolveExecutable('tool', { cwd: cwd(), pathEnv: `${root}/dirs:${root}/noexec:${root}/b` });
    expect(found.path).toBe(join(root, 'b', 'tool'));
  });

  it.each([
    ['a leading empty entry', (r: string) => `:${r}/a`],
    ['a middle empty entry', (r: string) => `${r}/a::${r}/b`],
    ['a trailing empty entry', (r: string) => `${r}/a:`],
  ])('treats %s in PATH as the working directory', async (_name, path) => {
    const found = await resolveExecutable('here', { cwd: cwd(), pathEnv: path(root) });
    expect(found.path).toBe(join(root, 'cwd', 'here'));
  });

  it('resolves a relative PATH entry against the working directory', async () => {
    const found = await resolveExecutable('relprog', { cwd: cwd(), pathEnv: 'rel' });
    expect(found.path).toBe(join(root, 'cwd', 'rel', 'relprog'));
  });

  it('resolves a name with a slash against cwd, not against PATH or the process cwd', async () => {
    const found = await resolveExecutable('./bin/local', { cwd: cwd(), pathEnv: `${root}/a` });
    expect(found.path).toBe(join(root, 'cwd', 'bin', 'local'));
    const up = await resolveExecutable('../a/tool', { cwd: cwd(), pathEnv: undefined });
    expect(up.path).toBe(join(root, 'a', 'tool'));
  });

  it('uses an absolute path as it is', async () => {
    const found = await resolveExecutable(join(root, 'b', 'tool'), { cwd: '/', pathEnv: undefined });
    expect(found.path).toBe(join(root, 'b', 'tool'));
  });

  it('returns the symlink target and its identity', async () => {
    const found = await resolveExecutable('linked', { cwd: cwd(), pathEnv: `${root}/a` });
    expect(found.path).toBe(join(root, 'b', 'only-b'));
    const stats = await stat(join(root, 'b', 'only-b'));
    expect(found.identity).toEqual({ dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, mode: stats.mode, uid: stats.uid });
  });

  it.each([
    ['no PATH at all', undefined],
    ['an empty PATH', ''],
    ['PATH without the program', '/nonexistent-dir'],
  ])('reports not found with %s', async (_name, pathEnv) => {
    const error = await refusal(resolveExecutable('tool', { cwd: cwd(), pathEnv }));
    expect(error.code).toBe('exec.not_found');
    expect(error.message).toBe('executable "tool" not found in PATH');
    expect(error.hint).toBe('check the command name, or pass an absolute path');
  });

  it.each([
    ['a directory', 'dirs/tool', '"../dirs/tool" is a directory, not an executable'],
    ['a file without an execute bit', 'b/plain', '"../b/plain" is not executable'],
    ['a missing file', 'b/missing', 'executable "../b/missing" not found'],
  ])('refuses %s named with a slash', async (_name, rel, message) => {
    const error = await refusal(resolveExecutable(`../${rel}`, { cwd: cwd(), pathEnv: undefined }));
    expect(error.code).toBe('exec.not_found');
    expect(error.message).toBe(message);
  });

  it('refuses an empty command name', async () => {
    const error = await refusal(resolveExecutable('', { cwd: cwd(), pathEnv: '/usr/bin' }));
    expect(error.code).toBe('exec.not_found');
  });

  it('shows a hostile command name without its control characters', async () => {
    const error = await refusal(resolveExecutable('to\u001b[2Jol\u202e', { cwd: cwd(), pathEnv: `${root}/a` }));
    expect(error.message).toBe('executable "to?[2Jol?" not found in PATH');
  });

  it.runIf(isRoot)('accepts, as root, a file whose only execute bit is for others', async () => {
    const path = await program(join(root, 'b', 'others-x'), 0o601);
    const found = await resolveExecutable(path, { cwd: cwd(), pathEnv: undefined });
    expect(found.path).toBe(path);
  });
});

describe('systemPathsOf', () => {
  // /bin/sh exists on every POSIX system, as a file or a link (to dash, bash, or through /bin -> usr/bin).
  it('finds the system-directory path argv[0] names the resolved program by', async () => {
    const sh = await realpath('/bin/sh');
    expect(await systemPathsOf('sh', sh)).toContain('/bin/sh');
    expect(await systemPathsOf('/bin/sh', sh)).toEqual(['/bin/sh']);
  });

  it('finds nothing for another file, a path outside the system directories, or a name none of them has', async () => {
    const own = await program(join(root, 'sh'));
    expect(await systemPathsOf('sh', own)).toEqual([]);
    expect(await systemPathsOf(own, own)).toEqual([]);
    expect(await systemPathsOf('./sh', await realpath('/bin/sh'))).toEqual([]);
    expect(await systemPathsOf('agent-secret-no-such-program', own)).toEqual([]);
    expect(await systemPathsOf('', own)).toEqual([]);
  });
});
