import { describe, expect, it } from 'vitest';
import { classifyBwsFailure, parseBwsVersion, parseSecretJson } from '../../../src/provider/bws/errors.js';
import { bwsArgs, bwsEnv } from '../../../src/provider/bws/provider.js';
import { SecretValue } from '../../../src/core/secret-value.js';

const ID = '0b6c2c4e-5f1a-4f8e-9d3b-2a7c1e9f4b10';
const eyre = (cause: string) => `Error: \n   0: ${cause}\n\nLocation:\n   crates/bws/src/main.rs:126\n`;

describe('classifyBwsFailure', () => {
  it.each([
    [eyre('Missing access token'), 1, 'token'],
    [eyre("Access token is not in a valid format: Doesn't contain a decryption key"), 1, 'token'],
    [eyre('Received error message from server: [400 Bad Request] {"error":"invalid_client"}'), 1, 'token'],
    [eyre('Received error message from server: [404 Not Found] {"message":"Resource not found."}'), 1, 'not_found'],
    [eyre('Received error message from server: [429 Too Many Requests] {}'), 1, 'rate_limited'],
    [eyre('Received error message from server: [403 Forbidden] {}'), 1, 'permission'],
    [eyre('error sending request for url (https://identity.bitwarden.com/connect/token)'), 1, 'unreachable'],
    ["error: unexpected argument '--bogus' found\n\nUsage: bws [OPTIONS] [COMMAND]\n", 2, 'usage'],
    ['something else entirely', 1, 'unknown'],
  ])('%#: %s → %s', (stderr, code, kind) => expect(classifyBwsFailure(stderr, code)).toBe(kind));
});

describe('parseSecretJson', () => {
  const body = (extra: Record<string, unknown>) => JSON.stringify({ object: 'secret', id: ID, key: 'K', value: 'v', note: 'n', ...extra });
  it('takes value for the requested id only (case-insensitive id)', () => {
    expect(parseSecretJson(body({}), ID)).toBe('v');
    expect(parseSecretJson(body({}), ID.toUpperCase())).toBe('v');
    expect(parseSecretJson(body({ id: '7d1e3a5c-2b4f-4e6a-8c0d-1f3a5b7c9e2d' }), ID)).toBeNull();
    expect(parseSecretJson(body({ value: 7 }), ID)).toBeNull();
    expect(parseSecretJson(body({ value: 'a\u0000b' }), ID)).toBeNull();
    expect(parseSecretJson('not json', ID)).toBeNull();
    expect(parseSecretJson('[]', ID)).toBeNull();
  });
});

describe('bws command line and environment', () => {
  it('asks for JSON without color, and the server of the source', () => {
    expect(bwsArgs(ID, undefined)).toEqual(['secret', 'get', ID, '--output', 'json', '--color', 'no']);
    expect(bwsArgs(ID, 'https://vault.bitwarden.eu')).toEqual(['secret', 'get', ID, '--output', 'json', '--color', 'no', '--server-url', 'https://vault.bitwarden.eu']);
  });
  it("bws gets the source's token and none of the broker's BWS_* or managed tokens", () => {
    const env = bwsEnv({ PATH: '/bin', BWS_ACCESS_TOKEN: 'agent-set', BWS_SERVER_URL: 'https://evil', OP_SERVICE_ACCOUNT_TOKEN: 'x', NODE_OPTIONS: '--require x' }, new SecretValue('source-token'));
    expect(env).toEqual({ PATH: '/bin', BWS_ACCESS_TOKEN: 'source-token', NO_COLOR: '1' });
  });
  it('reads the version bws prints', () => {
    expect(parseBwsVersion('bws 1.0.0\n')).toBe('1.0.0');
    expect(parseBwsVersion('something')).toBeNull();
  });
});
