// The file side of the config module: discovery walking up from cwd, --config, the regular-file
// and 1 MiB checks before reading, loadConfig's single error, and env files read from disk.

import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_FILE_NAMES, discoverConfig, loadConfig, loadEnvFiles } from '../../../src/config/index.js';
import { readSmallTextFile } from '../../../src/config/read-file.js';
import { AgentSecretError } from '../../../src/core/errors.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const VALID = 'version: 1\nprofiles:\n  p: {secrets: {A: op://v/i/f}}\n';
const hasMkfifo = (() => {
  try {
    execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
    return process.platform !== 'win32';
  } catch {
    return false;
  }
})();

let root: string;
beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'agent-secret-config-')));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Creates a fresh directory tree under the temp root: paths ending in / are directories, others files. */
function tree(...entries: string[]): string {
  const base = mkdtempSync(join(root, 't-'));
  for (const entry of entries) {
    const path = join(base, entry);
    if (entry.endsWith('/')) mkdirSync(path, { recursive: true });
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, VALID);
    }
  }
  return base;
}

async function rejection(promise: Promise<unknown>): Promise<AgentSecretError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AgentSecretError) return error;
    throw error;
  }
  throw new Error('expected an AgentSecretError');
}

describe('discoverConfig', () => {
  it('looks for agent-secret.yml, then .agent-secret.yml', () => {
    expect(CONFIG_FILE_NAMES).toEqual(['agent-secret.yml', '.agent-secret.yml']);
  });

  it.each([
    ['in cwd', ['agent-secret.yml'], '.', 'agent-secret.yml'],
    ['dotfile in cwd', ['.agent-secret.yml'], '.', '.agent-secret.yml'],
    ['agent-secret.yml wins over the dotfile', ['agent-secret.yml', '.agent-secret.yml'], '.', 'agent-secret.yml'],
    ['walks up to a parent', ['agent-secret.yml', 'a/b/c/'], 'a/b/c', 'agent-secret.yml'],
    ['nearest directory wins', ['agent-secret.yml', 'a/.agent-secret.yml', 'a/b/'], 'a/b', 'a/.agent-secret.yml'],
    ['a directory named like the config is skipped', ['agent-secret.yml/', '.agent-secret.yml'], '.', '.agent-secret.yml'],
    ['a directory candidate is skipped on the way up', ['agent-secret.yml', 'a/agent-secret.yml/', 'a/b/'], 'a/b', 'agent-secret.yml'],
  ])('%s', async (_name, entries, cwd, expected) => {
    const base = tree(...entries);
    expect(await discoverConfig({ cwd: join(base, cwd) })).toBe(join(base, expected));
  });

  it('follows a symlink to a regular file', async () => {
    const base = tree('real/config.yml');
    symlinkSync(join(base, 'real/config.yml'), join(base, 'agent-secret.yml'));
    expect(await discoverConfig({ cwd: base })).toBe(join(base, 'agent-secret.yml'));
  });

  it.skipIf(!hasMkfifo)('refuses a candidate that is neither a file nor a directory', async () => {
    const base = tree();
    execFileSync('mkfifo', [join(base, 'agent-secret.yml')]);
    expect(await rejection(discoverConfig({ cwd: base }))).toMatchObject({ code: 'config.unreadable', details: { file: join(base, 'agent-secret.yml') } });
  });

  const ancestorHasConfig = (() => {
    for (let dir = root ?? tmpdir(); ; dir = dirname(dir)) {
      if (CONFIG_FILE_NAMES.some((name) => existsSync(join(dir, name)))) return true;
      if (dirname(dir) === dir) return false;
    }
  })();
  it.skipIf(ancestorHasConfig)('returns null when no directory up to / has one', async () => {
    expect(await discoverConfig({ cwd: tree('a/b/') })).toBeNull();
  });

  it('--config is resolved against cwd', async () => {
    const base = tree('conf/custom.yml', 'work/');
    expect(await discoverConfig({ cwd: join(base, 'work'), explicitPath: '../conf/custom.yml' })).toBe(join(base, 'conf/custom.yml'));
  });

  it('--config overrides discovery', async () => {
    const base = tree('agent-secret.yml', 'other.yml');
    expect(await discoverConfig({ cwd: base, explicitPath: 'other.yml' })).toBe(join(base, 'other.yml'));
  });

  it.each([
    ['missing --config is config.not_found', 'nope.yml', 'config.not_found'],
    ['a directory as --config is config.unreadable', 'dir', 'config.unreadable'],
    ['an empty --config is a usage error', '', 'usage.invalid'],
  ])('%s', async (_name, explicitPath, code) => {
    const base = tree('dir/');
    expect(await rejection(discoverConfig({ cwd: base, explicitPath }))).toMatchObject({ code });
  });
});

