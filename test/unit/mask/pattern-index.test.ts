// The masker's search tables against a direct computation: every bucket lists exactly the
// patterns whose window ends with its block (first-byte lists: whose first byte it is), in order.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockHash, buildPatternIndex } from '../../../src/mask/pattern-index.js';
import { createCandidates, scanCandidates } from '../../../src/mask/scan-candidates.js';

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
        const blockOf = (p: Uint8Array) => blockHash(p, index.window - 1, index.lead, index.mid, index.hashShift);
        const keys = new Set([...index.patterns.map(blockOf), ...probes, 0, index.shift.length - 1]);
        for (const key of keys) {
          const expected = index.window === 0 ? [] : index.patterns.flatMap((p, i) => (blockOf(p) === key ? [i] : []));
          expect(bucket(index.bucketStart, index.bucketItems, key)).toEqual(expected);
        }
        expect(index.bucketStart[index.shift.length]).toBe(index.window === 0 ? 0 : index.patterns.length);
      }),
    );
  });
});

describe('buildPatternIndex with fragment sources', () => {
  const bytes = (max: number) => fc.uint8Array({ minLength: 1, maxLength: max }).map((a) => a.map((b) => 0x41 + (b % 6)));
  const setup = fc.record({
    whole: fc.array(bytes(10), { maxLength: 4 }),
    sources: fc.array(bytes(30), { minLength: 1, maxLength: 3 }),
    length: fc.integer({ min: 2, max: 8 }),
  });

  it('lists every window of each source as a pattern, by position, between longer and shorter whole patterns', () => {
    fc.assert(
      fc.property(setup, ({ whole, sources, length }) => {
        const index = buildPatternIndex(whole, { sources, length });
        const lengths = index.patterns.map((p) => p.length);
        expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
        const listed = new Set(index.patterns.map((p) => Buffer.from(p).toString('latin1')));
        for (const source of sources) {
          for (let at = 0; at + length <= source.length; at += 1) expect(listed.has(Buffer.from(source.subarray(at, at + length)).toString('latin1'))).toBe(true);
        }
      }),
    );
  });

  it('never skips a position where a whole pattern or a fragment occurs', () => {
    fc.assert(
      fc.property(setup, fc.array(fc.oneof(bytes(12), fc.nat()), { maxLength: 12 }), ({ whole, sources, length }, pieces) => {
        const index = buildPatternIndex(whole, { sources, length });
        const all = [...sources, ...whole];
        const text = Buffer.concat(pieces.map((piece) => (typeof piece === 'number' ? Buffer.from(all[piece % all.length]!.subarray(piece % 5)) : Buffer.from(piece))));
        const candidates = createCandidates();
        scanCandidates(index, text, candidates);
        const reported = new Set<number>();
        for (let lane = 0; lane < 4; lane += 1) {
          for (let k = candidates.from[lane]!; k < candidates.from[lane]! + candidates.count[lane]!; k += 1) reported.add(candidates.out[k]!);
        }
        for (let i = 0; i + index.window <= text.length; i += 1) {
          const occurs = index.patterns.some((p) => i + p.length <= text.length && text.subarray(i, i + p.length).equals(p));
          if (occurs) expect(reported.has(i), `position ${i}`).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
