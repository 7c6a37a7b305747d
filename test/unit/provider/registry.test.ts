// The registry across providers, against the real fakes (op, bws, a provider program): a mixed
// request resolves through each provider once, a failure in one delivers nothing from any, and
// every error is value-free.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseProviders } from '../../../src/config/user-providers.js';
import { AgentSecretError } from '../../../src/core/errors.js';
import { checkSpecs, createRegistry, prepareResolution, type ProviderRegistry } from '../../../src/provider/index.js';
import type { SecretSpec } from '../../../src/request/types.js';
import { CANARIES, FAKE_BWS_VAULT_PATH, FAKE_PROGRAM_VAULT_PATH } from '../../helpers/canaries.js';
import { createFakeOpWorld, FAKE_OP, vaultValue, type FakeOpWorld } from './fake-op-env.js';

const FAKE_BWS = fileURLToPath(new URL('../../fixtures/bin/bws', import.meta.url));
const FAKE_PROGRAM = fileURLToPath(new URL('../../fixtures/bin/provider-program', import.meta.url));
const BWS = JSON.parse(readFileSync(FAKE_BWS_VAULT_PATH, 'utf8')) as { access_tokens: Array<{ value: string }>; secrets: Array<{ id: string; value: string }> };
const PROGRAM = JSON.parse(readFileSync(FAKE_PROGRAM_VAULT_PATH, 'utf8')) as { secrets: Array<{ ref: string; value: string }> };
const STRIPE = BWS.secrets[0]!;
const DB = BWS.secrets[1]!;
const APP = PROGRAM.secrets[0]!;

const spec = (alias: string, ref: string, account: string | null = null): SecretSpec => ({ alias, ref, provider: ref.slice(0, ref.indexOf('://')), account, source: 'profile' });

let world: FakeOpWorld;
let configPath: string;
let programLog: string;
const thrown: AgentSecretError[] = [];

beforeEach(() => {
  world = createFakeOpWorld({ FAKE_BWS_LOG: '' });
  world.env.FAKE_BWS_LOG = join(world.dir, 'bws.log');
  configPath = join(world.dir, 'config', 'config.yml');
  programLog = join(world.dir, 'program.log');
  mkdirSync(join(world.dir, 'config', 'tokens'), { recursive: true, mode: 0o700 });
  writeFileSync(join(world.dir, 'config', 'tokens', 'bws.default'), `${BWS.access_tokens[0]!.value}\n`, { mode: 0o600 });
});
afterEach(() => world.cleanup());
afterAll(() => {
  expect(thrown.length).toBeGreaterThan(3);
  for (const error of thrown) {
    const text = [error.message, error.hint ?? '', JSON.stringify(error.details), error.stack ?? ''].join('\n');
    for (const canary of CANARIES) expect(text).not.toContain(canary);
  }
});

function registry(programMode = 'values'): ProviderRegistry {
  const providers = parseProviders({ bws: { path: FAKE_BWS }, vault: { command: [FAKE_PROGRAM, programMode, programLog], timeout: '2s' } }, configPath);
  expect(providers.issues).toEqual([]);
  return createRegistry({ path: configPath, opPath: FAKE_OP, providers: providers.value }, { env: world.env, platform: process.platform, uid: process.getuid?.() ?? -1, brokerName: 'the test' });
}

const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : []);
const opts = () => ({ requestId: 'req_test', deadline: Date.now() + 10_000, timeoutMs: 10_000 });

