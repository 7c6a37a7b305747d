// maskerPair: stdout and stderr of one child over one index, catching a value split between the
// two streams as far as the order of arrival allows. Values are test canaries.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileMaskPatterns, createMasker, MASK_TEXT, maskerPair, type Masker } from '../../../src/mask/masker.js';
import { FRAGMENT_LENGTH } from '../../../src/mask/variants.js';
import { rawSegments } from './reference.js';

const M = MASK_TEXT;
const VALUE = 'sk_canary_0123456789'; // 20 characters: split 10/10, neither part is a fragment on its own
const b = (text: string) => Buffer.from(text);

/** Feeds events [stream, text] in order; returns what each stream emitted. */
function feed(pair: { stdout: Masker; stderr: Masker }, events: readonly [0 | 1, string][]): [string, string, string] {
  const outs: Buffer[][] = [[], []];
  const merged: Buffer[] = [];
  const sides = [pair.stdout, pair.stderr] as const;
  for (const [k, text] of events) {
    const bytes = sides[k].push(b(text));
    outs[k]!.push(bytes);
    merged.push(bytes);
  }
  for (const k of [0, 1] as const) {
    const bytes = sides[k].end();
    outs[k]!.push(bytes);
    merged.push(bytes);
  }
  return [Buffer.concat(outs[0]!).toString(), Buffer.concat(outs[1]!).toString(), Buffer.concat(merged).toString()];
}

describe('maskerPair', () => {
  it('masks a value whose first half is on stdout and second half on stderr, on both sides', () => {
    const [out, err] = feed(maskerPair(compileMaskPatterns([VALUE])), [
      [0, `log: ${VALUE.slice(0, 10)}`],
      [1, `${VALUE.slice(10)} done\n`],
      [0, '\n'],
    ]);
    expect(out).toBe(`log: ${M}\n`);
    expect(err).toBe(`${M} done\n`);
  });

  it('masks the split the other way round, and when the continuation arrives a byte at a time', () => {
    const events: [0 | 1, string][] = [[1, `x=${VALUE.slice(0, 7)}`], ...[...VALUE.slice(7)].map((c): [0 | 1, string] => [0, c]), [0, ';'], [1, '!']];
    const [out, err, merged] = feed(maskerPair(compileMaskPatterns([VALUE])), events);
    expect(out).toBe(`${M};`);
    expect(err).toBe(`x=${M}!`);
    expect(merged).not.toContain(VALUE.slice(0, 7));
  });

  it('leaves the two streams alone when their ends do not form a value', () => {
    const [out, err] = feed(maskerPair(compileMaskPatterns([VALUE])), [
      [0, `a ${VALUE.slice(0, 10)}`],
      [1, 'unrelated\n'],
      [0, 'Z\n'],
    ]);
    expect(out).toBe(`a ${VALUE.slice(0, 10)}Z\n`);
    expect(err).toBe('unrelated\n');
  });

  it('compiles lazily and once, and a stream that never writes ends with nothing', () => {
    let builds = 0;
    const pair = maskerPair(() => {
      builds += 1;
      return compileMaskPatterns([VALUE]);
    });
    expect(pair.stderr.end().length).toBe(0);
    expect(builds).toBe(0);
    expect(pair.stdout.push(b(`${VALUE}\n`)).toString()).toBe(`${M}\n`);
    expect(pair.stdout.patternCount).toBe(createMasker([VALUE]).patternCount);
    expect(builds).toBe(1);
  });

  it('masks each stream alone exactly as createMasker does when the other stream holds nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', ' ', '\n', VALUE, VALUE.slice(0, 9), VALUE.slice(5)), { maxLength: 10 }), fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 4 }), (parts, sizes) => {
        const text = b(parts.join(''));
        const pair = maskerPair(compileMaskPatterns([VALUE]));
        const single = createMasker([VALUE]);
        const a: Buffer[] = [];
        const c: Buffer[] = [];
        for (let at = 0, k = 0; at < text.length; k += 1) {
          const size = sizes[k % sizes.length]!;
          a.push(pair.stdout.push(text.subarray(at, at + size)));
          c.push(single.push(text.subarray(at, at + size)));
          at += size;
        }
        a.push(pair.stdout.end(), pair.stderr.end());
        c.push(single.end());
        expect(Buffer.concat(a).equals(Buffer.concat(c))).toBe(true);
      }),
    );
  });

  it('property: a value split once between the streams, each part cut into any chunks, shows in neither stream nor in their merge', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: VALUE.length - 1 }),
        fc.constantFrom(0, 1),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('', 'x ', 'log: '),
        fc.constantFrom('', ' done', '\n'),
        (cut, first, sizes, before, after) => {
          const chunks = (text: string) => {
            const out: string[] = [];
            for (let at = 0, k = 0; at < text.length; k += 1) {
              out.push(text.slice(at, at + sizes[k % sizes.length]!));
              at += sizes[k % sizes.length]!;
            }
            return out;
          };
          const other = (1 - first) as 0 | 1;
          const events: [0 | 1, string][] = [
            ...chunks(`${before}${VALUE.slice(0, cut)}`).map((c): [0 | 1, string] => [first, c]),
            ...chunks(`${VALUE.slice(cut)}${after}`).map((c): [0 | 1, string] => [other, c]),
            [first, '\n'],
          ];
          const [out, err, merged] = feed(maskerPair(compileMaskPatterns([VALUE])), events);
          for (const text of [out, err, merged]) {
            for (const segment of rawSegments(b(text))) expect(segment.toString()).not.toContain(VALUE);
          }
          // Both parts are concealed, not only the whole: neither stream shows its part.
          for (const part of [VALUE.slice(0, cut), VALUE.slice(cut)].filter((p) => p.length >= 4)) {
            expect(`${out}|${err}`.includes(part)).toBe(false);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('still masks on its own a part of FRAGMENT_LENGTH+ that arrives before the part it continues', () => {
    const long = `${VALUE}-extra-canary-tail`;
    const [out, err] = feed(maskerPair(compileMaskPatterns([long])), [
      [1, long.slice(FRAGMENT_LENGTH + 2)],
      [0, long.slice(0, FRAGMENT_LENGTH + 2)],
    ]);
    expect(out).toBe(M);
    expect(err).toBe(M);
  });
});
