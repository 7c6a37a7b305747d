import { describe, expect, it } from 'vitest';
import { parseProviders, parseProgramTimeout } from '../../../src/config/user-providers.js';
import { parseUserConfig } from '../../../src/config/user-config.js';
import { AgentSecretError } from '../../../src/core/errors.js';

const CONFIG = '/home/me/.config/agent-secret/config.yml';

describe('parseProviders', () => {
  it('without a section: op through the desktop app, one bws source with its default token file', () => {
    const { value, issues } = parseProviders(undefined, CONFIG);
    expect(issues).toEqual([]);
    expect(value.op.serviceAccounts).toEqual({});
    expect(value.bws).toMatchObject({ declared: false, defaultSource: 'default', sources: { default: { token: { kind: 'file', path: '/home/me/.config/agent-secret/tokens/bws.default' } } } });
    expect(value.programs).toEqual({});
  });

  it('reads programs, bws sources and service accounts', () => {
    const { value, issues } = parseProviders(
      {
        vault: { command: ['/usr/local/bin/vault-provider', '--addr', 'https://vault'], timeout: '2m' },
        bws: { default_source: 'main', sources: { main: {}, team: { token: { secret_service: 'bws-team' }, server_url: 'https://vault.bitwarden.eu' } } },
        op: { service_accounts: { 'ci.1password.com': { token: { keychain: 'op-ci' } } } },
      },
      CONFIG,
    );
    expect(issues).toEqual([]);
    expect(value.programs.vault).toEqual({ command: ['/usr/local/bin/vault-provider', '--addr', 'https://vault'], timeoutMs: 120_000 });
    expect(value.bws.defaultSource).toBe('main');
    expect(value.bws.sources.team).toEqual({ token: { kind: 'secret_service', name: 'bws-team' }, serverUrl: 'https://vault.bitwarden.eu' });
    expect(value.op.serviceAccounts['ci.1password.com']).toEqual({ token: { kind: 'keychain', name: 'op-ci' } });
  });

  it('one declared source is the default', () => {
    expect(parseProviders({ bws: { sources: { only: {} } } }, CONFIG).value.bws.defaultSource).toBe('only');
  });

  it.each([
    [{ vault: { command: ['relative/prog'] } }, ['vault', 'command', 0], 'absolute path'],
    [{ vault: { command: [] } }, ['vault', 'command'], 'must name a program'],
    [{ vault: { command: ['/p'], timeout: '1h' } }, ['vault', 'timeout'], 'between 1s and 10m'],
    [{ vault: { command: ['/p'], shell: true } }, ['vault', 'shell'], 'unknown key'],
    [{ https: { command: ['/p'] } }, ['https'], 'cannot be a provider program'],
    [{ Vault: { command: ['/p'] } }, ['Vault'], 'lower-case'],
    [{ bws: { sources: { a: {}, b: {} } } }, ['bws', 'sources'], 'set bws.default_source'],
    [{ bws: { default_source: 'c', sources: { a: {}, b: {} } } }, ['bws', 'default_source'], 'names no source'],
    [{ bws: { sources: { a: { token: { file: '/t', keychain: 'k' } } } } }, ['bws', 'sources', 'a', 'token'], 'exactly one'],
    [{ bws: { sources: { a: { server_url: 'http://plain' } } } }, ['bws', 'sources', 'a', 'server_url'], 'https://'],
    [{ op: { service_accounts: { 'bad account!': {} } } }, ['op', 'service_accounts', 'bad account!'], 'account name'],
  ])('%#: refuses %j at %j', (raw, path, problem) => {
    const { issues } = parseProviders(raw, CONFIG);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]?.path).toEqual(path);
    expect(issues[0]?.problem).toContain(problem);
  });

  it('parses program timeouts within 1s..10m', () => {
    expect(parseProgramTimeout('30s')).toBe(30_000);
    expect(parseProgramTimeout('10m')).toBe(600_000);
    expect(parseProgramTimeout('11m')).toBeNull();
    expect(parseProgramTimeout('0s')).toBeNull();
  });
});

describe('the providers section in the user config file', () => {
  it('a problem is positioned at its key and never echoes a value', () => {
    const text = 'version: 1\nproviders:\n  vault:\n    command: ["relative-sk_live_SECRET"]\n';
    let error: unknown;
    try {
      parseUserConfig(text, CONFIG);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AgentSecretError);
    const message = (error as AgentSecretError).message;
    expect(message).toContain('providers.vault.command');
    expect(message).toContain(':4:');
    expect(message).not.toContain('sk_live_SECRET');
  });
});