async function fails(specs: SecretSpec[], reg: ProviderRegistry): Promise<AgentSecretError> {
  const error = await prepareResolution(specs, reg)
    .then((r) => r.resolve(specs, opts()))
    .then(
      () => expect.fail('should have failed'),
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(AgentSecretError);
  thrown.push(error as AgentSecretError);
  return error as AgentSecretError;
}

const MIXED = [
  spec('CF_TOKEN', 'op://Infra/Cloudflare/token'),
  spec('STRIPE_KEY', `bws://${STRIPE.id}`),
  spec('DB_URL', `bws://${DB.id}`),
  spec('APP_TOKEN', APP.ref),
];

describe('a mixed request', () => {
  it('resolves each provider once (one op inject, one bws call per secret, one program call) in the request order', async () => {
    const reg = registry();
    const resolution = await prepareResolution(MIXED, reg);
    expect(resolution.schemes).toEqual(['op', 'bws', 'vault']);
    const values = await resolution.resolve(MIXED, opts());
    expect([...values.keys()]).toEqual(['CF_TOKEN', 'STRIPE_KEY', 'DB_URL', 'APP_TOKEN']);
    expect(values.get('CF_TOKEN')?.reveal()).toBe(vaultValue('my.1password.com', 'Infra', 'Cloudflare', 'token'));
    expect(values.get('STRIPE_KEY')?.reveal()).toBe(STRIPE.value);
    expect(values.get('DB_URL')?.reveal()).toBe(DB.value);
    expect(values.get('APP_TOKEN')?.reveal()).toBe(APP.value);
    expect(world.calls()).toHaveLength(1);
    const bws = lines(world.env.FAKE_BWS_LOG!).map((l) => JSON.parse(l) as { argv: string[]; token_given: boolean });
    expect(bws.map((c) => c.argv.slice(0, 3)).sort()).toEqual([['secret', 'get', DB.id], ['secret', 'get', STRIPE.id]].sort());
    expect(bws.every((c) => c.token_given)).toBe(true);
    const program = lines(programLog).map((l) => JSON.parse(l) as { request: { version: number; scheme: string; refs: unknown[] }; env_names: string[] });
    expect(program).toHaveLength(1);
    expect(program[0]!.request).toMatchObject({ version: 1, id: 'req_test', scheme: 'vault', refs: [{ ref: APP.ref, identity: null }] });
    // Neither the op nor the program process gets a bws token.
    expect(program[0]!.env_names).not.toContain('BWS_ACCESS_TOKEN');
    expect(world.calls()[0]!.env_names).not.toContain('BWS_ACCESS_TOKEN');
  });

  it('one failing provider delivers nothing from any, naming the alias and reference', async () => {
    const broken = [...MIXED.slice(0, 3), spec('MISSING', 'vault://kv/nope')];
    const error = await fails(broken, registry());
    expect(error.code).toBe('provider.failed');
    expect(error.message).toContain('MISSING (vault://kv/nope)');
    expect(error.details).toMatchObject({ alias: 'MISSING', ref: 'vault://kv/nope', provider: 'vault' });
  });

  it.each([
    ['hang', 'did not finish within 2s'],
    ['exit1', 'exited with code 1'],
    ['garbage', 'did not answer with one JSON object'],
    ['extra-ref', 'answered for a reference it was not asked for'],
    ['partial', 'did not answer for every reference'],
  ])('a provider program that answers %s fails closed', async (mode, words) => {
    const error = await fails([spec('APP_TOKEN', APP.ref), spec('DB_PASSWORD', 'vault://kv/db#password')], registry(mode));
    expect(error.code).toBe('provider.failed');
    expect(error.message).toContain(words);
    expect(error.message).toContain('DB_PASSWORD (vault://kv/db#password)');
    expect(error.message).toContain('nothing was delivered');
  }, 15_000);

  it('a bws secret the token may not read fails the whole request', async () => {
    const team = BWS.secrets[2]!;
    const error = await fails([spec('CF_TOKEN', 'op://Infra/Cloudflare/token'), spec('TEAM', `bws://${team.id}`)], registry());
    expect(error.message).toContain(`TEAM (bws://${team.id})`);
    expect(error.details).toMatchObject({ alias: 'TEAM', provider: 'bws' });
  });

  it('a missing bws token is named before bws runs, with the command that stores it', async () => {
    rmSync(join(world.dir, 'config', 'tokens', 'bws.default'));
    const error = await fails([spec('STRIPE_KEY', `bws://${STRIPE.id}`)], registry());
    expect(error.code).toBe('provider.signed_out');
    expect(error.hint).toContain('agent-secret provider token set bws');
    expect(lines(world.env.FAKE_BWS_LOG!)).toEqual([]);
  });
});

describe('checkSpecs', () => {
  it('refuses a scheme no provider serves, and a provider field that is not the scheme', () => {
    const reg = registry();
    expect(() => checkSpecs([spec('X', 'aws://prod/db')], reg)).toThrow(/no provider for aws:\/\//);
    expect(() => checkSpecs([{ ...spec('X', 'op://a/b/c'), provider: 'bws' }], reg)).toThrow(/provider bws for a op:\/\//);
    expect(() => checkSpecs([spec('X', 'op://a/b/c'), spec('Y', `bws://${STRIPE.id}`), spec('Z', APP.ref)], reg)).not.toThrow();
  });
  it('a bws source the user config does not declare is refused before anyone is asked', async () => {
    const error = await prepareResolution([spec('X', `bws://nowhere/${STRIPE.id}`, 'nowhere')], registry()).then(
      () => expect.fail('should refuse'),
      (e: unknown) => e as AgentSecretError,
    );
    expect(error.code).toBe('ref.invalid');
    expect(error.message).toContain('bws source nowhere');
  });
});
