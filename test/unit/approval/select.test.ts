// Approver selection matrix, with fake dialog programs in a temp directory.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeApprover, selectApprover } from '../../../src/approval/select.js';
import type { UserConfig, ApproverSetting } from '../../../src/config/user-config.js';
import { AgentSecretError } from '../../../src/core/errors.js';
import { samplePrompt } from './sample-prompt.js';

const FAKE_APPROVER = fileURLToPath(new URL('../../fixtures/bin/approver', import.meta.url));
const HINT = 'set approver in ~/.config/agent-secret/config.yml (console, tty, or command: [/path/to/program]); see README "Approvers"';
const HEADLESS =
  'without a desktop (SSH, a server), put `approver: console` in ~/.config/agent-secret/config.yml and run `agent-secret approve` in a terminal of your own; see docs/approvers.md';

let dir: string;
let bin: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-secret-select-'));
  bin = join(dir, 'bin');
  mkdirSync(bin);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function config(approver: ApproverSetting, touchId = true): UserConfig {
  return { path: '/home/u/.config/agent-secret/config.yml', exists: true, approver, opPath: undefined, touchId, trustedDirs: [], policy: null };
}

// A fake dialog: records its argv (NUL-separated; also per call as <name>.argv.<n>) and
// environment, prints ./out.<n> when present, exits with ./exit.<n> or else ./exit-code (0).
function fakeDialog(name: string): string {
  const file = join(bin, name);
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      'd=$(dirname "$0")',
      `n=$(( $(cat "$d/${name}.count" 2>/dev/null || echo 0) + 1 ))`,
      `echo "$n" > "$d/${name}.count"`,
      `printf '%s\\0' "$@" > "$d/${name}.argv"`,
      `printf '%s\\0' "$@" > "$d/${name}.argv.$n"`,
      `env > "$d/${name}.env"`,
      '[ -f "$d/out.$n" ] && cat "$d/out.$n"',
      '[ -f "$d/exit.$n" ] && exit $(cat "$d/exit.$n")',
      'exit $(cat "$d/exit-code" 2>/dev/null || echo 0)',
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o755);
  return file;
}

// The answers of the next dialogs, in order: [exit code, stdout].
function script(answers: Array<[number, string]>): void {
  answers.forEach(([code, out], i) => {
    writeFileSync(join(bin, `exit.${i + 1}`), String(code));
    writeFileSync(join(bin, `out.${i + 1}`), out);
  });
}

function argvOf(name: string, call: number): string[] {
  return readFileSync(join(bin, `${name}.argv.${call}`), 'utf8').split('\0').slice(0, -1);
}

async function unavailable(promise: Promise<unknown>): Promise<AgentSecretError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentSecretError);
  expect((error as AgentSecretError).code).toBe('approval.unavailable');
  return error as AgentSecretError;
}

const linux = (env: Record<string, string> = {}) => ({ platform: 'linux' as const, env });

