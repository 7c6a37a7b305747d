// Files an attacker with write access to a repo can place, generated here (never committed):
// each shape the yaml library cannot take cheaply is refused by the pre-scan with a positioned
// yaml.limit issue (config.invalid, exit 2) before the parser runs; files of normal shape near
// the limits still load. No test asserts a time: the figures are in the commit messages.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isMap, isSeq, parseDocument, type Node } from 'yaml';
import { loadConfig, parseConfigText, parseEnvFileText, type ConfigIssue } from '../../../src/config/index.js';
import { MAX_ENV_FILE_LINES } from '../../../src/config/env-file.js';
import { parseUserConfig } from '../../../src/config/user-config.js';
import { checkYamlLimits, YAML_LIMITS } from '../../../src/config/yaml-limits.js';
import { AgentSecretError } from '../../../src/core/errors.js';

const FILE = 'agent-secret.yml';
const VALID_TAIL = 'profiles:\n  p:\n    secrets:\n      A: op://v/i/f\n';
const lines = (count: number, line: (i: number) => string): string => Array.from({ length: count }, (_, i) => `${line(i)}\n`).join('');

function limitIssue(text: string): ConfigIssue {
  const result = parseConfigText(text, FILE);
  if (result.ok) throw new Error('expected the file to be refused');
  expect(result.issues).toHaveLength(1);
  const [issue] = result.issues as [ConfigIssue];
  expect(issue.code).toBe('yaml.limit');
  return issue;
}

// Each shape, the line:col where the first limit is crossed, and the words naming the limit.
const HOSTILE: Array<[name: string, text: string, at: string, words: string]> = [
  ['deep flow nesting (1M brackets in the issue)', `a: ${'['.repeat(200_000)}`, '1:35', 'nests deeper than 64 levels'],
  ['deep flow nesting, closed', `a: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`, '1:35', 'nests deeper than 64 levels'],
  ['deep mixed flow nesting', `a: ${'[{'.repeat(1_000)}${'}]'.repeat(1_000)}\n`, '1:46', 'nests deeper than 64 levels'],
  ['deep block sequences (ever deeper "- ")', lines(1_400, (i) => `${' '.repeat(i)}- `), '65:65', 'nests deeper than 64 levels'],
  ['deep block mappings', lines(1_400, (i) => `${' '.repeat(i)}k:`), '65:65', 'nests deeper than 64 levels'],
  ['ever deeper "- " lines inside brackets', `a: [\n${lines(300, (i) => `${' '.repeat(i + 1)}- `)}`, '63:63', 'nests deeper than 64 levels'],
  ['"[- " over and over', `a: ${'[- '.repeat(100)}\n`, '1:67', 'nests deeper than 64 levels'],
  ['compact nested sequences on one line', `${'- '.repeat(100)}x\n`, '1:129', 'nests deeper than 64 levels'],
  ['nesting hidden after a plain scalar with a quote', `a: [it's, ${'['.repeat(100)}${']'.repeat(100)}]\n`, '1:41', 'nests deeper than 64 levels'],
  ['many keys in a block mapping (99k in the issue)', lines(20_000, (i) => `k${i}: 1`), '2001:1', 'more than 2000 lines'],
  ['many keys in one flow mapping', `a: {${Array.from({ length: 20_000 }, (_, i) => `k${i}: 1`).join(', ')}}\n`, '1:23890', 'more than 2500 mapping keys'],
  ['many list items', `a: [${'1,'.repeat(20_000)}]\n`, '1:10002', 'more than 10000 YAML nodes'],
  ['many commas', `a: [${','.repeat(400_000)}]\n`, '1:10002', 'more than 10000 YAML nodes'],
  ['many lines of comments', lines(100_000, () => '#'), '2001:1', 'more than 2000 lines'],
  ['many anchors', `a: [${Array.from({ length: 1_000 }, (_, i) => `&a${i} 1`).join(', ')}]\n`, '1:795', 'more than 100 anchors'],
  ['many aliases', `x: &x 1\na: [${'*x, '.repeat(1_000)}]\n`, '2:405', 'more than 100 aliases'],
  ['a long plain value', `version: 1\nx: ${'a'.repeat(900_000)}\n`, '2:4', 'a value longer than 8192 characters'],
  ['a long quoted value', `version: 1\nx: "${'\\t'.repeat(400_000)}"\n`, '2:4', 'a value longer than 8192 characters'],
  ['a long block scalar', `x: |\n${lines(1_500, () => `  ${'a'.repeat(700)}`)}`, '2:1', 'a value longer than 8192 characters'],
  ['many tags', `a: [${'!t 1, '.repeat(5_000)}]\n`, '1:20000', 'more than 10000 YAML nodes'],
];

