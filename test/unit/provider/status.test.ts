import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkOp, findOp } from '../../../src/provider/index.js';
import { parseAccounts } from '../../../src/provider/op/status.js';
import { CANARIES } from '../../helpers/canaries.js';
import { createFakeOpWorld, FAKE_OP, type FakeOpWorld } from './fake-op-env.js';

let world: FakeOpWorld;
beforeEach(() => {
  world = createFakeOpWorld();
});
afterEach(() => world.cleanup());

function program(dir: string, name: string, mode: number): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, mode);
  return path;
}

describe('findOp', () => {
  it('takes an explicit path only when absolute and executable', () => {
    expect(findOp({ explicitPath: FAKE_OP, pathEnv: '' })).toBe(FAKE_OP);
    expect(findOp({ explicitPath: 'test/fixtures/bin/op', pathEnv: '' })).toBeNull();
    expect(findOp({ explicitPath: program(join(world.dir, 'x'), 'op', 0o644), pathEnv: '/usr/bin' })).toBeNull();
    expect(findOp({ explicitPath: join(world.dir, 'x'), pathEnv: '' })).toBeNull();
  });

  it('searches absolute PATH entries in order, skipping relative and non-executable ones', () => {
    const a = join(world.dir, 'a');
    const b = join(world.dir, 'b');
    program(a, 'op', 0o644);
    const wanted = program(b, 'op', 0o755);
    program(join(world.dir, 'rel'), 'op', 0o755);
    expect(findOp({ pathEnv: ['rel', '', a, b].join(':') })).toBe(wanted);
    expect(findOp({ pathEnv: undefined })).toBeNull();
  });
});

describe('checkOp against the fake op', () => {
  const check = (env: Record<string, string> = {}, opPath: string | null = FAKE_OP) => checkOp({ opPath, env: { ...world.env, ...env }, timeoutMs: 5000 });

  it('reports version, accounts and sign-in', async () => {
    expect(await check()).toEqual({
      found: true,
      path: FAKE_OP,
      version: '2.30.3',
      signedIn: true,
      accounts: ['my.1password.com', 'work.1password.com'],
      error: null,
    });
    const argvs = world.calls().map((c) => c.argv.filter((a) => a !== '--no-color').join(' '));
    expect(argvs.sort()).toEqual(['--version', 'account list --format json', 'whoami --format json']);
  });

  it('reports a signed-out op with a fix', async () => {
    const status = await check({ FAKE_OP_STATE: 'signed_out' });
    expect(status).toMatchObject({ found: true, signedIn: false, accounts: ['my.1password.com', 'work.1password.com'] });
    expect(status.error).toEqual({ code: 'provider.signed_out', message: 'op is not signed in: account is not signed in', hint: expect.stringContaining('op signin') });
  });

  it('reports no configured accounts', async () => {
    const status = await check({ FAKE_OP_STATE: 'no_accounts' });
    expect(status).toMatchObject({ signedIn: false, accounts: [] });
    expect(status.error?.message).toBe('op has no 1Password account configured');
  });

  it('reports a missing op', async () => {
    expect((await check({}, null)).error?.code).toBe('provider.missing');
    const gone = await check({}, '/nonexistent/op');
    expect(gone).toMatchObject({ found: false, error: { code: 'provider.missing' } });
  });

  it('refuses op 1.x and a program that prints no version', async () => {
    expect((await check({ FAKE_OP_VERSION: '1.12.4' })).error?.message).toBe('op 1.12.4 is not supported; agent-secret needs op 2.x');
    expect((await check({ FAKE_OP_VERSION: '2.18.0-beta.01' })).version).toBe('2.18.0-beta.01');
    const notOp = await check({}, '/usr/bin/false'); // /usr/bin on macOS and Linux alike
    expect(notOp).toMatchObject({ found: true, version: null, error: { code: 'provider.failed' } });
  });

  it('never prints a canary', async () => {
    for (const state of ['signed_in', 'signed_out', 'no_accounts', 'auth_timeout', 'rate_limited', 'desktop_timeout']) {
      const text = JSON.stringify(await check({ FAKE_OP_STATE: state }));
      for (const canary of CANARIES) expect(text).not.toContain(canary);
    }
  });
});

describe('parseAccounts', () => {
  it.each([
    ['[{"url":"https://example.1password.com/"},{"url":"my.1password.com","shorthand":"my"}]', ['example.1password.com', 'my.1password.com']],
    ['[]', []],
    ['not json', []],
    ['{"url":"x"}', []],
    ['[{"url":"evil\\u001b[31m.com"},{"nourl":1}]', []],
  ])('%s', (stdout, expected) => expect(parseAccounts(stdout)).toEqual(expected));
});
