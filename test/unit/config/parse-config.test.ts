// Every load-time rule of agent-secret.yml, one line per case: the issue code, its position
// (line:col) and the key path shown. Each case must produce exactly that one issue.

import { describe, expect, it } from 'vitest';
import { parseConfigText, type ConfigIssue } from '../../../src/config/index.js';
import { ruleIssues } from '../../../src/config/rules.js';

const FILE = 'agent-secret.yml';
const y = (...lines: string[]): string => `${lines.join('\n')}\n`;
/** A file with version: 1 and the given lines under `profiles:` (profile lines start at line 3). */
const p = (...lines: string[]): string => y('version: 1', 'profiles:', ...lines);
const A = '    secrets: {A: op://v/i/f}';

function issuesOf(text: string): ConfigIssue[] {
  const result = parseConfigText(text, FILE);
  if (result.ok) throw new Error('expected issues, got a valid config');
  return result.issues;
}

const where = (issue: ConfigIssue) => ({ code: issue.code, at: `${issue.line}:${issue.col}`, key: issue.key ?? '' });

type Case = [name: string, text: string, code: ConfigIssue['code'], at: string, key: string];

const cases: Case[] = [
  // structure
  ['version missing', y('profiles:', '  p:', A), 'schema.required', '1:1', 'version'],
  ['version 2', y('version: 2', 'profiles:', '  p:', A), 'schema.version', '1:10', 'version'],
  ['version as text', y('version: "1"', 'profiles:', '  p:', A), 'schema.version', '1:10', 'version'],
  ['unknown top-level key', y('version: 1', 'sources: {}', 'profiles:', '  p:', A), 'schema.unknown_key', '2:1', ''],
  ['unknown profile key', p('  p:', '    secret: {A: op://v/i/f}'), 'schema.unknown_key', '4:5', 'profiles.p'],
  ['unknown secret field', p('  p:', '    secrets:', '      A: {ref: op://v/i/f, source: x}'), 'schema.unknown_key', '5:28', 'profiles.p.secrets.A'],
  ['profiles missing', y('version: 1'), 'schema.required', '1:1', 'profiles'],
  ['profiles empty', y('version: 1', 'profiles: {}'), 'profiles.empty', '2:11', 'profiles'],
  ['root is a list', y('- a'), 'schema.type', '1:1', ''],
  ['empty file', '', 'schema.type', '1:1', ''],
  ['profile is empty value', p('  p:'), 'schema.type', '3:3', 'profiles.p'],
  ['secrets is a list', p('  p:', '    secrets: [op://v/i/f]'), 'schema.type', '4:14', 'profiles.p.secrets'],
  ['secret is a number', p('  p:', '    secrets:', '      A: 42'), 'schema.type', '5:10', 'profiles.p.secrets.A'],
  ['secret is empty', p('  p:', '    secrets:', '      A:'), 'schema.type', '5:7', 'profiles.p.secrets.A'],
  ['object secret without ref', p('  p:', '    secrets:', '      A: {account: acct}'), 'ref.invalid', '5:10', 'profiles.p.secrets.A'],
  // logical names (the user config's names: gives the reference)
  ['name and ref both', p('  p:', '    secrets:', '      A: {ref: op://v/i/f, name: openai_key}'), 'ref.invalid', '5:28', 'profiles.p.secrets.A.name'],
  ['name with an account', p('  p:', '    secrets:', '      A: {name: openai_key, account: work}'), 'account.invalid', '5:29', 'profiles.p.secrets.A.account'],
  ['name not a name', p('  p:', '    secrets:', '      A: {name: "op://v/i/f"}'), 'ref.invalid', '5:17', 'profiles.p.secrets.A.name'],
  ['reason is a number', p('  p:', '    reason: 42', A), 'schema.type', '4:13', 'profiles.p.reason'],
  ['include is text', p('  a:', '    include: b', A, '  b:', A), 'schema.type', '4:14', 'profiles.a.include'],
  ['include entry is a number', p('  a:', '    include: [1]', A), 'schema.type', '4:15', 'profiles.a.include[0]'],
  // names and aliases
  ['profile name shape', p('  -bad:', A), 'profile.name', '3:3', 'profiles'],
  ['profile name too long', p(`  ${'x'.repeat(65)}:`, A), 'profile.name', '3:3', 'profiles'],
  ['alias lowercase', p('  p:', '    secrets:', '      api_token: op://v/i/f'), 'alias.invalid', '5:7', 'profiles.p.secrets.api_token'],
  ['alias with dash (hidden)', p('  p:', '    secrets:', '      API-TOKEN: op://v/i/f'), 'alias.invalid', '5:7', 'profiles.p.secrets'],
  ['alias PATH denied', p('  p:', '    secrets:', '      PATH: op://v/i/f'), 'alias.invalid', '5:7', 'profiles.p.secrets.PATH'],
  ['alias LD_ prefix denied', p('  p:', '    secrets:', '      LD_PRELOAD: op://v/i/f'), 'alias.invalid', '5:7', 'profiles.p.secrets.LD_PRELOAD'],
  ['alias NODE_OPTIONS denied', p('  p:', '    secrets:', '      NODE_OPTIONS: op://v/i/f'), 'alias.invalid', '5:7', 'profiles.p.secrets.NODE_OPTIONS'],
  ['alias AGENT_SECRET_ reserved', p('  p:', '    secrets:', '      AGENT_SECRET_X: op://v/i/f'), 'alias.invalid', '5:7', 'profiles.p.secrets.AGENT_SECRET_X'],
  // refs
  ['ref too few segments', p('  p:', '    secrets:', '      A: op://v/i'), 'ref.invalid', '5:10', 'profiles.p.secrets.A'],
  ['ref too many segments (object form)', p('  p:', '    secrets:', '      A: {ref: op://v/i/s/f/x}'), 'ref.invalid', '5:16', 'profiles.p.secrets.A.ref'],
  ['ref is not op://', p('  p:', '    secrets:', '      A: hunter2'), 'ref.invalid', '5:10', 'profiles.p.secrets.A'],
  ['ref empty', p('  p:', '    secrets:', '      A: ""'), 'ref.invalid', '5:10', 'profiles.p.secrets.A'],
  ['ref unknown attribute', p('  p:', '    secrets:', '      A: op://v/i/f?attribute=nope'), 'ref.invalid', '5:10', 'profiles.p.secrets.A'],
  // ttl, reason, account
  ['ttl bare number', p('  p:', '    ttl: 90', A), 'ttl.invalid', '4:10', 'profiles.p.ttl'],
  ['ttl below 10s', p('  p:', '    ttl: 5s', A), 'ttl.invalid', '4:10', 'profiles.p.ttl'],
  ['ttl above 10m', p('  p:', '    ttl: 11m', A), 'ttl.invalid', '4:10', 'profiles.p.ttl'],
  ['ttl not a duration', p('  p:', '    ttl: soon', A), 'ttl.invalid', '4:10', 'profiles.p.ttl'],
  ['reason blank', p('  p:', '    reason: "  "', A), 'reason.invalid', '4:13', 'profiles.p.reason'],
  ['reason over 240', p('  p:', `    reason: ${'x'.repeat(241)}`, A), 'reason.invalid', '4:13', 'profiles.p.reason'],
  ['reason control character', p('  p:', '    reason: "a\\u0007b"', A), 'reason.invalid', '4:13', 'profiles.p.reason'],
  ['top-level account shape', y('version: 1', 'account: "bad account"', 'profiles:', '  p:', A), 'account.invalid', '2:10', 'account'],
  ['profile account shape', p('  p:', '    account: "-x"', A), 'account.invalid', '4:14', 'profiles.p.account'],
  ['secret account shape', p('  p:', '    secrets:', '      A: {ref: op://v/i/f, account: ""}'), 'account.invalid', '5:37', 'profiles.p.secrets.A.account'],
  // includes and default_profile
  ['include unknown', p('  p:', '    include: [base, nope]', A, '  base:', A), 'include.not_found', '4:21', 'profiles.p.include[1]'],
  ['include empty entry', p('  p:', '    include: [""]', A), 'include.not_found', '4:15', 'profiles.p.include[0]'],
  ['include cycle', p('  a:', '    include: [b]', A, '  b:', '    include: [a]'), 'include.cycle', '7:15', 'profiles.b.include[0]'],
  ['include self', p('  a:', '    include: [a]', A), 'include.cycle', '4:15', 'profiles.a.include[0]'],
  ['default_profile unknown', y('version: 1', 'default_profile: nope', 'profiles:', '  p:', A), 'default_profile.not_found', '2:18', 'default_profile'],
  ['profile without secrets', p('  p: {}'), 'profile.empty', '3:3', 'profiles.p'],
  ['profile with reason only', p('  p:', '    reason: just a reason'), 'profile.empty', '3:3', 'profiles.p'],
  // YAML
  ['duplicate key', p('  p:', A, '  p:', A), 'yaml.duplicate_key', '5:3', ''],
  ['tab indentation', y('version: 1', 'profiles:', '\tp: {}'), 'yaml.syntax', '3:1', ''],
  ['unclosed quote', p('  p:', '    reason: "abc', A), 'yaml.syntax', '6:1', ''],
  ['two documents', y('version: 1', '---', 'version: 1'), 'yaml.syntax', '2:1', ''],
  ['tag', p('  p:', '    reason: !secret abc', A), 'yaml.syntax', '4:13', ''],
  ['alias to no anchor', p('  p:', '    secrets: *nope'), 'yaml.alias', '4:14', ''],
  ['alias to its own container', p('  p: &x', '    include: [*x]'), 'yaml.alias', '4:15', ''],
];

