import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkEnvPrefix, deriveEnvNames, formatItemDescription, ITEM_FORMATS, type ItemFormat } from '../../../src/cli/render/item.js';
import { parseEnvFileText } from '../../../src/config/env-file.js';
import { validateAlias } from '../../../src/core/alias.js';
import { AgentSecretError } from '../../../src/core/errors.js';
import { parseItemRef, parseRef } from '../../../src/core/ref.js';
import { parseItemJson, type ItemDescription, type ItemField } from '../../../src/provider/op/item.js';

const field = (label: string, extra: Partial<ItemField> = {}): ItemField => ({
  label,
  id: extra.id ?? label.replace(/[^a-z]/g, '') + 'id',
  type: 'STRING',
  section: null,
  sectionId: null,
  concealed: false,
  reference: `op://Infra/GitHub/${label}`,
  ...extra,
});

const github: ItemDescription = {
  vault: { id: 'k7qmv3xnhb2wrt5yzlc4pd8fja', name: 'Infra' },
  item: { id: 'ghub7kqz2mxv4wbn8hry5ldaqc', title: 'GitHub', category: 'LOGIN' },
  fields: [
    field('username', { purpose: 'USERNAME' }),
    field('password', { type: 'CONCEALED', purpose: 'PASSWORD', concealed: true }),
    field('notesPlain', { purpose: 'NOTES' }),
    field('api token', { type: 'CONCEALED', concealed: true, section: 'API', sectionId: 'Section_9c1e', reference: 'op://Infra/GitHub/API/api token' }),
    field('path', { section: 'add more', sectionId: 'add more', reference: 'op://Infra/GitHub/add more/path' }),
    field('', { id: '9F3A6C1E2B7D4A58B0C1D2E3F4A5B6C7', type: 'CONCEALED', concealed: true, reference: 'op://Infra/GitHub/9F3A6C1E2B7D4A58B0C1D2E3F4A5B6C7' }),
    field('na\u00efve \u202egnp.exe\n', { id: 'bidi7kqz2mxv4wbn8hry5ldaqc', reference: 'op://Infra/GitHub/bidi7kqz2mxv4wbn8hry5ldaqc' }),
  ],
};

describe('formatItemDescription: text', () => {
  it('prints the item, the vault and a table of label, type, section and reference', () => {
    expect(formatItemDescription(github, { format: 'text' })).toBe(
      [
        'item: GitHub (id ghub7kqz2mxv4wbn8hry5ldaqc)',
        'category: LOGIN',
        'vault: Infra (id k7qmv3xnhb2wrt5yzlc4pd8fja)',
        'fields: 7',
        '  LABEL                  TYPE       SECTION   REFERENCE',
        '  username               STRING     -         op://Infra/GitHub/username',
        '  password               CONCEALED  -         op://Infra/GitHub/password',
        '  notesPlain             STRING     -         op://Infra/GitHub/notesPlain',
        '  api token              CONCEALED  API       op://Infra/GitHub/API/api token',
        '  path                   STRING     add more  op://Infra/GitHub/add more/path',
        '  (no label)             CONCEALED  -         op://Infra/GitHub/9F3A6C1E2B7D4A58B0C1D2E3F4A5B6C7',
        '  naïve \\u202egnp.exe\\n  STRING     -         op://Infra/GitHub/bidi7kqz2mxv4wbn8hry5ldaqc',
        '',
      ].join('\n'),
    );
  });

  it('says (none) for an item without fields, escapes titles and clips long labels', () => {
    const empty = { ...github, item: { ...github.item, title: 'Evil\u001b[31m title' }, fields: [] };
    expect(formatItemDescription(empty, { format: 'text' })).toBe(
      'item: Evil\\x1b[31m title (id ghub7kqz2mxv4wbn8hry5ldaqc)\ncategory: LOGIN\nvault: Infra (id k7qmv3xnhb2wrt5yzlc4pd8fja)\nfields: (none)\n',
    );
    const long = formatItemDescription({ ...github, fields: [field('x'.repeat(300))] }, { format: 'text' });
    expect(long.split('\n')[5]).toMatch(/^ {2}x{40}…\[clipped: 260 more characters\] {2}STRING {2}- {8}op:\/\/Infra\/GitHub\/x{300}$/);
  });
});

