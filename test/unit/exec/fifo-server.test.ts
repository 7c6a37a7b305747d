// The FIFO server against real readers (cat): each read gets the whole value once, the read
// limit removes the FIFO, a reader already waiting is never left hanging, stop() removes it.

import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFifo, mkfifoArgs, mkfifoProgram, serveFifo } from '../../../src/exec/fifo-server.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function fifo(): string {
  const dir = mkdtempSync('/dev/shm/fifo-test-');
  dirs.push(dir);
  const path = join(dir, 'value');
  makeFifo(path);
  return path;
}

// What `sh -c script` prints (the path in $F).
function sh(script: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { env: { F: path, PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

describe('mkfifo', () => {
  it('runs an absolute mkfifo with a private mode and our path after --', () => {
    expect(mkfifoArgs('/dev/shm/x/-y')).toEqual(['-m', '600', '--', '/dev/shm/x/-y']);
    expect(mkfifoProgram((p) => p === '/bin/mkfifo')).toBe('/bin/mkfifo');
    expect(mkfifoProgram(() => false)).toBeNull();
  });

  it('makes a 0600 FIFO', () => {
    const info = lstatSync(fifo());
    expect(info.isFIFO()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
  });
});

describe('serveFifo', () => {
  const value = Buffer.from([0, 1, 2, 0xff, 0x0a, 0x43]);

  it('serves the exact bytes once, then the FIFO is gone', async () => {
    const path = fifo();
    const server = serveFifo(path, Buffer.from(value), 1);
    const out = await sh('cat "$F"; echo "|"; cat "$F" 2>/dev/null; echo "|$?"', path);
    expect(out).toBe(`${value.toString('latin1')}|\n|1\n`);
    expect(server.reads).toBe(1);
    expect(existsSync(path)).toBe(false);
  });

  it('serves each of max_reads readers the whole value exactly once, even one reopening at once', async () => {
    const path = fifo();
    const server = serveFifo(path, Buffer.from('abc'), 3);
    const out = await sh('for i in 1 2 3; do cat "$F"; echo; done; test -e "$F"; echo "exists=$?"', path);
    expect(out).toBe('abc\nabc\nabc\nexists=1\n');
    expect(server.reads).toBe(3);
  });

  it('stop() before any reader removes the FIFO and wipes the bytes', async () => {
    const path = fifo();
    const buffer = Buffer.from('secret-bytes');
    const server = serveFifo(path, buffer, 1);
    server.stop();
    expect(existsSync(path)).toBe(false);
    expect(buffer.every((b) => b === 0)).toBe(true);
    expect(server.reads).toBe(0);
  });
});