describe('discoverConfig stops at a shared directory', () => {
  // Builds base/shared (given mode) holding a config, and base/shared/below/work as cwd.
  function sharedTree(mode: number): { base: string; shared: string; cwd: string } {
    const base = tree('shared/agent-secret.yml', 'shared/below/work/');
    const shared = join(base, 'shared');
    chmodSync(shared, mode);
    return { base, shared, cwd: join(shared, 'below/work') };
  }

  it.each([
    ['sticky and world-writable, like /tmp', 0o1777],
    ['world-writable', 0o777],
    ['sticky', 0o1755],
  ])('a config in a %s directory above cwd is not used', async (_name, mode) => {
    const { cwd } = sharedTree(mode);
    expect(await discoverConfig({ cwd })).toBeNull();
  });

  it('nor one above it', async () => {
    const base = tree('agent-secret.yml', 'shared/below/');
    chmodSync(join(base, 'shared'), 0o1777);
    expect(await discoverConfig({ cwd: join(base, 'shared/below') })).toBeNull();
  });

  it('a config between cwd and the shared directory is still found', async () => {
    const { shared, cwd } = sharedTree(0o1777);
    writeFileSync(join(shared, 'below/agent-secret.yml'), VALID);
    expect(await discoverConfig({ cwd })).toBe(join(shared, 'below/agent-secret.yml'));
  });

  it('a shared cwd is not searched itself', async () => {
    const { shared } = sharedTree(0o1777);
    expect(await discoverConfig({ cwd: shared })).toBeNull();
  });

  it('a plain directory does not stop it', async () => {
    const { base, cwd } = sharedTree(0o755);
    expect(await discoverConfig({ cwd })).toBe(join(base, 'shared/agent-secret.yml'));
  });

  it('--config may still name a file in a shared directory', async () => {
    const { shared, cwd } = sharedTree(0o1777);
    expect(await discoverConfig({ cwd, explicitPath: join(shared, 'agent-secret.yml') })).toBe(join(shared, 'agent-secret.yml'));
    expect((await loadConfig(join(shared, 'agent-secret.yml'))).profileNames).toEqual(['p']);
  });
});

