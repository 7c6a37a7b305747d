// The streaming masker against fixed cases and against the brute-force oracle: chunk boundaries,
// overlapping and adjacent occurrences, nested values, encoded forms, short values, how much is
// held back and when it is released. All values are test canaries.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { compileMaskPatterns, createMasker, deferredMasker, MASK_TEXT, maskerFor, type Masker } from '../../../src/mask/masker.js';
import { maskPatterns, maskVariants } from '../../../src/mask/variants.js';
import { patternsFor, rawSegments, referenceMask } from './reference.js';

const M = MASK_TEXT;
const CANARY = 'canary-7f3a-do-not-print';

/** Feeds `text` in the given chunk sizes (cycled) and returns everything emitted. */
function run(masker: Masker, text: string | Buffer, sizes: readonly number[] = [1 << 16]): string {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const out: Buffer[] = [];
  let at = 0;
  for (let k = 0; at < bytes.length; k += 1) {
    const size = Math.max(1, sizes[k % sizes.length]!);
    out.push(masker.push(bytes.subarray(at, at + size)));
    at += size;
  }
  out.push(masker.end());
  return Buffer.concat(out).toString();
}

const mask = (values: string[], text: string, sizes?: number[]) => run(createMasker(values), text, sizes);

describe('createMasker: fixed cases', () => {
  it.each([
    ['one value', [CANARY], `token=${CANARY}\n`, `token=${M}\n`],
    ['twice on a line', [CANARY], `${CANARY} and ${CANARY}`, `${M} and ${M}`],
    ['adjacent occurrences stay two masks', [CANARY], `${CANARY}${CANARY}`, `${M}${M}`],
    ['overlapping occurrences become one mask', ['abab'], 'xabababx', `x${M}x`],
    ['a value inside a longer value: the longer one wins', ['secret-42', 'my-secret-42-long'], 'a my-secret-42-long b secret-42 c', `a ${M} b ${M} c`],
    ['values overlapping each other merge', ['abcdef', 'defghi'], '_abcdefghi_', `_${M}_`],
    ['text without values passes unchanged', [CANARY], 'nothing to see\n', 'nothing to see\n'],
    ['a near miss is not masked (no stretch of FRAGMENT_LENGTH in common)', [CANARY], 'canary-7f3a_do-not-prin', 'canary-7f3a_do-not-prin'],
    ['a stretch shorter than a fragment is not masked', [CANARY], 'canary-7f3a', 'canary-7f3a'],
    ['empty input', [CANARY], '', ''],
    ['multi-byte UTF-8 value', ['pässwörd-€'], 'x=pässwörd-€;', `x=${M};`],
  ])('%s', (_name, values, text, expected) => {
    expect(mask(values, text)).toBe(expected);
    expect(mask(values, text, [1])).toBe(expected);
    expect(mask(values, text, [3, 1, 7])).toBe(expected);
  });

  it('masks every encoded form of a value', () => {
    const value = 'p@ss/w0rd+"x"?';
    const bytes = Buffer.from(value);
    const forms = [
      value,
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      encodeURIComponent(value),
      JSON.stringify(value).slice(1, -1),
    ];
    for (const form of forms) expect(mask([value], `[${form}]`), form).toBe(`[${M}]`);
  });

  it('masks a value inside a larger base64 payload at every alignment', () => {
    const value = 'sk_live_canary_0123456789';
    for (const prefix of ['', 'a', 'ab', 'abc', 'abcd']) {
      for (const suffix of ['', 'z', 'zy', 'zyx']) {
        const payload = Buffer.from(`${prefix}${value}${suffix}`).toString('base64');
        const out = mask([value], payload);
        expect(out, `${prefix}|${suffix}`).toContain(M);
        const rest = out.replace(M, '');
        expect(rest.length).toBeLessThanOrEqual(Math.ceil((prefix.length * 4) / 3) + Math.ceil((suffix.length * 4) / 3) + 4);
      }
    }
  });

  it('masks a value split at every possible chunk boundary', () => {
    const text = `before ${CANARY} after`;
    for (let cut = 0; cut <= text.length; cut += 1) {
      const masker = createMasker([CANARY]);
      const out = Buffer.concat([masker.push(Buffer.from(text.slice(0, cut))), masker.push(Buffer.from(text.slice(cut))), masker.end()]);
      expect(out.toString()).toBe(`before ${M} after`);
    }
  });

  it('splits a multi-byte character across chunks without breaking the match', () => {
    const value = 'ключ-секрет';
    expect(run(createMasker([value]), Buffer.from(`«${value}»`), [1, 2])).toBe(`«${M}»`);
  });
});

