// The masker's search tables against a direct computation: every bucket lists exactly the
// patterns whose window ends with its block (first-byte lists: whose first byte it is), in order.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPatternIndex } from '../../../src/mask/pattern-index.js';

const patternsArb = fc.array(fc.uint8Array({ minLength: 1, maxLength: 12 }), { minLength: 0, maxLength: 20 });

function bucket(start: Int32Array, items: Int32Array, key: number): number[] {
  return [...items.subarray(start[key]!, start[key + 1]!)];
}

describe('buildPatternIndex', () => {
  it('lists each pattern under its first byte, in pattern order, and nothing else', () => {
    fc.assert(
      fc.property(patternsArb, (input) => {
        const index = buildPatternIndex(input);
        for (let b = 0; b < 256; b += 1) {
          const expected = index.patterns.flatMap((p, i) => (p[0] === b ? [i] : []));
          expect(bucket(index.firstStart, index.firstItems, b)).toEqual(expected);
        }
        expect(index.firstStart[256]).toBe(index.patterns.length);
      }),
    );
  });

  it('lists each pattern under the block ending its window, in pattern order, and nothing else', () => {
    fc.assert(
      fc.property(patternsArb, fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 8 }), (input, probes) => {
        const index = buildPatternIndex(input);
        const blockOf = (p: Uint8Array) => (p[index.window - 1 - index.lead]! << 8) | p[index.window - 1]!;
        const keys = new Set([...index.patterns.map(blockOf), ...probes, 0, 0xffff]);
        for (const key of keys) {
          const expected = index.window === 0 ? [] : index.patterns.flatMap((p, i) => (blockOf(p) === key ? [i] : []));
          expect(bucket(index.bucketStart, index.bucketItems, key)).toEqual(expected);
        }
        expect(index.bucketStart[0x10000]).toBe(index.window === 0 ? 0 : index.patterns.length);
      }),
    );
  });
});
