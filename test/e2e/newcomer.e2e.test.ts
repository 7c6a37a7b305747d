// A newcomer's first hour, end to end with the built binary: the mistakes people make first
// (a command typed before `--`) get the corrected command line, with or without a daemon, and
// never start one. Fake op and approver, canary scans on every run.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectNoLeak, runClean } from '../helpers/run-cli.js';
import { BIN, createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { digest, valueOf } from '../helpers/vault.js';

const APPEND_ENV = join(REPO_ROOT, 'test', 'fixtures', 'programs', 'append-env.mjs');

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.useApprover('approve');
});
afterEach(() => sb.cleanup());

describe('a command typed before -- gets the corrected command line', () => {
  const cases: Array<{ args: string[]; hint: string }> = [
    { args: ['exec', '--profile', 'deploy', 'sh', '-c', 'echo hi'], hint: "agent-secret exec --profile deploy -- sh -c 'echo hi'" },
    { args: ['exec', '--profile', 'deploy', 'npm', 'test'], hint: 'agent-secret exec --profile deploy -- npm test' },
    { args: ['exec', '--reason', 'Run the tests', 'npm', 'test', '--', '--watch'], hint: "agent-secret exec --reason 'Run the tests' -- npm test -- --watch" },
  ];

  it.each(cases)('$args: no daemon is started', async ({ args, hint }) => {
    const result = await runClean(sb, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('exec takes the command to run after --');
    expect(result.stderr).toContain(`hint: ${hint}\n`);
    expect(existsSync(sb.daemonPidFile)).toBe(false);
  });

  it('through a running daemon (the fast path), the same message', async () => {
    expect((await runClean(sb, ['daemon', 'start'])).code).toBe(0);
    const result = await runClean(sb, cases[2]?.args ?? []);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`agent-secret: exec takes the command to run after --, but "npm" came before it\nhint: ${cases[2]?.hint}\n`);
  });

  it('exec --help shows where the command goes', async () => {
    const result = await runClean(sb, ['exec', '--help']);
    expect(result.stdout).toContain('Usage: agent-secret exec [options] -- CMD [ARGS...]');
  });
});

describe('the .env migration runs as the docs and the guard write it', () => {
  const DB_REF = 'op://Infra/Deploy/password';
  const runs = () => join(sb.root, 'runs.jsonl');
  const seen = () => readFileSync(runs(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, { sha256?: string; set: boolean }>);
  // The child the example names (npm run migrate) is replaced by one that reports what it got.
  const child = ['node', APPEND_ENV, '', 'DATABASE_URL', 'LOG_LEVEL'];
  beforeEach(() => {
    sb.write('.env', `DATABASE_URL=${DB_REF}\nLOG_LEVEL=debug\n`);
    child[2] = runs();
  });

  it("the skill's example", async () => {
    const example = 'agent-secret exec --env-file .env --only DATABASE_URL --reason "Run the migration" -- npm run migrate';
    expect(readFileSync(join(REPO_ROOT, 'skills', 'agent-secret', 'SKILL.md'), 'utf8')).toContain(example);
    const result = await runClean(sb, ['exec', '--env-file', '.env', '--only', 'DATABASE_URL', '--reason', 'Run the migration', '--', ...child]);
    expect(result.code).toBe(0);
    expect(seen()[0]?.DATABASE_URL?.sha256).toBe(digest(valueOf(DB_REF)).sha256);
    expect(seen()[0]?.LOG_LEVEL?.set).toBe(true);
  });

  it("the guard's deny for cat .env names two commands; both run", async () => {
    const call = JSON.stringify({ session_id: 's', transcript_path: '/dev/null', cwd: sb.project, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'cat .env' } });
    const guard = await runClean(sb, ['guard'], { input: call });
    const reason = (JSON.parse(guard.stdout) as { hookSpecificOutput: { permissionDecisionReason: string } }).hookSpecificOutput.permissionDecisionReason;
    const commands = [...reason.matchAll(/agent-secret (exec [^(]*?-- (?:true|<command that needs it>))/g)].map((m) => m[1] ?? '');
    expect(commands).toHaveLength(2);
    const argvOf = (line: string) => line.replace('"<why>"', 'Migrate').replace('<command that needs it>', child.join(' ')).split(' ');
    const dry = await runClean(sb, argvOf(commands[0] ?? ''));
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(DB_REF);
    const real = await runClean(sb, argvOf(commands[1] ?? ''));
    expect(real.code).toBe(0);
    expect(seen()[0]?.DATABASE_URL?.sha256).toBe(digest(valueOf(DB_REF)).sha256);
  });
});

describe('a wrong op:// field or item: the hint names item describe on that item', () => {
  it.each([
    ['op://Infra/Deploy/no such field', 'agent-secret item describe op://Infra/Deploy'],
    ['op://Infra/NoSuchItem/token', 'agent-secret item describe op://Infra/NoSuchItem'],
    ['op://Infra/Edge Cases/nope', "agent-secret item describe 'op://Infra/Edge Cases'"],
  ])('%s', async (ref, hint) => {
    const result = await runClean(sb, ['exec', '--reason', 'Check the ref', '--secret', `TOKEN=${ref}`, '--', 'node', '-e', '']);
    expect(result.code).toBe(13);
    expect(result.stderr).toContain(`hint: run \`${hint}\``);
    expect(result.stderr).not.toMatch(/op item list|agent-secret doctor/);
  });
});

describe('npm run demo', () => {
  // Processes of ours whose environment has HOME under dir (Linux: /proc; macOS: ps -E).
  function processesWithHomeUnder(dir: string): number[] {
    if (process.platform === 'linux') {
      return readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').some((kv) => kv.startsWith(`HOME=${dir}`));
          } catch {
            return false;
          }
        })
        .map(Number);
    }
    const ps = spawnSync('ps', ['-E', '-ww', '-o', 'pid=,command=', '-U', String(process.getuid?.() ?? 0)], { encoding: 'utf8' });
    return ps.stdout.split('\n').filter((line) => line.includes(`HOME=${dir}`)).map((line) => Number.parseInt(line, 10));
  }

  it('stops its daemon before deleting its HOME', () => {
    const tmp = join(sb.root, 'demo-tmp');
    mkdirSync(tmp);
    const demo = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'demo.mjs')], { env: { ...sb.env, TMPDIR: tmp }, encoding: 'utf8', timeout: 60_000 });
    expect(demo.status).toBe(0);
    expect(demo.stdout).toContain('DEMO done');
    expect(readdirSync(tmp)).toEqual([]);
    const left = processesWithHomeUnder(tmp);
    for (const pid of left) process.kill(pid, 'SIGTERM');
    expect(left).toEqual([]);
  }, 60_000);
});

