// Include resolution (order, overrides, inherited reason/ttl), per-secret account precedence,
// profile selection errors, and the shipped profiles.example.yaml.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { parseConfigText, resolveProfile, type ProjectConfig } from '../../../src/config/index.js';

const y = (...lines: string[]): string => `${lines.join('\n')}\n`;

function config(...lines: string[]): ProjectConfig {
  const result = parseConfigText(y(...lines), '/project/agent-secret.yml');
  if (!result.ok) throw new Error(result.issues.map((i) => i.message).join('\n'));
  return result.config;
}

const secretsOf = (c: ProjectConfig, name?: string) => resolveProfile(c, name).secrets.map((s) => `${s.alias}=${s.ref}@${s.account ?? '-'}`);

describe('resolveProfile: includes', () => {
  const c = config(
    'version: 1',
    'profiles:',
    '  one: {reason: from one, ttl: 30s, secrets: {A: op://v/one/a, B: op://v/one/b}}',
    '  two: {reason: from two, secrets: {B: op://v/two/b, C: op://v/two/c}}',
    '  both: {include: [one, two], secrets: {C: op://v/own/c}}',
    '  reversed: {include: [two, one]}',
    '  own: {include: [one, two], reason: mine, ttl: 2m}',
    '  nested: {include: [both], secrets: {Z: op://v/n/z}}',
  );

  it.each([
    ['later include overrides earlier, own secrets win last', 'both', ['A=op://v/one/a@-', 'B=op://v/two/b@-', 'C=op://v/own/c@-']],
    ['include order decides', 'reversed', ['A=op://v/one/a@-', 'B=op://v/one/b@-', 'C=op://v/two/c@-']],
    ['recursive includes, sorted by alias', 'nested', ['A=op://v/one/a@-', 'B=op://v/two/b@-', 'C=op://v/own/c@-', 'Z=op://v/n/z@-']],
  ])('%s', (_name, profile, expected) => {
    expect(secretsOf(c, profile)).toEqual(expected);
  });

  it.each([
    ['reason and ttl: the last include that sets each', 'both', 'from two', 30],
    ['reason and ttl: the last include that sets each (reversed)', 'reversed', 'from one', 30],
    ['reason and ttl: own values win', 'own', 'mine', 120],
    ['reason and ttl: inherited through two levels', 'nested', 'from two', 30],
  ])('%s', (_name, profile, reason, ttl) => {
    expect(resolveProfile(c, profile)).toMatchObject({ reason, ttlSeconds: ttl });
  });

  it('keeps include as written and reports no reason or ttl when nothing sets them', () => {
    const plain = config('version: 1', 'profiles:', '  p: {secrets: {A: op://v/i/f}}', '  q: {include: [p]}');
    expect(resolveProfile(plain, 'q')).toEqual({
      name: 'q',
      isDefault: false,
      reason: undefined,
      ttlSeconds: undefined,
      account: undefined,
      include: ['p'],
      secrets: [{ alias: 'A', ref: 'op://v/i/f', account: null }],
      templates: [],
    });
  });

  it('sorts by code unit, not locale', () => {
    const c2 = config('version: 1', 'profiles:', '  p: {secrets: {_A: op://v/i/f, B: op://v/i/f, A_: op://v/i/f, AB: op://v/i/f, A: op://v/i/f}}');
    expect(resolveProfile(c2, 'p').secrets.map((s) => s.alias)).toEqual(['A', 'AB', 'A_', 'B', '_A']);
  });
});

describe('resolveProfile: account of each secret', () => {
  const c = config(
    'version: 1',
    'account: top',
    'profiles:',
    '  base:',
    '    account: base-acct',
    '    secrets:',
    '      FROM_BASE: op://v/i/base',
    '      OWN_ACCT: {ref: op://v/i/own, account: secret-acct}',
    '  plain: {secrets: {FROM_PLAIN: op://v/i/plain}}',
    '  child:',
    '    include: [base, plain]',
    '    account: child-acct',
    '    secrets: {FROM_CHILD: op://v/i/child}',
    '  redeclare:',
    '    include: [base]',
    '    secrets: {FROM_BASE: op://v/i/base}',
  );
  const accounts = (name: string) => Object.fromEntries(resolveProfile(c, name).secrets.map((s) => [s.alias, s.account]));

  it.each([
    ['secret account > everything', 'child', 'OWN_ACCT', 'secret-acct'],
    ['defining profile account is kept when inherited', 'child', 'FROM_BASE', 'base-acct'],
    ['top-level account when the defining profile has none', 'child', 'FROM_PLAIN', 'top'],
    ['own profile account for own secrets', 'child', 'FROM_CHILD', 'child-acct'],
    ['redeclaring an alias takes the redeclaring profile account', 'redeclare', 'FROM_BASE', 'top'],
  ])('%s', (_name, profile, alias, account) => {
    expect(accounts(profile)[alias]).toBe(account);
  });

  it('profile account is its own, else the top-level one', () => {
    expect(resolveProfile(c, 'child').account).toBe('child-acct');
    expect(resolveProfile(c, 'plain').account).toBe('top');
  });

  it('null when no account is set anywhere', () => {
    const bare = config('version: 1', 'profiles:', '  p: {secrets: {A: op://v/i/f}}');
    expect(resolveProfile(bare, 'p').secrets[0]?.account).toBeNull();
  });
});