describe('formatItemDescription: json', () => {
  it('prints schema_version, vault, item and fields with their env names', () => {
    const json = formatItemDescription(github, { format: 'json', prefix: 'gh' });
    expect(json.startsWith('{\n  "schema_version": "1",')).toBe(true);
    const document = JSON.parse(json) as { vault: unknown; item: unknown; fields: Array<Record<string, unknown>> };
    expect(Object.keys(document)).toEqual(['schema_version', 'vault', 'item', 'fields']);
    expect(document.vault).toEqual(github.vault);
    expect(document.item).toEqual(github.item);
    expect(document.fields[3]).toEqual({
      label: 'api token',
      id: 'apitokenid',
      type: 'CONCEALED',
      purpose: null,
      section: 'API',
      section_id: 'Section_9c1e',
      concealed: true,
      reference: 'op://Infra/GitHub/API/api token',
      env_name: 'GH_API_TOKEN',
    });
    expect(document.fields.map((f) => f.env_name)).toEqual(['GH_USERNAME', 'GH_PASSWORD', 'GH_NOTES', 'GH_API_TOKEN', 'GH_PATH', 'GH_9F3A6C1E2B7D4A58B0C1D2E3F4A5B6C7', 'GH_NAIVE_GNP_EXE']);
    // Without a prefix PATH cannot carry a secret: no env name is offered.
    const plain = JSON.parse(formatItemDescription(github, { format: 'json' })) as { fields: Array<{ env_name: string | null }> };
    expect(plain.fields.map((f) => f.env_name)).toEqual(['USERNAME', 'PASSWORD', 'NOTES', 'API_TOKEN', null, '_9F3A6C1E2B7D4A58B0C1D2E3F4A5B6C7', 'NAIVE_GNP_EXE']);
  });
});

describe('formatItemDescription: env-refs', () => {
  it('prints NAME=reference lines, quoted for a shell, and comments out names that cannot carry a secret', () => {
    expect(formatItemDescription(github, { format: 'env-refs' })).toBe(
      [
        '# GitHub in Infra: 1Password references, no values',
        'USERNAME=op://Infra/GitHub/username',
        'PASSWORD=op://Infra/GitHub/password',
        'NOTES=op://Infra/GitHub/notesPlain',
        "API_TOKEN='op://Infra/GitHub/API/api token'",
        "# PATH='op://Infra/GitHub/add more/path' skipped: PATH controls what the child runs, loads or trusts (location) and cannot carry a secret; pick another name; rename it or pass --prefix",
        '_9F3A6C1E2B7D4A58B0C1D2E3F4A5B6C7=op://Infra/GitHub/9F3A6C1E2B7D4A58B0C1D2E3F4A5B6C7',
        'NAIVE_GNP_EXE=op://Infra/GitHub/bidi7kqz2mxv4wbn8hry5ldaqc',
        '',
      ].join('\n'),
    );
    expect(formatItemDescription(github, { format: 'env-refs', prefix: 'GITHUB_' }).split('\n').slice(1, 6)).toEqual([
      'GITHUB_USERNAME=op://Infra/GitHub/username',
      'GITHUB_PASSWORD=op://Infra/GitHub/password',
      'GITHUB_NOTES=op://Infra/GitHub/notesPlain',
      "GITHUB_API_TOKEN='op://Infra/GitHub/API/api token'",
      "GITHUB_PATH='op://Infra/GitHub/add more/path'",
    ]);
    expect(formatItemDescription({ ...github, fields: [] }, { format: 'env-refs' })).toBe('# GitHub in Infra: 1Password references, no values\n# (no fields)\n');
  });

  it('is an env file agent-secret reads back to the same references', () => {
    const text = formatItemDescription(github, { format: 'env-refs', prefix: 'gh' });
    const parsed = parseEnvFileText(text, 'item.env');
    if (!parsed.ok) throw parsed.error;
    expect(parsed.result.plain).toEqual([]);
    expect(Object.fromEntries(parsed.result.secrets.map((s) => [s.alias, s.ref]))).toEqual({
      GH_USERNAME: 'op://Infra/GitHub/username',
      GH_PASSWORD: 'op://Infra/GitHub/password',
      GH_NOTES: 'op://Infra/GitHub/notesPlain',
      GH_API_TOKEN: 'op://Infra/GitHub/API/api token',
      GH_PATH: 'op://Infra/GitHub/add more/path',
      GH_9F3A6C1E2B7D4A58B0C1D2E3F4A5B6C7: 'op://Infra/GitHub/9F3A6C1E2B7D4A58B0C1D2E3F4A5B6C7',
      GH_NAIVE_GNP_EXE: 'op://Infra/GitHub/bidi7kqz2mxv4wbn8hry5ldaqc',
    });
  });

  it('refuses a bad prefix in every format', () => {
    for (const format of ITEM_FORMATS) expect(() => formatItemDescription(github, { format, prefix: 'LD' })).toThrow(AgentSecretError);
  });
});