describe('createMasker: short values and counts', () => {
  it('skips values shorter than the minimum length and counts them', () => {
    const masker = createMasker(['abc', 'abcd', '', 'abc']);
    expect(masker.skipped).toBe(2);
    expect(run(masker, 'abc abcd')).toBe(`abc ${M}`);
  });

  it('honours minLength in code points, not bytes', () => {
    expect(createMasker(['äöü'], { minLength: 4 }).skipped).toBe(1);
    expect(createMasker(['äöü'], { minLength: 3 }).skipped).toBe(0);
    expect(run(createMasker(['ab'], { minLength: 2 }), 'xaby')).toBe(`x${M}y`);
  });

  it('reports the number of distinct patterns', () => {
    const value = 'canary-token-1234';
    expect(createMasker([value, value]).patternCount).toBe(new Set(maskPatterns(value).map((p) => p.toString('latin1'))).size);
    expect(createMasker([]).patternCount).toBe(0);
  });

  it('passes everything through when nothing is masked', () => {
    const masker = createMasker(['abc']);
    const chunk = Buffer.from('abc');
    expect(masker.push(chunk)).toBe(chunk);
    expect(masker.end().length).toBe(0);
  });
});

describe('createMasker: holding back', () => {
  it('releases at once every byte that cannot start an occurrence', () => {
    const masker = createMasker([CANARY]);
    expect(masker.push(Buffer.from('Password: ')).toString()).toBe('Password: ');
    expect(masker.heldBytes).toBe(0);
  });

  it('holds a live partial match until it is resolved either way', () => {
    const masker = createMasker([CANARY]);
    expect(masker.push(Buffer.from('x canary-7f')).toString()).toBe('x ');
    expect(masker.heldBytes).toBe('canary-7f'.length);
    expect(masker.push(Buffer.from('3a')).toString()).toBe('');
    expect(masker.push(Buffer.from('!')).toString()).toBe('canary-7f3a!');
    expect(masker.heldBytes).toBe(0);
  });

  it('holds a complete match while a longer pattern may still extend it', () => {
    const masker = createMasker(['abcd', 'abcdefgh']);
    expect(masker.push(Buffer.from('-abcde')).toString()).toBe('-');
    expect(masker.push(Buffer.from('x')).toString()).toBe(`${M}ex`);
  });

  it('flushes a held partial match unmasked at the end of the stream', () => {
    const masker = createMasker([CANARY]);
    expect(masker.push(Buffer.from('tail canary')).toString()).toBe('tail ');
    expect(masker.end().toString()).toBe('canary');
  });

  it('refuses use after end', () => {
    const masker = createMasker([CANARY]);
    masker.end();
    expect(() => masker.push(Buffer.from('x'))).toThrow(AgentSecretError);
  });
});

// Text made of filler, values and their encoded forms, plus the values; chunk sizes to cut it.
const alphabet = fc.constantFrom(...'abcdefgh01=+/_-%\\ \nXYZé'.split(''));
const smallString = (min: number, max: number) => fc.array(alphabet, { minLength: min, maxLength: max, size: 'max' }).map((chars) => chars.join(''));
const scenario = fc
  .record({ values: fc.array(smallString(1, 24), { minLength: 1, maxLength: 4 }), minLength: fc.integer({ min: 1, max: 5 }) })
  .chain(({ values, minLength }) => {
    const forms = values.flatMap((value) => (value.length > 0 ? maskVariants(value) : []));
    // A stretch of a value (a fragment, when 12+ long) or of one of its forms.
    const stretch = fc.tuple(fc.constantFrom(...values, ...forms), fc.nat(), fc.nat()).map(([text, a, b]) => text.slice(a % (text.length + 1), a % (text.length + 1) + (b % 20)));
    const piece = fc.oneof(smallString(0, 6), fc.constantFrom(...values), stretch, ...(forms.length > 0 ? [fc.constantFrom(...forms)] : []));
    return fc.record({
      values: fc.constant(values),
      minLength: fc.constant(minLength),
      text: fc.array(piece, { maxLength: 12 }).map((pieces) => pieces.join('')),
      sizes: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
    });
  });

