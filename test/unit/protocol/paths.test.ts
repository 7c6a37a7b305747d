// Daemon paths: where the runtime dir is on each platform, the fallback to /tmp/agent-secret-<uid>-<hash>
// when a socket path would not fit in sun_path, and the checks that keep the directory private.

import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { daemonPaths, prepareRuntimeDir, socketPathLimit, type DaemonPaths } from '../../../src/protocol/paths.js';

const linux = (env: Record<string, string>) => ({ env, platform: 'linux' as const, homedir: '/home/me' });

describe('daemonPaths', () => {
  it.each([
    ['XDG_RUNTIME_DIR on Linux', linux({ XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/agent-secret'],
    ['XDG_STATE_HOME without a runtime dir', linux({ XDG_STATE_HOME: '/s' }), '/s/agent-secret/run'],
    ['~/.local/state otherwise', linux({ HOME: '/home/me' }), '/home/me/.local/state/agent-secret/run'],
    ['a relative XDG_RUNTIME_DIR is ignored', linux({ XDG_RUNTIME_DIR: 'run', HOME: '/h' }), '/h/.local/state/agent-secret/run'],
    ['Application Support on macOS', { env: { HOME: '/Users/me' }, platform: 'darwin' as const, homedir: '/Users/me' }, '/Users/me/Library/Application Support/agent-secret'],
  ])('%s', (_name, dirs, dir) => {
    const paths = daemonPaths(dirs, 1000);
    expect(paths).toEqual({
      dir,
      socket: `${dir}/daemon.sock`,
      pidFile: `${dir}/daemon.pid`,
      lockFile: `${dir}/daemon.lock`,
      spawnLockFile: `${dir}/daemon.spawn.lock`,
      fallback: false,
    });
  });

  it('falls back to /tmp/agent-secret-<uid>-<hash> when the socket path would not fit in sun_path', () => {
    const deep = `/${'d'.repeat(120)}`;
    const paths = daemonPaths(linux({ XDG_RUNTIME_DIR: deep }), 501);
    expect(paths.dir).toMatch(/^\/tmp\/agent-secret-501-[0-9a-f]{8}$/);
    expect(paths).toMatchObject({ socket: `${paths.dir}/daemon.sock`, fallback: true });
    // The same runtime dir always maps to the same place; another one (another HOME) never shares it.
    expect(daemonPaths(linux({ XDG_RUNTIME_DIR: deep }), 501).dir).toBe(paths.dir);
    expect(daemonPaths(linux({ XDG_RUNTIME_DIR: `${deep}x` }), 501).dir).not.toBe(paths.dir);
  });

  it('uses the limit of each platform, counted in bytes', () => {
    expect(socketPathLimit('linux')).toBe(107);
    expect(socketPathLimit('darwin')).toBe(103);
    // '/agent-secret/daemon.sock' is 25 bytes; a directory part of 82 ASCII bytes fits exactly on Linux.
    const fitting = `/${'a'.repeat(81)}`;
    expect(Buffer.byteLength(join(fitting, 'agent-secret', 'daemon.sock'))).toBe(107);
    expect(daemonPaths(linux({ XDG_RUNTIME_DIR: fitting }), 1).fallback).toBe(false);
    expect(daemonPaths(linux({ XDG_RUNTIME_DIR: `${fitting}a` }), 1).fallback).toBe(true);
    // Multi-byte characters count as their bytes.
    expect(daemonPaths(linux({ XDG_RUNTIME_DIR: `/${'ä'.repeat(42)}` }), 1).fallback).toBe(true);
    const mac = { env: { HOME: `/${'u'.repeat(60)}` }, platform: 'darwin' as const, homedir: '/' };
    expect(daemonPaths(mac, 1).fallback).toBe(true);
  });
});

describe('prepareRuntimeDir', () => {
  let root: string;
  let paths: DaemonPaths;
  const uid = process.geteuid?.() ?? -1;
  beforeEach(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'as-paths-')));
    paths = daemonPaths(linux({ XDG_RUNTIME_DIR: root }), uid);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function refusal(fn: () => unknown): AgentSecretError {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(AgentSecretError);
      expect((error as AgentSecretError).code).toBe('daemon.unavailable');
      expect((error as AgentSecretError).hint).toBeTruthy();
      return error as AgentSecretError;
    }
    throw new Error('expected a refusal');
  }

  it('creates the directory with mode 0700', () => {
    expect(prepareRuntimeDir(paths, { create: true })).toBe(true);
    expect(statSync(paths.dir).mode & 0o777).toBe(0o700);
  });

  it('reports a missing directory without creating it when asked not to', () => {
    expect(prepareRuntimeDir(paths, { create: false })).toBe(false);
    expect(() => statSync(paths.dir)).toThrow();
  });

  it('accepts an existing private directory', () => {
    mkdirSync(paths.dir, { mode: 0o700 });
    expect(prepareRuntimeDir(paths, { create: false })).toBe(true);
  });

  it('refuses a directory others can enter, with a chmod hint', () => {
    mkdirSync(paths.dir);
    chmodSync(paths.dir, 0o755);
    const error = refusal(() => prepareRuntimeDir(paths, { create: true }));
    expect(error.message).toContain('755');
    expect(error.hint).toBe(`chmod 700 ${paths.dir}`);
    chmodSync(paths.dir, 0o710);
    refusal(() => prepareRuntimeDir(paths, { create: false }));
  });

  it('refuses a symlink, even to a private directory of ours', () => {
    const real = join(root, 'real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, paths.dir);
    expect(refusal(() => prepareRuntimeDir(paths, { create: true })).message).toContain('symlink');
  });

  it('refuses a file in the way', () => {
    writeFileSync(paths.dir, 'x');
    expect(refusal(() => prepareRuntimeDir(paths, { create: true })).message).toContain('not a directory');
  });

  it("refuses another user's directory", () => {
    mkdirSync(paths.dir, { mode: 0o700 });
    expect(refusal(() => prepareRuntimeDir(paths, { create: true, uid: uid + 1 })).message).toContain('another user');
  });

  it('refuses when the directory cannot be created', () => {
    writeFileSync(join(root, 'blocker'), 'x');
    const blocked = daemonPaths(linux({ XDG_RUNTIME_DIR: join(root, 'blocker') }), uid);
    expect(refusal(() => prepareRuntimeDir(blocked, { create: true })).message).toContain('ENOTDIR');
  });
});