describe('env names', () => {
  const names = (labels: Array<string | [string, string] | [string, string, string]>, prefix?: string) =>
    deriveEnvNames(
      labels.map((l) => (typeof l === 'string' ? { label: l, id: 'fieldid' } : { label: l[0], id: l[1], ...(l[2] === undefined ? {} : { purpose: l[2] }) })),
      prefix,
    ).map((n) => (n.denied === null ? n.name : `denied:${n.name}`));

  const table: Array<[string, Array<string | [string, string] | [string, string, string]>, string | undefined, string[]]> = [
    ['upper-cases, non-alphanumeric runs become one _', ['api token', 'API-Token/v2', 'a__b--c', '  spaced  out  ', 'x.y@z'], undefined, ['API_TOKEN', 'API_TOKEN_V2', 'A_B_C', 'SPACED_OUT', 'X_Y_Z']],
    ['accents are folded, other scripts dropped', ['naïve café', 'Ünïcødé key', '日本語 token'], undefined, ['NAIVE_CAFE', 'UNIC_DE_KEY', 'TOKEN']],
    ['a leading digit gets _ without a prefix', ['2fa code', '123'], undefined, ['_2FA_CODE', '_123']],
    ['a leading digit after a prefix needs nothing', ['2fa code'], 'gh', ['GH_2FA_CODE']],
    ['no usable label: the ID, then FIELD', [['', 'hu4vwo3bjkawq2uw2fkn5pkjzu'], ['日本語', 'TOTP_abc'], ['✓', '✓']], undefined, ['HU4VWO3BJKAWQ2UW2FKN5PKJZU', 'TOTP_ABC', 'FIELD']],
    ["op's notes field is NOTES", [['notesPlain', 'notesPlain', 'NOTES'], ['notesPlain', 'x']], undefined, ['NOTES', 'NOTESPLAIN']],
    ['collisions get _2, _3 in field order', ['token', 'Token', 'TOKEN!', 'token 2'], undefined, ['TOKEN', 'TOKEN_2', 'TOKEN_3', 'TOKEN_2_2']],
    ['denylisted names are refused, not renamed', ['path', 'ld preload', 'Agent Secret Token', 'node options', 'home'], undefined, ['denied:PATH', 'denied:LD_PRELOAD', 'denied:AGENT_SECRET_TOKEN', 'denied:NODE_OPTIONS', 'denied:HOME']],
    ['a refused name takes no slot', ['path', 'path', 'token'], undefined, ['denied:PATH', 'denied:PATH', 'TOKEN']],
    ['a prefix makes them usable', ['path', 'ld preload'], 'Deploy', ['DEPLOY_PATH', 'DEPLOY_LD_PRELOAD']],
  ];
  for (const [name, labels, prefix, expected] of table) {
    it(name, () => expect(names(labels, prefix)).toEqual(expected));
  }

  it('keeps long names under the alias limit, still unique', () => {
    const derived = deriveEnvNames([{ label: 'k'.repeat(500), id: 'a' }, { label: 'k'.repeat(400), id: 'b' }], 'P'.repeat(64));
    for (const d of derived) {
      expect(d.denied).toBeNull();
      expect(validateAlias(d.name)).toEqual({ ok: true });
    }
    expect(new Set(derived.map((d) => d.name)).size).toBe(2);
  });

  it('validates --prefix', () => {
    const good: Array<[string, string]> = [
      ['gh', 'GH'],
      ['GH_', 'GH'],
      ['_svc', '_SVC'],
      ['My_App2', 'MY_APP2'],
    ];
    for (const [input, output] of good) expect(checkEnvPrefix(input)).toBe(output);
    const bad: Array<[string, string]> = [
      ['', 'letters, digits and _'],
      ['1X', 'must not start with a digit'],
      ['a-b', 'letters, digits and _'],
      ['_', 'a letter or digit'],
      ['x'.repeat(65), 'at most 64'],
      ['LD', 'cannot carry a secret'],
      ['dyld', 'cannot carry a secret'],
      ['agent_secret', 'cannot carry a secret'],
      ['GIT_CONFIG', 'cannot carry a secret'],
    ];
    for (const [input, fragment] of bad) {
      let error: unknown;
      try {
        checkEnvPrefix(input);
      } catch (e) {
        error = e;
      }
      expect(error, input).toBeInstanceOf(AgentSecretError);
      expect((error as AgentSecretError).code).toBe('usage.invalid');
      expect((error as AgentSecretError).details).toEqual({ flag: '--prefix' });
      expect((error as AgentSecretError).message, input).toContain(fragment);
    }
  });

  it('property: offered names are valid aliases, unique, and stable', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ label: fc.string({ unit: 'binary', maxLength: 40 }), id: fc.string({ maxLength: 30 }) }), { maxLength: 30 }), fc.option(fc.constantFrom('gh', 'APP_', '_x')), (fields, prefix) => {
        const derived = deriveEnvNames(fields, prefix ?? undefined);
        expect(derived).toEqual(deriveEnvNames(fields, prefix ?? undefined));
        const offered = derived.filter((d) => d.denied === null).map((d) => d.name);
        for (const name of offered) expect(validateAlias(name)).toEqual({ ok: true });
        expect(new Set(offered).size).toBe(offered.length);
      }),
    );
  });
});

