// The install a user gets from the package, not from a clone: `npm pack` the repository (the
// build already ran), check that the tarball holds only what the program needs, install it into
// a temporary prefix with `npm install -g --prefix` (dependencies from npm's local cache first:
// --prefer-offline), then run the installed `agent-secret`: --version, doctor --json, a full
// exec against the fake op and approver, and the guard hook it installs. Every output and the
// audit log are scanned for the fake vault's canaries.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, type CliResult } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { digest, valueOf } from '../helpers/vault.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

// npm itself runs with the developer's environment (its cache, registry settings), never the sandbox's.
function npm(args: string[], cwd: string): { stdout: string; stderr: string } {
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  const result = spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${String(result.status)}):\n${result.stderr.slice(-2000)}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: Array<{ path: string; size: number }>;
}

let work: string;
let packed: PackResult;
let tarball: string;
let prefix: string;
let installed: string;
let sb: Sandbox;

beforeAll(() => {
  work = realpathSync(mkdtempSync(join(tmpdir(), 'agent-secret-pack-')));
  // --ignore-scripts: prepack would build again; the suite runs on a fresh build.
  packed = (JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], REPO_ROOT).stdout) as PackResult[])[0]!;
  tarball = join(work, packed.filename);
  prefix = join(work, 'prefix');
  npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], work);
  installed = join(prefix, 'bin', 'agent-secret');
  sb = createSandbox();
  sb.env.PATH = `${join(prefix, 'bin')}:${sb.env.PATH}`;
}, 300_000);

afterAll(() => {
  sb?.cleanup();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

function runInstalled(args: string[], options: { input?: string; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(installed, args, { cwd: options.cwd ?? sb.project, env: sb.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout, stderr, pid: child.pid };
      expectNoLeak(sb, result);
      resolve(result);
    });
    child.stdin.end(options.input ?? '');
  });
}

describe('the packed tarball', () => {
  it('holds only the program, its docs, the skill, the schema and the examples (the profile example and the pass provider program)', () => {
    const paths = packed.files.map((file) => file.path);
    const allowed = /^(bin\/agent-secret\.js|bin\/package\.json|dist\/.+\.(js|cjs)|docs\/[\w-]+\.md|skills\/agent-secret\/SKILL\.md|schema\/agent-secret\.schema\.json|profiles\.example\.yaml|examples\/providers\/[\w-]+\.mjs|package\.json|README\.md|AGENTS\.md|LICENSE)$/;
    expect(paths.filter((path) => !allowed.test(path))).toEqual([]);
    for (const needed of ['examples/providers/pass-provider.mjs', 'bin/agent-secret.js', 'dist/cli/main.js', 'dist/fast-exec.cjs', 'dist/version.cjs', 'skills/agent-secret/SKILL.md', 'schema/agent-secret.schema.json']) {
      expect(paths).toContain(needed);
    }
    // No test, source or tooling files, no maps or declarations.
    expect(paths.some((path) => /^(src|test|scripts|node_modules)\/|\.(ts|map)$/.test(path))).toBe(false);
  });

  it('has no stale build output: every dist module comes from a source file', () => {
    const stale = packed.files
      .map((file) => file.path)
      .filter((path) => path.startsWith('dist/') && path.endsWith('.js'))
      .filter((path) => !existsSync(join(REPO_ROOT, 'src', path.slice('dist/'.length).replace(/\.js$/, '.ts'))));
    expect(stale).toEqual([]);
  });

  it('stays small (packed under 512 KiB, unpacked under 2 MiB)', () => {
    expect(packed.size).toBeLessThan(512 * 1024);
    expect(packed.unpackedSize).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('agent-secret installed from the tarball', () => {
  it('is on the prefix PATH and prints its version', async () => {
    const result = await runInstalled(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    // The installed copy, not the clone.
    expect(realpathSync(installed)).toBe(join(prefix, 'lib', 'node_modules', pkg.name, 'bin', 'agent-secret.js'));
  });

  it('doctor --json finds the fake op and the approver', async () => {
    sb.useApprover('approve');
    const result = await runInstalled(['doctor', '--json']);
    const report = JSON.parse(result.stdout) as { schema_version: string; checks: Array<{ name: string; status: string }>; agents: unknown[] };
    expect(report.schema_version).toBe('1');
    const status = Object.fromEntries(report.checks.map((check) => [check.name, check.status]));
    expect(status).toMatchObject({ node: 'ok', op: 'ok', op_signed_in: 'ok', approver: 'ok', audit_log: 'ok' });
    expect(report.agents).toHaveLength(4);
  });

  it('runs a full exec: approved by the fake approver, resolved by the fake op, the value only in the child', async () => {
    sb.useApprover('approve');
    const out = join(sb.root, 'report.json');
    const child = join(REPO_ROOT, 'test', 'fixtures', 'programs', 'report-env.mjs');
    const result = await runInstalled(['exec', '--secret', 'CF_TOKEN=op://Infra/Cloudflare/token', '--reason', 'Check the packaged install', '--', 'node', child, out, 'CF_TOKEN']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const got = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    expect(got.CF_TOKEN).toEqual(digest(valueOf('op://Infra/Cloudflare/token')));
    expect(sb.prompts()).toHaveLength(1);
    expect(sb.auditEvents().map((event) => event.event)).toContain('child_exited');
  });

  it('hook-install writes a command that runs the installed guard', async () => {
    const result = await runInstalled(['hook-install', '--agent', 'gemini', '--json']);
    const report = JSON.parse(result.stdout) as { hook_command: string };
    expect(report.hook_command).toContain(join('lib', 'node_modules', pkg.name, 'bin', 'agent-secret.js'));
    const payload = JSON.stringify({ hook_event_name: 'BeforeTool', cwd: sb.project, tool_name: 'run_shell_command', tool_input: { command: 'op read op://Infra/Cloudflare/token' } });
    const hook = spawnSync('/bin/sh', ['-c', report.hook_command], { input: payload, env: sb.env, encoding: 'utf8' });
    expect(hook.status).toBe(0);
    expect(JSON.parse(hook.stdout)).toMatchObject({ decision: 'deny' });
  });
});
