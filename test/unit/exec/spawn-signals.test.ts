// Signal forwarding is tested from outside: a runner process (test/fixtures/children/run-spawn.mjs)
// stands in for agent-secret and calls the real spawnChild, transpiled from src into a temp dir
// (no build, no shared dist/). The test signals the runner, never the vitest worker.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const children = fileURLToPath(new URL('../../fixtures/children/', import.meta.url));
const src = fileURLToPath(new URL('../../../src/', import.meta.url));
let dir: string;
let spawnModule: string;

beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'as-signals-')));
  const out = join(dir, 'compiled');
  for (const file of ['exec/spawn.ts', 'exec/pump.ts', 'core/errors.ts']) {
    const { outputText } = ts.transpileModule(await readFile(join(src, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    await mkdir(join(out, file, '..'), { recursive: true });
    await writeFile(join(out, file.replace(/\.ts$/, '.js')), outputText);
  }
  await writeFile(join(out, 'package.json'), '{"type":"module"}');
  spawnModule = join(out, 'exec', 'spawn.js');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface RunnerOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  result: { exitCode: number; signal: string | null; pid: number; extraFd: number | null };
}

// Starts the runner, waits for the child's "ready" line, then sends `signal` to the runner.
function runRunner(options: { file: string; args: string[]; extraFile?: string }, signal?: NodeJS.Signals): Promise<RunnerOutcome> {
  return new Promise((resolve, reject) => {
    const runner = spawn(process.execPath, [join(children, 'run-spawn.mjs'), spawnModule, JSON.stringify(options)], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    let signalled = false;
    const timer = setTimeout(() => {
      runner.kill('SIGKILL');
      reject(new Error(`runner timed out; stdout: ${stdout}`));
    }, 10_000);
    runner.stdout.setEncoding('utf8');
    runner.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (signal !== undefined && !signalled && stdout.includes('ready\n')) {
        signalled = true;
        runner.kill(signal);
      }
    });
    runner.on('error', reject);
    runner.on('close', (code, sig) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (line === undefined) return reject(new Error(`runner gave no result (code ${code}, signal ${sig}); stdout: ${stdout}`));
      resolve({ code, signal: sig, result: JSON.parse(line.slice('RESULT '.length)) as RunnerOutcome['result'] });
    });
  });
}

describe('spawnChild signal forwarding (runner process)', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const)('forwards %s to the child and survives it', async (signal) => {
    const marker = join(dir, `marker-${signal}`);
    const outcome = await runRunner({ file: process.execPath, args: [join(children, 'trap-signal.mjs'), signal, marker, '42'] }, signal);
    expect(await readFile(marker, 'utf8')).toBe(`${signal}\n`);
    expect(outcome.result).toMatchObject({ exitCode: 42, signal: null });
    expect(outcome).toMatchObject({ code: 42, signal: null });
  });

  it('reports a child killed by the forwarded SIGTERM as 143', async () => {
    const outcome = await runRunner({ file: process.execPath, args: [join(children, 'wait-forever.mjs')] }, 'SIGTERM');
    expect(outcome.result).toMatchObject({ exitCode: 128 + constants.signals.SIGTERM, signal: 'SIGTERM' });
    expect(outcome).toMatchObject({ code: 143, signal: null });
  });

  it('does not hand the runner\'s own open files to the child', async () => {
    const report = join(dir, 'fds.json');
    const extraFile = join(dir, 'audit-like.log');
    const outcome = await runRunner({ file: process.execPath, args: [join(children, 'report.mjs'), report], extraFile });
    const { fds, files } = JSON.parse(await readFile(report, 'utf8')) as { fds: number[]; files: Array<{ dev: number; ino: number }> };
    const extra = await stat(extraFile);
    expect(outcome.result.extraFd).toBeGreaterThan(2);
    expect(fds).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(files.filter((f) => f.dev === extra.dev && f.ino === extra.ino)).toEqual([]);
  });
});