// ---- no value survives: op JSON full of values in, any format out -------------------------------

const token = fc.stringMatching(/^[0-9a-f]{16}$/).map((hex) => `VALUEMARK${hex}`);
const secret = fc.tuple(token, fc.string({ unit: 'binary', maxLength: 12 })).map(([t, junk]) => `${t}${junk}`);
const opId = fc.oneof(fc.stringMatching(/^[a-z0-9]{26}$/), fc.constantFrom('username', 'password', 'notesPlain', 'add more', 'Section_4ad1f0c39e2b', 'TOTP_q3xv8mz'));
const label = fc.oneof(
  fc.constantFrom('username', 'password', 'notesPlain', 'path', 'token', 'api token', 'test/', '', 'one-time password'),
  fc.string({ unit: 'binary', maxLength: 24 }),
);
const section = fc.record({ id: opId, label: fc.option(label, { nil: undefined }) }, { requiredKeys: ['id'] });
const opField = fc.record(
  {
    id: opId,
    type: fc.constantFrom('STRING', 'CONCEALED', 'OTP', 'URL', 'EMAIL', 'SSHKEY', 'MENU'),
    purpose: fc.constantFrom('USERNAME', 'PASSWORD', 'NOTES'),
    label,
    value: secret,
    totp: fc.stringMatching(/^VALUEMARK[0-9]{6}$/),
    entropy: fc.double({ noNaN: true }),
    password_details: fc.record({ entropy: fc.nat(), generated: fc.boolean(), strength: secret }),
    reference: fc.oneof(fc.constant('op://x/y/z'), secret),
    section,
    x_unknown: secret,
  },
  { requiredKeys: ['id', 'type', 'value'] },
);
const opItem = fc.record({
  title: fc.string({ unit: 'binary', maxLength: 30 }),
  category: fc.constantFrom('LOGIN', 'PASSWORD', 'API_CREDENTIAL', 'SECURE_NOTE'),
  vaultName: fc.string({ unit: 'binary', maxLength: 20 }),
  additional_information: secret,
  urls: fc.array(fc.record({ label: fc.constantFrom('website', 'login'), primary: fc.boolean(), href: secret }), { maxLength: 2 }),
  sections: fc.array(section, { maxLength: 4 }),
  fields: fc.array(opField, { maxLength: 12 }),
  files: fc.array(fc.record({ id: opId, name: label, size: fc.nat(), content: secret, section }, { requiredKeys: ['id', 'name', 'content'] }), { maxLength: 2 }),
  tags: fc.array(secret, { maxLength: 2 }),
  x_unknown: secret,
});