describe('parseConfigText: one rule, one issue, at the right place', () => {
  it.each(cases)('%s', (_name, text, code, at, key) => {
    expect(issuesOf(text).map(where)).toEqual([{ code, at, key }]);
  });
});

describe('parseConfigText: messages', () => {
  it('formats <file>:<line>:<col>: <key path>: <problem>', () => {
    const [issue] = issuesOf(p('  deploy:', '    secrets:', '      API_TOKEN: op://v/i'));
    expect(issue?.message).toBe(
      "agent-secret.yml:5:18: profiles.deploy.secrets.API_TOKEN: invalid reference: too few '/': expected op://vault/item[/section]/field",
    );
  });

  it('says what was expected and the kind found, never the value', () => {
    const [issue] = issuesOf(p('  p:', '    reason: 12345', A));
    expect(issue?.message).toBe('agent-secret.yml:4:13: profiles.p.reason: expected one line of text, got a number');
  });

  it('suggests the known key for a misspelt one', () => {
    expect(issuesOf(p('  p:', '    secret: {A: op://v/i/f}'))[0]?.hint).toBe('did you mean secrets?');
  });

  it('hints "write 90s" for a bare number ttl', () => {
    expect(issuesOf(p('  p:', '    ttl: 90', A))[0]?.hint).toBe('write 90s');
  });

  it("a files: entry without ref says its name: is the file's name, not a logical name", () => {
    const [issue] = issuesOf(p('  p:', '    files:', '      KEY: { name: openai_key }'));
    expect(issue?.message).toMatch(/profiles\.p\.files\.KEY\.ref: is required/);
    expect(issue?.hint).toBe("a files: entry needs ref:; its name: is the file's name, not a logical name (names from your config.yml work only under secrets:)");
  });

  it('lists the existing profiles when an include or default_profile names none', () => {
    expect(issuesOf(p('  p:', '    include: [nope]', A, '  base:', A))[0]?.message).toMatch(/include\[0\]: names no profile; profiles: p, base$/);
  });

  it('names the whole cycle', () => {
    const text = p('  a:', '    include: [b]', A, '  b:', '    include: [c]', '  c:', '    include: [a]');
    expect(issuesOf(text).map((i) => i.message.split(': ').slice(-1)[0])).toEqual(['a -> b -> c -> a']);
  });

  it('does not repeat an unknown alias key or its text, and keeps a denied one', () => {
    const [hidden] = issuesOf(p('  p:', '    secrets:', '      my-token: op://v/i/f'));
    expect(hidden?.message).toBe('agent-secret.yml:5:7: profiles.p.secrets: alias must match [A-Z_][A-Z0-9_]*, for example API_TOKEN');
    const [denied] = issuesOf(p('  p:', '    secrets:', '      PATH: op://v/i/f'));
    expect(denied?.message).toContain('"PATH" controls what the child runs');
  });

  it('hides unknown key names', () => {
    expect(issuesOf(y('version: 1', 'sk_live_abc: 1', 'profiles:', '  p:', A))[0]?.message).toBe(
      'agent-secret.yml:2:1: unknown key; expected one of version, account, default_profile, profiles',
    );
  });
});

