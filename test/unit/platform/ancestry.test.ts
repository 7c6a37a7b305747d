import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseProcStatFull,
  parseProcStatus,
  parsePsAncestryLine,
  procAncestryEntry,
  psAncestryArgs,
  psAncestryEntry,
  readAncestry,
} from '../../../src/platform/process-tree.js';

const isLinux = process.platform === 'linux';

// Recorded on Linux 6.x (fields after 22 trimmed where they do not matter).
const BASH_STAT = '8664 (bash) S 8660 8664 8664 0 -1 4194560 3722 47146 0 1 1 4 44 18 20 0 1 0 39133 5124096 962 18446744073709551615 0 0\n';
const SPACED_STAT = '13925 (my sleep) S 13924 13920 8664 0 -1 4194304 131 0 0 0 0 0 0 0 20 0 1 0 53111 2990080 393 18446744073709551615\n';
const TRICKY_STAT = '77 (a) b (c) S 76 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 912345 0 0\n';
const STATUS_1000 = 'Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t8664\nNgid:\t0\nPid:\t8664\nPPid:\t8660\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\nFDSize:\t256\nGroups:\t100 998 \n';
const STATUS_SETUID = 'Name:\tsudo\nUid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\n';

// Written by hand from the documented macOS format of `ps -o pid=,ppid=,uid=,gid=,lstart=,comm=`:
// right-aligned numbers, lstart as `%a %b %e %T %Y` under LC_ALL=C, comm last and unpadded.
const MAC_ZSH = '  501   498   501    20 Tue Mar  4 09:05:07 2025 /bin/zsh\n';
const MAC_APP = '  812     1   501    20 Mon Feb 10 18:22:41 2025 /Applications/Visual Studio Code.app/Contents/MacOS/Electron\n';
const MAC_SPACES = ' 9001  8999   501    20 Sun Dec 31 23:59:59 2023 /Users/dev/My Tools/bin/agent runner  \n';
const MAC_LOGIN = '43210 43209   501    20 Wed Jan  1 00:00:00 2025 -zsh\n';
const MAC_LAUNCHD = '    1     0     0     0 Sat Mar  1 08:00:01 2025 /sbin/launchd\n';

describe('parseProcStatFull (recorded /proc/<pid>/stat)', () => {
  it.each([
    ['a plain comm', BASH_STAT, { pid: 8664, comm: 'bash', ppid: 8660, startTime: '39133' }],
    ['a comm with a space', SPACED_STAT, { pid: 13925, comm: 'my sleep', ppid: 13924, startTime: '53111' }],
    ['a comm with ) and (', TRICKY_STAT, { pid: 77, comm: 'a) b (c', ppid: 76, startTime: '912345' }],
  ])('reads field 22 with %s', (_name, text, expected) => {
    expect(parseProcStatFull(text)).toEqual(expected);
  });

  it.each([
    ['a line cut before field 22', '78 (x) R 1 2) S 5 78 78 0 -1'],
    ['a non-numeric start time', '5 (x) S 2 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 soon 0'],
    ['no parentheses', '12 bash S 1'],
    ['empty text', ''],
  ])('returns null for %s', (_name, text) => {
    expect(parseProcStatFull(text)).toBeNull();
  });
});

describe('parseProcStatus', () => {
  it('takes the effective uid and gid (second column)', () => {
    expect(parseProcStatus(STATUS_1000)).toEqual({ uid: 1000, gid: 100 });
    expect(parseProcStatus(STATUS_SETUID)).toEqual({ uid: 0, gid: 100 });
  });

  it.each([
    ['no Gid line', 'Uid:\t1\t1\t1\t1\n'],
    ['no Uid line', 'Gid:\t1\t1\t1\t1\n'],
    ['a single column', 'Uid:\t1\nGid:\t1\n'],
    ['a Uid inside another line', 'XUid:\t1\t1\nGid:\t1\t1\n'],
    ['empty text', ''],
  ])('returns null for %s', (_name, text) => {
    expect(parseProcStatus(text)).toBeNull();
  });
});