// Every string under a key that carries a value, at any depth.
function valuesIn(node: unknown, key = ''): string[] {
  if (typeof node === 'string') return ['value', 'totp', 'strength', 'href', 'additional_information', 'content', 'x_unknown', 'tags'].includes(key) ? [node] : [];
  if (Array.isArray(node)) return node.flatMap((child) => valuesIn(child, key));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, child]) => valuesIn(child, k === '' ? key : k));
}

// Controls, bidi, zero-width and separators must be escaped in text meant for a terminal.
const RAW_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

describe('property: formatItemDescription never prints a value from op output', () => {
  it('holds for every format and prefix, and values are gone right after parsing', () => {
    fc.assert(
      fc.property(opItem, fc.option(fc.constantFrom('gh', 'SVC_'), { nil: undefined }), (generated, prefix) => {
        const { vaultName, ...rest } = generated;
        const json = { id: 'itm4kq2z7mxv3wbn8hry5ldaqc', version: 3, vault: { id: 'vlt4kq2z7mxv3wbn8hry5ldaqc', name: vaultName }, ...rest };
        const values = valuesIn(json);
        const tokens = [...new Set(values.flatMap((v) => v.match(/VALUEMARK[0-9a-f]+/g) ?? []))];
        expect(tokens.length).toBeGreaterThan(0);
        const ref = parseItemRef('op://vlt4kq2z7mxv3wbn8hry5ldaqc/itm4kq2z7mxv3wbn8hry5ldaqc');
        if (!ref.ok) throw new Error(ref.message);

        const desc = parseItemJson(JSON.stringify(json, null, 2), ref.ref);
        const outputs = [JSON.stringify(desc), ...ITEM_FORMATS.map((format: ItemFormat) => formatItemDescription(desc, { format, ...(prefix === undefined ? {} : { prefix }) }))];
        for (const output of outputs) {
          expect(output).not.toContain('VALUEMARK');
          expect(values.filter((value) => value.length >= 9 && output.includes(value))).toEqual([]);
        }
        // Every field and file is listed, each with a reference op accepts, unique within the item.
        expect(desc.fields.length).toBeLessThanOrEqual(rest.fields.length + rest.files.length);
        expect(desc.fields.filter((f) => !parseRef(f.reference).ok)).toEqual([]);
        const [text, , envRefs] = outputs.slice(1);
        expect(`${text ?? ''}${envRefs ?? ''}`.split('\n').filter((line) => RAW_UNSAFE.test(line))).toEqual([]);
        const envFile = parseEnvFileText(envRefs ?? '', 'item.env');
        if (!envFile.ok) throw envFile.error;
        expect(envFile.result.plain).toEqual([]);
        const references = new Set(desc.fields.map((f) => f.reference));
        expect(envFile.result.secrets.filter((entry) => !references.has(entry.ref))).toEqual([]);
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});
