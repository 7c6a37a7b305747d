import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkReuse,
  durationLabel,
  offersReuse,
  parseTypedDuration,
  parseTypedUses,
  REUSE_LIMITS,
  reuseChoices,
  usesLabel,
} from '../../../src/approval/reuse-choice.js';

describe('reuseChoices', () => {
  it.each([
    [600, [600, 300, 120, 60], ['10 minutes', '5 minutes', '2 minutes', '1 minute']],
    [120, [120, 60], ['2 minutes', '1 minute']],
    [90, [90, 60], ['1 min 30 sec', '1 minute']],
    [60, [60], ['1 minute']],
    [45, [45], ['45 sec']],
    [10, [10], ['10 sec']],
    [301, [301, 300, 120, 60], ['5 min 1 sec', '5 minutes', '2 minutes', '1 minute']],
  ])('ttl %d s offers %j, the ttl first (the default)', (ttl, values, labels) => {
    const choices = reuseChoices(ttl);
    expect(choices.durations.map((d) => d.value)).toEqual(values);
    expect(choices.durations.map((d) => d.label)).toEqual(labels);
    expect(choices.uses).toEqual([
      { value: 3, label: '3' },
      { value: 5, label: '5' },
      { value: 10, label: '10' },
      { value: 20, label: '20' },
    ]);
    expect(choices.defaults).toEqual({ ttlSeconds: ttl, maxUses: 3 });
  });

  it('every offered preset and the default pass the bounds check, for any request ttl', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), (ttl) => {
        const choices = reuseChoices(ttl);
        expect(choices.durations[0]?.value).toBe(ttl);
        expect(new Set(choices.durations.map((d) => d.label)).size).toBe(choices.durations.length);
        for (const d of choices.durations) {
          for (const u of choices.uses) {
            expect(checkReuse({ ttlSeconds: d.value, maxUses: u.value }, ttl)).toEqual({ ttlSeconds: d.value, maxUses: u.value });
          }
        }
        expect(checkReuse(choices.defaults, ttl)).toEqual(choices.defaults);
      }),
    );
  });

  it('never offers more than the ttl even for a nonsense ttl', () => {
    for (const ttl of [0, -5, 1.5, Number.NaN]) {
      expect(reuseChoices(ttl).durations.map((d) => d.value)).toEqual([1]);
    }
  });
});

describe('checkReuse', () => {
  it.each([
    [{ ttlSeconds: 1, maxUses: 1 }, 120, true],
    [{ ttlSeconds: 120, maxUses: 20 }, 120, true],
    [{ ttlSeconds: 121, maxUses: 3 }, 120, false],
    [{ ttlSeconds: 0, maxUses: 3 }, 120, false],
    [{ ttlSeconds: 60, maxUses: 0 }, 120, false],
    [{ ttlSeconds: 60, maxUses: 21 }, 120, false],
    [{ ttlSeconds: 60.5, maxUses: 3 }, 120, false],
    [{ ttlSeconds: 60, maxUses: 2.5 }, 120, false],
    [{ ttlSeconds: Number.NaN, maxUses: 3 }, 120, false],
  ])('%j with ttl %d is valid: %s', (grant, ttl, ok) => {
    expect(checkReuse(grant, ttl)).toEqual(ok ? grant : null);
  });

  it('accepts exactly the whole numbers within the bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 600 }), fc.integer({ min: -5, max: 700 }), fc.integer({ min: -5, max: 30 }), (ttl, seconds, uses) => {
        const ok = seconds >= 1 && seconds <= ttl && uses >= REUSE_LIMITS.minUses && uses <= REUSE_LIMITS.maxUses;
        expect(checkReuse({ ttlSeconds: seconds, maxUses: uses }, ttl) !== null).toBe(ok);
      }),
    );
  });
});

describe('offersReuse', () => {
  it.each([
    [{ operation: 'exec', allows_reusable: true, ttl_seconds: 120 }, true],
    [{ operation: 'exec', allows_reusable: false, ttl_seconds: 120 }, false],
    [{ operation: 'item_describe', allows_reusable: true, ttl_seconds: 120 }, false],
    [{ operation: 'session_create', allows_reusable: true, ttl_seconds: 120 }, false],
    [{ operation: 'exec', allows_reusable: true, ttl_seconds: 0 }, false],
    [{ operation: 'exec', allows_reusable: true, ttl_seconds: 1.5 }, false],
  ] as const)('%j → %s', (prompt, expected) => {
    expect(offersReuse(prompt)).toBe(expected);
  });
});

describe('typed answers (tty)', () => {
  it.each([
    ['', 120, 120],
    ['  ', 120, 120],
    ['90s', 120, 90],
    ['90 sec', 120, 90],
    ['2m', 120, 120],
    ['1m30s', 120, 90],
    ['1 min 30 sec', 120, 90],
    ['1M', 120, 60],
    ['1s', 120, 1],
    ['3m', 120, null],
    ['121s', 120, null],
    ['0s', 120, null],
    ['90', 120, null],
    ['-5s', 120, null],
    ['1.5m', 120, null],
    ['1h', 600, null],
    ['s', 120, null],
    ['yes', 120, null],
  ])('duration %j with ttl %d → %j', (typed, ttl, seconds) => {
    expect(parseTypedDuration(typed, ttl)).toBe(seconds);
  });

  it.each([
    ['', 3],
    ['1', 1],
    [' 7 ', 7],
    ['20', 20],
    ['0', null],
    ['21', null],
    ['100', null],
    ['3.0', null],
    ['-3', null],
    ['three', null],
  ])('uses %j → %j', (typed, uses) => {
    expect(parseTypedUses(typed)).toBe(uses);
  });

  it('any parsed typed answer stays within the bounds', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.integer({ min: 10, max: 600 }), (typed, ttl) => {
        const seconds = parseTypedDuration(typed, ttl);
        if (seconds !== null) expect(seconds >= 1 && seconds <= ttl).toBe(true);
        const uses = parseTypedUses(typed);
        if (uses !== null) expect(uses >= 1 && uses <= 20).toBe(true);
      }),
    );
  });
});

describe('labels', () => {
  it.each([
    [1, '1 run (this one only)'],
    [3, '3 runs (this one and 2 more)'],
    [20, '20 runs (this one and 19 more)'],
  ])('uses %d → %s', (n, label) => {
    expect(usesLabel(n)).toBe(label);
  });

  it('durations read like the prompt\'s own times', () => {
    expect(durationLabel(600)).toBe('10 minutes');
    expect(durationLabel(61)).toBe('1 min 1 sec');
  });
});
