import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanName, parseProcStat, parsePsLine, psArgs, readRequesterChain } from '../../../src/platform/process-tree.js';

const isLinux = process.platform === 'linux';

describe('parseProcStat (recorded /proc/<pid>/stat lines)', () => {
  it.each([
    ['a plain comm', '4821 (bash) S 4790 4821 4821 34816 4900 4194304 1234 0 0 0 1 2 0 0 20 0 1 0 100 0 0', { pid: 4821, comm: 'bash', ppid: 4790 }],
    ['a comm with spaces', '912 (tmux: server) S 1 912 912 0 -1 4194624 500 0 0 0 3 4 0 0 20 0 1 0 50 0 0', { pid: 912, comm: 'tmux: server', ppid: 1 }],
    ['a comm with ) and (', '77 (a) b (c) S 76 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0', { pid: 77, comm: 'a) b (c', ppid: 76 }],
    ['a comm that looks like fields', '78 (x) R 1 2) S 5 78 78 0 -1', { pid: 78, comm: 'x) R 1 2', ppid: 5 }],
    ['init with ppid 0', '1 (systemd) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0', { pid: 1, comm: 'systemd', ppid: 0 }],
    ['an empty comm', '5 () S 2 0 0 0 -1', { pid: 5, comm: '', ppid: 2 }],
  ])('parses %s', (_name, line, expected) => {
    expect(parseProcStat(`${line}\n`)).toEqual(expected);
  });

  it.each([
    ['empty text', ''],
    ['no parentheses', '12 bash S 1'],
    ['no ppid', '12 (bash) S'],
    ['a non-numeric pid', 'x12 (bash) S 1 2'],
    ['a non-numeric ppid', '12 (bash) S -1 2'],
  ])('returns null for %s', (_name, line) => {
    expect(parseProcStat(line)).toBeNull();
  });
});

describe('parsePsLine (recorded `ps -o pid=,ppid=,comm= -p PID` output)', () => {
  it.each([
    ['a path', '  501   498 /bin/zsh\n', { pid: 501, ppid: 498, name: 'zsh' }],
    ['an app path with spaces', '  812     1 /Applications/Visual Studio Code.app/Contents/MacOS/Electron\n', { pid: 812, ppid: 1, name: 'Electron' }],
    ['a login shell', '43210 43209 -zsh\n', { pid: 43210, ppid: 43209, name: '-zsh' }],
    ['a bare name', '7 1 launchd', { pid: 7, ppid: 1, name: 'launchd' }],
    ['a name with spaces', '  90   80 /usr/local/bin/my tool\n', { pid: 90, ppid: 80, name: 'my tool' }],
    ['leading blank lines', '\n\n  3     2 /usr/sbin/sshd\n', { pid: 3, ppid: 2, name: 'sshd' }],
  ])('parses %s', (_name, text, expected) => {
    expect(parsePsLine(text)).toEqual(expected);
  });

  it.each([
    ['empty output (no such process)', ''],
    ['a header line', '  PID  PPID COMM\n'],
    ['a missing comm', '  501   498\n'],
    ['garbage', 'ps: illegal option -- x\n'],
  ])('returns null for %s', (_name, text) => {
    expect(parsePsLine(text)).toBeNull();
  });
});

describe('psArgs', () => {
  it('asks ps for exactly one process, without a header', () => {
    expect(psArgs(4242)).toEqual(['-o', 'pid=,ppid=,comm=', '-p', '4242']);
  });
});

describe('cleanName', () => {
  it('replaces control, bidi and zero-width characters', () => {
    expect(cleanName('a\u001b[31mb\nc\u202ed\u200be\u0085')).toBe('a?[31mb?c?d?e?');
  });

  it('clips to 64 characters, counting code points', () => {
    expect(cleanName('x'.repeat(100))).toBe('x'.repeat(64));
    expect([...cleanName('🔑'.repeat(70))]).toHaveLength(64);
    expect(cleanName('claude')).toBe('claude');
  });
});

describe('readRequesterChain', () => {
  it.runIf(isLinux)('reads the live chain of this process, starting at its parent', async () => {
    const chain = await readRequesterChain({ pid: process.pid, platform: 'linux' });
    expect(chain.length).toBeGreaterThan(0);
    expect(chain.length).toBeLessThanOrEqual(6);
    expect(chain[0]?.pid).toBe(process.ppid);
    for (const entry of chain) expect(entry.name.length).toBeGreaterThan(0);
    expect(await readRequesterChain({ pid: process.pid, platform: 'linux', maxDepth: 1 })).toEqual(chain.slice(0, 1));
  });

  it.runIf(isLinux)('names an ancestor with a hostile name safely', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'as-tree-'));
    const hostile = join(dir, 'ev\u001bil (x) y');
    await symlink('/bin/sh', hostile);
    const shell = spawn(hostile, ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const sleepPid = await new Promise<number>((resolve) => shell.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
      const chain = await readRequesterChain({ pid: sleepPid, platform: 'linux', maxDepth: 2 });
      expect(chain[0]).toEqual({ pid: shell.pid, name: 'ev?il (x) y' });
      expect(chain[1]).toEqual({ pid: process.pid, name: expect.any(String) });
    } finally {
      shell.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The ps path is what macOS uses; procps understands the same argv, so it runs on Linux too.
  it.runIf(existsSync('/bin/ps'))('reads the live chain through /bin/ps', async () => {
    const chain = await readRequesterChain({ pid: process.pid, platform: 'darwin' });
    expect(chain[0]?.pid).toBe(process.ppid);
    expect(chain[0]?.name.length).toBeGreaterThan(0);
    if (isLinux) expect(chain.map((p) => p.pid)).toEqual((await readRequesterChain({ pid: process.pid, platform: 'linux' })).map((p) => p.pid));
  });

  it('returns an empty chain for a process that does not exist, without throwing', async () => {
    await expect(readRequesterChain({ pid: 2 ** 22 + 12345, platform: process.platform })).resolves.toEqual([]);
    await expect(readRequesterChain({ pid: process.pid, platform: 'win32' })).resolves.toEqual([]);
  });
});
