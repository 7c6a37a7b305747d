// Templates: strict parsing (every reference the human is shown is everything resolved), exact
// rendering, and the resolution keys and file specs a request derives from its templates.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fileSpecsOf, fileValueKeys, parseTemplate, renderTemplate, resolutionKeys, resolutionSpecs, TEMPLATE_LIMITS, templateSpecs, templateValueKey } from '../../../src/request/template.js';
import type { SecretSpec, TemplateSpec } from '../../../src/request/types.js';

describe('parseTemplate', () => {
  it.each<[string, string, string[]]>([
    ['one reference', 'token={{ op://Infra/npm/token }}\n', ['op://Infra/npm/token']],
    ['no spaces inside the braces', 'x={{op://Infra/npm/token}}', ['op://Infra/npm/token']],
    ['references in first-use order, each once', 'a={{ op://V/B/f }} b={{ op://V/A/f }} c={{ op://V/B/f }}', ['op://V/B/f', 'op://V/A/f']],
    ['a reference with spaces in its item', 'k={{ op://Infra/TLS/private key }}', ['op://Infra/TLS/private key']],
    ['a quoted literal next to a reference', '{{ "{{" }} {{ op://V/I/f }}', ['op://V/I/f']],
    ['op:// inside a word is not a bare reference', 'url=xop://not/a/ref {{ op://V/I/f }}', ['op://V/I/f']],
    ['any provider’s reference', 'a={{ bws://team/c3a1e5f7-9b2d-4f6a-8e0c-2d4f6a8c0e1b }} b={{ pass://mail/smtp }}', ['bws://team/c3a1e5f7-9b2d-4f6a-8e0c-2d4f6a8c0e1b', 'pass://mail/smtp']],
  ])('%s', (_name, text, refs) => {
    const parsed = parseTemplate(text);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.refs).toEqual(refs);
  });

  it.each<[string, string, number, number, string]>([
    ['no reference at all', 'registry=https://registry.npmjs.org/\n', 1, 1, 'uses no reference'],
    ['an unclosed {{', 'a\nb={{ op://V/I/f\n', 2, 3, 'never closed'],
    ['no scheme at all', 'x={{ HOME }}', 1, 3, 'only a reference'],
    ['an invalid bws reference', 'x={{ bws://not-an-id }}', 1, 3, 'invalid reference'],
    ['an invalid reference', 'x=\n  {{ op://Vault }}', 2, 3, 'invalid reference'],
    ['a bare reference op inject would replace', 'token=op://V/I/f\n', 1, 7, 'bare op://'],
    ['an empty placeholder', 'x={{ }}', 1, 3, 'only a reference'],
  ])('refuses %s with its line and column', (_name, text, line, col, problem) => {
    const parsed = parseTemplate(text);
    expect(parsed).toMatchObject({ ok: false, line, col });
    if (!parsed.ok) expect(parsed.problem).toContain(problem);
  });

  it('refuses more distinct references than the limit', () => {
    const text = Array.from({ length: TEMPLATE_LIMITS.maxRefs + 1 }, (_, i) => `{{ op://V/I${i}/f }}`).join('\n');
    const parsed = parseTemplate(text);
    expect(parsed).toMatchObject({ ok: false, line: TEMPLATE_LIMITS.maxRefs + 1 });
  });

  // Literal text free of braces and op:// around generated references renders to itself with each
  // reference replaced by its value's exact bytes.
  it('renders literal text and exact value bytes, for any text and references', () => {
    const literal = fc.string({ maxLength: 20 }).filter((s) => !s.includes('{') && !s.includes('}') && !s.includes('op://'));
    const ref = fc.constantFrom('op://V/A/f', 'op://V/B/g', 'op://Other/C/h h');
    fc.assert(
      fc.property(fc.array(fc.tuple(literal, ref), { minLength: 1, maxLength: 6 }), literal, fc.uint8Array({ maxLength: 8 }), (pieces, tail, salt) => {
        const text = pieces.map(([l, r]) => `${l}{{ ${r} }}`).join('') + tail;
        const parsed = parseTemplate(text);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(parsed.refs).toEqual([...new Set(pieces.map(([, r]) => r))]);
        const bytesOf = (r: string) => Buffer.concat([Buffer.from(r), Buffer.from(salt)]);
        const expected = Buffer.concat([...pieces.flatMap(([l, r]) => [Buffer.from(l), bytesOf(r)]), Buffer.from(tail)]);
        expect(renderTemplate(parsed.parts, bytesOf).equals(expected)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('what a request resolves and delivers', () => {
  const secrets: SecretSpec[] = [
    { alias: 'CF_TOKEN', ref: 'op://Infra/Cloudflare/token', provider: 'op', account: null, source: 'flag', delivery: 'env', file: null },
    { alias: 'KUBECONFIG', ref: 'op://Infra/prod-cluster/kubeconfig', provider: 'op', account: 'work', source: 'profile', delivery: 'file', file: { name: 'config', mode: 'file', maxReads: null } },
  ];
  const templates: TemplateSpec[] = [
    {
      alias: 'NPMRC',
      path: '/p/npmrc.tmpl',
      sha256: 'a'.repeat(64),
      text: '{{ op://Infra/npm/token }} {{ op://Infra/npm/user }}',
      refs: ['op://Infra/npm/token', 'op://Infra/npm/user'],
      account: 'work',
      source: 'flag',
      file: { name: 'npmrc', mode: 'fifo', maxReads: 1 },
    },
  ];

  it('resolves every secret under its alias and each template reference under ALIAS#n', () => {
    expect(resolutionKeys({ secrets, templates })).toEqual(['CF_TOKEN', 'KUBECONFIG', 'NPMRC#0', 'NPMRC#1']);
    expect(templateValueKey('NPMRC', 1)).toBe('NPMRC#1');
    expect(resolutionSpecs({ secrets, templates }).slice(2)).toEqual([
      { alias: 'NPMRC#0', ref: 'op://Infra/npm/token', provider: 'op', account: 'work', source: 'flag', delivery: 'file', file: null },
      { alias: 'NPMRC#1', ref: 'op://Infra/npm/user', provider: 'op', account: 'work', source: 'flag', delivery: 'file', file: null },
    ]);
  });

  it('resolves a template’s bws:// and program references with their own provider and identity', () => {
    const mixed = { ...templates[0], refs: ['op://Infra/npm/token', 'bws://team/c3a1e5f7-9b2d-4f6a-8e0c-2d4f6a8c0e1b', 'pass://mail/smtp'] } as TemplateSpec;
    expect(templateSpecs(mixed).map((s) => [s.alias, s.provider, s.account])).toEqual([
      ['NPMRC#0', 'op', 'work'],
      ['NPMRC#1', 'bws', 'team'],
      ['NPMRC#2', 'pass', null],
    ]);
  });

  it('delivers file secrets and templates as files, and only their values go into files', () => {
    const files = fileSpecsOf({ secrets, templates });
    expect(files).toEqual([
      { alias: 'KUBECONFIG', file: { name: 'config', mode: 'file', maxReads: null }, template: null },
      { alias: 'NPMRC', file: { name: 'npmrc', mode: 'fifo', maxReads: 1 }, template: { text: templates[0]?.text, refs: templates[0]?.refs } },
    ]);
    expect([...fileValueKeys(files)]).toEqual(['KUBECONFIG', 'NPMRC#0', 'NPMRC#1']);
  });
});
