import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUserConfigLoader, loadUserConfig, parseUserConfig } from '../../../src/config/user-config.js';
import { AgentSecretError } from '../../../src/core/errors.js';

const FILE = '/home/u/.config/agent-secret/config.yml';

function problem(text: string): string {
  try {
    parseUserConfig(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(AgentSecretError);
    expect((error as AgentSecretError).code).toBe('user_config.invalid');
    return (error as AgentSecretError).message;
  }
  throw new Error('expected the config to be refused');
}

describe('parseUserConfig', () => {
  it.each([
    ['version: 1\n', { approver: 'auto', opPath: undefined, touchId: true, trustedDirs: [], policy: null }],
    ['version: 1\napprover: tty\ntouch_id: false\n', { approver: 'tty', opPath: undefined, touchId: false, trustedDirs: [], policy: null }],
    ['version: 1\napprover: zenity\nop_path: /opt/op/op\n', { approver: 'zenity', opPath: '/opt/op/op', touchId: true, trustedDirs: [], policy: null }],
    ['version: 1\napprover:\n  command: [/usr/local/bin/phone-approve, --device, pixel]\n', { approver: { command: ['/usr/local/bin/phone-approve', '--device', 'pixel'] }, opPath: undefined, touchId: true, trustedDirs: [], policy: null }],
    ['version: 1\ntrusted_dirs: [/opt/homebrew, /home/me/.nvm]\n', { approver: 'auto', opPath: undefined, touchId: true, trustedDirs: ['/opt/homebrew', '/home/me/.nvm'], policy: null }],
    ['{"version": 1, "approver": "macos"}', { approver: 'macos', opPath: undefined, touchId: true, trustedDirs: [], policy: null }],
    ['version: 1\ndaemon_idle_timeout: 30m\n', { approver: 'auto', opPath: undefined, touchId: true, trustedDirs: [], daemonIdleMs: 1_800_000, policy: null }],
    ['version: 1\ndaemon_idle_timeout: 10s\n', { approver: 'auto', opPath: undefined, touchId: true, trustedDirs: [], daemonIdleMs: 10_000, policy: null }],
  ])('accepts %j', (text, expected) => {
    expect(parseUserConfig(text, FILE)).toEqual(expected);
  });

  it.each([
    ['version: 1\napprover: gui\n', `${FILE}:2:11: approver: must be one of auto, macos, zenity, kdialog, tty, console, none, or {command: [/absolute/path/to/program, args…]}`],
    ['version: 1\napprover:\n  command: [approve-bot]\n', `${FILE}:3:13: approver.command.0: the program (first element) must be an absolute path`],
    ['version: 1\napprover:\n  command: []\n', `${FILE}:3:12: approver.command: must name a program`],
    ['version: 1\napprover:\n  command: /bin/true\n', `${FILE}:3:12: approver.command: must be a list of strings`],
    ['version: 1\napprover:\n  command: [/bin/true]\n  shell: true\n', `${FILE}:4:3: approver.shell: unknown key`],
    ['version: 1\ncolour: blue\n', `${FILE}:2:1: colour: unknown key`],
    ['version: 1\ndaemon_idle_timeout: 5s\n', `${FILE}:2:22: daemon_idle_timeout: must be a duration between 10s and 7d, such as 30m or 2h`],
    ['version: 1\ndaemon_idle_timeout: 8d\n', `${FILE}:2:22: daemon_idle_timeout: must be a duration between 10s and 7d, such as 30m or 2h`],
    ['version: 1\ndaemon_idle_timeout: 600\n', `${FILE}:2:22: daemon_idle_timeout: must be a duration such as 10m`],
    ['version: 2\n', `${FILE}:1:10: version: must be 1`],
    ['approver: tty\n', `${FILE}:1:1: version: is required`],
    ['version: 1\nop_path: op\n', `${FILE}:2:10: op_path: must be an absolute path`],
    ['version: 1\ntouch_id: yes\n', `${FILE}:2:11: touch_id: must be true or false`],
    ['version: 1\nversion: 1\n', `${FILE}:2:1: yaml: not valid YAML (duplicate key)`],
    ['version: 1\n  approver: [\n', `${FILE}:1:10: yaml: not valid YAML (block as implicit key)`],
    ['- version: 1\n', `${FILE}:1:1: yaml: the file must be a mapping such as "version: 1"`],
    ['', `${FILE}:1:1: version: is required`],
    ['version: 1\ncolour: blue\ntouch_id: 3\n', `${FILE}:2:1: colour: unknown key (and 1 more problem)`],
  ])('refuses %j with a positioned message', (text, message) => {
    expect(problem(text)).toBe(message);
  });

  it('never echoes a value from the file', () => {
    const canary = 'CANARY_d41d8cd98f00';
    fc.assert(
      fc.property(fc.constantFrom('approver', 'op_path', 'touch_id', 'version'), fc.string(), (key, noise) => {
        const text = `version: 1\n${key === 'version' ? 'version2' : key}: "${canary}${noise.replace(/["\\\n]/g, '')}"\n`;
        try {
          parseUserConfig(text, FILE);
        } catch (error) {
          expect(error).toBeInstanceOf(AgentSecretError);
          expect((error as AgentSecretError).message).not.toContain(canary);
          return;
        }
        expect(key).toBe('op_path');
      }),
      { numRuns: 100 },
    );
  });
});

describe('loadUserConfig', () => {
  let root: string;
  let dir: string;
  let file: string;
  const input = () => ({ env: { XDG_CONFIG_HOME: root }, platform: 'linux' as const, homedir: '/nonexistent' });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'agent-secret-user-config-'));
    dir = join(root, 'agent-secret');
    file = join(dir, 'config.yml');
    mkdirSync(dir, { mode: 0o700 });
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const refusal = async () => {
    const error = await loadUserConfig(input()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AgentSecretError);
    expect((error as AgentSecretError).code).toBe('user_config.invalid');
    return error as AgentSecretError;
  };

  it('gives the defaults when the file does not exist', async () => {
    await expect(loadUserConfig(input())).resolves.toEqual({ path: file, exists: false, approver: 'auto', opPath: undefined, touchId: true, trustedDirs: [], policy: null });
  });

  it('defaults to ~/.config when XDG_CONFIG_HOME is not set', async () => {
    const config = await loadUserConfig({ env: { HOME: root }, platform: 'darwin', homedir: '/nonexistent' });
    expect(config.path).toBe(join(root, '.config', 'agent-secret', 'config.yml'));
  });

  it('loads a private regular file', async () => {
    writeFileSync(file, 'version: 1\napprover:\n  command: [/bin/true]\n', { mode: 0o600 });
    await expect(loadUserConfig(input())).resolves.toEqual({ path: file, exists: true, approver: { command: ['/bin/true'] }, opPath: undefined, touchId: true, trustedDirs: [], policy: null });
  });

  it('refuses a symlink, even to a good file', async () => {
    const real = join(root, 'real.yml');
    writeFileSync(real, 'version: 1\n', { mode: 0o600 });
    symlinkSync(real, file);
    const error = await refusal();
    expect(error.message).toBe(`${file} is a symlink; it chooses who approves secret access, so it is not trusted`);
    expect(error.hint).toBe('replace the symlink with the file itself');
  });

  it('refuses a group- or world-writable file', async () => {
    writeFileSync(file, 'version: 1\n');
    for (const mode of [0o620, 0o602, 0o666]) {
      chmodSync(file, mode);
      const error = await refusal();
      expect(error.message).toBe(`${file} is writable by group or others; it chooses who approves secret access, so it is not trusted`);
      expect(error.hint).toBe(`chmod go-w ${file}`);
    }
  });

  it('refuses a file in a directory others can write to', async () => {
    writeFileSync(file, 'version: 1\n', { mode: 0o600 });
    chmodSync(dir, 0o777);
    expect((await refusal()).message).toContain('is in a directory writable by group or others');
  });

  it('refuses something that is not a regular file', async () => {
    mkdirSync(file);
    expect((await refusal()).message).toBe(`${file} is not a regular file; it chooses who approves secret access, so it is not trusted`);
  });

  it('refuses a file over 64 KiB', async () => {
    writeFileSync(file, `version: 1\n${'#'.repeat(64 * 1024)}\n`, { mode: 0o600 });
    expect((await refusal()).message).toBe(`${file} is larger than 64 KiB; it chooses who approves secret access, so it is not trusted`);
  });

  it('reports schema problems with the file position', async () => {
    writeFileSync(file, 'version: 1\napprover: sometimes\n', { mode: 0o600 });
    const error = await refusal();
    expect(error.message.startsWith(`${file}:2:11: approver: `)).toBe(true);
    expect(error.details).toEqual({ file, line: 2, col: 11, key: 'approver' });
  });
});

describe('createUserConfigLoader (the daemon reads the config at every request)', () => {
  let root: string;
  let file: string;
  const input = () => ({ env: { XDG_CONFIG_HOME: root }, platform: 'linux' as const, homedir: '/nonexistent' });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'agent-secret-user-config-'));
    mkdirSync(join(root, 'agent-secret'), { mode: 0o700 });
    file = join(root, 'agent-secret', 'config.yml');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('parses again only when the file changed, and sees a new, a changed, a removed and a refused file', async () => {
    const load = createUserConfigLoader();
    expect((await load(input())).exists).toBe(false);
    writeFileSync(file, 'version: 1\napprover: zenity\n', { mode: 0o600 });
    const first = await load(input());
    expect(first.approver).toBe('zenity');
    expect(await load(input())).toBe(first);

    writeFileSync(file, 'version: 1\napprover: kdialog\n', { mode: 0o600 });
    expect((await load(input())).approver).toBe('kdialog');

    chmodSync(file, 0o666);
    await expect(load(input())).rejects.toThrow(AgentSecretError);
    chmodSync(file, 0o600);
    expect((await load(input())).approver).toBe('kdialog');

    rmSync(file);
    expect((await load(input())).exists).toBe(false);
  });
});
