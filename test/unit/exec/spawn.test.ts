import { chmod, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { existsSync, fstatSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { FORWARDED_SIGNALS, exitCodeOf, spawnChild, type SpawnChildOptions } from '../../../src/exec/index.js';

const children = fileURLToPath(new URL('../../fixtures/children/', import.meta.url));
const node = process.execPath;
const CANARY = 'canary-5e1d-spawn';
let dir: string;

beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'as-spawn-')));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (script: string, args: string[], extra: Partial<Parameters<typeof spawnChild>[0]> = {}) =>
  spawnChild({ file: node, args: [join(children, script), ...args], cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, ...extra });

async function rejection(promise: Promise<unknown>): Promise<AgentSecretError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentSecretError);
  return error as AgentSecretError;
}

describe('spawnChild', () => {
  it.each([0, 1, 3, 42, 255])('passes exit code %i through', async (code) => {
    const result = await run('exit-with.mjs', [String(code)]);
    expect(result).toMatchObject({ exitCode: code, signal: null });
    expect(result.pid).toBeGreaterThan(0);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGKILL', 137],
    ['SIGINT', 130],
  ] as const)('maps death by %s to 128+N (%i)', async (signal, code) => {
    const result = await run('kill-self.mjs', [signal]);
    expect(result).toMatchObject({ exitCode: code, signal });
  });

  it('gives the child exactly the env, cwd, argv0 and args it was told', async () => {
    const out = join(dir, 'report.json');
    const env = { ONLY: 'this', MULTI: 'a\nb', EMPTY: '' };
    await spawnChild({ file: node, argv0: 'shown-name', args: [join(children, 'report.mjs'), out, 'x y', '$HOME', '*'], cwd: dir, env });
    const report = JSON.parse(await readFile(out, 'utf8')) as { argv0: string; argv: string[]; cwd: string; env: Record<string, string> };
    expect(report.argv).toEqual(['x y', '$HOME', '*']);
    expect(report.argv0).toBe('shown-name');
    expect(report.cwd).toBe(dir);
    expect(report.env).toEqual(env);
  });

  it('calls onStart with the child pid before the child is waited for', async () => {
    const out = join(dir, 'report.json');
    const seen: number[] = [];
    const result = await spawnChild({ file: node, args: [join(children, 'report.mjs'), out], cwd: dir, env: {}, onStart: (pid) => void seen.push(pid) });
    const report = JSON.parse(await readFile(out, 'utf8')) as { pid: number };
    expect(seen).toEqual([report.pid]);
    expect(result.pid).toBe(report.pid);
  });

  it('spawns nothing when beforeSpawn throws, and rethrows its error', async () => {
    const out = join(dir, 'report.json');
    const refusal = new AgentSecretError('exec.identity_changed', 'changed');
    let started = false;
    const error = await rejection(
      spawnChild({
        file: node,
        args: [join(children, 'report.mjs'), out],
        cwd: dir,
        env: {},
        beforeSpawn: () => Promise.reject(refusal),
        onStart: () => {
          started = true;
        },
      }),
    );
    expect(error).toBe(refusal);
    expect(started).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  it('stops the child and throws when onStart fails', async () => {
    const failure = new AgentSecretError('audit.unwritable', 'cannot write the audit log x: EIO');
    const error = await rejection(
      run('wait-forever.mjs', [], {
        onStart: () => {
          throw failure;
        },
      }),
    );
    expect(error).toBe(failure);
  });

  it('stops the child and throws when an async onStart rejects', async () => {
    const failure = new AgentSecretError('audit.unwritable', 'cannot write the audit log x: EIO');
    await expect(run('wait-forever.mjs', [], { onStart: () => Promise.reject(failure) })).rejects.toBe(failure);
  });

  it('reports a missing program as exec.spawn_failed without the environment', async () => {
    const missing = join(dir, 'missing');
    const error = await rejection(spawnChild({ file: missing, args: [], cwd: dir, env: { TOKEN: CANARY } }));
    expect(error.code).toBe('exec.spawn_failed');
    expect(error.message).toBe(`cannot start ${missing}: ENOENT`);
    expect(error.cause).toBeUndefined();
    expect(`${error.message} ${error.hint} ${error.stack}`).not.toContain(CANARY);
  });

  it('reports a file without execute permission as EACCES', async () => {
    const file = join(dir, 'noexec');
    await writeFile(file, '#!/bin/sh\n');
    await chmod(file, 0o644);
    const error = await rejection(spawnChild({ file, args: [], cwd: dir, env: { TOKEN: CANARY } }));
    expect(error.message).toBe(`cannot start ${file}: EACCES`);
  });

  it('keeps an env value out of the error when Node itself refuses the env', async () => {
    const error = await rejection(spawnChild({ file: node, args: ['-e', ''], cwd: dir, env: { TOKEN: `${CANARY}\0` } }));
    expect(error.code).toBe('exec.spawn_failed');
    expect(`${error.message} ${error.hint} ${error.stack}`).not.toContain(CANARY);
  });

  describe('piped output', () => {
    const upper = () => ({
      push: (chunk: Buffer) => Buffer.from(chunk.toString('utf8').toUpperCase()),
      end: () => Buffer.alloc(0),
    });
    // A destination that takes each chunk on a later turn, so a fast child must be held back.
    const slowSink = (highWaterMark: number) => {
      const chunks: Buffer[] = [];
      const sink = new Writable({
        highWaterMark,
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          setImmediate(callback);
        },
      });
      return { sink, text: () => Buffer.concat(chunks).toString('utf8') };
    };
    const runCode = (code: string, output: NonNullable<SpawnChildOptions['output']>) =>
      spawnChild({ file: node, args: ['-e', code], cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, output });

    it('sends a piped stream through its filter to its destination', async () => {
      const out = slowSink(16 * 1024);
      const result = await runCode("process.stdout.write('abc'); process.stdout.write('def')", { stdout: { filter: upper(), destination: () => out.sink } });
      expect(result.exitCode).toBe(0);
      expect(out.text()).toBe('ABCDEF');
    });

    it('asks for no destination when the child writes nothing', async () => {
      let asked = 0;
      const destination = () => {
        asked += 1;
        return slowSink(1024).sink;
      };
      const result = await runCode('process.exitCode = 3', { stdout: { filter: upper(), destination }, stderr: { filter: upper(), destination } });
      expect(result.exitCode).toBe(3);
      expect(asked).toBe(0);
    });

    it('pipes only the streams it is given; the other one is inherited', async () => {
      // The child reports which file its stderr is; inherited means the very file ours is.
      const code = "const s = require('fs').fstatSync(2); process.stdout.write(s.dev + ':' + s.ino)";
      const ours = fstatSync(2);
      const oursId = `${ours.dev}:${ours.ino}`;
      const out = slowSink(1024);
      const result = await runCode(code, { stdout: { filter: upper(), destination: () => out.sink } });
      expect(result.exitCode).toBe(0);
      expect(out.text()).toBe(oursId);
      const both = slowSink(1024);
      await runCode(code, { stdout: { filter: upper(), destination: () => both.sink }, stderr: { filter: upper(), destination: () => slowSink(1024).sink } });
      expect(both.text()).toMatch(/^\d+:\d+$/);
      expect(both.text()).not.toBe(oursId);
    });

    it('holds a fast child back for a slow destination and delivers every byte', async () => {
      const out = slowSink(1024);
      const code = "const chunk = 'x'.repeat(65536); for (let i = 0; i < 32; i += 1) process.stdout.write(chunk)";
      const result = await runCode(code, { stdout: { filter: upper(), destination: () => out.sink } });
      expect(result.exitCode).toBe(0);
      expect(out.text()).toBe('X'.repeat(32 * 65536));
    });
  });

  it('removes its signal handlers after the child exits and after a spawn failure', async () => {
    const before = FORWARDED_SIGNALS.map((s) => process.listenerCount(s));
    await run('exit-with.mjs', ['0']);
    await spawnChild({ file: join(dir, 'missing'), args: [], cwd: dir, env: {} }).catch(() => undefined);
    expect(FORWARDED_SIGNALS.map((s) => process.listenerCount(s))).toEqual(before);
  });
});

describe('exitCodeOf', () => {
  it.each([
    [0, null, 0],
    [7, null, 7],
    [null, 'SIGHUP', 129],
    [null, 'SIGQUIT', 131],
    [null, null, 1],
  ] as const)('(%s, %s) → %i', (code, signal, expected) => {
    expect(exitCodeOf(code, signal)).toBe(expected);
  });
});
