// Answering all identical waiting requests at once, end to end: the built binary, its daemon,
// the fake approver answering with `"scope": "all"`. A first, different request holds the prompt
// while four identical ones queue behind it (the first prompt of a burst is built before the
// others arrive); then one prompt answers all four. Every run is scanned for canary values.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectNoLeak, runCli, type CliResult } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { digest, valueOf } from '../helpers/vault.js';

const PROGRAMS = join(REPO_ROOT, 'test', 'fixtures', 'programs');
const CONFIG = `version: 1
default_profile: cf
profiles:
  cf:
    reason: Purge the CDN cache
    ttl: 60s
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
`;
const REASON = 'Purge the CDN cache';

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
});
afterEach(() => sb.cleanup());

const runs = () => join(sb.root, 'runs.jsonl');
const execArgs = () => ['exec', '--profile', 'cf', '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, 'CF_TOKEN'];
const blockerArgs = () => ['exec', '--profile', 'cf', '--reason', 'Hold the prompt', '--', 'true'];
const seen = (): Array<string | undefined> =>
  existsSync(runs())
    ? readFileSync(runs(), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { CF_TOKEN: { sha256?: string } }).CF_TOKEN.sha256)
    : [];
type Prompt = { id: string; reason: string; identical_waiting: number };
const identicalPrompts = () => (sb.prompts() as Prompt[]).filter((p) => p.reason === REASON);
const eventsOf = (type: string) => sb.auditEvents().filter((e) => e.event === type && e.reason === REASON);

// The blocker takes the prompt first; four identical requests queue behind it.
async function burst(): Promise<{ blocker: CliResult; results: CliResult[] }> {
  const blocker = runCli(sb, blockerArgs(), { timeoutMs: 60_000 });
  await waitFor(() => sb.prompts().length === 1);
  const results = Promise.all(Array.from({ length: 4 }, () => runCli(sb, execArgs(), { timeoutMs: 60_000 })));
  return { blocker: await blocker, results: await results };
}

describe('answering all identical waiting requests at once', () => {
  it('allow all once: one prompt that counted 3 identical waiting, all 4 run once, each audited', async () => {
    sb.useApprover('approve-all:4000');
    const { blocker, results } = await burst();
    expect(blocker.code).toBe(0);
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expectNoLeak(sb, blocker, ...results);
    const prompts = identicalPrompts();
    expect(prompts).toHaveLength(1);
    expect(prompts[0]?.identical_waiting).toBe(3);
    const cf = digest(valueOf('op://Infra/Cloudflare/token')).sha256;
    expect(seen()).toEqual([cf, cf, cf, cf]);
    // One op call for the blocker, one for the four.
    expect(sb.opCalls()).toHaveLength(2);
    const granted = eventsOf('approval_granted');
    expect(granted).toHaveLength(4);
    expect(granted.filter((e) => e.answered_with === prompts[0]?.id)).toHaveLength(3);
    expect(granted.filter((e) => e.reuse !== undefined)).toHaveLength(0);
    expect(eventsOf('child_exited')).toHaveLength(4);
    // No reusable approval was left behind: "all" means each of them once.
    const listed = await runCli(sb, ['approvals', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toMatchObject({ approvals: [] });
  }, 90_000);

  it('deny all: one prompt, all 4 fail with the denial exit code, nothing resolved or run', async () => {
    sb.useApprover('deny-all:4000');
    const { blocker, results } = await burst();
    expect(blocker.code).toBe(10);
    for (const r of results) {
      expect(r.code).toBe(10);
      expect(r.stderr).toMatch(/request denied/);
      expect(r.stderr.split('\n').filter((l) => l !== '').length).toBeLessThanOrEqual(2);
    }
    expectNoLeak(sb, blocker, ...results);
    const prompts = identicalPrompts();
    expect(prompts).toHaveLength(1);
    expect(prompts[0]?.identical_waiting).toBe(3);
    expect(seen()).toEqual([]);
    expect(sb.opCalls()).toHaveLength(0);
    const denied = eventsOf('approval_denied');
    expect(denied).toHaveLength(4);
    expect(denied.filter((e) => e.answered_with === prompts[0]?.id)).toHaveLength(3);
  }, 90_000);

  it('a plain deny answers only its own prompt: the other identical requests each get one', async () => {
    sb.useApprover('deny:3000');
    const { results } = await burst();
    for (const r of results) expect(r.code).toBe(10);
    expectNoLeak(sb, ...results);
    const prompts = identicalPrompts();
    expect(prompts).toHaveLength(4);
    expect(prompts.map((p) => p.identical_waiting)).toEqual([3, 2, 1, 0]);
    expect(eventsOf('approval_denied').filter((e) => e.answered_with !== undefined)).toHaveLength(0);
  }, 90_000);
});

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(50);
  }
}