describe('createMasker: properties', () => {
  it('streaming output equals the whole-buffer replacement and no raw stretch holds a pattern', () => {
    fc.assert(
      fc.property(scenario, ({ values, minLength, text, sizes }) => {
        const patterns = patternsFor(values, minLength);
        const bytes = Buffer.from(text);
        const masker = createMasker(values, { minLength });
        const longest = Math.max(0, ...patterns.map((p) => p.length));
        const out: Buffer[] = [];
        let at = 0;
        for (let k = 0; at < bytes.length; k += 1) {
          const size = sizes[k % sizes.length]!;
          out.push(masker.push(bytes.subarray(at, at + size)));
          at += size;
          expect(masker.heldBytes).toBeLessThanOrEqual(Math.max(0, longest - 1));
        }
        out.push(masker.end());
        const streamed = Buffer.concat(out);
        expect(streamed.equals(referenceMask(bytes, patterns))).toBe(true);
        for (const segment of rawSegments(streamed)) {
          for (const pattern of patterns) expect(segment.includes(pattern)).toBe(false);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('agrees with the oracle on long output in large and small chunks (four-lane scan, chunk-boundary path)', () => {
    const long = fc
      .record({ values: fc.array(smallString(4, 20), { minLength: 1, maxLength: 3 }) })
      .chain(({ values }) => {
        const forms = values.flatMap((value) => maskVariants(value));
        return fc.record({
          values: fc.constant(values),
          text: fc
            .array(fc.oneof({ weight: 3, arbitrary: smallString(0, 400) }, { weight: 1, arbitrary: fc.constantFrom(...forms) }), { minLength: 5, maxLength: 30, size: 'max' })
            .map((pieces) => pieces.join('')),
          sizes: fc.array(fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 500, max: 5000 })), { minLength: 1, maxLength: 5 }),
        });
      });
    fc.assert(
      fc.property(long, ({ values, text, sizes }) => {
        const bytes = Buffer.from(text);
        expect(Buffer.from(run(createMasker(values), bytes, sizes)).equals(referenceMask(bytes, patternsFor(values)))).toBe(true);
      }),
      { numRuns: 60, endOnFailure: true },
    );
  });

  it('never lets a value through in arbitrary binary output cut anywhere', () => {
    const value = 'Zq9!canary-binary';
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 30 }), fc.constantFrom(...maskVariants(value)).map((form) => Buffer.from(form))), { maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 6 }),
        (pieces, sizes) => {
          const bytes = Buffer.concat(pieces.map((piece) => Buffer.from(piece)));
          const streamed = Buffer.from(run(createMasker([value]), bytes, sizes), 'utf8');
          const whole = referenceMask(bytes, patternsFor([value]));
          expect(Buffer.from(whole.toString(), 'utf8').equals(streamed)).toBe(true);
          expect(streamed.includes(value)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('maskerFor: maskers sharing compiled patterns', () => {
  it('keep their own held-back bytes (stdout and stderr of one child)', () => {
    const patterns = compileMaskPatterns([CANARY]);
    const out = maskerFor(patterns);
    const err = maskerFor(patterns);
    const half = CANARY.length >> 1;
    const a: Buffer[] = [];
    const b: Buffer[] = [];
    a.push(out.push(Buffer.from(`x${CANARY.slice(0, half)}`)));
    b.push(err.push(Buffer.from('plain ')));
    a.push(out.push(Buffer.from(`${CANARY.slice(half)}y`)), out.end());
    b.push(err.push(Buffer.from(CANARY)), err.end());
    expect(Buffer.concat(a).toString()).toBe(`x${M}y`);
    expect(Buffer.concat(b).toString()).toBe(`plain ${M}`);
  });
});

describe('deferredMasker', () => {
  it('builds nothing for a stream that ends without output', () => {
    let builds = 0;
    const masker = deferredMasker(() => {
      builds += 1;
      return createMasker([CANARY]);
    });
    expect(masker.heldBytes).toBe(0);
    expect(masker.end().length).toBe(0);
    expect(builds).toBe(0);
  });

  it('masks exactly like the masker it builds, for any chunking, building it once', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'x', CANARY, CANARY.slice(0, 9), '\n'), { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }), (parts, sizes) => {
        let builds = 0;
        const text = parts.join('');
        const deferred = deferredMasker(() => {
          builds += 1;
          return createMasker([CANARY]);
        });
        expect(run(deferred, text, sizes)).toBe(mask([CANARY], text, sizes));
        expect(builds).toBe(text.length === 0 ? 0 : 1);
      }),
    );
  });
});