describe('agent-secret.yml of hostile shape', () => {
  it.each(HOSTILE)('refuses %s before parsing, naming the file, the place and the limit', (_name, text, at, words) => {
    const issue = limitIssue(text);
    expect(`${issue.line}:${issue.col}`).toBe(at);
    expect(issue.message).toBe(`${FILE}:${at}: the file ${checkYamlLimits(text)?.problem}`);
    expect(issue.message).toContain(words);
    expect(issue.hint).toContain('docs/security.md, "Limits"');
  });

  const dir = mkdtempSync(join(tmpdir(), 'agent-secret-hostile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(HOSTILE.filter(([, text]) => text.length <= 1024 * 1024))('loadConfig refuses %s with config.invalid (exit 2)', async (_name, text, at, words) => {
    const path = join(dir, 'agent-secret.yml');
    writeFileSync(path, text);
    const error = await loadConfig(path).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AgentSecretError);
    expect(error).toMatchObject({ code: 'config.invalid', exitCode: 2, details: { file: path } });
    expect((error as AgentSecretError).message).toBe(`${path}:${at}: the file ${checkYamlLimits(text)?.problem}`);
    expect((error as AgentSecretError).message).toContain(words);
  });

  it('does not count brackets, quotes or # inside quoted scalars, comments or block scalars', () => {
    const text = [
      'version: 1',
      `# ${'['.repeat(500)}`,
      `x: "${'['.repeat(500)} # ' {"`,
      `y: '${'{'.repeat(500)} "'`,
      'z: |',
      `  ${'['.repeat(500)}`,
      `w: a[b{c ${'['.repeat(100)}`,
      VALID_TAIL,
    ].join('\n');
    expect(checkYamlLimits(text)).toBeNull();
    expect(parseConfigText(text, FILE)).toMatchObject({ ok: false, issues: [{ code: 'schema.unknown_key' }, { code: 'schema.unknown_key' }, { code: 'schema.unknown_key' }, { code: 'schema.unknown_key' }] });
  });

  it('accepts files of real shape up to the limits', () => {
    const secrets = lines(1_900, (i) => `      K${i}: op://vault/item/field${i}`);
    const big = parseConfigText(`version: 1\nprofiles:\n  p:\n    reason: many\n    secrets:\n${secrets}`, FILE);
    expect(big.ok && big.config.profiles.get('p')?.secrets).toHaveLength(1_900);

    const deepFlow = `version: 1\nx: ${'['.repeat(31)}${']'.repeat(31)}\n${VALID_TAIL}`;
    expect(checkYamlLimits(deepFlow)).toBeNull();
    const deepBlock = `version: 1\n${VALID_TAIL}x:\n${lines(62, (i) => `${' '.repeat(i + 1)}k:`)}`;
    expect(checkYamlLimits(deepBlock)).toBeNull();
    // Both reach yaml, which reads them (the schema refuses the unknown key x).
    expect(limitFree(deepFlow)).toBe('schema.unknown_key');
    expect(limitFree(deepBlock)).toBe('schema.unknown_key');
  });

  it('reports a duplicate key in any mapping, block or flow, at the repeated key', () => {
    const block = `version: 1\n${VALID_TAIL}${lines(1_900, (i) => `k${i % 1_899}: 1`).replace(/^/, 'x:\n').replace(/^k/gm, '  k')}`;
    const issue = parseConfigText(block, FILE);
    expect(issue).toMatchObject({ ok: false, issues: [{ code: 'yaml.duplicate_key', line: 1906, col: 3 }] });
    expect(!issue.ok && issue.issues[0]?.message).toBe(`${FILE}:1906:3: duplicate key; each key may appear only once in a mapping`);
    const flow = parseConfigText(`version: 1\n${VALID_TAIL}x:\n  - {a: 1, b: {c: 1, c: 2}}\n  - {a: 1, a: 2}\n`, FILE);
    expect(flow).toMatchObject({ ok: false, issues: [{ code: 'yaml.duplicate_key', line: 7, col: 22 }, { code: 'yaml.duplicate_key', line: 8, col: 12 }] });
  });

  it('never throws, and every file it passes is read by the parser without a crash (property)', () => {
    const piece = fc.constantFrom('[', ']', '{', '}', '"', "'", ':', ': ', ' ', '  ', '\n', '\n  ', '- ', '? ', '#', ',', '&a ', '*a', '!t ', '|', '>', '\\', 'k', 'op://v/i/f', '\t', '\r\n', '---\n');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 300 }), fc.integer({ min: 0, max: 150 }), (pieces, brackets) => {
        const text = pieces.join('') + '['.repeat(brackets) + pieces.slice(0, 20).join('');
        const over = checkYamlLimits(text);
        const result = parseConfigText(text, FILE);
        if (over !== null) {
          expect(result).toMatchObject({ ok: false, issues: [{ code: 'yaml.limit' }] });
          return;
        }
        // Passed: yaml parses it (ok or positioned issues), and it nests no deeper than the limit.
        expect(typeof result.ok).toBe('boolean');
        expect(nesting(parseDocument(text, { uniqueKeys: false }).contents)).toBeLessThanOrEqual(YAML_LIMITS.depth);
      }),
      { numRuns: 500 },
    );
  });
});