describe('selectApprover', () => {
  it('runs a configured command approver', async () => {
    const approver = await selectApprover(config({ command: [FAKE_APPROVER, 'approve'] }), linux({ ...(process.env as Record<string, string>) }));
    expect(approver.name).toBe('command');
    await expect(approver.decide(samplePrompt(), { deadline: Date.now() + 10_000 })).resolves.toEqual({ kind: 'approve' });
  });

  it('refuses a command approver that is missing, not executable or writable by others', async () => {
    const plain = join(dir, 'plain');
    writeFileSync(plain, '#!/bin/sh\n');
    chmodSync(plain, 0o644);
    const shared = join(dir, 'shared');
    writeFileSync(shared, '#!/bin/sh\n');
    chmodSync(shared, 0o777);
    for (const program of [join(dir, 'missing'), plain, shared]) {
      const error = await unavailable(selectApprover(config({ command: [program] }), linux()));
      expect(error.message).toBe(`no approver available: the approver program ${program} is missing, not executable, or writable by everyone`);
    }
  });

  it('uses the tty approver only when configured and a terminal can be opened', async () => {
    const tty = join(dir, 'tty');
    writeFileSync(tty, '');
    await expect(selectApprover(config('tty'), linux(), { ttyPath: tty })).resolves.toMatchObject({ name: 'tty' });
    const error = await unavailable(selectApprover(config('tty'), linux(), { ttyPath: join(dir, 'no-tty') }));
    expect(error.message).toBe('no approver available: no terminal (/dev/tty) to ask on');
  });

  it('auto on Linux without a display: no approver, with the approval console as the way forward', async () => {
    fakeDialog('zenity');
    const error = await unavailable(selectApprover(config('auto'), linux(), { searchDirs: [bin] }));
    expect(error.message).toBe('no approver available: no desktop display for zenity/kdialog (neither DISPLAY nor WAYLAND_DISPLAY is set)');
    expect(error.hint).toBe(HEADLESS);
    await expect(describeApprover(config('auto'), linux(), { searchDirs: [bin] })).resolves.toMatchObject({ available: false, hint: HEADLESS });
  });

  it('console: available wherever the daemon offers its channel; never chosen by auto', async () => {
    const channel = { ask: async () => ({ kind: 'deny' as const, reason: 'denied by user' }) };
    const approver = await selectApprover(config('console'), linux(), { console: channel });
    expect(approver.name).toBe('console');
    await expect(approver.decide(samplePrompt(), { deadline: Date.now() + 1000 })).resolves.toEqual({ kind: 'deny', reason: 'denied by user' });
    await expect(describeApprover(config('console'), linux())).resolves.toMatchObject({ name: 'console', available: true });
    // Outside the daemon (no channel) nothing can answer.
    await unavailable(selectApprover(config('console'), linux()));
  });

  it('auto never falls back to the terminal', async () => {
    const tty = join(dir, 'tty');
    writeFileSync(tty, '');
    await unavailable(selectApprover(config('auto'), linux(), { searchDirs: [bin], ttyPath: tty }));
  });

  it('auto on Linux with a display picks zenity, which shows the request and maps its exit code', async () => {
    fakeDialog('zenity');
    fakeDialog('kdialog');
    const approver = await selectApprover(config('auto'), linux({ DISPLAY: ':0', ZENITY_CANCEL: '0', LD_PRELOAD: '/tmp/x.so', PATH: '/tmp/evil' }), { searchDirs: [bin] });
    expect(approver.name).toBe('zenity');
    await expect(approver.decide(samplePrompt(), { deadline: Date.now() + 60_000 })).resolves.toEqual({ kind: 'approve' });
    const argv = readFileSync(join(bin, 'zenity.argv'), 'utf8').split('\0');
    expect(argv.slice(0, 4)).toEqual(['--question', '--no-markup', '--default-cancel', '--ok-label']);
    const env = readFileSync(join(bin, 'zenity.env'), 'utf8');
    expect(env).toContain('DISPLAY=:0');
    expect(env).not.toContain('ZENITY_CANCEL');
    expect(env).not.toContain('LD_PRELOAD');
    expect(env).not.toContain('/tmp/evil');

    writeFileSync(join(bin, 'exit-code'), '1');
    await expect(approver.decide(samplePrompt(), { deadline: Date.now() + 60_000 })).resolves.toEqual({ kind: 'deny', reason: 'denied by user' });
    writeFileSync(join(bin, 'exit-code'), '5');
    await expect(approver.decide(samplePrompt(), { deadline: Date.now() + 60_000 })).resolves.toEqual({ kind: 'timeout' });
    writeFileSync(join(bin, 'exit-code'), '255');
    await expect(approver.decide(samplePrompt(), { deadline: Date.now() + 60_000 })).resolves.toEqual({ kind: 'failed', reason: 'the approver dialog exited with code 255' });
  });

  it('auto on Linux falls back to kdialog, and accepts a Wayland display', async () => {
    fakeDialog('kdialog');
    script([
      [0, ''],
      [0, 'once\n'],
    ]);
    const approver = await selectApprover(config('auto'), linux({ WAYLAND_DISPLAY: 'wayland-0' }), { searchDirs: [bin] });
    expect(approver.name).toBe('kdialog');
    await expect(approver.decide(samplePrompt(), { deadline: Date.now() + 60_000 })).resolves.toEqual({ kind: 'approve' });
    expect(argvOf('kdialog', 1)[2]).toBe('--warningcontinuecancel');
    expect(argvOf('kdialog', 2)[2]).toBe('--radiolist');
  });

  it('zenity: "Allow again..." then the form gives a reusable approval; Return on the form keeps the defaults', async () => {
    fakeDialog('zenity');
    script([
      [1, 'Allow again for a while...\n'],
      [0, '1 minute|10\n'],
      [1, 'Allow again for a while...\n'],
      [0, '|\n'],
      [1, 'Allow again for a while...\n'],
      [1, ''],
    ]);
    const approver = await selectApprover(config('zenity'), linux({ DISPLAY: ':0' }), { searchDirs: [bin] });
    const decide = () => approver.decide(samplePrompt(), { deadline: Date.now() + 60_000 });
    await expect(decide()).resolves.toEqual({ kind: 'approve', reuse: { ttlSeconds: 60, maxUses: 10 } });
    expect(argvOf('zenity', 1)).toContain('--extra-button');
    expect(argvOf('zenity', 2)[0]).toBe('--forms');
    await expect(decide()).resolves.toEqual({ kind: 'approve', reuse: { ttlSeconds: 120, maxUses: 3 } });
    await expect(decide()).resolves.toEqual({ kind: 'deny', reason: 'denied by user' });
  });

  it('kdialog: Allow... → Allow again → a duration × runs row gives a reusable approval; every cancel denies', async () => {
    fakeDialog('kdialog');
    script([
      [0, ''],
      [0, 'again\n'],
      [0, '60s-5\n'],
      [0, ''],
      [0, 'deny\n'],
      [2, ''],
      [0, ''],
      [0, 'again\n'],
      [1, ''],
    ]);
    const approver = await selectApprover(config('kdialog'), linux({ DISPLAY: ':0' }), { searchDirs: [bin] });
    const decide = () => approver.decide(samplePrompt(), { deadline: Date.now() + 60_000 });
    await expect(decide()).resolves.toEqual({ kind: 'approve', reuse: { ttlSeconds: 60, maxUses: 5 } });
    expect(argvOf('kdialog', 3).slice(4, 7)).toEqual(['120s-3', 'for 2 minutes, 3 runs (this one and 2 more)', 'on']);
    await expect(decide()).resolves.toEqual({ kind: 'deny', reason: 'denied by user' });
    await expect(decide()).resolves.toEqual({ kind: 'deny', reason: 'denied by user' });
    await expect(decide()).resolves.toEqual({ kind: 'deny', reason: 'denied by user' });
  });

  it('auto on Linux with a display but no dialog program says what to install', async () => {
    const error = await unavailable(selectApprover(config('auto'), linux({ DISPLAY: ':0' }), { searchDirs: [bin] }));
    expect(error.message).toBe(`no approver available: neither zenity nor kdialog is installed in ${bin}`);
    expect(error.hint).toBe(`install zenity (or kdialog), or ${HINT}`);
  });

  it.each(['zenity', 'kdialog'] as const)('a configured %s that is missing is named as not installed', async (program) => {
    const error = await unavailable(selectApprover(config(program), linux({ DISPLAY: ':0' }), { searchDirs: [bin] }));
    expect(error.message).toBe(`no approver available: ${program} is not installed in ${bin}`);
  });

  it('never looks for dialogs on the caller PATH', async () => {
    fakeDialog('zenity');
    const description = await describeApprover(config('auto'), linux({ DISPLAY: ':0', PATH: bin }));
    expect(description.detail).not.toContain(bin);
  });

  it('ignores a dialog program that others can rewrite', async () => {
    chmodSync(fakeDialog('zenity'), 0o777);
    await unavailable(selectApprover(config('zenity'), linux({ DISPLAY: ':0' }), { searchDirs: [bin] }));
  });

  it('honours an explicit zenity or kdialog choice', async () => {
    fakeDialog('zenity');
    fakeDialog('kdialog');
    await expect(selectApprover(config('kdialog'), linux({ DISPLAY: ':0' }), { searchDirs: [bin] })).resolves.toMatchObject({ name: 'kdialog' });
    await expect(selectApprover(config('zenity'), linux({ DISPLAY: ':0' }), { searchDirs: [bin] })).resolves.toMatchObject({ name: 'zenity' });
    await unavailable(selectApprover(config('zenity'), linux(), { searchDirs: [bin] }));
  });

  it('auto on macOS is the macOS dialog', async () => {
    await expect(selectApprover(config('auto'), { platform: 'darwin', env: {} })).resolves.toMatchObject({ name: 'macos' });
    await expect(selectApprover(config('macos', false), { platform: 'darwin', env: {} })).resolves.toMatchObject({ name: 'macos' });
  });

  it('refuses the macOS approver elsewhere, and zenity on macOS', async () => {
    const error = await unavailable(selectApprover(config('macos'), linux({ DISPLAY: ':0' })));
    expect(error.message).toBe('no approver available: the macos approver needs macOS');
    await unavailable(selectApprover(config('zenity'), { platform: 'darwin', env: { DISPLAY: ':0' } }, { searchDirs: [bin] }));
  });
});

