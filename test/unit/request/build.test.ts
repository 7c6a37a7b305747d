import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { buildRequest, type BuildInput, type HostFacts } from '../../../src/request/build.js';
import { toWireRequest } from '../../../src/request/codec.js';

const facts: HostFacts = {
  executable: '/usr/bin/terraform',
  executableIdentity: { dev: 1, ino: 2, size: 3, mtimeMs: 4, ctimeMs: 5, mode: 0o100755, uid: 0 },
  cwd: '/work/project',
  requester: { pid: 100, chain: [{ pid: 90, name: 'bash' }, { pid: 80, name: 'claude' }] },
  mutability: [],
};

const profile = {
  name: 'terraform-cloudflare',
  reason: 'Plan the Cloudflare DNS change',
  ttlSeconds: 300,
  account: 'my.1password.com',
  secrets: [
    { alias: 'CLOUDFLARE_API_TOKEN', ref: 'op://Infra/Cloudflare/token', account: null },
    { alias: 'AWS_ACCESS_KEY_ID', ref: 'op://Infra/AWS/key_id', account: 'work.1password.com' },
  ],
};

function input(overrides: Partial<BuildInput> = {}): BuildInput {
  return {
    command: ['terraform', 'plan'],
    reason: undefined,
    ttl: undefined,
    account: undefined,
    overrideEnv: false,
    allowMutableExecutable: false,
    pristine: false,
    mask: true,
    secretFlags: [],
    only: undefined,
    profile,
    configPath: '/work/project/agent-secret.yml',
    configAccount: undefined,
    envFile: null,
    env: {},
    ...overrides,
  };
}

function failure(build: () => unknown): AgentSecretError {
  try {
    build();
  } catch (error) {
    if (error instanceof AgentSecretError) return error;
    throw error;
  }
  throw new Error('expected an AgentSecretError');
}

