import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import type { SecretValue } from '../../../src/core/secret-value.js';
import { countOpCalls, resolveSecrets } from '../../../src/provider/index.js';
import type { SecretSpec } from '../../../src/request/types.js';
import { CANARIES } from '../../helpers/canaries.js';
import { createFakeOpWorld, FAKE_OP, leftovers, vaultValue, type FakeOpWorld } from './fake-op-env.js';
import { badRefHint } from '../../../src/provider/op/failure.js';

const MY = 'my.1password.com';
const WORK = 'work.1password.com';
const spec = (alias: string, ref: string, account: string | null = null): SecretSpec => ({ alias, ref, provider: 'op', account, source: 'flag', delivery: 'env', file: null });
const reveal = (values: Map<string, SecretValue>) => Object.fromEntries([...values].map(([k, v]) => [k, v.reveal()]));

let world: FakeOpWorld;
beforeEach(() => {
  world = createFakeOpWorld();
});
afterEach(() => world.cleanup());

// Every error thrown in this file is kept and scanned for canaries at the end.
const thrown: AgentSecretError[] = [];
async function failure(specs: SecretSpec[], env: Record<string, string> = {}, extra: { timeoutMs?: number; signal?: AbortSignal; opPath?: string } = {}) {
  const error = await resolveSecrets(specs, { opPath: extra.opPath ?? FAKE_OP, env: { ...world.env, ...env }, ...extra }).then(
    () => expect.fail('resolveSecrets should have rejected'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentSecretError);
  thrown.push(error as AgentSecretError);
  return error as AgentSecretError;
}
const resolve = (specs: SecretSpec[], env: Record<string, string | undefined> = {}) => resolveSecrets(specs, { opPath: FAKE_OP, env: { ...world.env, ...env } });

afterAll(() => {
  expect(thrown.length).toBeGreaterThan(10);
  for (const error of thrown) {
    const text = [error.message, error.hint ?? '', JSON.stringify(error.details), String(error), error.stack ?? ''].join('\n');
    for (const canary of CANARIES) expect(text, `error ${error.code} leaked a canary`).not.toContain(canary);
  }
});

describe('resolveSecrets against the fake op', () => {
  it('resolves one account with exactly one op call, values exact', async () => {
    const specs = [
      spec('CF_TOKEN', 'op://Infra/Cloudflare/token'),
      spec('OTP', 'op://Infra/Deploy/Security/one-time password?attribute=otp'),
      spec('PEM', 'op://Infra/TLS/private key'),
      spec('TRAILING', 'op://Infra/Edge Cases/trailing newline'),
      spec('TWO_NL', 'op://Infra/Edge Cases/two newlines'),
      spec('EMPTY', 'op://Infra/Edge Cases/empty'),
      spec('SPACES', 'op://Infra/Edge Cases/spaces'),
      spec('QUOTES', 'op://infra/edge cases/QUOTES'),
      spec('DOLLAR', 'op://Infra/Edge Cases/dollar'),
      spec('BRACES', 'op://Infra/Edge Cases/braces'),
      spec('UNICODE', 'op://Infra/Edge Cases/unicode'),
      spec('CRLF', 'op://Infra/Edge Cases/crlf'),
      spec('MARKER', 'op://Infra/Edge Cases/marker like'),
      spec('CTRL', 'op://Infra/Edge Cases/control chars'),
      spec('CERT', 'op://Infra/TLS/cert.pem'),
    ];
    const values = await resolve(specs);
    const edge = (label: string) => vaultValue(MY, 'Infra', 'Edge Cases', label);
    expect(reveal(values)).toEqual({
      CF_TOKEN: 'CANARY-cf-token-3b9e1d',
      OTP: '482913',
      PEM: vaultValue(MY, 'Infra', 'TLS', 'private key'),
      TRAILING: 'CANARY-trailing-newline-6b0f4e\n',
      TWO_NL: 'CANARY-two-newlines-77c1d0\n\n',
      EMPTY: '',
      SPACES: edge('spaces'),
      QUOTES: edge('quotes'),
      DOLLAR: edge('dollar'),
      BRACES: edge('braces'),
      UNICODE: edge('unicode'),
      CRLF: edge('crlf'),
      MARKER: edge('marker like'),
      CTRL: edge('control chars'),
      CERT: '-----BEGIN CERTIFICATE-----\nCANARY-cert-file-MIIDdzCCAl+gAwIBAgIE\n-----END CERTIFICATE-----\n',
    });
    expect([...values.keys()]).toEqual(specs.map((s) => s.alias));
    const calls = world.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.argv.slice(0, 2)).toEqual(['inject', '--in-file']);
    expect(calls[0]?.argv).toContain('--no-color');
    expect(calls[0]?.argv).not.toContain('--account');
    expect(countOpCalls(specs)).toBe(1);
    expect(leftovers(world)).toEqual([]);
  });

  it('resolves two accounts with one op call each, the same path giving different values', async () => {
    const specs = [
      spec('MY_KEY', 'op://Shared/Deploy Key/credential'),
      spec('WORK_KEY', 'op://Shared/Deploy Key/credential', WORK),
      spec('JIRA', 'op://Work Only/Jira/token', WORK),
      spec('MY_CF', 'op://Infra/Cloudflare/token', MY),
      spec('WORK_CF', 'op://Infra/Cloudflare/token', 'work'),
    ];
    const values = await resolve(specs);
    expect(reveal(values)).toEqual({
      MY_KEY: 'CANARY-my-shared-deploy-key-1a2b3c',
      WORK_KEY: 'CANARY-work-shared-deploy-key-9f8e7d',
      JIRA: 'CANARY-work-jira-token-33d0a7',
      MY_CF: 'CANARY-cf-token-3b9e1d',
      WORK_CF: 'CANARY-work-cf-token-5e6f10',
    });
    const accounts = world.calls().map((c) => {
      const i = c.argv.indexOf('--account');
      return i === -1 ? null : c.argv[i + 1];
    });
    expect(accounts.sort()).toEqual([MY, WORK, 'work', null].sort());
    expect(countOpCalls(specs)).toBe(4);
  });

  it('resolves a duplicate reference once and gives it to every alias', async () => {
    const values = await resolve([
      spec('A', 'op://Infra/Shared/token'),
      spec('B', 'op://Infra/Cloudflare/token'),
      spec('C', 'op://Infra/Shared/token'),
    ]);
    expect(reveal(values)).toEqual({ A: 'CANARY-shared-token-2f6a9c', B: 'CANARY-cf-token-3b9e1d', C: 'CANARY-shared-token-2f6a9c' });
    expect(world.calls().map((c) => c.refs)).toEqual([['op://Infra/Shared/token', 'op://Infra/Cloudflare/token']]);
  });

  it('runs accounts in parallel', async () => {
    const specs = [spec('A', 'op://Shared/Deploy Key/credential'), spec('B', 'op://Shared/Deploy Key/credential', WORK)];
    await resolve(specs, { FAKE_OP_DELAY_MS: '600' });
    // Both op processes were running at once: each started before the other ended (from the
    // fake op's own log, so a loaded machine cannot make this flaky).
    const calls = world.calls();
    expect(calls).toHaveLength(2);
    const [first, second] = calls.map((call) => ({ start: Date.parse(call.start), end: Date.parse(call.end) }));
    expect(Math.max(first!.start, second!.start)).toBeLessThan(Math.min(first!.end, second!.end));
  });

  it('returns an empty map and starts nothing for no specs', async () => {
    expect((await resolve([])).size).toBe(0);
    expect(world.calls()).toEqual([]);
    expect(countOpCalls([])).toBe(0);
  });

  it('hands op a cleaned environment', async () => {
    await resolve([spec('A', 'op://Infra/Shared/token')], { NODE_DEBUG: 'child_process', NODE_OPTIONS: '--inspect', OP_FORMAT: 'json', OP_ACCOUNT: MY, OP_CACHE: 'false' });
    const names = world.calls()[0]?.env_names ?? [];
    expect(names).toContain('OP_ACCOUNT');
    expect(names).toContain('OP_CACHE');
    expect(names).not.toContain('NODE_DEBUG');
    expect(names).not.toContain('NODE_OPTIONS');
    expect(names).not.toContain('OP_FORMAT');
  });
});