describe('describeApprover', () => {
  it('reports without prompting or throwing', async () => {
    fakeDialog('zenity');
    await expect(describeApprover(config('auto'), linux({ DISPLAY: ':0' }), { searchDirs: [bin] })).resolves.toEqual({
      name: 'zenity',
      available: true,
      detail: `${join(bin, 'zenity')} on the desktop display`,
    });
    await expect(describeApprover(config('auto'), linux(), { searchDirs: [bin] })).resolves.toEqual({
      name: 'auto',
      available: false,
      detail: 'no desktop display for zenity/kdialog (neither DISPLAY nor WAYLAND_DISPLAY is set)',
      hint: HEADLESS,
    });
    await expect(describeApprover(config({ command: [FAKE_APPROVER, 'deny'] }), linux())).resolves.toEqual({
      name: 'command',
      available: true,
      detail: `program ${FAKE_APPROVER}`,
    });
    await expect(describeApprover(config('auto', true), { platform: 'darwin', env: {} })).resolves.toEqual({
      name: 'macos',
      available: true,
      detail: 'osascript dialog, then Touch ID when available',
    });
  });
});

describe('approver: none (headless)', () => {
  it('doctor sees it chosen on purpose, and nobody is ever asked', async () => {
    const host = { platform: 'linux' as const, env: { DISPLAY: ':0' } };
    await expect(describeApprover(config('none'), host)).resolves.toMatchObject({ name: 'none', available: true });
    const error = await selectApprover(config('none'), host).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AgentSecretError);
    expect((error as AgentSecretError).code).toBe('approval.unavailable');
  });
});
