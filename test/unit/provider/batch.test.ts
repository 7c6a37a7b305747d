// Messages name what the user wrote: an alias, or `template ALIAS` for a template's reference
// (never the internal resolution key ALIAS#N).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeEntries, shownAlias } from '../../../src/provider/batch.js';
import { templateValueKey } from '../../../src/request/template.js';

describe('shownAlias', () => {
  it.each([
    ['CF_TOKEN', 'CF_TOKEN'],
    [templateValueKey('NPMRC', 0), 'template NPMRC'],
    [templateValueKey('NPMRC', 12), 'template NPMRC'],
  ])('%s → %s', (alias, shown) => expect(shownAlias(alias)).toBe(shown));

  it('never shows a resolution key', () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,20}$/), fc.nat(100), (alias, n) => !shownAlias(templateValueKey(alias, n)).includes('#')));
  });
});

describe('describeEntries', () => {
  it('names a template by its alias with the reference, once even when it uses the reference twice', () => {
    expect(describeEntries([{ ref: 'op://x/y/z', aliases: [templateValueKey('NPMRC', 0), templateValueKey('NPMRC', 1)] }])).toBe('template NPMRC (op://x/y/z)');
    expect(describeEntries([{ ref: 'op://x/y/z', aliases: ['CF', templateValueKey('NPMRC', 0)] }])).toBe('CF, template NPMRC (op://x/y/z)');
  });
});
