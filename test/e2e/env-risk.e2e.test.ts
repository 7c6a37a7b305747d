// The environment that changes what runs, end to end (issue 12): the built binary, its daemon,
// the fake approver logging every request. Risky variables from the caller or an env file are
// named in the prompt, plain env-file names reach the approver as `plain_env`, and a reusable
// approval is not served when HOME, a proxy or the CA bundle changed, while turn-to-turn churn
// still reuses. Every run is scanned for canary values.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';

const PROGRAMS = join(REPO_ROOT, 'test', 'fixtures', 'programs');
const CONFIG = `version: 1
profiles:
  p:
    reason: Check the platform
    ttl: 60s
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
`;

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
});
afterEach(() => sb.cleanup());

const warningsOf = (prompt: Record<string, unknown> | undefined) => (prompt?.warnings ?? []) as string[];
const execArgs = () => ['exec', '--profile', 'p', '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, 'CF_TOKEN'];

describe('risky environment variables in the prompt', () => {
  it("names a caller's PYTHONPATH as a warning, with --pristine suggested, and not with --pristine", async () => {
    sb.useApprover('approve');
    const dir = join(sb.root, 'pyx');
    mkdirSync(dir);
    const run = await runClean(sb, ['exec', '--profile', 'p', '--', 'python3', '-m', 'platform'], { env: { PYTHONPATH: dir } });
    expect(run.code).toBe(0);
    const warning = warningsOf(sb.prompts()[0]).find((w) => w.includes('PYTHONPATH'));
    expect(warning).toContain("the caller's environment sets PYTHONPATH (interpreter)");
    expect(warning).toContain('--pristine');
    expect(warning).not.toContain(dir);

    expect((await runClean(sb, ['exec', '--profile', 'p', '--pristine', '--', 'python3', '-m', 'platform'], { env: { PYTHONPATH: dir } })).code).toBe(0);
    expect(warningsOf(sb.prompts()[1]).join('\n')).not.toContain('PYTHONPATH');
  });

  it('names env-file GOFLAGS, https_proxy and npm_config_registry as a warning and lists every plain name in plain_env', async () => {
    sb.useApprover('approve');
    sb.write('.env', 'GOFLAGS=-toolexec=/tmp/x\nhttps_proxy=http://127.0.0.1:9\nnpm_config_registry=https://registry.invalid/\nTF_LOG=info\n');
    const run = await runClean(sb, ['exec', '--profile', 'p', '--env-file', '.env', '--', 'node', join(PROGRAMS, 'append-env.mjs'), join(sb.root, 'runs.jsonl'), 'CF_TOKEN']);
    expect(run.code).toBe(0);
    const prompt = sb.prompts()[0];
    expect(prompt?.plain_env).toEqual(['GOFLAGS', 'TF_LOG', 'https_proxy', 'npm_config_registry']);
    const warning = warningsOf(prompt).find((w) => w.startsWith('an env file sets'));
    expect(warning).toContain('GOFLAGS (build-tool)');
    expect(warning).toContain('https_proxy (network-trust)');
    expect(warning).toContain('npm_config_registry (package-manager)');
    expect(warning).not.toContain('TF_LOG');
    expect(JSON.stringify(prompt)).not.toMatch(/toolexec|127\.0\.0\.1|registry\.invalid/);
  });
});

describe('the reuse key covers the caller environment', () => {
  const significant: Array<[string, (sb: Sandbox) => Record<string, string>]> = [
    ['HOME', (s) => {
      const home = join(s.root, 'home2');
      mkdirSync(home, { recursive: true });
      return { HOME: home };
    }],
    ['HTTPS_PROXY', () => ({ HTTPS_PROXY: 'http://127.0.0.1:9' })],
    ['SSL_CERT_FILE', (s) => ({ SSL_CERT_FILE: join(s.root, 'ca.pem') })],
  ];

  it.each(significant)('asks again when only %s changed', async (_name, change) => {
    sb.useApprover('approve-reuse:60:10');
    expect((await runClean(sb, execArgs())).code).toBe(0);
    expect((await runClean(sb, execArgs(), { env: change(sb) })).code).toBe(0);
    expect(sb.prompts()).toHaveLength(2);
  });

  it('reuses when only PWD, SHLVL or COLUMNS changed', async () => {
    sb.useApprover('approve-reuse:60:10');
    expect((await runClean(sb, execArgs(), { env: { PWD: sb.project, SHLVL: '1', COLUMNS: '80' } })).code).toBe(0);
    expect((await runClean(sb, execArgs(), { env: { PWD: sb.root, SHLVL: '4', COLUMNS: '213' } })).code).toBe(0);
    expect(sb.prompts()).toHaveLength(1);
    expect(sb.auditEvents().filter((e) => e.event === 'approval_reused')).toHaveLength(1);
  });
});
