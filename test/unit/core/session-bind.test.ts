import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkBindDepth, checkBindName, checkBindNames, describeBindingPolicy, parseBindDepth } from '../../../src/core/session-bind.js';

describe('checkBindDepth and parseBindDepth', () => {
  it.each([1, 2, 3])('accepts %i', (depth) => {
    expect(checkBindDepth(depth)).toEqual({ ok: true, value: depth });
    expect(parseBindDepth(String(depth))).toEqual({ ok: true, value: depth });
  });

  it.each<unknown>([0, 4, -1, 1.5, Number.NaN, Infinity, '2', null, undefined, true])('refuses %j', (depth) => {
    expect(checkBindDepth(depth).ok).toBe(false);
  });

  it.each(['', ' ', '02x', '1e0', '+1', '0x1', '٣'])('refuses the text %j', (text) => {
    expect(parseBindDepth(text).ok).toBe(false);
  });
});

describe('checkBindName', () => {
  it('trims, and keeps inner spaces and non-ASCII', () => {
    expect(checkBindName('  Visual Studio Code ')).toEqual({ ok: true, value: 'Visual Studio Code' });
    expect(checkBindName('zsh-5.9')).toEqual({ ok: true, value: 'zsh-5.9' });
    expect(checkBindName('é'.repeat(64))).toEqual({ ok: true, value: 'é'.repeat(64) });
  });

  it('accepts exactly the names without / or NUL, 1..128 bytes after trimming, other than . and .. (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 140 }), (name) => {
        const trimmed = name.trim();
        const expected = trimmed !== '' && Buffer.byteLength(trimmed) <= 128 && !trimmed.includes('/') && !trimmed.includes('\0') && trimmed !== '.' && trimmed !== '..';
        const result = checkBindName(name);
        expect(result.ok).toBe(expected);
        if (result.ok) expect(result.value).toBe(trimmed);
      }),
    );
  });
});

describe('checkBindNames', () => {
  it('collapses duplicates after trimming, keeping the first order', () => {
    expect(checkBindNames(['zsh', ' tmux', 'zsh ', 'tmux'])).toEqual({ ok: true, value: ['zsh', 'tmux'] });
  });

  it('never quotes a rejected name', () => {
    for (const name of ['CANARY/x', ' CANARY\0', 'CANARY'.repeat(30)]) {
      const result = checkBindNames(['ok', name]);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message).not.toContain('CANARY');
    }
  });

  it('names the position of a bad name', () => {
    expect(checkBindNames(['zsh', 'a/b'])).toEqual({ ok: false, message: "ancestor name 2 contains '/'; expected a basename such as zsh, not a path" });
  });

  it('refuses an empty list and more than 16 distinct names', () => {
    expect(checkBindNames([]).ok).toBe(false);
    expect(checkBindNames(Array.from({ length: 17 }, (_, i) => `n${i}`))).toEqual({ ok: false, message: 'at most 16 ancestor names are allowed (got 17)' });
  });
});

describe('describeBindingPolicy', () => {
  it.each([
    [{ mode: 'auto' } as const, 'auto'],
    [{ mode: 'ancestor', depth: 1 } as const, 'parent'],
    [{ mode: 'ancestor', depth: 3 } as const, 'ancestor 3'],
    [{ mode: 'ancestor_name', names: ['tmux', 'z\u001bsh'] } as const, 'ancestor name tmux, z?sh'],
  ])('%j → %s', (policy, text) => {
    expect(describeBindingPolicy({ ...policy, ...('names' in policy ? { names: [...policy.names] } : {}) } as Parameters<typeof describeBindingPolicy>[0])).toBe(text);
  });
});
