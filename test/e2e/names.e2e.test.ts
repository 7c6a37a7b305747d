// Logical names end to end: the user config's names: maps openai_key to a reference, a profile
// asks for {name: openai_key}, and the built binary resolves exactly that reference, shows the
// name to the human and the approver program, audits it, and lets a policy rule allow by name.
// A name the user config lacks, or a caller whose own user config maps the name elsewhere than
// the daemon's, is refused before anyone is asked. Every run is scanned for canary values.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { digest, valueOf } from '../helpers/vault.js';

const PROGRAMS = join(REPO_ROOT, 'test', 'fixtures', 'programs');
const CONFIG = `version: 1
profiles:
  ai:
    reason: Run the evaluation suite
    secrets:
      OPENAI_API_KEY: { name: openai_key }
  lost:
    reason: Use a name nobody defined
    secrets:
      OPENAI_API_KEY: { name: no_such_name }
`;
const NAMES = { openai_key: 'op://Infra/Cloudflare/token' };

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
});
afterEach(() => sb.cleanup());

const runs = () => join(sb.root, 'runs.jsonl');
const execArgs = (profile: string, ...flags: string[]) => ['exec', '--profile', profile, ...flags, '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, 'OPENAI_API_KEY'];
const seen = (): Array<string | undefined> =>
  existsSync(runs())
    ? readFileSync(runs(), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as Record<string, { sha256?: string }>).OPENAI_API_KEY?.sha256)
    : [];

function writePolicy(text: string): void {
  const dir = join(sb.root, 'config', 'agent-secret');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'policy.yml'), text, { mode: 0o600 });
}

describe('logical names', () => {
  it('a named secret resolves its registry reference; the prompt, the dry run and the audit name it', async () => {
    sb.useApprover('approve', { names: NAMES });
    const dry = await runClean(sb, execArgs('ai', '--dry-run'));
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('OPENAI_API_KEY = openai_key → op://Infra/Cloudflare/token');
    const json = await runClean(sb, execArgs('ai', '--dry-run', '--json'));
    expect(JSON.parse(json.stdout).request.secrets[0]).toMatchObject({ alias: 'OPENAI_API_KEY', name: 'openai_key', ref: 'op://Infra/Cloudflare/token' });

    const result = await runClean(sb, execArgs('ai'));
    expect(result.code).toBe(0);
    expect(seen()).toEqual([digest(valueOf('op://Infra/Cloudflare/token')).sha256]);
    const prompt = sb.prompts()[0] as { secrets: Array<Record<string, unknown>> };
    expect(prompt.secrets[0]).toMatchObject({ alias: 'OPENAI_API_KEY', name: 'openai_key', ref: 'op://Infra/Cloudflare/token' });
    const received = sb.auditEvents().find((e) => e.event === 'request_received') as { secrets: Array<Record<string, unknown>> };
    expect(received.secrets[0]).toMatchObject({ alias: 'OPENAI_API_KEY', name: 'openai_key' });
    const audit = await runClean(sb, ['audit', '--json']);
    expect((JSON.parse(audit.stdout) as { requests: Array<{ names: unknown }> }).requests.at(-1)?.names).toEqual({ OPENAI_API_KEY: 'openai_key' });
    expect((await runClean(sb, ['audit'])).stdout).toContain('OPENAI_API_KEY(openai_key)');
    const show = await runClean(sb, ['profile', 'show', 'ai']);
    expect(show.stdout).toContain('OPENAI_API_KEY = openai_key → op://Infra/Cloudflare/token');
  });

  it('moving the item is one line of the user config; the profile does not change', async () => {
    sb.useApprover('approve', { names: { openai_key: 'op://Infra/Deploy/username' } });
    expect((await runClean(sb, execArgs('ai'))).code).toBe(0);
    expect(seen()).toEqual([digest(valueOf('op://Infra/Deploy/username')).sha256]);
  });

  it('a policy rule allows by name with no approver call', async () => {
    sb.useApprover('deny', { names: NAMES });
    writePolicy('version: 1\nrules:\n  - id: evals\n    decision: allow\n    secrets: [{name: openai_key}]\n');
    const result = await runClean(sb, execArgs('ai'));
    expect(result.code).toBe(0);
    expect(sb.prompts()).toHaveLength(0);
    expect(sb.auditEvents().find((e) => e.event === 'approval_granted')).toMatchObject({ approver: 'policy', policy_rule: 'evals' });
    const explain = await runClean(sb, ['policy', 'explain', '--profile', 'ai', '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, 'OPENAI_API_KEY']);
    expect(explain.stdout).toContain('evals');
  });

  it('a name the user config does not define is refused before anyone is asked', async () => {
    sb.useApprover('approve', { names: NAMES });
    const result = await runClean(sb, execArgs('lost'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('OPENAI_API_KEY asks for the name no_such_name, which names: in');
    expect(result.stderr).toContain('does not define');
    expect(sb.prompts()).toHaveLength(0);
    expect(sb.opCalls()).toHaveLength(0);
  });

  it("the daemon checks a name against its own user config, not the caller's", async () => {
    sb.useApprover('deny', { names: NAMES });
    writePolicy('version: 1\nrules:\n  - id: evals\n    decision: allow\n    secrets: [{name: openai_key}]\n');
    expect((await runClean(sb, ['daemon', 'start'])).code).toBe(0);
    // The agent points its own XDG_CONFIG_HOME at a config where openai_key means another item.
    const forged = join(sb.root, 'forged');
    mkdirSync(join(forged, 'agent-secret'), { recursive: true, mode: 0o700 });
    const config = JSON.parse(readFileSync(join(sb.root, 'config', 'agent-secret', 'config.yml'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(forged, 'agent-secret', 'config.yml'), JSON.stringify({ ...config, names: { openai_key: 'op://Infra/Deploy/username' } }), { mode: 0o600 });
    const result = await runClean(sb, execArgs('ai'), { env: { XDG_CONFIG_HOME: forged } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("OPENAI_API_KEY asks for the name openai_key, which names: in the broker's user config maps to another reference or account");
    expect(seen()).toEqual([]);
    expect(sb.opCalls()).toHaveLength(0);
    await runClean(sb, ['daemon', 'stop']);
  });

  it('user config names: is validated with positions', async () => {
    sb.useApprover('approve', { names: { 'bad name': 'op://a/b/c', pasted: 'sk-live-123', svc: { ref: 'vault://x', account: 'a' } } });
    const result = await runClean(sb, execArgs('ai'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/config\.yml:\d+:\d+: names\.bad\?name: is not a valid name: a letter, then at most 63 letters/);
    expect(result.stderr).toContain('(and 2 more problems)');
    expect(result.stderr).not.toContain('sk-live-123');
  });
});
