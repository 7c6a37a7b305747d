// Quoted echoes of untrusted input are removed from core validator messages; other quoted
// text (literal characters, known names) stays.

import { describe, expect, it } from 'vitest';
import { withoutEcho } from '../../../src/config/echo-guard.js';

describe('withoutEcho', () => {
  it.each([
    ['(got "…") echo', 'alias must match X (got "my-token")', 'my-token', 'alias must match X'],
    ['quoted value mid-sentence', 'unknown attribute "canary"; expected one of a, b', 'op://v/i/f?attribute=CANARY', 'unknown attribute; expected one of a, b'],
    ['leading quoted value', '"soonish" is not a duration; write it like 90s', 'soonish', 'is not a duration; write it like 90s'],
    ['clipped and unprintable echo', '"abc?def…" is not a duration', 'abc\u0001defghijklmnop', 'is not a duration'],
    ['literal characters stay', 'names may contain only letters, ".", "-" and "_"', 'op://v/i/f$', 'names may contain only letters, ".", "-" and "_"'],
    ['quoted text not from the input stays', '"PATH" controls what the child runs', 'op://v/i/f', '"PATH" controls what the child runs'],
  ])('%s', (_name, message, input, expected) => {
    expect(withoutEcho(message, input)).toBe(expected);
  });
});
