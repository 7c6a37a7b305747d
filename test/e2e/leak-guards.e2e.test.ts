// Leak guards with the built binary: output masking in an agent-style (captured, non-TTY)
// run, trusted executables, and --pristine. The approved child deliberately misbehaves.

import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CANARIES } from '../helpers/canaries.js';
import { runClean, runCli } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';

const PROGRAMS = join(REPO_ROOT, 'test', 'fixtures', 'programs');
const TOKEN = 'CANARY-cf-token-3b9e1d'; // the fake vault's value of op://Infra/Cloudflare/token

const CONFIG = `version: 1
profiles:
  cf:
    reason: Print the token by mistake
    secrets:
      API_TOKEN: op://Infra/Cloudflare/token
  cf-unmasked:
    reason: Interactive tool that must keep its terminal
    mask: false
    secrets:
      API_TOKEN: op://Infra/Cloudflare/token
`;

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.useApprover('approve');
  sb.write('agent-secret.yml', CONFIG);
});
afterEach(() => sb.cleanup());

describe('output masking (captured output, as an agent runs it)', () => {
  it('conceals a value the child prints on stdout and stderr, and keeps the exit code', async () => {
    const result = await runClean(sb, ['exec', '--profile', 'cf', '--', 'node', join(PROGRAMS, 'print-secret.mjs'), 'API_TOKEN']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('token=<concealed by agent-secret>\n');
    expect(result.stderr).toBe('debug: <concealed by agent-secret>\n');
  });

  const encodings: Array<[string, string]> = [
    ['base64', "Buffer.from(v).toString('base64')"],
    ['base64url', "Buffer.from(v).toString('base64url')"],
    ['hex', "Buffer.from(v).toString('hex')"],
    ['URL-encoded', 'encodeURIComponent(v)'],
    ['JSON-escaped', 'JSON.stringify({ v })'],
  ];
  for (const [name, expression] of encodings) {
    it(`conceals the ${name} form`, async () => {
      const code = `const v = process.env.API_TOKEN; process.stdout.write('x=' + ${expression} + '\\n')`;
      const result = await runClean(sb, ['exec', '--profile', 'cf', '--', 'node', '-e', code]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('<concealed by agent-secret>');
      const forms = [Buffer.from(TOKEN).toString('base64'), Buffer.from(TOKEN).toString('hex'), encodeURIComponent(TOKEN)];
      for (const form of forms) expect(result.stdout).not.toContain(form);
    });
  }

  it('catches a value split across writes', async () => {
    const code = "const v = process.env.API_TOKEN; process.stdout.write(v.slice(0, 7)); setTimeout(() => process.stdout.write(v.slice(7) + '\\n'), 50)";
    const result = await runClean(sb, ['exec', '--profile', 'cf', '--', 'node', '-e', code]);
    expect(result.stdout).toBe('<concealed by agent-secret>\n');
  });

  it('catches a value split once between stdout and stderr (one masker for both streams)', async () => {
    const code = "const v = process.env.API_TOKEN; process.stdout.write(v.slice(0, 7)); setTimeout(() => process.stderr.write(v.slice(7) + '\\n'), 50)";
    const result = await runClean(sb, ['exec', '--profile', 'cf', '--', 'node', '-e', code]);
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(TOKEN.slice(0, 7));
    expect(result.stdout + result.stderr).not.toContain(TOKEN.slice(7));
  });

  it('leaves a stream that goes to /dev/null to the child and still conceals the captured one', async () => {
    // The child says what its stdout is (our /dev/null, inherited, or a pipe from the masker) on stderr.
    const code = "const s = require('fs').fstatSync(1); process.stdout.write(process.env.API_TOKEN); process.stderr.write((s.isCharacterDevice() ? 'null' : 'pipe') + ' ' + process.env.API_TOKEN + '\\n')";
    const result = await runClean(sb, ['exec', '--profile', 'cf', '--', 'node', '-e', code], { stdoutToNull: true });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('null <concealed by agent-secret>\n');
  });

  it('when the reader of its output goes away, the child finds its output closed, as without agent-secret', async () => {
    // `yes` writes until its output is closed and then dies of SIGPIPE (exit 141), with or without us.
    const result = await runClean(sb, ['exec', '--profile', 'cf', '--', 'yes', 'output'], { closeStdoutAfter: 4096 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(141);
    const exited = sb.auditEvents().filter((e) => e.event === 'child_exited');
    expect(exited.map((e) => e.exit_code)).toEqual([141]);
  });

  it('--no-mask and profile mask: false turn it off (the value reaches the output)', async () => {
    for (const args of [['--profile', 'cf', '--no-mask'], ['--profile', 'cf-unmasked']]) {
      const result = await runCli(sb, ['exec', ...args, '--', 'node', join(PROGRAMS, 'print-secret.mjs'), 'API_TOKEN']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(TOKEN);
      // Never in agent-secret's own records.
      expect(readFileSync(sb.auditPath, 'utf8')).not.toContain(TOKEN);
    }
  });

  it('the human is told when output is not masked: mask is part of the approver request', async () => {
    const args = ['--', 'node', join(PROGRAMS, 'print-secret.mjs'), 'API_TOKEN'];
    expect((await runClean(sb, ['exec', '--profile', 'cf', ...args])).code).toBe(0);
    expect((await runCli(sb, ['exec', '--profile', 'cf', '--no-mask', ...args])).code).toBe(0);
    expect((await runCli(sb, ['exec', '--profile', 'cf-unmasked', ...args])).code).toBe(0);
    expect(sb.prompts().map((p) => p.mask)).toEqual([true, false, false]);
    // In the documented place: right after pristine.
    const keys = Object.keys(sb.prompts()[0] ?? {});
    expect(keys[keys.indexOf('pristine') + 1]).toBe('mask');
  });

  it('a reusable approval of a masked run never serves an unmasked one', async () => {
    sb.useApprover('approve-reuse:60:5');
    const args = ['--profile', 'cf', '--', 'node', join(PROGRAMS, 'print-secret.mjs'), 'API_TOKEN'];
    expect((await runClean(sb, ['exec', ...args])).code).toBe(0);
    expect((await runClean(sb, ['exec', '--reuse-only', ...args])).code).toBe(0);
    const unmasked = await runCli(sb, ['exec', '--no-mask', '--reuse-only', ...args]);
    expect(unmasked.code).toBe(14);
    expect(unmasked.stdout).not.toContain(TOKEN);
    expect(sb.prompts()).toHaveLength(1);
    // Without --reuse-only it asks, and the prompt says so.
    expect((await runCli(sb, ['exec', '--no-mask', ...args])).code).toBe(0);
    expect(sb.prompts().map((p) => p.mask)).toEqual([true, false]);
  });

  it('dry run shows the mask in the request it would send', async () => {
    const masked = await runClean(sb, ['exec', '--dry-run', '--json', '--profile', 'cf', '--', 'node', '--version']);
    expect(JSON.parse(masked.stdout)).toMatchObject({ output_masked: true, request: { mask: true } });
    const unmasked = await runClean(sb, ['exec', '--dry-run', '--json', '--profile', 'cf-unmasked', '--', 'node', '--version']);
    expect(JSON.parse(unmasked.stdout)).toMatchObject({ output_masked: false, request: { mask: false } });
  });

  it('dry run says whether output will be masked', async () => {
    const result = await runClean(sb, ['exec', '--dry-run', '--json', '--profile', 'cf', '--', 'node', '--version']);
    expect(JSON.parse(result.stdout)).toMatchObject({ output_masked: true });
  });

  it('masking leaves large output intact', async () => {
    const code = "for (let i = 0; i < 2000; i++) process.stdout.write('line ' + i + ' ' + 'x'.repeat(200) + '\\n')";
    const result = await runClean(sb, ['exec', '--profile', 'cf', '--', 'node', '-e', code]);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2000);
    expect(lines[1999]).toBe(`line 1999 ${'x'.repeat(200)}`);
    expect(CANARIES.some((c) => result.stdout.includes(c))).toBe(false);
  });
});

describe('trusted executables', () => {
  it('refuses an executable others can write, unless --allow-mutable-executable', async () => {
    const tool = sb.write('tool.sh', '#!/bin/sh\nexit 0\n', 0o777);
    chmodSync(tool, 0o777);
    const refused = await runClean(sb, ['exec', '--profile', 'cf', '--', tool]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/(group|world) writable/);
    expect(refused.stderr).toContain('--allow-mutable-executable');
    expect(sb.prompts()).toEqual([]);

    const allowed = await runClean(sb, ['exec', '--profile', 'cf', '--allow-mutable-executable', '--', tool]);
    expect(allowed.code).toBe(0);
    const prompt = sb.prompts()[0] as { allow_mutable_executable: boolean; warnings: string[] };
    expect(prompt.allow_mutable_executable).toBe(true);
    expect(prompt.warnings.join(' ')).toContain('can be replaced');
  });

  it('system executables run without the flag', async () => {
    const result = await runClean(sb, ['exec', '--profile', 'cf', '--', 'true']);
    expect(result.code).toBe(0);
  });

  it('trusted_dirs in the user config accepts an install prefix', async () => {
    const dir = join(sb.project, 'tools');
    const tool = sb.write('tools/tool.sh', '#!/bin/sh\nexit 0\n', 0o777);
    chmodSync(tool, 0o777);
    chmodSync(dir, 0o777);
    sb.useApprover('approve', { trusted_dirs: [dir] });
    const result = await runClean(sb, ['exec', '--profile', 'cf', '--', tool]);
    expect(result.code).toBe(0);
  });
});

describe('--pristine', () => {
  it('starts the child from a minimal environment plus the secrets', async () => {
    const report = join(sb.root, 'report.json');
    const args = ['--', 'node', join(PROGRAMS, 'report-env.mjs'), report, 'API_TOKEN', 'CALLER_VAR', 'PATH', 'HOME'];
    await runClean(sb, ['exec', '--profile', 'cf', '--pristine', ...args], { env: { CALLER_VAR: 'from the caller' } });
    const got = JSON.parse(readFileSync(report, 'utf8')) as Record<string, { set: boolean; sha256?: string }>;
    expect(got.CALLER_VAR).toEqual({ set: false });
    expect(got.PATH?.set).toBe(true);
    expect(got.HOME?.set).toBe(true);
    expect(got.API_TOKEN?.sha256).toBe(createHash('sha256').update(TOKEN).digest('hex'));
    expect(got.AGENT_SECRET_REQUEST_ID).toMatch(/^req_/);

    await runClean(sb, ['exec', '--profile', 'cf', ...args], { env: { CALLER_VAR: 'from the caller' } });
    expect((JSON.parse(readFileSync(report, 'utf8')) as Record<string, { set: boolean }>).CALLER_VAR?.set).toBe(true);
    writeFileSync(report, '');
  });
});
