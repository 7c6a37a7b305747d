import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pickAccount, type AccountSources } from '../../../src/core/account.js';
import { parseReason } from '../../../src/core/reason.js';
import { formatTtl, parseTtl } from '../../../src/core/ttl.js';

describe('parseTtl', () => {
  const cases: Array<[string, number | string]> = [
    ['90s', 90],
    ['2m', 120],
    ['10m', 600],
    ['10s', 10],
    ['1m30s', 90],
    [' 45s ', 45],
    ['9s', 'between 10s and 10m'],
    ['11m', 'between 10s and 10m'],
    ['1h', 'between 10s and 10m'],
    ['90', 'not a duration'],
    ['2 minutes', 'not a duration'],
    ['', 'not a duration'],
    ['-5s', 'not a duration'],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} → ${expected}`, () => {
      const result = parseTtl(text);
      if (typeof expected === 'number') expect(result).toEqual({ ok: true, seconds: expected });
      else expect(result.ok === false && result.message).toContain(expected);
    });
  }
  it('formatTtl round-trips through parseTtl in range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 600 }), (s) => {
        expect(parseTtl(formatTtl(s))).toEqual({ ok: true, seconds: s });
      }),
    );
  });
});

describe('parseReason', () => {
  it('trims', () => expect(parseReason('  deploy  ')).toEqual({ ok: true, reason: 'deploy' }));
  it('requires text', () => expect(parseReason('   ').ok).toBe(false));
  it('requires a value', () => expect(parseReason(undefined).ok).toBe(false));
  it('allows 240 code points', () => expect(parseReason('é'.repeat(240)).ok).toBe(true));
  it('refuses 241 code points', () => expect(parseReason('x'.repeat(241)).ok).toBe(false));
  it('counts astral characters once', () => expect(parseReason('😀'.repeat(240)).ok).toBe(true));
  it('refuses newlines', () => expect(parseReason('line one\nline two').ok).toBe(false));
  it('refuses bidi overrides', () => expect(parseReason('approve \u202eevil').ok).toBe(false));
  it('never throws', () => fc.assert(fc.property(fc.string(), (s) => void parseReason(s))));
});

describe('pickAccount precedence', () => {
  const all = { secret: 's', profile: 'p', config: 'c', flag: 'f', agentSecretEnv: 'a', opEnv: 'o' };
  const table: Array<[AccountSources, string | null]> = [
    [all, 's'],
    [{ ...all, secret: undefined }, 'p'],
    [{ ...all, secret: undefined, profile: undefined }, 'c'],
    [{ flag: 'f', agentSecretEnv: 'a', opEnv: 'o' }, 'f'],
    [{ agentSecretEnv: 'a', opEnv: 'o' }, 'a'],
    [{ opEnv: 'o' }, 'o'],
    [{ secret: '  ', opEnv: 'o' }, 'o'],
    [{}, null],
  ];
  for (const [sources, expected] of table) {
    it(`${JSON.stringify(sources)} → ${expected}`, () => expect(pickAccount(sources)).toBe(expected));
  }
});
