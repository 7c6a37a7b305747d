import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildInjectTemplate, newBoundary, splitInjectOutput } from '../../../src/provider/op/inject-template.js';

// Renders a template the way op inject does: each {{ ref }} replaced by its value, once.
function render(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(/\{\{ (op:\/\/[^}]*) \}\}/g, (_, ref: string) => values.get(ref) ?? '');
}

const refs = (n: number) => Array.from({ length: n }, (_, i) => `op://Vault/Item ${i}/field`);

describe('buildInjectTemplate', () => {
  it('puts each reference between markers and holds no value', () => {
    const template = buildInjectTemplate(['op://a/b/c', 'op://a/b/d'], 'B');
    expect(template.text).toBe('B:0:{{ op://a/b/c }}B:1:{{ op://a/b/d }}B:end:\n');
    expect(template.count).toBe(2);
  });

  it('uses a fresh 128-bit boundary each time', () => {
    const a = newBoundary();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newBoundary()).not.toBe(a);
  });
});

describe('splitInjectOutput', () => {
  const boundaryLike = fc.constantFrom(':0:', ':1:', ':end:', '{{ op://a/b/c }}', '\n', '\r\n', '', '00000000000000000000000000000000:1:', '}}{{', '$HOME');
  const value = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.array(fc.oneof(boundaryLike, fc.string()), { maxLength: 6 }).map((p) => p.join('')));

  it('round-trips any values exactly (newlines, empty, marker-like text)', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 12 }), fc.constantFrom('', '\n'), (values, opTail) => {
        const list = refs(values.length);
        const template = buildInjectTemplate(list);
        const output = render(template.text, new Map(list.map((r, i) => [r, values[i] ?? '']))) + opTail;
        expect(splitInjectOutput(output, template)).toEqual(values);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses output where a value contains the boundary, instead of mis-splitting', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 2, maxLength: 6 }), fc.nat(), fc.string(), (values, at, extra) => {
        const list = refs(values.length);
        const template = buildInjectTemplate(list);
        const i = at % values.length;
        const poisoned = values.map((v, j) => (j === i ? `${v}${template.boundary}:${(i + 1) % values.length}:${extra}` : v));
        const output = render(template.text, new Map(list.map((r, j) => [r, poisoned[j] ?? ''])));
        expect(splitInjectOutput(output, template)).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['empty output', ''],
    ['missing end marker', 'B:0:x'],
    ['text before the first marker', 'junkB:0:xB:end:\n'],
    ['out-of-order tags', 'B:1:xB:end:\n'],
    ['extra text after the end', 'B:0:xB:end:\nmore'],
  ])('refuses %s', (_name, output) => {
    expect(splitInjectOutput(output, buildInjectTemplate(['op://a/b/c'], 'B'))).toBeNull();
  });
});
