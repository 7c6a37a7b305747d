// `item describe` end to end: one prompt (operation item_describe), one `op item get`, field
// names and references out, every value stripped. Output and audit log scanned for canaries.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
});
afterEach(() => sb.cleanup());

describe('item describe', () => {
  it('shows labels, types and references after one approval and one op call', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['item', 'describe', 'op://Infra/GitHub', '--account', 'my.1password.com']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('personal access token');
    expect(result.stdout).toContain('op://Infra/GitHub/');
    const prompts = sb.prompts() as Array<{ operation: string; secrets: Array<{ ref: string }>; reason: string; command: string[] }>;
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatchObject({ operation: 'item_describe', reason: 'Inspect 1Password item metadata' });
    expect(prompts[0]?.secrets[0]?.ref).toBe('op://Infra/GitHub');
    expect(prompts[0]?.command.slice(0, 3)).toEqual(['agent-secret', 'item', 'describe']);
    const calls = sb.opCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.argv.slice(0, 2)).toEqual(['item', 'get']);
    expect(sb.auditEvents().map((e) => e.event)).toEqual(['request_received', 'approval_granted', 'resolution_started', 'resolution_succeeded']);
  });

  it('prints JSON and env-refs lines with a prefix', async () => {
    sb.useApprover('approve');
    const json = await runClean(sb, ['item', 'describe', 'op://Infra/GitHub', '--format', 'json']);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as { item: { title: string }; fields: Array<{ reference: string }> };
    expect(body.item.title).toBe('GitHub');
    expect(body.fields.length).toBeGreaterThan(3);

    const refs = await runClean(sb, ['item', 'describe', 'op://Infra/GitHub', '--format', 'env-refs', '--prefix', 'GH']);
    expect(refs.code).toBe(0);
    const lines = refs.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(line).toMatch(/^GH_[A-Z0-9_]+=/);
  });

  it('a denial resolves nothing: exit 10, no op call', async () => {
    sb.useApprover('deny');
    const result = await runClean(sb, ['item', 'describe', 'op://Infra/GitHub']);
    expect(result.code).toBe(10);
    expect(sb.opCalls()).toHaveLength(0);
    expect(result.stdout).toBe('');
  });

  it('rejects a field reference before asking anyone', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['item', 'describe', 'op://Infra/GitHub/password']);
    expect(result.code).toBe(2);
    expect(sb.prompts()).toHaveLength(0);
  });
});