describe('resolveProfile: selection', () => {
  const withDefault = config('version: 1', 'default_profile: b', 'profiles:', '  a: {secrets: {A: op://v/i/f}}', '  b: {secrets: {B: op://v/i/f}}');
  const noDefault = config('version: 1', 'profiles:', '  a: {secrets: {A: op://v/i/f}}', '  b: {secrets: {B: op://v/i/f}}');

  it('undefined selects default_profile and marks it', () => {
    expect(resolveProfile(withDefault, undefined)).toMatchObject({ name: 'b', isDefault: true });
    expect(resolveProfile(withDefault, 'a').isDefault).toBe(false);
  });

  it('no name and no default_profile is profile.not_found with the profile list', () => {
    const error = catchError(() => resolveProfile(noDefault, undefined));
    expect(error).toMatchObject({
      code: 'profile.not_found',
      message: 'no profile given and /project/agent-secret.yml sets no default_profile',
      hint: 'pass --profile NAME; profiles: a, b',
    });
  });

  it('an unknown name is profile.not_found naming it and the profiles', () => {
    expect(catchError(() => resolveProfile(noDefault, 'zzz'))).toMatchObject({ code: 'profile.not_found', message: 'profile not found: "zzz"; profiles: a, b' });
  });
});

describe('profiles.example.yaml', () => {
  const path = fileURLToPath(new URL('../../../profiles.example.yaml', import.meta.url));
  const text = readFileSync(path, 'utf8');
  const result = parseConfigText(text, path);

  it('points editors at the JSON Schema on its first line', () => {
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./schema/agent-secret.schema.json');
  });

  it('loads, and every profile resolves', () => {
    if (!result.ok) throw new Error(result.issues.map((i) => i.message).join('\n'));
    expect(result.config.profileNames).toEqual(['cloudflare-base', 'terraform-cloudflare', 'deploy-fly', 'migrations', 'release', 'evals', 'cluster', 'demo']);
    for (const name of result.config.profileNames) expect(resolveProfile(result.config, name).secrets.length).toBeGreaterThan(0);
  });

  it('shows includes, per-secret accounts, a TOTP ref and the demo vault', () => {
    if (!result.ok) throw new Error('invalid example');
    const terraform = resolveProfile(result.config, undefined);
    expect(terraform.name).toBe('terraform-cloudflare');
    expect(terraform.secrets.find((s) => s.alias === 'AWS_ACCESS_KEY_ID')?.account).toBe('ops-team.1password.com');
    expect(terraform.secrets.find((s) => s.alias === 'CLOUDFLARE_API_TOKEN')?.account).toBe('my-team.1password.com');
    const fly = resolveProfile(result.config, 'deploy-fly');
    expect(fly).toMatchObject({ reason: 'Manage Cloudflare DNS and Workers for this project', ttlSeconds: 120 });
    expect(fly.secrets.find((s) => s.alias === 'FLY_OTP')?.ref).toMatch(/\?attribute=otp$/);
    expect(resolveProfile(result.config, 'demo').secrets.every((s) => s.ref.startsWith('op://Demo Vault/Demo Service/'))).toBe(true);
  });

  it('mixes providers in one profile; the file\'s account applies to its op:// references only', () => {
    if (!result.ok) throw new Error('invalid example');
    const release = resolveProfile(result.config, 'release');
    const accountOf = (alias: string) => release.secrets.find((s) => s.alias === alias)?.account;
    expect(accountOf('NPM_TOKEN')).toBe('my-team.1password.com');
    expect(accountOf('STRIPE_KEY')).toBeNull();
    expect(accountOf('SENTRY_AUTH_TOKEN')).toBeNull();
    expect(accountOf('SMTP_PASSWORD')).toBeNull();
  });
});

function catchError(fn: () => unknown): AgentSecretError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AgentSecretError) return error;
    throw error;
  }
  throw new Error('expected an AgentSecretError');
}
