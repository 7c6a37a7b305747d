// The caller key of the prompt queue: the Unix session of the requesting process on Linux (read
// from /proc/<pid>/stat, whose comm may hold spaces and parentheses), else its parent, else its pid.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { callerOf, sessionOfStat } from '../../../src/broker/caller.js';

const requester = (pid: number, parent?: number) => ({ pid, chain: parent === undefined ? [] : [{ pid: parent, name: 'zsh' }] });

describe('sessionOfStat', () => {
  it.each([
    ['a plain comm', '4242 (node) S 4000 4242 3999 34816 4242 4194560', 3999],
    ['a comm with spaces and parentheses', '4242 (a (b) c) R 1 2 77 0', 77],
    ['session 0 (kernel threads)', '2 (kthreadd) S 0 0 0 0', null],
    ['no closing parenthesis', '4242 (node S 1 2 3', null],
    ['too few fields', '4242 (node) S 1 2', null],
    ['not a number', '4242 (node) S 1 2 x3', null],
  ])('%s', (_name, text, expected) => {
    expect(sessionOfStat(text)).toBe(expected);
  });
});

describe('callerOf', () => {
  it('is the session on Linux, so every process of one terminal session is one caller', () => {
    const stat = (pid: number) => `${pid} (agent-secret) S 100 ${pid} 555 0`;
    expect(callerOf(requester(1001, 100), 'linux', stat)).toBe('sid:555');
    expect(callerOf(requester(1002, 101), 'linux', stat)).toBe('sid:555');
  });

  it('falls back to the parent, then the pid, when the session cannot be read or elsewhere', () => {
    const gone = () => {
      throw new Error('ENOENT');
    };
    expect(callerOf(requester(1001, 100), 'linux', gone)).toBe('parent:100');
    expect(callerOf(requester(1001), 'linux', gone)).toBe('pid:1001');
    expect(callerOf(requester(1001, 100), 'darwin', () => '1001 (x) S 1 1 9 0')).toBe('parent:100');
    expect(callerOf(requester(1001, 1), 'darwin')).toBe('pid:1001');
  });

  it('reads the real session of this process on Linux', () => {
    if (process.platform !== 'linux') return expect(callerOf(requester(process.pid, process.ppid), process.platform)).toBe(`parent:${process.ppid}`);
    // Under a CI runner the session can be 0 (started outside any session): then the pid is the key.
    const session = sessionOfStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(callerOf(requester(process.pid), 'linux')).toBe(session === null ? `pid:${process.pid}` : `sid:${session}`);
  });
});