describe('procAncestryEntry', () => {
  it('combines stat, status and the exe link', () => {
    expect(procAncestryEntry(8664, BASH_STAT, STATUS_1000, '/usr/bin/bash')).toEqual({
      pid: 8664,
      ppid: 8660,
      uid: 1000,
      gid: 100,
      startTime: '39133',
      path: '/usr/bin/bash',
      name: 'bash',
    });
  });

  it('keeps a deleted executable as the kernel names it, and its basename as the name', () => {
    const entry = procAncestryEntry(13925, SPACED_STAT, STATUS_1000, '/tmp/x1/my sleep (deleted)');
    expect(entry?.path).toBe('/tmp/x1/my sleep (deleted)');
    expect(entry?.name).toBe('my sleep');
  });

  it('falls back to comm when the exe link cannot be read', () => {
    expect(procAncestryEntry(8664, BASH_STAT, STATUS_1000, null)).toMatchObject({ path: null, name: 'bash' });
  });

  it.each([
    ['stat missing', null, STATUS_1000],
    ['status missing', BASH_STAT, null],
    ['status without ids', BASH_STAT, 'Name:\tbash\n'],
  ])('returns null with %s', (_name, stat, status) => {
    expect(procAncestryEntry(8664, stat, status, '/usr/bin/bash')).toBeNull();
  });

  it('returns null when stat describes another pid', () => {
    expect(procAncestryEntry(8665, BASH_STAT, STATUS_1000, '/usr/bin/bash')).toBeNull();
  });
});

describe('parsePsAncestryLine and psAncestryEntry (macOS ps output)', () => {
  it.each([
    ['a shell', MAC_ZSH, { pid: 501, ppid: 498, uid: 501, gid: 20, startTime: 'Tue Mar 4 09:05:07 2025', path: '/bin/zsh', name: 'zsh' }],
    [
      'an app bundle path with spaces',
      MAC_APP,
      { pid: 812, ppid: 1, uid: 501, gid: 20, startTime: 'Mon Feb 10 18:22:41 2025', path: '/Applications/Visual Studio Code.app/Contents/MacOS/Electron', name: 'Electron' },
    ],
    [
      'a path with spaces in a directory and the file name',
      MAC_SPACES,
      { pid: 9001, ppid: 8999, uid: 501, gid: 20, startTime: 'Sun Dec 31 23:59:59 2023', path: '/Users/dev/My Tools/bin/agent runner', name: 'agent runner' },
    ],
    ['a login shell (no path)', MAC_LOGIN, { pid: 43210, ppid: 43209, uid: 501, gid: 20, startTime: 'Wed Jan 1 00:00:00 2025', path: null, name: '-zsh' }],
    ['launchd', MAC_LAUNCHD, { pid: 1, ppid: 0, uid: 0, gid: 0, startTime: 'Sat Mar 1 08:00:01 2025', path: '/sbin/launchd', name: 'launchd' }],
    ['leading blank lines', `\n\n${MAC_ZSH}`, { pid: 501, ppid: 498, path: '/bin/zsh' }],
  ])('parses %s', (_name, text, expected) => {
    const parsed = parsePsAncestryLine(text);
    expect(parsed).not.toBeNull();
    expect(psAncestryEntry(parsed as NonNullable<typeof parsed>)).toMatchObject(expected);
  });

  it('gives the same start time whatever the day padding', () => {
    const padded = parsePsAncestryLine('  501   498   501    20 Tue Mar  4 09:05:07 2025 /bin/zsh');
    const unpadded = parsePsAncestryLine('501 498 501 20 Tue Mar 4 09:05:07 2025 /bin/zsh');
    expect(padded?.startTime).toBe(unpadded?.startTime);
  });

  it.each([
    ['empty output (no such process)', ''],
    ['a header line', '  PID  PPID   UID   GID STARTED                      COMM\n'],
    ['no comm', '  501   498   501    20 Tue Mar  4 09:05:07 2025\n'],
    ['a blank comm', '  501   498   501    20 Tue Mar  4 09:05:07 2025    \n'],
    ['a user name instead of a uid', '  501   498 alice    20 Tue Mar  4 09:05:07 2025 /bin/zsh\n'],
    ['an elapsed time instead of lstart', '  501   498   501    20 01:02:03 /bin/zsh\n'],
    ['the old three-column format', '  501   498 /bin/zsh\n'],
    ['an error', 'ps: illegal option -- x\n'],
  ])('returns null for %s', (_name, text) => {
    expect(parsePsAncestryLine(text)).toBeNull();
  });

  it('never throws and only accepts what it can fully read (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const parsed = parsePsAncestryLine(text);
        if (parsed === null) return;
        expect(Number.isSafeInteger(parsed.pid)).toBe(true);
        expect(parsed.comm.length).toBeGreaterThan(0);
        expect(parsed.startTime).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{1,2} \d\d:\d\d:\d\d \d{4}$/);
      }),
    );
  });

  it('round-trips any absolute path with spaces as comm (property)', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9 ._-]{1,12}$/).filter((s) => s.trim() === s && s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.nat({ max: 99999 }), (segments, pid) => {
        const path = `/${segments.join('/')}`;
        const parsed = parsePsAncestryLine(`${String(pid + 2).padStart(5)} 1 501 20 Fri Jul 11 07:08:09 2025 ${path}\n`);
        expect(parsed).not.toBeNull();
        const entry = psAncestryEntry(parsed as NonNullable<typeof parsed>);
        expect(entry.path).toBe(path);
        expect(entry.name).toBe(segments[segments.length - 1]);
      }),
    );
  });
});

