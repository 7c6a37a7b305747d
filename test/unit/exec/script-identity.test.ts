// Pinning the files argv names, and the executable's open-file check: bounded, never blocking on
// a FIFO, a rewrite always detected.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identityOf, openApprovedExecutable } from '../../../src/exec/identity.js';
import { readScriptIdentities, SCRIPT_LIMITS, SETTLED_AFTER_MS, verifyScriptsSync } from '../../../src/exec/script-identity.js';
import { fileWarnings } from '../../../src/request/warnings.js';

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'script-id-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('readScriptIdentities', () => {
  it('pins regular files relative to cwd or absolute, once each, and skips everything else', async () => {
    writeFileSync(join(dir, 'a.sh'), 'echo a\n');
    const scan = await readScriptIdentities(['bash', './a.sh', '-x', join(dir, 'a.sh'), 'missing', dir, ''], dir);
    expect(scan.truncated).toBe(false);
    expect(scan.scripts).toHaveLength(1);
    expect(scan.scripts[0]).toMatchObject({ path: join(dir, 'a.sh'), size: 7, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown });
  });

  it('never opens a FIFO (it would block)', async () => {
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const scan = await readScriptIdentities(['cat', 'pipe'], dir);
    expect(scan.scripts).toEqual([]);
  });

  it('stops at maxFiles files and says so', async () => {
    const names = Array.from({ length: SCRIPT_LIMITS.maxFiles + 2 }, (_, i) => `f${i}`);
    for (const n of names) writeFileSync(join(dir, n), n);
    const scan = await readScriptIdentities(['cat', ...names], dir);
    expect(scan.scripts).toHaveLength(SCRIPT_LIMITS.maxFiles);
    expect(scan.truncated).toBe(true);
  });

  it('verifyScriptsSync passes an unchanged file and refuses a rewrite of the same size', async () => {
    const path = join(dir, 'a.sh');
    writeFileSync(path, 'echo a\n');
    const { scripts } = await readScriptIdentities(['sh', path], dir);
    expect(() => verifyScriptsSync(scripts)).not.toThrow();
    writeFileSync(path, 'echo b\n');
    expect(() => verifyScriptsSync(scripts)).toThrow(/changed before it could start/);
    // Same stats but another content (as if within one timestamp tick): the hash catches it.
    const now = statSync(path);
    const forged = scripts.map((s) => ({ ...s, mtimeMs: now.mtimeMs, ctimeMs: now.ctimeMs, ino: now.ino, dev: now.dev }));
    expect(() => verifyScriptsSync(forged)).toThrow(/changed before it could start/);
  });
});

describe('settled files (their content cannot change without their identity)', () => {
  it('a file whose ctime is SETTLED_AFTER_MS older than the read is settled; a fresh one is not', async () => {
    const path = join(dir, 'a.sh');
    writeFileSync(path, 'echo a\n');
    const { ctimeMs } = statSync(path);
    const fresh = await readScriptIdentities(['sh', path], dir, () => ctimeMs + SETTLED_AFTER_MS);
    expect(fresh.settled).toEqual([]);
    const old = await readScriptIdentities(['sh', path], dir, () => ctimeMs + SETTLED_AFTER_MS + 1);
    expect(old.settled).toEqual([path]);
    expect(old.scripts[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a file too large to hash is never settled (it is pinned by identity anyway)', async () => {
    const path = join(dir, 'big');
    writeFileSync(path, Buffer.alloc(SCRIPT_LIMITS.maxHashBytes + 1));
    const scan = await readScriptIdentities(['cat', path], dir, () => Date.now() + 60_000);
    expect(scan.scripts[0]?.sha256).toBeNull();
    expect(scan.settled).toEqual([]);
  });

  it('verifyScriptsSync without a hash still refuses a same-size rewrite (a write moves ctime)', async () => {
    const path = join(dir, 'a.sh');
    writeFileSync(path, 'echo a\n');
    const { scripts } = await readScriptIdentities(['sh', path], dir);
    const identityOnly = scripts.map((s) => ({ ...s, sha256: null }));
    expect(() => verifyScriptsSync(identityOnly)).not.toThrow();
    const before = statSync(path).ctimeMs;
    while (Date.now() <= before + 20) {
      // wait past the kernel's coarse timestamp tick, so the rewrite gets a later ctime
    }
    writeFileSync(path, 'echo b\n');
    expect(() => verifyScriptsSync(identityOnly)).toThrow(/changed before it could start/);
  });
});

describe('openApprovedExecutable', () => {
  it.runIf(process.platform === 'linux')('execs a binary through the open file, a #! script by its path, and refuses another file', () => {
    const bin = join(dir, 'tool');
    writeFileSync(bin, Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    chmodSync(bin, 0o755);
    const pinned = openApprovedExecutable(bin, identityOf(statSync(bin)));
    expect(pinned.execPath).toMatch(new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
    expect(realpathSync(pinned.execPath)).toBe(bin);
    pinned.release();
    pinned.release();

    const script = join(dir, 'run.sh');
    writeFileSync(script, '#!/bin/sh\n');
    chmodSync(script, 0o755);
    expect(openApprovedExecutable(script, identityOf(statSync(script))).execPath).toBe(script);

    expect(() => openApprovedExecutable(bin, identityOf(statSync(script)))).toThrow(/approved executable changed/);
  });

  it('keeps the path check where there is no /proc (macOS)', () => {
    const bin = join(dir, 'tool');
    writeFileSync(bin, 'x');
    expect(openApprovedExecutable(bin, identityOf(statSync(bin)), 'darwin').execPath).toBe(bin);
  });
});

describe('fileWarnings', () => {
  it.each([
    [{ scripts: [], scriptsTruncated: false, maxFiles: 16, rootProjectFiles: [] }, []],
    [{ scripts: [{ path: '/p/a.sh', findings: [] }], scriptsTruncated: false, maxFiles: 16, rootProjectFiles: [] }, []],
    [
      { scripts: [{ path: '/p/a.sh', findings: [{ path: '/p', problem: 'world_writable' }] }], scriptsTruncated: true, maxFiles: 16, rootProjectFiles: [{ path: '/p/a.sh', dir: '/p' }] },
      [
        'the file /p/a.sh can be changed by you or others before it runs: /p is world writable',
        'only the first 16 files named in the arguments are pinned: later files could change without a new prompt',
        'running as root: /p/a.sh is inside /p, where being owned by root does not protect it, since anything running as root there can rewrite it',
      ],
    ],
  ])('%j', (input, expected) => {
    expect(fileWarnings(input)).toEqual(expected);
  });
});