describe('resolveSecrets failures deliver nothing and name the alias and reference', () => {
  it('names the one failing reference among several, in op inject wording', async () => {
    const error = await failure([spec('CF', 'op://Infra/Cloudflare/token'), spec('API_TOKEN', 'op://Prod/Stripe2/token'), spec('PEM', 'op://Infra/TLS/private key')]);
    expect(error.code).toBe('provider.failed');
    expect(error.exitCode).toBe(13);
    expect(error.message).toBe(
      'op could not resolve API_TOKEN (op://Prod/Stripe2/token): could not resolve item UUID for item Stripe2: could not find item Stripe2 in vault prd3vlt7kqz2mxv4wbn8hry5lda',
    );
    expect(error.details).toEqual({ alias: 'API_TOKEN', ref: 'op://Prod/Stripe2/token', provider: 'op' });
    expect(error.hint).toContain('`agent-secret item describe op://Prod/Stripe2` to see its field names');
    expect(error.hint).not.toContain('op item list');
  });

  it('names every candidate when op names the item but gives the vault only by ID', async () => {
    const error = await failure([spec('CF', 'op://Infra/Cloudflare/token'), spec('API_TOKEN', 'op://Prod/Cloudflare/token'), spec('PEM', 'op://Infra/TLS/private key')]);
    expect(error.message).toMatch(/^op could not resolve CF \(op:\/\/Infra\/Cloudflare\/token\), API_TOKEN \(op:\/\/Prod\/Cloudflare\/token\): could not resolve item UUID/);
    expect(error.message).not.toContain('PEM');
  });

  it('names the failing reference for op\'s "isn\'t an item" text', async () => {
    const error = await failure([spec('CF', 'op://Infra/Cloudflare/token'), spec('API_TOKEN', 'op://Prod/Cloudflare/token')], { FAKE_OP_FAIL_REF: 'op://Prod/Cloudflare/token' });
    expect(error.message).toBe(`op could not resolve API_TOKEN (op://Prod/Cloudflare/token): "Cloudflare" isn't an item in the "Prod" vault`);
  });

  it('names every alias of a failing duplicated reference, with the account', async () => {
    const error = await failure([spec('A', 'op://Work Only/Jira/nope', WORK), spec('B', 'op://Work Only/Jira/nope', WORK), spec('C', 'op://Work Only/Jira/token', WORK)]);
    expect(error.message).toBe(`op could not resolve A, B (op://Work Only/Jira/nope) in account ${WORK}: item 'Work Only/Jira' does not have a field 'nope'`);
    expect(error.details).toEqual({ alias: 'A', ref: 'op://Work Only/Jira/nope', provider: 'op', account: WORK });
  });

  it('names the whole batch when op\'s text cannot be matched to one reference', async () => {
    const error = await failure([spec('A', 'op://Infra/Dup/password'), spec('B', 'op://k7qmv3xnhb2wrt5yzlc4pd8fja/Dup/password')]);
    expect(error.message).toBe('op could not resolve A (op://Infra/Dup/password): More than one item matches "Dup"');
    const byId = await failure([spec('X', 'op://k7qmv3xnhb2wrt5yzlc4pd8fja/cf3tkn8w2qzmx7vhbr5ldy4pja/nope'), spec('Y', 'op://Infra/Shared/token')]);
    expect(byId.message).toMatch(/^op could not resolve X \(op:\/\/k7q\S+\/nope\), Y \(op:\/\/Infra\/Shared\/token\): item 'Infra\/Cloudflare' does not have a field 'nope'$/);
  });

  it('rejects when one account fails and another succeeds', async () => {
    const error = await failure([spec('GOOD', 'op://Infra/Shared/token'), spec('BAD', 'op://Shared/Deploy Key/nope', WORK)]);
    expect(error.message).toContain('BAD (op://Shared/Deploy Key/nope) in account work.1password.com');
    expect(error.message).not.toContain('GOOD');
  });

  it('reports a signed-out op as provider.signed_out', async () => {
    const error = await failure([spec('A', 'op://Infra/Shared/token'), spec('B', 'op://Infra/Cloudflare/token')], { FAKE_OP_STATE: 'signed_out' });
    expect(error.code).toBe('provider.signed_out');
    expect(error.message).toBe('op is not signed in to 1Password (needed for A (op://Infra/Shared/token), B (op://Infra/Cloudflare/token)): You are not currently signed in. Please run `op signin --help` for instructions');
    expect(error.hint).toContain('op signin');
    expect(error.hint).toContain('agent-secret doctor');
  });

  it('reports no configured accounts from the preamble', async () => {
    const error = await failure([spec('A', 'op://Infra/Shared/token')], { FAKE_OP_STATE: 'no_accounts' });
    expect(error.code).toBe('provider.signed_out');
    expect(error.message).toBe('op has no 1Password account configured (needed for A (op://Infra/Shared/token))');
  });

  it('reports an account op does not know', async () => {
    const error = await failure([spec('A', 'op://Infra/Shared/token', 'nowhere.1password.com')]);
    expect(error.code).toBe('provider.signed_out');
    expect(error.message).toContain('op does not know the 1Password account in account nowhere.1password.com');
    expect(error.hint).toContain('op account list');
  });

  it.each([
    ['auth_timeout', 'provider.failed', '1Password did not authorize op (needed for A (op://Infra/Shared/token)): authorization timeout', 1],
    ['dismissed', 'provider.failed', '1Password did not authorize op (needed for A (op://Infra/Shared/token)): authorization prompt dismissed, please try again', 1],
    ['rate_limited', 'provider.failed', '1Password refused op (needed for A (op://Infra/Shared/token)): (429) Too Many Requests', 1],
    ['desktop_timeout', 'provider.failed', 'op could not reach 1Password (needed for A (op://Infra/Shared/token)): connecting to desktop app', 2],
  ])('reports %s as %s', async (state, code, message, calls) => {
    const error = await failure([spec('A', 'op://Infra/Shared/token')], { FAKE_OP_STATE: state });
    expect(error.code).toBe(code);
    expect(error.message.startsWith(message)).toBe(true);
    expect(world.calls()).toHaveLength(calls);
  });

  it('reports a missing op as provider.missing', async () => {
    const error = await failure([spec('A', 'op://Infra/Shared/token')], {}, { opPath: '/nonexistent/bin/op' });
    expect(error.code).toBe('provider.missing');
    expect(error.hint).toContain('op_path');
    expect(error.hint).toContain('agent-secret doctor');
  });

  it('kills op at the timeout and fails', async () => {
    // The timeout leaves the fake op time to start and hear SIGTERM even on a loaded machine;
    // op itself would take a minute, so finishing at all means it was killed.
    const error = await failure([spec('A', 'op://Infra/Shared/token')], { FAKE_OP_DELAY_MS: '60000' }, { timeoutMs: 3000 });
    expect(error.code).toBe('provider.failed');
    expect(error.message).toBe('op did not finish within 3s while resolving A (op://Infra/Shared/token); nothing was delivered');
    expect(world.calls()[0]?.signal).toBe('SIGTERM');
    expect(leftovers(world)).toEqual([]);
  });

  it('escalates to SIGKILL when op ignores SIGTERM', async () => {
    const started = Date.now();
    const error = await failure([spec('A', 'op://Infra/Shared/token')], { FAKE_OP_DELAY_MS: '8000', FAKE_OP_IGNORE_SIGTERM: '1' }, { timeoutMs: 200 });
    expect(error.code).toBe('provider.failed');
    expect(Date.now() - started).toBeLessThan(4000);
    expect(world.calls()).toEqual([]);
  });

  it('keeps its deadline when something op started holds its output open (a wrapper script without exec)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'as-op-wrapper-'));
    const wrapper = join(dir, 'op');
    const pidFile = join(dir, 'helper.pid');
    // The wrapper runs its "op" in the background and waits: killing the wrapper leaves the
    // helper with the wrapper's stdout and stderr.
    writeFileSync(wrapper, `#!/bin/sh\nsleep 30 &\necho $! > '${pidFile}'\nwait\n`, { mode: 0o755 });
    try {
      const error = await failure([spec('A', 'op://Infra/Shared/token')], {}, { timeoutMs: 200, opPath: wrapper });
      expect(error.code).toBe('provider.failed');
      expect(error.message).toContain('did not finish within');
    } finally {
      const helper = Number(readFileSync(pidFile, 'utf8'));
      if (helper > 0) process.kill(helper, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 15_000);

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const error = await failure([spec('A', 'op://Infra/Shared/token')], { FAKE_OP_DELAY_MS: '5000' }, { signal: controller.signal });
    expect(error.code).toBe('provider.failed');
    expect(error.message).toContain('cancelled');
    const early = await failure([spec('A', 'op://Infra/Shared/token')], {}, { signal: controller.signal });
    expect(early.message).toContain('cancelled before op started');
  });

  it('refuses an invalid reference or a repeated alias before starting op', async () => {
    expect((await failure([spec('A', 'op://Infra/Shared')])).code).toBe('ref.invalid');
    expect((await failure([spec('A', 'op://a/b/c }}{{ op://x/y/z')])).code).toBe('ref.invalid');
    expect((await failure([spec('A', 'op://a/b/c'), spec('A', 'op://a/b/d')])).code).toBe('alias.invalid');
    expect((await failure([spec('A', 'op://a/b/c', '-x')])).code).toBe('account.invalid');
    expect(world.calls()).toEqual([]);
  });

  it('refuses op output that does not split back, without showing it', async () => {
    const error = await failure([spec('A', 'op://Infra/Shared/token')], {}, { opPath: '/bin/echo' });
    expect(error.code).toBe('provider.failed');
    expect(error.message).toBe('op inject returned output that does not match the request; nothing was delivered');
  });
});

describe('badRefHint: the next step names item describe on the failing item', () => {
  it.each([
    ['op://Infra/Deploy/nosuchfield', null, '`agent-secret item describe op://Infra/Deploy`'],
    ['op://Infra/Edge Cases/x', null, "`agent-secret item describe 'op://Infra/Edge Cases'`"],
    ['op://Infra/Deploy/sec/field?attribute=otp', 'my.1password.com', '`agent-secret item describe op://Infra/Deploy --account my.1password.com`'],
    [undefined, null, '`agent-secret item describe op://VAULT/ITEM`'],
  ])('%s', (ref, account, want) => {
    const hint = badRefHint(ref, account);
    expect(hint).toContain(want);
    expect(hint).not.toMatch(/op item list|doctor/);
  });
});