describe('psAncestryArgs', () => {
  it('asks ps for exactly one process, no header, fixed columns with comm last', () => {
    expect(psAncestryArgs(4242)).toEqual(['-o', 'pid=,ppid=,uid=,gid=,lstart=,comm=', '-p', '4242']);
  });
});

describe('readAncestry (live)', () => {
  it.runIf(isLinux)('starts with the process itself and continues with its parent', async () => {
    const ancestry = await readAncestry({ pid: process.pid, platform: 'linux' });
    expect(ancestry.length).toBeGreaterThan(1);
    const [self, parent] = ancestry;
    expect(self).toMatchObject({ pid: process.pid, ppid: process.ppid, uid: process.geteuid?.(), gid: process.getegid?.(), path: realpathSync(process.execPath) });
    expect(parent?.pid).toBe(process.ppid);
    for (let i = 1; i < ancestry.length; i += 1) expect(ancestry[i]?.pid).toBe(ancestry[i - 1]?.ppid);
    for (const entry of ancestry) expect(entry.startTime).toMatch(/^\d+$/);
  });

  it.runIf(isLinux)('is stable: reading twice gives the same identities', async () => {
    const first = await readAncestry({ pid: process.pid, platform: 'linux' });
    const second = await readAncestry({ pid: process.pid, platform: 'linux' });
    expect(second).toEqual(first);
  });

  it.runIf(isLinux)('honours maxDepth (depth 0 is the process itself)', async () => {
    const full = await readAncestry({ pid: process.pid, platform: 'linux' });
    expect(await readAncestry({ pid: process.pid, platform: 'linux', maxDepth: 0 })).toEqual(full.slice(0, 1));
    expect(await readAncestry({ pid: process.pid, platform: 'linux', maxDepth: 1 })).toEqual(full.slice(0, 2));
  });

  it.runIf(isLinux)('reads a child, and nothing once it has exited', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'as-anc-'));
    const exe = join(dir, 'my sleep');
    await copyFile('/bin/sleep', exe);
    await chmod(exe, 0o755);
    const child = spawn(exe, ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      const pid = child.pid as number;
      const ancestry = await readAncestry({ pid, platform: 'linux', maxDepth: 1 });
      expect(ancestry.map((e) => e.pid)).toEqual([pid, process.pid]);
      expect(ancestry[0]).toMatchObject({ path: exe, name: 'my sleep', ppid: process.pid });
      await rm(exe);
      const afterDelete = await readAncestry({ pid, platform: 'linux', maxDepth: 0 });
      expect(afterDelete[0]).toMatchObject({ path: `${exe} (deleted)`, name: 'my sleep', startTime: ancestry[0]?.startTime });
      await killAndWait(child);
      await expect(readAncestry({ pid, platform: 'linux' })).resolves.toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The ps path is what macOS uses; procps understands the same argv, so it runs on Linux too.
  it.runIf(existsSync('/bin/ps'))('reads the same chain through /bin/ps', async () => {
    const viaPs = await readAncestry({ pid: process.pid, platform: 'darwin' });
    expect(viaPs[0]).toMatchObject({ pid: process.pid, ppid: process.ppid, uid: process.geteuid?.(), gid: process.getegid?.() });
    for (const entry of viaPs) expect(entry.startTime).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{1,2} \d\d:\d\d:\d\d \d{4}$/);
    if (isLinux) {
      const viaProc = await readAncestry({ pid: process.pid, platform: 'linux' });
      expect(viaPs.map((e) => [e.pid, e.ppid, e.uid, e.gid])).toEqual(viaProc.map((e) => [e.pid, e.ppid, e.uid, e.gid]));
    }
  });

  it('never throws for a pid that does not exist or makes no sense', async () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      await expect(readAncestry({ pid: 2 ** 22 + 12345, platform })).resolves.toEqual([]);
      await expect(readAncestry({ pid: 0, platform })).resolves.toEqual([]);
      await expect(readAncestry({ pid: -5, platform })).resolves.toEqual([]);
      await expect(readAncestry({ pid: 1.5, platform })).resolves.toEqual([]);
    }
    await expect(readAncestry({ pid: process.pid, platform: 'linux', maxDepth: -1 })).resolves.toEqual([]);
  });
});

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