function limitFree(text: string): string | undefined {
  const result = parseConfigText(text, FILE);
  return result.ok ? 'ok' : result.issues[0]?.code;
}

// Collection nesting of what yaml composed, without recursion.
function nesting(root: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (isSeq(node)) {
      deepest = Math.max(deepest, depth);
      for (const item of node.items) stack.push([item, depth + 1]);
    } else if (isMap(node)) {
      deepest = Math.max(deepest, depth);
      for (const pair of node.items) stack.push([pair.key as Node, depth + 1], [pair.value as Node, depth + 1]);
    }
  }
  return deepest;
}

describe('user config of hostile shape', () => {
  const USER_FILE = '/home/u/.config/agent-secret/config.yml';
  const refusal = (text: string): AgentSecretError => {
    try {
      parseUserConfig(text, USER_FILE);
    } catch (error) {
      expect(error).toBeInstanceOf(AgentSecretError);
      return error as AgentSecretError;
    }
    throw new Error('expected a refusal');
  };

  it.each([
    ['deep flow nesting', `version: 1\napprover: ${'['.repeat(60_000)}`, '2:42', 'nests deeper than 64 levels'],
    ['many lines', `version: 1\n${lines(5_000, (i) => `k${i}: 1`)}`, '2001:1', 'more than 2000 lines'],
    ['many keys', `version: 1\nx: {${Array.from({ length: 3_000 }, (_, i) => `k${i}: 1`).join(', ')}}\n`, '2:23880', 'more than 2500 mapping keys'],
  ])('refuses %s with user_config.invalid', (_name, text, at, words) => {
    const error = refusal(text);
    expect(error.code).toBe('user_config.invalid');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`${USER_FILE}:${at}: yaml: the file ${checkYamlLimits(text)?.problem}`);
    expect(error.message).toContain(words);
  });

  it('still reports the first duplicate key, before a later syntax error', () => {
    expect(refusal('version: 1\nversion: 1\nx: [\n').message).toBe(`${USER_FILE}:2:1: yaml: not valid YAML (duplicate key)`);
    expect(refusal('x: [\nversion: 1\nversion: 1\n').message).toMatch(/^\/home\/u\/\.config\/agent-secret\/config\.yml:\d+:\d+: yaml: not valid YAML \((?!duplicate)/);
  });
});

describe('env files of hostile shape', () => {
  it(`refuses more than ${MAX_ENV_FILE_LINES} lines, naming the file and the limit`, () => {
    for (const text of ['\n'.repeat(1_000_000), '\r'.repeat(1_000_000), lines(100_000, (i) => `K${i}=v`)]) {
      const result = parseEnvFileText(text, '.env');
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.error).toMatchObject({ code: 'env_file.invalid', exitCode: 2, details: { file: '.env', line: 5_001 } });
      expect(result.error.message).toBe('.env:5001: the env file has more than 5000 lines');
    }
  });

  it('accepts exactly the limit, with or without a final line break', () => {
    const text = lines(MAX_ENV_FILE_LINES, (i) => `K${i}=v`);
    expect(parseEnvFileText(text, '.env')).toMatchObject({ ok: true });
    expect(parseEnvFileText(text.slice(0, -1), '.env')).toMatchObject({ ok: true });
  });

  it('decodes values of many escapes in one pass, pairing backslashes from the left', () => {
    const cases: Array<[string, string]> = [
      ['"a\\nb"', 'a\nb'],
      ['"\\\\n"', '\\n'],
      ['"\\\\\\n"', '\\\n'],
      ['"\\"\\$\\t\\r"', '"$\t\r'],
      ['"\\\\\\\\"', '\\\\'],
      [`"${'\\n'.repeat(300_000)}"`, '\n'.repeat(300_000)],
      [`"${'x\\\\\\ty'.repeat(50_000)}"`, 'x\\\ty'.repeat(50_000)],
    ];
    for (const [value, expected] of cases) {
      const result = parseEnvFileText(`A=${value}\n`, '.env');
      expect(result.ok && result.result.plain[0]?.value === expected).toBe(true);
    }
    const unknown = parseEnvFileText(`A="${'\\n'.repeat(300_000)}\\q"\n`, '.env');
    expect(!unknown.ok && unknown.error.message).toContain('.env:1: A: unknown escape');
    const unclosed = parseEnvFileText(`A="${'x'.repeat(1_000_000)}\n`, '.env');
    expect(!unclosed.ok && unclosed.error.message).toBe('.env:1: A: the quoted value is not closed on this line');
  });

  it('still refuses a raw NUL inside a value with escapes', () => {
    const result = parseEnvFileText('A="x\\n\0\\\\"\n', '.env');
    expect(!result.ok && result.error.message).toContain('NUL');
  });
});