describe('parseConfigText: all problems at once', () => {
  it('collects every problem, sorted by line then column', () => {
    const text = y(
      'version: 1',
      'default_profile: missing', // 2
      'profiles:',
      '  p:',
      '    ttl: 5s', // 5
      '    reason: 7', // 6
      '    secrets:',
      '      bad-alias: op://v/i', // 8: alias and ref
      '  q:',
      '    include: [p, zzz]', // 10
      'extra: true', // 11
    );
    expect(issuesOf(text).map(where)).toEqual([
      { code: 'default_profile.not_found', at: '2:18', key: 'default_profile' },
      { code: 'ttl.invalid', at: '5:10', key: 'profiles.p.ttl' },
      { code: 'schema.type', at: '6:13', key: 'profiles.p.reason' },
      { code: 'alias.invalid', at: '8:7', key: 'profiles.p.secrets' },
      { code: 'ref.invalid', at: '8:18', key: 'profiles.p.secrets.…' },
      { code: 'include.not_found', at: '10:18', key: 'profiles.q.include[1]' },
      { code: 'schema.unknown_key', at: '11:1', key: '' },
    ]);
  });

  it('reports an include chain deeper than 16 once, at the top profile', () => {
    const lines = Array.from({ length: 18 }, (_, i) => (i < 17 ? `  p${i}: {include: [p${i + 1}]}` : `  p${i}: {secrets: {A: op://v/i/f}}`));
    const issues = issuesOf(p(...lines));
    expect(issues.map(where)).toEqual([{ code: 'include.depth', at: '3:8', key: 'profiles.p0.include' }]);
    expect(issues[0]?.message).toContain('include chain is 17 levels deep (p0 -> p1 -> p2 -> … -> p16 -> p17); at most 16 are allowed');
  });

  it('accepts a chain of exactly 16 includes', () => {
    const lines = Array.from({ length: 17 }, (_, i) => (i < 16 ? `  p${i}: {include: [p${i + 1}]}` : `  p${i}: {secrets: {A: op://v/i/f}}`));
    expect(parseConfigText(p(...lines), FILE).ok).toBe(true);
  });

  it('handles a long include chain without recursion limits', () => {
    // As long as a file within the shape limits can hold (lines, nodes: see yaml-limits.ts) …
    const lines = Array.from({ length: 1000 }, (_, i) => (i < 999 ? `  p${i}: {include: [p${i + 1}]}` : `  p${i}: {secrets: {A: op://v/i/f}}`));
    expect(issuesOf(p(...lines)).map((i) => i.key)).toEqual(['profiles.p0.include']);
    // … and far longer in the rules themselves, which never see the text.
    const profiles = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`p${i}`, i < 19_999 ? { include: [`p${i + 1}`] } : { secrets: { A: 'op://v/i/f' } }]));
    expect(ruleIssues({ version: 1, profiles }).map((issue) => issue.path.join('.'))).toEqual(['profiles.p0.include']);
  });

  it('stops an alias bomb with one issue', () => {
    const bomb = y(
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'version: 1',
      'profiles: {p: {secrets: {A: op://v/i/f}}}',
    );
    expect(issuesOf(bomb).map(where)).toEqual([{ code: 'yaml.alias', at: '1:1', key: '' }]);
  });
});

describe('parseConfigText: valid files', () => {
  it('accepts anchors and aliases', () => {
    const result = parseConfigText(p('  base: &b', '    secrets: {A: op://v/i/f}', '  p: *b'), FILE);
    expect(result.ok && result.config.profileNames).toEqual(['base', 'p']);
  });

  it('keeps profile names in file order, including number-like ones', () => {
    const result = parseConfigText(p('  zeta:', A, '  "10":', A, '  alpha:', A), FILE);
    expect(result.ok && result.config.profileNames).toEqual(['zeta', '10', 'alpha']);
  });

  it('normalizes reason (trimmed) and ttl (seconds), and makes a relative file absolute', () => {
    const result = parseConfigText(p('  p:', '    reason: "  deploy  "', '    ttl: 1m30s', A), FILE);
    if (!result.ok) throw new Error('expected a valid config');
    expect(result.config.path).toMatch(/^\/.*agent-secret\.yml$/);
    expect(result.config.profiles.get('p')).toMatchObject({ reason: 'deploy', ttlSeconds: 90 });
  });
});
