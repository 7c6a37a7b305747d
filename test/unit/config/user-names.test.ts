// The user config's names: registry (config/user-names.ts): what it accepts, every refusal with
// its key path and never the value, and how a profile's named secrets take their references.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResolvedProfile, SecretEntry } from '../../../src/config/index.js';
import { parseUserConfig } from '../../../src/config/user-config.js';
import { applyNames, parseNames } from '../../../src/config/user-names.js';
import { AgentSecretError } from '../../../src/core/errors.js';

const FILE = '/home/u/.config/agent-secret/config.yml';

describe('parseNames', () => {
  it('accepts a reference or a mapping with ref and account, for every provider the file knows', () => {
    const { value, issues } = parseNames(
      {
        openai_key: 'op://AI/OpenAI/credential',
        'prod.db': { ref: 'op://Prod/DB/url', account: 'work.1password.com' },
        cdn: 'bws://ci/0c6a7d0e-2f43-4a4b-9a53-1b2f0c1a9e11',
        gpg: 'pass://team/gpg',
      },
      ['pass'],
    );
    expect(issues).toEqual([]);
    expect([...value]).toEqual([
      ['openai_key', { ref: 'op://AI/OpenAI/credential', account: null }],
      ['prod.db', { ref: 'op://Prod/DB/url', account: 'work.1password.com' }],
      ['cdn', { ref: 'bws://ci/0c6a7d0e-2f43-4a4b-9a53-1b2f0c1a9e11', account: null }],
      ['gpg', { ref: 'pass://team/gpg', account: null }],
    ]);
  });

  it.each<[string, unknown, string]>([
    ['not a mapping', ['op://a/b/c'], ': must be a mapping of logical names to references, such as openai_key: op://AI/OpenAI/credential'],
    ['a bad name', { '1st': 'op://a/b/c' }, '1st: is not a valid name: a letter, then at most 63 letters, digits, ".", "_" or "-"'],
    ['a value that is no reference', { key: 'sk-live-4711' }, 'key: is not a reference: write op://vault/item/field, bws://SECRET_ID or a scheme from providers: here, never a secret value itself'],
    ['a scheme no provider handles', { key: 'vault://x/y' }, 'key: uses vault://, which no provider handles: declare it under providers: programs: in this file'],
    ['an unknown key', { key: { ref: 'op://a/b/c', vault: 'x' } }, 'key.vault: unknown key (a name has ref: and account:)'],
    ['a mapping without ref', { key: { account: 'work' } }, 'key.ref: is required: the reference this name stands for'],
    ['a number', { key: 42 }, 'key: must be a reference, or a mapping with ref: and account:'],
    ['an account for bws', { key: { ref: 'bws://0c6a7d0e-2f43-4a4b-9a53-1b2f0c1a9e11', account: 'x' } }, 'key.account: a bws reference has no account: its source is part of the reference (bws://SOURCE/SECRET_ID)'],
  ])('refuses %s', (_name, raw, problem) => {
    const { issues } = parseNames(raw, []);
    expect(issues.map((i) => `${i.path.join('.')}: ${i.problem}`)).toEqual([problem]);
  });

  it('never repeats a value of the file in a problem', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4, maxLength: 40 }), (value) => {
        fc.pre(!value.includes('://'));
        const { issues } = parseNames({ key: value, other: { ref: value, account: value } }, []);
        for (const issue of issues) expect(issue.problem.includes(value)).toBe(false);
      }),
    );
  });

  it('problems in config.yml are positioned and keep the file unrepeated', () => {
    const text = 'version: 1\nnames:\n  openai_key: op://AI/OpenAI/credential\n  leaked: sk-live-4711\n';
    try {
      parseUserConfig(text, FILE);
      expect.unreachable('the file has a bad name');
    } catch (error) {
      expect(error).toBeInstanceOf(AgentSecretError);
      expect((error as Error).message).toBe(`${FILE}:4:11: names.leaked: is not a reference: write op://vault/item/field, bws://SECRET_ID or a scheme from providers: here, never a secret value itself`);
    }
    expect(parseUserConfig('version: 1\nnames:\n  openai_key: op://AI/OpenAI/credential\n', FILE).names?.get('openai_key')).toEqual({ ref: 'op://AI/OpenAI/credential', account: null });
  });
});

const profile = (secrets: SecretEntry[]): ResolvedProfile => ({ name: 'ai', isDefault: false, reason: undefined, ttlSeconds: undefined, account: 'team', mask: undefined, include: [], secrets, templates: [] });

describe('applyNames', () => {
  const names = new Map([
    ['openai_key', { ref: 'op://AI/OpenAI/credential', account: null }],
    ['prod_db', { ref: 'op://Prod/DB/url', account: 'work' }],
    ['cdn', { ref: 'bws://0c6a7d0e-2f43-4a4b-9a53-1b2f0c1a9e11', account: null }],
  ]);
  it.each<[string, SecretEntry, { ref: string; account: string | null }]>([
    ['an op name takes the profile account', { alias: 'A', ref: '', name: 'openai_key', account: 'team' }, { ref: 'op://AI/OpenAI/credential', account: 'team' }],
    ["the name's own account wins", { alias: 'A', ref: '', name: 'prod_db', account: 'team' }, { ref: 'op://Prod/DB/url', account: 'work' }],
    ['a bws name takes no op account', { alias: 'A', ref: '', name: 'cdn', account: 'team' }, { ref: 'bws://0c6a7d0e-2f43-4a4b-9a53-1b2f0c1a9e11', account: null }],
    ['a reference stays as written', { alias: 'A', ref: 'op://v/i/f', account: 'team' }, { ref: 'op://v/i/f', account: 'team' }],
  ])('%s', (_name, entry, want) => {
    expect(applyNames(profile([entry]), names, FILE).secrets[0]).toMatchObject(want);
  });

  it('a name the registry lacks is a config error naming the file and the fix', () => {
    expect(() => applyNames(profile([{ alias: 'OPENAI_API_KEY', ref: '', name: 'missing', account: null }]), names, FILE)).toThrow(
      `profile ai: OPENAI_API_KEY asks for the name missing, which names: in ${FILE} does not define`,
    );
  });

  it.each<[string, string | undefined]>([
    ['OPENAI_KEY', 'did you mean openai_key?'],
    ['openai-key', 'did you mean openai_key?'],
    ['openai_kye', 'did you mean openai_key?'],
    ['anthropic_key', undefined],
  ])('a name the registry lacks: %s hints %s', (asked, hint) => {
    let caught: unknown;
    try {
      applyNames(profile([{ alias: 'OPENAI_API_KEY', ref: '', name: asked, account: null }]), names, FILE);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AgentSecretError);
    const got = (caught as AgentSecretError).hint;
    if (hint === undefined) expect(got).toContain('add a line under names: in that file');
    else expect(got).toBe(hint);
  });

  it('a named secret always gets exactly its registry reference', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('openai_key', 'prod_db', 'cdn', null), { maxLength: 6 }), (picked) => {
        const entries: SecretEntry[] = picked.map((name, i) => (name === null ? { alias: `S${i}`, ref: `op://v/i${i}/f`, account: null } : { alias: `S${i}`, ref: '', name, account: 'team' }));
        const out = applyNames(profile(entries), names, FILE).secrets;
        out.forEach((secret, i) => {
          const name = picked[i];
          expect(secret.ref).toBe(name === null || name === undefined ? `op://v/i${i}/f` : names.get(name)?.ref);
        });
      }),
    );
  });
});