describe('masking under a pseudo-terminal, as agent harnesses run commands', () => {
  const REF = 'op://Infra/Cloudflare/token';
  // `script` gives agent-secret a PTY as stdout and stderr, and copies what it printed to ours.
  function underPty(env: Record<string, string>): string {
    const quoted = [process.execPath, BIN, 'exec', '--reason', 'Print the token', '--secret', `T=${REF}`, '--', 'printenv', 'T'].map((a) => `'${a}'`).join(' ');
    const argv = process.platform === 'darwin' ? ['-q', '/dev/null', 'sh', '-c', quoted] : ['-qfec', quoted, '/dev/null'];
    const result = spawnSync('script', argv, { cwd: sb.project, env: { ...sb.env, ...env }, encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(result.status).toBe(0);
    return `${result.stdout}${result.stderr}`;
  }

  it('with CLAUDECODE=1 the value is masked although stdout is a terminal', () => {
    const output = underPty({ CLAUDECODE: '1' });
    // A boolean, so that a failure never prints the output (it would hold the value).
    expect(output.includes('<concealed by agent-secret>')).toBe(true);
    expectNoLeak(sb, { code: 0, signal: null, stdout: output, stderr: '', pid: undefined });
  });

  it('with-session under a harness is masked too, although stdout is a terminal', async () => {
    const created = await runClean(sb, ['session', 'create', '--reason', 'Print the token', '--secret', `T=${REF}`, '--json']);
    expect(created.code).toBe(0);
    const token = (JSON.parse(created.stdout) as { session_token: string }).session_token;
    const quoted = [process.execPath, BIN, 'with-session', token, '--', 'printenv', 'T'].map((a) => `'${a}'`).join(' ');
    const argv = process.platform === 'darwin' ? ['-q', '/dev/null', 'sh', '-c', quoted] : ['-qfec', quoted, '/dev/null'];
    const result = spawnSync('script', argv, { cwd: sb.project, env: { ...sb.env, CLAUDECODE: '1' }, encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status).toBe(0);
    expect(output.includes('<concealed by agent-secret>')).toBe(true);
    expectNoLeak(sb, { code: 0, signal: null, stdout: output, stderr: '', pid: undefined });
  });

  it('without a harness marker a terminal is a human: not masked (the control)', () => {
    expect(underPty({}).includes(valueOf(REF))).toBe(true);
  });
});
