// Sessions end to end: session create (one prompt, one op batch), with-session reads from the
// bound process tree and the session directory, reads counted, list without tokens, destroy,
// and refusals (outside the tree, another directory, a wrong token). Canary scans on every run.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { digest, valueOf } from '../helpers/vault.js';

const PROGRAMS = join(REPO_ROOT, 'test', 'fixtures', 'programs');
const CONFIG = `version: 1
default_profile: cf
profiles:
  cf:
    reason: Run the CDN smoke tests
    ttl: 60s
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
      API_TOKEN: op://Infra/Deploy/api token
`;

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
  sb.useApprover('approve');
});
afterEach(() => sb.cleanup());

const report = (name: string) => join(sb.root, `report-${name}.json`);
const readReport = (name: string) => JSON.parse(readFileSync(report(name), 'utf8')) as Record<string, unknown>;
const reportCmd = (name: string) => ['--', 'node', join(PROGRAMS, 'report-env.mjs'), report(name), 'CF_TOKEN', 'API_TOKEN'];

async function createSession(...flags: string[]): Promise<{ session_id: string; session_token: string; remaining_reads: number; aliases: string[] }> {
  const result = await runClean(sb, ['session', 'create', '--profile', 'cf', '--json', ...flags]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as { session_id: string; session_token: string; remaining_reads: number; aliases: string[] };
}

describe('sessions', () => {
  it('one prompt and one op batch serve max-reads with-session runs, then the session is gone', async () => {
    const session = await createSession('--max-reads', '2');
    expect(session.session_token).toMatch(/^astok_/);
    expect(session.aliases).toEqual(['API_TOKEN', 'CF_TOKEN']);
    const prompts = sb.prompts() as Array<{ operation: string }>;
    expect(prompts).toHaveLength(1);
    expect(prompts[0]?.operation).toBe('session_create');
    expect(sb.opCalls()).toHaveLength(1);

    for (const name of ['a', 'b']) {
      const run = await runClean(sb, ['with-session', session.session_token, ...reportCmd(name)]);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(readReport(name).CF_TOKEN).toEqual(digest(valueOf('op://Infra/Cloudflare/token')));
    }
    expect(sb.opCalls()).toHaveLength(1);
    const third = await runClean(sb, ['with-session', session.session_token, ...reportCmd('c')]);
    expect(third.code).not.toBe(0);
    expect(third.stderr).toMatch(/session/);
    const events = sb.auditEvents().map((e) => e.event);
    expect(events.filter((e) => e === 'session_resolved')).toHaveLength(2);
    expect(events).toContain('session_created');
  });

  it('a variable the caller already has is refused before a read is spent (session_refused)', async () => {
    const session = await createSession('--max-reads', '1');
    const refused = await runClean(sb, ['with-session', session.session_token, ...reportCmd('a')], { env: { CF_TOKEN: 'already here' } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('agent-secret: CF_TOKEN is already set in the environment; the command did not run');
    const refusals = sb.auditEvents().filter((e) => e.event === 'session_refused');
    expect(refusals).toEqual([expect.objectContaining({ session_id: session.session_id, error_code: 'exec.env_conflict' })]);
    expect(sb.auditEvents().filter((e) => e.event === 'session_resolved')).toEqual([]);
    // The one read is still there.
    const run = await runClean(sb, ['with-session', session.session_token, ...reportCmd('b')]);
    expect(run.code).toBe(0);
    expect(readReport('b').CF_TOKEN).toEqual(digest(valueOf('op://Infra/Cloudflare/token')));
  });

  it('--only delivers a subset; an alias outside the session is refused before anything runs', async () => {
    const session = await createSession('--max-reads', '3');
    const some = await runClean(sb, ['with-session', session.session_token, '--only', 'CF_TOKEN', ...reportCmd('a')]);
    expect(some.code).toBe(0);
    expect(readReport('a').API_TOKEN).toEqual({ set: false });
    const wrong = await runClean(sb, ['with-session', session.session_token, '--only', 'NOPE', ...reportCmd('b')]);
    expect(wrong.code).not.toBe(0);
  });

  it('list shows a session directory with terminal escapes in its name escaped, never raw', async () => {
    const dir = join(sb.project, 'x\u001b]0;owned\u0007\u001b[2Jy');
    mkdirSync(dir);
    expect((await runClean(sb, ['session', 'create', '--profile', 'cf', '--cwd', dir])).code).toBe(0);
    const text = await runClean(sb, ['session', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain('\u001b');
    expect(text.stdout).not.toContain('\u0007');
    expect(text.stdout).toContain('\\x1b]0;owned\\x07');
  });

  it('list shows sessions without tokens; destroy ends them', async () => {
    const session = await createSession('--max-reads', '3');
    const listed = await runClean(sb, ['session', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(session.session_token);
    expect(JSON.parse(listed.stdout)).toMatchObject({ sessions: [{ session_id: session.session_id, remaining_reads: 3 }] });
    const text = await runClean(sb, ['session', 'list']);
    expect(text.stdout).toContain(session.session_id);
    expect(text.stdout).not.toContain(session.session_token);

    expect((await runClean(sb, ['session', 'destroy', session.session_id])).code).toBe(0);
    expect(sb.auditEvents().filter((e) => e.event === 'session_destroyed')).toEqual([expect.objectContaining({ session_id: session.session_id })]);
    const after = await runClean(sb, ['with-session', session.session_token, ...reportCmd('a')]);
    expect(after.code).not.toBe(0);
    expect((await runClean(sb, ['session', 'list', '--json=compact'])).stdout.trim()).toBe('{"schema_version":"1","sessions":[]}');
  });

  it('with --json=compact (or --json compact) an error is one JSON line on stdout too', async () => {
    for (const flags of [['--json=compact'], ['--json', 'compact']]) {
      const result = await runClean(sb, ['session', 'destroy', ...flags]);
      expect(result.code).toBe(2);
      const lines = result.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] as string)).toMatchObject({ ok: false, error: { exit_code: 2 } });
      expect(result.stderr).toMatch(/^agent-secret: /);
    }
  });

  it('refuses a caller outside the bound process tree, another directory, and a wrong token', async () => {
    // Bound to a shell that exits right away: no later caller can be inside its tree.
    const created = await runClean(sb, ['session', 'create', '--profile', 'cf', '--max-reads', '5', '--bind-parent', '--json'], { viaShell: true });
    expect(created.code).toBe(0);
    const token = (JSON.parse(created.stdout) as { session_token: string }).session_token;
    const outside = await runClean(sb, ['with-session', token, ...reportCmd('a')]);
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toMatch(/process tree/);

    const inside = await createSession('--max-reads', '5');
    const elsewhere = await runClean(sb, ['with-session', inside.session_token, ...reportCmd('b')], { cwd: sb.home });
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toMatch(/directory/);
    const forged = await runClean(sb, ['with-session', 'astok_notarealtoken', ...reportCmd('c')]);
    expect(forged.code).not.toBe(0);
    expect(sb.auditEvents().filter((e) => e.event === 'session_refused').length).toBeGreaterThanOrEqual(3);
  });
});