describe('buildRequest', () => {
  it('produces the exact wire request for a profile', () => {
    expect(toWireRequest(buildRequest(input(), facts))).toMatchInlineSnapshot(`
      {
        "allow_mutable_executable": false,
        "command": [
          "terraform",
          "plan",
        ],
        "config_path": "/work/project/agent-secret.yml",
        "cwd": "/work/project",
        "executable": "/usr/bin/terraform",
        "mask": true,
        "overridden_aliases": [],
        "override_env": false,
        "plain_env": [],
        "pristine": false,
        "profile": "terraform-cloudflare",
        "reason": "Plan the Cloudflare DNS change",
        "requester": {
          "chain": [
            {
              "name": "bash",
              "pid": 90,
            },
            {
              "name": "claude",
              "pid": 80,
            },
          ],
          "pid": 100,
        },
        "scripts": [],
        "secrets": [
          {
            "account": "work.1password.com",
            "alias": "AWS_ACCESS_KEY_ID",
            "delivery": "env",
            "file": null,
            "provider": "op",
            "ref": "op://Infra/AWS/key_id",
          },
          {
            "account": null,
            "alias": "CLOUDFLARE_API_TOKEN",
            "delivery": "env",
            "file": null,
            "provider": "op",
            "ref": "op://Infra/Cloudflare/token",
          },
        ],
        "templates": [],
        "ttl_seconds": 300,
        "warnings": [],
      }
    `);
  });

  it('is frozen all the way down', () => {
    const request = buildRequest(input(), facts);
    expect(Object.isFrozen(request)).toBe(true);
    expect(Object.isFrozen(request.secrets[0])).toBe(true);
    expect(Object.isFrozen(request.command)).toBe(true);
  });

  it('flag reason and ttl override the profile', () => {
    const request = buildRequest(input({ reason: '  Apply it  ', ttl: '90s' }), facts);
    expect([request.reason, request.ttlSeconds]).toEqual(['Apply it', 90]);
  });

  it('defaults the ttl to 2m', () => {
    expect(buildRequest(input({ profile: { ...profile, ttlSeconds: undefined } }), facts).ttlSeconds).toBe(120);
  });

  describe('account precedence', () => {
    const accountOf = (overrides: Partial<BuildInput>, alias = 'CLOUDFLARE_API_TOKEN') =>
      buildRequest(input(overrides), facts).secrets.find((s) => s.alias === alias)?.account;
    it('secret/profile account from config wins over everything', () =>
      expect(accountOf({ account: 'flag', env: { OP_ACCOUNT: 'op' } }, 'AWS_ACCESS_KEY_ID')).toBe('work.1password.com'));
    it('--account fills secrets with no config account', () => expect(accountOf({ account: 'flag' })).toBe('flag'));
    it('AGENT_SECRET_1PASSWORD_ACCOUNT before OP_ACCOUNT', () =>
      expect(accountOf({ env: { AGENT_SECRET_1PASSWORD_ACCOUNT: 'as', OP_ACCOUNT: 'op' } })).toBe('as'));
    it('OP_ACCOUNT last', () => expect(accountOf({ env: { OP_ACCOUNT: 'op' } })).toBe('op'));
    it('null means the op default', () => expect(accountOf({})).toBeNull());
    it('one-offs take the profile account', () =>
      expect(accountOf({ secretFlags: ['EXTRA=op://a/b/c'], account: 'flag' }, 'EXTRA')).toBe('my.1password.com'));
    it('one-offs without a profile take the config account, then the flag', () => {
      expect(accountOf({ profile: null, configAccount: 'top', secretFlags: ['EXTRA=op://a/b/c'], reason: 'r' }, 'EXTRA')).toBe('top');
      expect(accountOf({ profile: null, account: 'flag', secretFlags: ['EXTRA=op://a/b/c'], reason: 'r' }, 'EXTRA')).toBe('flag');
    });
  });

  it('orders profile secrets by alias, then --secret as given, then env-file secrets by alias', () => {
    const request = buildRequest(
      input({
        secretFlags: ['ZED=op://a/b/z', 'ALPHA=op://a/b/a'],
        envFile: { secrets: [{ alias: 'Y_ENV', ref: 'op://e/f/y' }, { alias: 'B_ENV', ref: 'op://e/f/b' }], plain: [{ key: 'LOG_LEVEL' }] },
      }),
      facts,
    );
    expect(request.secrets.map((s) => `${s.source}:${s.alias}`)).toEqual([
      'profile:AWS_ACCESS_KEY_ID',
      'profile:CLOUDFLARE_API_TOKEN',
      'flag:ZED',
      'flag:ALPHA',
      'env_file:B_ENV',
      'env_file:Y_ENV',
    ]);
    expect(request.plainEnvNames).toEqual(['LOG_LEVEL']);
  });

  it('--only filters profile and env-file secrets but never --secret', () => {
    const request = buildRequest(input({ only: ['AWS_ACCESS_KEY_ID'], secretFlags: ['ONE=op://a/b/c'] }), facts);
    expect(request.secrets.map((s) => s.alias)).toEqual(['AWS_ACCESS_KEY_ID', 'ONE']);
  });

  const errors: Array<[string, Partial<BuildInput>, string, string]> = [
    ['missing command', { command: [] }, 'usage.missing_separator', 'missing'],
    ['too many arguments', { command: ['tool', ...Array.from({ length: 4096 }, () => 'a')] }, 'usage.invalid', '4097 arguments'],
    ['an argument too long', { command: ['tool', 'x'.repeat(64 * 1024 + 1)] }, 'usage.invalid', `the longest ${64 * 1024 + 1} characters`],
    ['too much argv in all', { command: ['tool', ...Array.from({ length: 20 }, () => 'x'.repeat(30_000))] }, 'usage.invalid', 'too large for an approval request'],
    ['control characters that JSON spells out six times longer', { command: ['tool', '\u0001'.repeat(90_000)] }, 'usage.invalid', 'too large'],
    ['missing reason', { profile: { ...profile, reason: undefined } }, 'reason.invalid', 'reason is required'],
    ['long reason', { reason: 'x'.repeat(241) }, 'reason.invalid', 'longer than 240'],
    ['bad ttl', { ttl: '11m' }, 'ttl.invalid', 'between 10s and 10m'],
    ['no secrets', { profile: null, reason: 'r' }, 'usage.invalid', 'no secrets'],
    ['malformed --secret', { secretFlags: ['NOEQUALS'] }, 'usage.invalid', 'ALIAS=REF'],
    ['bad --secret alias', { secretFlags: ['path=op://a/b/c'] }, 'alias.invalid', 'must match'],
    ['denied --secret alias', { secretFlags: ['LD_PRELOAD=op://a/b/c'] }, 'alias.invalid', 'LD_'],
    ['bad --secret ref', { secretFlags: ['TOKEN=op://a/b'] }, 'ref.invalid', "too few '/'"],
    ['duplicate alias', { secretFlags: ['AWS_ACCESS_KEY_ID=op://a/b/c'] }, 'alias.invalid', 'duplicate alias AWS_ACCESS_KEY_ID'],
    ['--only unknown', { only: ['NOPE'] }, 'usage.invalid', 'NOPE'],
    ['--only without profile', { profile: null, reason: 'r', secretFlags: ['A=op://a/b/c'], only: ['A'] }, 'usage.invalid', '--only needs'],
    ['env collision', { env: { CLOUDFLARE_API_TOKEN: 'already' } }, 'exec.env_conflict', 'CLOUDFLARE_API_TOKEN is already set'],
  ];
  it('accepts argv right at its bounds', () => {
    const request = buildRequest(input({ command: ['tool', ...Array.from({ length: 4095 }, () => 'a')] }), facts);
    expect(request.command).toHaveLength(4096);
    expect(buildRequest(input({ command: ['tool', 'x'.repeat(64 * 1024)] }), facts).command[1]).toHaveLength(64 * 1024);
  });

  for (const [name, overrides, code, fragment] of errors) {
    it(`refuses: ${name}`, () => {
      const error = failure(() => buildRequest(input(overrides), facts));
      expect(error.code).toBe(code);
      expect(error.message).toContain(fragment);
    });
  }

  it('a bare word in --secret is pointed at the profile, where logical names work', () => {
    const error = failure(() => buildRequest(input({ secretFlags: ['KEY=cf_key'] }), facts));
    expect(error.code).toBe('ref.invalid');
    expect(error.hint).toBe("a logical name works only in a profile's secrets: (KEY: { name: NAME }); here write the reference itself");
    expect(failure(() => buildRequest(input({ secretFlags: ['TOKEN=op://a/b'] }), facts)).hint).toBeUndefined();
  });

  it('refuses a mutable executable unless --allow-mutable-executable', () => {
    const mutable = { ...facts, mutability: [{ path: '/home/me/bin/tool', problem: 'owned_by_user' }] };
    const error = failure(() => buildRequest(input(), mutable));
    expect(error.code).toBe('exec.mutable_executable');
    expect(error.message).toContain('/home/me/bin/tool is owned by user');
    expect(error.hint).toContain('--allow-mutable-executable');
    expect(buildRequest(input({ allowMutableExecutable: true }), mutable).allowMutableExecutable).toBe(true);
  });

  it('--pristine: only the minimal environment counts for collisions', () => {
    const env = { CLOUDFLARE_API_TOKEN: 'set by the caller', PATH: '/usr/bin' };
    expect(failure(() => buildRequest(input({ env }), facts)).code).toBe('exec.env_conflict');
    expect(buildRequest(input({ env, pristine: true }), facts).pristine).toBe(true);
  });

  it('--override-env allows a collision and lists it', () => {
    const request = buildRequest(input({ env: { CLOUDFLARE_API_TOKEN: 'already' }, overrideEnv: true }), facts);
    expect(request.overriddenAliases).toEqual(['CLOUDFLARE_API_TOKEN']);
    expect(request.warnings.join('\n')).toContain('replaces variables already set');
  });

  it('env-file secrets replace their own variable without --override-env', () => {
    const request = buildRequest(
      input({ profile: null, reason: 'r', env: { DB_URL: 'old' }, envFile: { secrets: [{ alias: 'DB_URL', ref: 'op://a/b/c' }], plain: [] } }),
      facts,
    );
    expect(request.overriddenAliases).toEqual([]);
  });

  it('a plain env-file entry with the same name as a profile alias is a collision', () => {
    const error = failure(() => buildRequest(input({ envFile: { secrets: [], plain: [{ key: 'CLOUDFLARE_API_TOKEN' }] } }), facts));
    expect(error.code).toBe('exec.env_conflict');
  });

  describe('warnings', () => {
    const warningsFor = (overrides: Partial<BuildInput>, factOverrides: Partial<HostFacts> = {}) =>
      buildRequest(input(overrides), { ...facts, ...factOverrides }).warnings.join('\n');
    it('env printers', () => expect(warningsFor({ command: ['printenv'] }, { executable: '/usr/bin/printenv' })).toContain('print environment'));
    it('shells', () => expect(warningsFor({ command: ['sh', '-c', 'make'] }, { executable: '/bin/dash' })).toContain('shell'));
    it('inline code', () => expect(warningsFor({ command: ['node', '-e', 'x'] }, { executable: '/usr/bin/node' })).toContain('inline code'));
    it('many secrets', () => {
      const many = Array.from({ length: 6 }, (_, i) => `S${i}=op://v/i/f${i}`);
      expect(warningsFor({ profile: null, reason: 'r', secretFlags: many })).toContain('6 secrets');
    });
    it('mutable executable, when allowed', () =>
      expect(warningsFor({ allowMutableExecutable: true }, { mutability: [{ path: '/home/me/bin', problem: 'owned_by_user' }] })).toContain('/home/me/bin is owned by user'));
    it('env-file entries that change what runs', () =>
      expect(warningsFor({ envFile: { secrets: [], plain: [{ key: 'NODE_OPTIONS' }, { key: 'LOG_LEVEL' }] } })).toContain('sets NODE_OPTIONS'));
    it('nested request', () => expect(warningsFor({ env: { AGENT_SECRET_REQUEST_ID: 'req_1' } })).toContain('nested'));
    it('none for a plain command', () => expect(warningsFor({})).toBe(''));
  });

  it('never throws anything but AgentSecretError, whatever the flags', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 4 }), fc.option(fc.string()), fc.option(fc.string()), (secretFlags, reason, ttl) => {
        try {
          buildRequest(input({ secretFlags, reason: reason ?? undefined, ttl: ttl ?? undefined }), facts);
        } catch (error) {
          expect(error).toBeInstanceOf(AgentSecretError);
        }
      }),
    );
  });
});
