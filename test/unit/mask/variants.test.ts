// The encoded forms a value is masked in: each encoder's exact output, deduplication and order,
// and the base64 alignment cores (present at every offset inside a larger payload, exactly the
// stable characters, and only when at least MIN_ALIGNED_CORE long).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskVariants, MIN_ALIGNED_CORE } from '../../../src/mask/variants.js';

const VALUE = 'p@ss/w0rd+"canary"?é';

describe('maskVariants', () => {
  it.each([
    ['raw', VALUE],
    ['base64', Buffer.from(VALUE).toString('base64')],
    ['base64 without padding', Buffer.from(VALUE).toString('base64').replace(/=+$/, '')],
    ['base64url', Buffer.from(VALUE).toString('base64url')],
    ['hex', Buffer.from(VALUE).toString('hex')],
    ['HEX', Buffer.from(VALUE).toString('hex').toUpperCase()],
    ['URL-encoded', encodeURIComponent(VALUE)],
    ['JSON-escaped', JSON.stringify(VALUE).slice(1, -1)],
  ])('includes the %s form', (_name, form) => {
    expect(maskVariants(VALUE)).toContain(form);
  });

  it('is deduplicated and sorted longest first (UTF-8 bytes)', () => {
    const forms = maskVariants(VALUE);
    expect(new Set(forms).size).toBe(forms.length);
    const lengths = forms.map((form) => Buffer.byteLength(form));
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
  });

  it('collapses forms that coincide for a plain value', () => {
    expect(maskVariants('abcd')).toEqual(['61626364', 'YWJjZA==', 'YWJjZA', 'abcd'].sort((a, b) => b.length - a.length || (a < b ? -1 : 1)));
  });

  it('gives nothing for the empty value', () => {
    expect(maskVariants('')).toEqual([]);
  });

  it('survives lone surrogates', () => {
    expect(maskVariants('ab\uD800cd').length).toBeGreaterThan(0);
  });

  it('adds no alignment core shorter than MIN_ALIGNED_CORE characters', () => {
    const plainForms = (value: string) => {
      const bytes = Buffer.from(value);
      const base64 = bytes.toString('base64');
      const url = bytes.toString('base64url');
      const hex = bytes.toString('hex');
      return new Set([value, base64, base64.replace(/=+$/, ''), url, url + '='.repeat(base64.length - url.length), hex, hex.toUpperCase(), encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]);
    };
    expect(maskVariants('abcd').filter((form) => !plainForms('abcd').has(form))).toEqual([]);
    for (const value of ['abcde', 'abcdef', 'abcdefg', 'abcdefghij', 'ключ']) {
      for (const extra of maskVariants(value).filter((form) => !plainForms(value).has(form))) expect(extra.length).toBeGreaterThanOrEqual(MIN_ALIGNED_CORE);
    }
  });

  it('contains the exact stable core of the value base64-encoded at any offset inside a larger payload', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ minLength: 7, maxLength: 40 }), fc.string({ minLength: 7, maxLength: 20, unit: 'grapheme' })),
        fc.uint8Array({ maxLength: 7 }),
        fc.uint8Array({ maxLength: 7 }),
        (value, prefix, suffix) => {
          const bytes = Buffer.from(value);
          const first = Math.ceil((8 * prefix.length) / 6);
          const end = Math.floor((8 * (prefix.length + bytes.length)) / 6);
          const forms = maskVariants(value);
          for (const encoding of ['base64', 'base64url'] as const) {
            const core = Buffer.concat([prefix, bytes, suffix]).toString(encoding).slice(first, end);
            expect(forms).toContain(core);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('trims exactly the characters that depend on neighbouring bytes', () => {
    const value = 'canary-align-0123456789';
    const bytes = Buffer.from(value);
    for (const offset of [0, 1, 2]) {
      const coreLength = Math.floor((8 * (offset + bytes.length)) / 6) - Math.ceil((8 * offset) / 6);
      const cores = new Set<string>();
      for (const filler of [0x00, 0xff, 0x5a]) {
        const payload = Buffer.concat([Buffer.alloc(offset, filler), bytes, Buffer.alloc(2, filler)]).toString('base64');
        cores.add(payload.slice(Math.ceil((8 * offset) / 6), Math.ceil((8 * offset) / 6) + coreLength));
      }
      expect(cores.size).toBe(1);
      expect(maskVariants(value)).toContain([...cores][0]);
      const wider = new Set<string>();
      for (const filler of [0x00, 0xff]) {
        const payload = Buffer.concat([Buffer.alloc(offset, filler), bytes, Buffer.alloc(2, filler)]).toString('base64');
        wider.add(payload.slice(Math.ceil((8 * offset) / 6), Math.ceil((8 * offset) / 6) + coreLength + 1));
      }
      expect(wider.size).toBe(2);
    }
  });
});
