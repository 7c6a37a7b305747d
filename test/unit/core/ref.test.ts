import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRef } from '../../../src/core/ref.js';

const ok = (raw: string, parts: Partial<ReturnType<typeof expectOk>>) => () => expect(expectOk(raw)).toMatchObject(parts);
const bad = (raw: string, fragment: string) => () => {
  const result = parseRef(raw);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.message).toContain(fragment);
};
function expectOk(raw: string) {
  const result = parseRef(raw);
  if (!result.ok) throw new Error(`expected ${raw} to parse: ${result.message}`);
  return result.ref;
}

describe('parseRef', () => {
  it('vault/item/field', ok('op://Prod/Cloudflare/token', { vault: 'Prod', item: 'Cloudflare', section: undefined, field: 'token' }));
  it('vault/item/section/field', ok('op://Prod/AWS/Access Keys/key_id', { section: 'Access Keys', field: 'key_id' }));
  it('file attachment names', ok('op://app-infra/ssh/key.pem', { field: 'key.pem' }));
  it('otp attribute', ok('op://dev/GitHub/Security/one-time password?attribute=otp', { attribute: 'otp' }));
  it('short attr form, case-insensitive', ok('op://dev/GitHub/one-time password?attr=TOTP', { attribute: 'totp' }));
  it('ssh-format', ok('op://dev/ssh/private key?ssh-format=OpenSSH', { sshFormat: 'openssh' }));
  it('26-char IDs', ok('op://nnotgv5xwrhjbdj6bt3rugrijy/wsvxtz2kulgqfberotkjdkpaby/password', { field: 'password' }));
  it('refuses other schemes', bad('vault://a/b/c', 'must start with op://'));
  it('refuses empty', bad('', 'must not be empty'));
  it('refuses surrounding whitespace', bad(' op://a/b/c', 'whitespace'));
  it('too few segments', bad('op://Employee/Notion', "too few '/'"));
  it('too many segments', bad('op://v/pool/a/b/c', "too many '/'"));
  it('empty segment', bad('op://v//c', 'must not be empty'));
  it('unsupported characters need an ID', bad('op://v/Item (New)/password', 'by its ID'));
  it('unknown attribute', bad('op://v/i/f?attribute=secret', 'unknown attribute'));
  it('unknown query key', bad('op://v/i/f?foo=bar', 'unknown query parameter'));
  it('fragment', bad('op://v/i/f#x', 'fragments'));
  it('segment edge spaces', bad('op://v/ i/f', 'space'));

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseRef(s)));
    fc.assert(fc.property(fc.string(), (s) => void parseRef(`op://${s}`)));
  });

  it('accepts every well-formed 3- or 4-segment reference', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._-][A-Za-z0-9._ -]{0,10}[A-Za-z0-9._-]$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 3, maxLength: 4 }), (segments) => {
        const result = parseRef(`op://${segments.join('/')}`);
        expect(result.ok).toBe(true);
      }),
    );
  });
});