describe('files others can change are refused', () => {
  const uid = process.getuid?.() ?? 0;

  it.each([
    ['world-writable', 0o666],
    ['group-writable', 0o664],
    ['writable by others only', 0o646],
  ])('a %s config, naming the path and the chmod that fixes it', async (_name, mode) => {
    const path = join(tree('agent-secret.yml'), 'agent-secret.yml');
    chmodSync(path, mode);
    const error = await rejection(loadConfig(path));
    expect(error).toMatchObject({ code: 'config.unreadable', message: `config file is writable by group or others, who could change what it asks for: ${path}` });
    expect(error.hint).toBe(`chmod go-w ${path}`);
    expect(error.exitCode).toBe(2);
  });

  it('hints quote the path so they can be pasted as written (a directory with a space and a quote)', async () => {
    const path = join(tree("it's here/agent-secret.yml"), "it's here", 'agent-secret.yml');
    chmodSync(path, 0o664);
    const error = await rejection(loadConfig(path));
    // What a POSIX shell makes of the hint is exactly the command and the path.
    const words = execFileSync('sh', ['-c', 'eval "set -- $1"; printf "%s\\0" "$@"', 'sh', error.hint ?? ''], { encoding: 'utf8' });
    expect(words.split('\0').slice(0, -1)).toEqual(['chmod', 'go-w', path]);
  });

  it('a world-writable env file is env_file.invalid', async () => {
    const base = tree();
    writeFileSync(join(base, 'a.env'), 'A=1\n');
    chmodSync(join(base, 'a.env'), 0o666);
    expect(await rejection(loadEnvFiles(['a.env'], base))).toMatchObject({ code: 'env_file.invalid', message: expect.stringContaining(`writable by group or others, who could change what it asks for: ${join(base, 'a.env')}`) });
  });

  it('a file owned by another user (chown as root, another caller uid otherwise)', async () => {
    const path = join(tree('agent-secret.yml'), 'agent-secret.yml');
    let caller = uid + 1;
    if (uid === 0) {
      chownSync(path, 65534, 65534);
      caller = 0;
    }
    const owner = uid === 0 ? 65534 : uid;
    const error = await rejection(readSmallTextFile(path, 'config', caller));
    expect(error).toMatchObject({ code: 'config.unreadable', message: `config file is owned by another user (uid ${owner}), who could change what it asks for: ${path}` });
  });

  it.each([
    ['world-writable', 0o777, true],
    ['group-writable', 0o775, true],
    ['sticky and world-writable (like /tmp)', 0o1777, false],
    ['private', 0o700, false],
  ])('a config in a %s directory: refused %s', async (_name, mode, refused) => {
    const base = tree('dir/agent-secret.yml');
    chmodSync(join(base, 'dir'), mode);
    const path = join(base, 'dir/agent-secret.yml');
    if (!refused) {
      expect((await loadConfig(path)).profileNames).toEqual(['p']);
      return;
    }
    const error = await rejection(loadConfig(path));
    expect(error.message).toBe(`config file is in a directory that group or others can write, so they could replace it: ${path}`);
    expect(error.hint).toBe(`chmod go-w ${join(base, 'dir')}`);
  });

  it('a symlink is judged by its target and by the directory of each', async () => {
    const base = tree('open/real.yml', 'repo/');
    chmodSync(join(base, 'open'), 0o777);
    symlinkSync(join(base, 'open/real.yml'), join(base, 'repo/agent-secret.yml'));
    const error = await rejection(loadConfig(join(base, 'repo/agent-secret.yml')));
    expect(error).toMatchObject({ code: 'config.unreadable', hint: `chmod go-w ${join(base, 'open')}` });
    chmodSync(join(base, 'open/real.yml'), 0o666);
    chmodSync(join(base, 'open'), 0o755);
    expect((await rejection(loadConfig(join(base, 'repo/agent-secret.yml')))).message).toContain('writable by group or others');
  });

  it('my own file in my own directory is read', async () => {
    const path = join(tree('agent-secret.yml'), 'agent-secret.yml');
    chmodSync(path, 0o600);
    expect(await readSmallTextFile(path, 'config', uid)).toBe(VALID);
  });
});

describe('loadConfig', () => {
  it('loads a valid file with includes', async () => {
    const config = await loadConfig(join(FIXTURES, 'configs/valid-includes.yml'));
    expect(config).toMatchObject({ path: join(FIXTURES, 'configs/valid-includes.yml'), account: 'team.1password.com', defaultProfile: 'app', profileNames: ['base', 'app'] });
  });

  it.each([
    ['include-cycle.yml', 'include-cycle.yml:8:15: profiles.b.include[0]: include cycle: a -> b -> a', { line: 8, col: 15, key: 'profiles.b.include[0]' }],
    ['unknown-key.yml', 'unknown-key.yml:4:5: profiles.deploy: unknown key; expected one of reason, ttl, account, include, mask, session, secrets, files, templates', { line: 4, col: 5, key: 'profiles.deploy' }],
  ])('%s throws one config.invalid with the absolute file, position and key', async (name, message, details) => {
    const file = join(FIXTURES, 'configs', name);
    const error = await rejection(loadConfig(file));
    expect(error.code).toBe('config.invalid');
    expect(error.message).toBe(`${join(FIXTURES, 'configs')}/${message}`);
    expect(error.details).toEqual({ file, ...details });
  });

  it('names the first problem and counts the rest, listing their lines in the hint', async () => {
    const error = await rejection(loadConfig(join(FIXTURES, 'configs/many-problems.yml')));
    expect(error.message).toMatch(/many-problems\.yml:4:10: profiles\.deploy\.ttl: a bare number is not a duration; expected a duration such as 90s, 2m or 1m30s \(and 3 more problems\)$/);
    expect(error.hint).toBe('write 90s; other problems at lines 5, 7, 8');
  });

  it('is config.not_found for a missing file', async () => {
    expect(await rejection(loadConfig(join(root, 'missing.yml')))).toMatchObject({ code: 'config.not_found' });
  });

  it('refuses a file over 1 MiB before parsing it', async () => {
    const path = join(tree(), 'big.yml');
    writeFileSync(path, `${VALID}#${'x'.repeat(1024 * 1024)}\n`);
    expect(await rejection(loadConfig(path))).toMatchObject({ code: 'config.unreadable', message: expect.stringContaining('exceeds 1048576 bytes') });
  });

  it('accepts a file of exactly 1 MiB', async () => {
    const path = join(tree(), 'edge.yml');
    const padding = 1024 * 1024 - VALID.length - 2;
    writeFileSync(path, `${VALID}#${'x'.repeat(padding)}\n`);
    expect((await loadConfig(path)).profileNames).toEqual(['p']);
  });

  it('refuses text that is not UTF-8', async () => {
    const path = join(tree(), 'latin1.yml');
    writeFileSync(path, Buffer.from([0x76, 0x65, 0x72, 0xff, 0xfe, 0x0a]));
    expect(await rejection(loadConfig(path))).toMatchObject({ code: 'config.unreadable', message: expect.stringContaining('not UTF-8') });
  });

  it.skipIf(!hasMkfifo)('refuses a FIFO without blocking on it', async () => {
    const path = join(tree(), 'fifo.yml');
    execFileSync('mkfifo', [path]);
    expect(await rejection(loadConfig(path))).toMatchObject({ code: 'config.unreadable', message: expect.stringContaining('must be a regular file') });
  });
});

