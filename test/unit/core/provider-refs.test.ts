import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityOf, looksLikeRef, parseBwsRef, parseProgramRef, parseSecretRef, schemeOf } from '../../../src/core/ref.js';

const ID = '0b6c2c4e-5f1a-4f8e-9d3b-2a7c1e9f4b10';

describe('schemeOf', () => {
  it.each([
    ['op://a/b/c', 'op'],
    [`bws://${ID}`, 'bws'],
    ['vault://kv/app#token', 'vault'],
    ['aws-sm://prod/db', 'aws-sm'],
    ['Vault://x', null],
    ['://x', null],
    ['no scheme', null],
    ['1pass://x', null],
  ])('%s → %s', (raw, scheme) => expect(schemeOf(raw)).toBe(scheme));
});

describe('parseBwsRef', () => {
  it.each([
    [`bws://${ID}`, null],
    [`bws://team/${ID}`, 'team'],
    [`bws://eu.prod_1/${ID.toUpperCase()}`, 'eu.prod_1'],
  ])('accepts %s (source %s)', (raw, source) => {
    const parsed = parseBwsRef(raw);
    expect(parsed.ok && parsed.ref.source).toBe(source);
  });
  it.each([
    [`bws://`, 'must not be empty'],
    [`bws://not-a-uuid`, 'UUID'],
    [`bws://a/b/${ID}`, "too many '/'"],
    [`bws:///${ID}`, 'must not be empty'],
    [`bws://${ID}?x=1`, 'no query'],
    [`bws://-bad/${ID}`, 'source name'],
    [` bws://${ID}`, 'whitespace'],
  ])('refuses %s (%s)', (raw, fragment) => {
    const parsed = parseBwsRef(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(fragment);
  });
});

describe('parseSecretRef', () => {
  it('routes each scheme to its own rules', () => {
    expect(parseSecretRef('op://Infra/Cloudflare/token')).toEqual({ ok: true, scheme: 'op' });
    expect(parseSecretRef(`bws://${ID}`)).toEqual({ ok: true, scheme: 'bws' });
    expect(parseSecretRef('vault://kv/app#token')).toEqual({ ok: true, scheme: 'vault' });
    expect(parseSecretRef('op://only-two/parts').ok).toBe(false);
    expect(parseSecretRef('bws://nope').ok).toBe(false);
  });
  it('refuses URL schemes and values that are no reference', () => {
    for (const raw of ['https://example.com/x', 'file:///etc/passwd', 'sk_live_123', 'vault://', 'vault://a\u202eb']) expect(parseSecretRef(raw).ok, raw).toBe(false);
  });
  it('never throws, and an accepted reference always has the scheme schemeOf reads', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (raw) => {
        const parsed = parseSecretRef(raw);
        if (parsed.ok) expect(parsed.scheme).toBe(schemeOf(raw));
      }),
    );
  });
  it('a program reference is clipped at 2048 characters', () => {
    expect(parseProgramRef(`vault://${'a'.repeat(2040)}`).ok).toBe(true);
    expect(parseProgramRef(`vault://${'a'.repeat(2041)}`).ok).toBe(false);
  });
});

describe('looksLikeRef (env files)', () => {
  it('takes op:// and bws:// always, a program scheme only when declared, never a URL', () => {
    expect(looksLikeRef('op://a/b/c')).toBe(true);
    expect(looksLikeRef(`bws://${ID}`)).toBe(true);
    expect(looksLikeRef('vault://kv/x')).toBe(false);
    expect(looksLikeRef('vault://kv/x', ['op', 'bws', 'vault'])).toBe(true);
    expect(looksLikeRef('https://example.com', ['op', 'bws', 'vault'])).toBe(false);
  });
});

describe('identityOf', () => {
  it('op: the account precedence; bws: the source in the reference; programs: their own account', () => {
    expect(identityOf('op://a/b/c', 'own', 'picked')).toBe('picked');
    expect(identityOf(`bws://team/${ID}`, 'own', 'picked')).toBe('team');
    expect(identityOf(`bws://${ID}`, 'own', 'picked')).toBeNull();
    expect(identityOf('vault://kv/x', 'own', 'picked')).toBe('own');
    expect(identityOf('vault://kv/x', null, 'picked')).toBeNull();
  });
});
