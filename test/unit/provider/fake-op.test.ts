import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CANARIES, CANARY_VALUES, findCanary } from '../../helpers/canaries.js';
import { createFakeOpWorld, FAKE_OP, type FakeOpWorld } from './fake-op-env.js';

// The fake op is a test double other tests rely on: check its shapes and op's error texts.
let world: FakeOpWorld;
beforeEach(() => {
  world = createFakeOpWorld();
});
afterEach(() => world.cleanup());

const ERROR = /^\[ERROR\] \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} (.*)\n$/;
function op(args: string[], options: { env?: Record<string, string>; stdin?: 'pipe' | 'ignore'; input?: string } = {}) {
  // A shell pipeline gives op a FIFO on stdin, as a terminal user's `… | op inject` would.
  const viaPipe = options.input !== undefined;
  const command = viaPipe ? '/bin/sh' : FAKE_OP;
  const argv = viaPipe ? ['-c', 'printf %s "$TEMPLATE" | "$OP" "$@"', 'sh', ...args] : args;
  const result = spawnSync(command, argv, {
    env: { ...world.env, ...options.env, ...(viaPipe ? { TEMPLATE: options.input, OP: FAKE_OP } : {}) } as Record<string, string>,
    encoding: 'utf8',
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    input: options.stdin === 'pipe' ? 'x' : undefined,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
function opError(args: string[], env: Record<string, string> = {}): string {
  const result = op(args, { env });
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split(/(?=\[ERROR\])/);
  // The message is the [ERROR] line itself; continuation lines (ambiguous matches) follow it.
  const match = ERROR.exec(`${(lines.at(-1) ?? '').split('\n')[0]}\n`);
  expect(match).not.toBeNull();
  return match?.[1] ?? '';
}

describe('fake op', () => {
  it('prints its version', () => {
    expect(op(['--version']).stdout).toBe('2.30.3\n');
    expect(op(['-v'], { env: { FAKE_OP_VERSION: '2.18.0-beta.01' } }).stdout).toBe('2.18.0-beta.01\n');
  });

  it('reads values with one newline, or none with -n, and accepts global flags anywhere', () => {
    expect(op(['read', 'op://Infra/Cloudflare/token'])).toMatchObject({ code: 0, stdout: 'CANARY-cf-token-3b9e1d\n', stderr: '' });
    expect(op(['--no-color', 'read', '-n', 'op://infra/edge cases/trailing newline', '--account', 'my']).stdout).toBe('CANARY-trailing-newline-6b0f4e\n');
    expect(op(['read', '--no-newline=true', 'op://Infra/Edge Cases/empty']).stdout).toBe('');
  });

  it('resolves by ID, section, attribute, file and ssh-format', () => {
    const read = (ref: string) => op(['read', '-n', ref]).stdout;
    expect(read('op://k7qmv3xnhb2wrt5yzlc4pd8fja/cf3tkn8w2qzmx7vhbr5ldy4pja/credential')).toBe('CANARY-cf-token-3b9e1d');
    expect(read('op://Infra/Deploy/Security/one-time password?attribute=otp')).toBe('482913');
    expect(read('op://Infra/Deploy/one-time password?attr=totp')).toBe('482913');
    expect(read('op://Infra/Deploy/username?attribute=type')).toBe('string');
    expect(read('op://Infra/Deploy/password?attribute=purpose')).toBe('password');
    expect(read('op://Infra/TLS/cert.pem?attribute=name')).toBe('cert.pem');
    expect(read('op://Infra/SSH Key/private key?ssh-format=openssh')).toContain('BEGIN OPENSSH PRIVATE KEY');
    expect(read('op://Infra/Legacy (v1)/Old/password'.replace('Legacy (v1)/Old', 'lgcyitm7kqz2mxv4wbn8hry5lda'))).toBe('CANARY-legacy-pass-7b1e09');
  });

  it('picks the account from --account, then OP_ACCOUNT, then the default', () => {
    const ref = 'op://Shared/Deploy Key/credential';
    expect(op(['read', '-n', ref]).stdout).toBe('CANARY-my-shared-deploy-key-1a2b3c');
    expect(op(['read', '-n', ref], { env: { OP_ACCOUNT: 'work.1password.com' } }).stdout).toBe('CANARY-work-shared-deploy-key-9f8e7d');
    expect(op(['read', '-n', ref, '--account=https://my.1password.com/'], { env: { OP_ACCOUNT: 'work' } }).stdout).toBe('CANARY-my-shared-deploy-key-1a2b3c');
    expect(opError(['read', ref, '--account', 'nope'])).toBe('no account found for filter nope');
  });

  it.each([
    ['unknown item', ['read', 'op://Infra/Nope/token'], `could not read secret 'op://Infra/Nope/token': could not get item Infra/Nope: "Nope" isn't an item in the "Infra" vault. Specify the item with its UUID, name, or domain.`],
    ['unknown vault', ['read', 'op://Nope/x/y'], `could not read secret 'op://Nope/x/y': could not get item Nope/x: "Nope" isn't a vault in this account. Specify the vault with its ID or name.`],
    ['unknown field', ['read', 'op://Infra/Cloudflare/nope'], `could not read secret 'op://Infra/Cloudflare/nope': item 'Infra/Cloudflare' does not have a field 'nope'`],
    ['too few', ['read', 'op://Infra/Cloudflare'], `could not read secret 'op://Infra/Cloudflare': invalid secret reference 'op://Infra/Cloudflare': too few '/': secret references should have at least vault, item and field specified`],
    ['too many', ['read', 'op://a/b/c/d/e'], `could not read secret 'op://a/b/c/d/e': invalid secret reference 'op://a/b/c/d/e': too many '/': secret references should match op://<vault>/<item>[/<section>]/<field>`],
    ['unknown flag', ['read', '--reveal', 'op://a/b/c'], 'unknown flag: --reveal'],
    ['unknown shorthand', ['whoami', '-n'], "unknown shorthand flag: 'n' in -n"],
    ['unknown command', ['frobnicate'], 'unknown command "frobnicate" for "op"'],
  ])('%s gives op\'s text', (_name, args, message) => {
    expect(opError(args)).toBe(message);
  });

  it('fails a configured reference with the "isn\'t an item" text', () => {
    expect(opError(['read', 'op://Infra/Shared/token'], { FAKE_OP_FAIL_REF: 'op://Infra/Shared/token' })).toContain(`"Shared" isn't an item in the "Infra" vault`);
  });

  it('prints the multi-line preamble before [ERROR] when no account is configured', () => {
    const result = op(['read', 'op://Infra/Shared/token'], { env: { FAKE_OP_STATE: 'no_accounts' } });
    expect(result.stderr.startsWith('No accounts configured for use with 1Password CLI.\n\n - Turn on')).toBe(true);
    expect(result.stderr).toMatch(/\[ERROR\] \S+ \S+ could not read secret 'op:\/\/Infra\/Shared\/token': error initializing client:\n$/);
    expect(op(['account', 'list', '--format', 'json'], { env: { FAKE_OP_STATE: 'no_accounts' } }).stdout).toBe('[]\n');
  });

  it.each([
    ['signed_out', 'account is not signed in'],
    ['no_accounts', 'no account found for filter '],
  ])('whoami in state %s', (state, message) => {
    expect(opError(['whoami'], { FAKE_OP_STATE: state })).toBe(message);
  });

  it('whoami and account list print op 2.30 JSON shapes', () => {
    expect(JSON.parse(op(['whoami', '--format', 'json']).stdout)).toEqual({
      url: 'https://my.1password.com/',
      email: 'agent.tester@example.com',
      user_uuid: 'AGTUSR7QK3VXN2MDLP4WZ5RB6E',
      account_uuid: 'AGTACC4HT7JWQ2NZ5XK3MVR8LD',
    });
    expect(op(['whoami'], { env: { OP_FORMAT: 'json' } }).stdout).toContain('"url": "https://my.1password.com/"');
    const accounts = JSON.parse(op(['account', 'list', '--format=json']).stdout) as Array<Record<string, string>>;
    expect(accounts.map((a) => [a.url, a.shorthand])).toEqual([
      ['my.1password.com', 'my'],
      ['work.1password.com', 'work'],
    ]);
  });

  it('item get prints the §4.4 shape with reference keys, IDs for unusable names and no empty values', () => {
    const item = JSON.parse(op(['item', 'get', 'Deploy', '--vault', 'infra', '--format', 'json']).stdout) as { vault: unknown; fields: Array<Record<string, unknown>> };
    expect(item.vault).toEqual({ id: 'k7qmv3xnhb2wrt5yzlc4pd8fja', name: 'Infra' });
    expect(item.fields.map((f) => f.reference)).toEqual([
      'op://Infra/Deploy/username',
      'op://Infra/Deploy/password',
      'op://Infra/Deploy/api token',
      'op://Infra/Deploy/Security/one-time password',
      'op://Infra/Deploy/notesPlain',
    ]);
    expect(item.fields[3]).toMatchObject({ type: 'OTP', totp: '482913', section: { id: 'Section_4ad1f0c39e2b', label: 'Security' } });
    expect(item.fields[4]).not.toHaveProperty('value');
    const legacy = JSON.parse(op(['item', 'get', 'Legacy (v1)/Old', '--format', 'json']).stdout) as { fields: Array<{ reference: string }> };
    expect(legacy.fields.map((f) => f.reference)).toEqual([
      'op://Infra/lgcyitm7kqz2mxv4wbn8hry5lda/password',
      'op://Infra/lgcyitm7kqz2mxv4wbn8hry5lda/add more/hu4vwo3bjkawq2uw2fkn5pkjzu',
    ]);
    expect(opError(['item', 'get', 'Invalid Item'])).toBe(`"Invalid Item" isn't an item. Specify the item with its UUID, name, or domain.`);
    expect(opError(['item', 'get', 'Dup', '--vault', 'Infra'])).toMatch(/^More than one item matches "Dup"\. Try again and specify the item by its ID:$/);
  });

  it('inject renders enclosed and unenclosed references once, escapes and all-or-nothing', () => {
    const template = 'a={{ op://Infra/Shared/token }} b=op://Infra/Cloudflare/token, c={{ "{{ lit }}" }} d=xop://no e={{op://Infra/Edge Cases/braces}}|';
    const result = op(['inject'], { input: template });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `a=CANARY-shared-token-2f6a9c b=CANARY-cf-token-3b9e1d, c={{ lit }} d=xop://no e=CANARY-braces-c4e902 {{ op://Infra/Shared/token }} }}{{ op://Infra/Cloudflare/token|`,
    );
    const failed = op(['inject'], { input: 'ok={{ op://Infra/Shared/token }} bad={{ op://Infra/Zzz/x }}' });
    expect(failed).toMatchObject({ code: 1, stdout: '' });
    expect(failed.stderr).toContain('could not resolve item UUID for item Zzz: could not find item Zzz in vault k7qmv3xnhb2wrt5yzlc4pd8fja');
    expect(op(['inject'], { input: '{{ nonsense }}' }).stderr).toContain('parsing error at 1:1: only secret references or quoted strings can be enclosed in unescaped {{ }}s');
  });

  it('inject reads -i and writes -o, and refuses stdin that is not a pipe, like op', () => {
    const input = join(world.dir, 'in.tpl');
    const output = join(world.dir, 'out.env');
    writeFileSync(input, 'T={{ op://Infra/Shared/token }}\n');
    expect(op(['inject', '-i', input, '-o', output])).toMatchObject({ code: 0, stdout: `${output}\n` });
    expect(readFileSync(output, 'utf8')).toBe('T=CANARY-shared-token-2f6a9c\n');
    expect(opError(['inject', '-i', input, '-o', output])).toContain('already exists');
    // A Node-spawned child gets a socket, not a FIFO: real op says this, and so must the fake.
    const socket = op(['inject'], { stdin: 'pipe' });
    expect(socket.stderr).toMatch(/expected data on stdin but none found\n$/);
    expect(op(['inject', '-i', '/dev/stdin'], { stdin: 'pipe' }).stderr).toMatch(/open \/dev\/stdin: no such device or address\n$/);
  });

  it('logs argv, OP_* names and references, never values', () => {
    op(['read', 'op://Infra/Shared/token'], { env: { OP_SESSION: 'secret-session' } });
    const [call] = world.calls();
    expect(call).toMatchObject({ argv: ['read', 'op://Infra/Shared/token'], exit_code: 0, refs: ['op://Infra/Shared/token'] });
    expect(call?.env_names).toContain('OP_SESSION');
    const log = readFileSync(join(world.dir, 'op.log'), 'utf8');
    expect(log).not.toContain('secret-session');
    expect(findCanary(log)).toBeNull();
  });
});

describe('canary list', () => {
  it('has a distinctive token for every secret value in the vault', () => {
    expect(CANARIES.length).toBeGreaterThan(30);
    for (const canary of CANARIES) expect(canary.length).toBeGreaterThanOrEqual(14);
    for (const value of CANARY_VALUES) expect(findCanary(value), JSON.stringify(value.slice(0, 20))).not.toBeNull();
    expect(CANARIES).toContain('CANARY-cf-token-3b9e1d');
    expect(CANARIES).toContain('CANARY-pem-line2-AQEFAASCBKcwggSjAgEAAoIB');
  });
});
