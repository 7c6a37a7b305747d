// The /proc environ question: an exact NAME=VALUE entry, found as bytes, and process liveness.

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { environHasEntry, initialEnvironHolds, isSameLiveProcess } from '../../../src/platform/environ.js';
import { readAncestry } from '../../../src/platform/process-tree.js';

const env = (...entries: string[]) => Buffer.from(entries.map((e) => `${e}\0`).join(''), 'utf8');
const ENTRY = Buffer.from('T=abc');

describe('environHasEntry', () => {
  it.each<[string, Buffer, boolean]>([
    ['first entry', env('T=abc', 'X=1'), true],
    ['middle entry', env('A=1', 'T=abc', 'X=1'), true],
    ['last entry', env('A=1', 'T=abc'), true],
    ['a longer value', env('A=1', 'T=abcd'), false],
    ['a prefix of the value', env('T=ab'), false],
    ['inside another variable', env('XT=abc'), false],
    ['inside another value', env('A=T=abc'), false],
    ['no trailing NUL', Buffer.from('A=1\0T=abc'), false],
    ['empty', Buffer.alloc(0), false],
  ])('%s', (_name, environ, expected) => {
    expect(environHasEntry(environ, ENTRY)).toBe(expected);
  });
});

describe.runIf(process.platform === 'linux')('initialEnvironHolds and isSameLiveProcess (live)', () => {
  it('sees the environment a child was started with, and its end', async () => {
    const child = spawn('/bin/sh', ['-c', 'read line'], { env: { PATH: '/usr/bin:/bin', AS_TEST_TOKEN: 'v1' }, stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const [entry] = await readAncestry({ pid: child.pid as number, platform: 'linux', maxDepth: 0 });
    expect(entry).toBeDefined();
    if (entry === undefined) return;
    expect(initialEnvironHolds(entry, 'AS_TEST_TOKEN', 'v1', 'linux')).toBe(true);
    expect(initialEnvironHolds(entry, 'AS_TEST_TOKEN', 'v2', 'linux')).toBe(false);
    expect(initialEnvironHolds(entry, 'AS_TEST_TOKEN', 'v1', 'darwin')).toBe(false);
    expect(initialEnvironHolds({ ...entry, startTime: `${entry.startTime}1` }, 'AS_TEST_TOKEN', 'v1', 'linux')).toBe(false);
    expect(await isSameLiveProcess(entry, 'linux')).toBe(true);
    expect(await isSameLiveProcess({ ...entry, startTime: `${entry.startTime}1` }, 'linux')).toBe(false);
    child.stdin.end('\n');
    await exited;
    expect(await isSameLiveProcess(entry, 'linux')).toBe(false);
  });
});