describe('loadEnvFiles', () => {
  const env = join(FIXTURES, 'env');

  it('reads a file relative to cwd and classifies refs and plain entries', async () => {
    const result = await loadEnvFiles(['basic.env'], env);
    expect(result.secrets).toEqual([
      { alias: 'API_TOKEN', ref: 'op://Dev/API/token', file: join(env, 'basic.env'), line: 2 },
      { alias: 'DB_PASSWORD', ref: 'op://Dev/Postgres/password', file: join(env, 'basic.env'), line: 3 },
    ]);
    expect(result.plain.map((p) => [p.key, p.value, p.line])).toEqual([
      ['GREETING', 'hello # not a comment', 5],
      ['LOG_LEVEL', 'debug', 4],
    ]);
  });

  it('the later file wins per key and may flip secret and plain', async () => {
    const result = await loadEnvFiles(['basic.env', 'override.env'], env);
    expect(result.secrets.map((s) => `${s.alias}=${s.ref}`)).toEqual(['DB_PASSWORD=op://Dev/Postgres/password', 'LOG_LEVEL=op://Dev/Logging/level']);
    expect(result.plain.map((p) => `${p.key}=${p.value}`)).toEqual(['API_TOKEN=plain-now', 'GREETING=hello # not a comment']);
  });

  it('reports a bad line as env_file.invalid with the absolute file and line', async () => {
    const error = await rejection(loadEnvFiles(['unclosed-quote.env'], env));
    expect(error).toMatchObject({
      code: 'env_file.invalid',
      message: `${join(env, 'unclosed-quote.env')}:2: BROKEN: the quoted value is not closed on this line`,
      details: { file: join(env, 'unclosed-quote.env'), line: 2, key: 'BROKEN' },
    });
  });

  it('a missing file is env_file.invalid naming the path', async () => {
    expect(await rejection(loadEnvFiles(['nope.env'], env))).toMatchObject({ code: 'env_file.invalid', message: `env file not found: ${join(env, 'nope.env')}` });
  });

  it('a directory or an oversized file is env_file.invalid', async () => {
    const base = tree('dir/');
    writeFileSync(join(base, 'big.env'), `A=${'x'.repeat(1024 * 1024)}\n`);
    expect(await rejection(loadEnvFiles(['dir'], base))).toMatchObject({ code: 'env_file.invalid', message: expect.stringContaining('must be a regular file') });
    expect(await rejection(loadEnvFiles(['big.env'], base))).toMatchObject({ code: 'env_file.invalid', message: expect.stringContaining('exceeds') });
  });

  it('no files, no entries', async () => {
    expect(await loadEnvFiles([], env)).toEqual({ secrets: [], plain: [] });
  });
});
