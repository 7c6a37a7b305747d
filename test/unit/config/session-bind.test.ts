// The profile's `session.bind`: the accepted forms and what they mean, every rejected form with
// its issue code, position and key path (never quoting the value), and inheritance through
// includes (the last include that sets it, then the profile's own).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfigText, resolveProfile, type ConfigIssue, type ProjectConfig } from '../../../src/config/index.js';
import type { BindingPolicy } from '../../../src/core/session-bind.js';

const FILE = 'agent-secret.yml';
const y = (...lines: string[]): string => `${lines.join('\n')}\n`;
/** version, profiles:, then profile p with one secret and the given line(s) (the first at line 5). */
const withBind = (...lines: string[]): string => y('version: 1', 'profiles:', '  p:', '    secrets: {A: op://v/i/f}', ...lines);

function config(text: string): ProjectConfig {
  const result = parseConfigText(text, `/project/${FILE}`);
  if (!result.ok) throw new Error(result.issues.map((i) => i.message).join('\n'));
  return result.config;
}

function issuesOf(text: string): ConfigIssue[] {
  const result = parseConfigText(text, FILE);
  if (result.ok) throw new Error('expected issues, got a valid config');
  return result.issues;
}

const where = (issue: ConfigIssue) => ({ code: issue.code, at: `${issue.line}:${issue.col}`, key: issue.key ?? '' });

describe('session.bind: accepted forms', () => {
  it.each<[string, string[], BindingPolicy]>([
    ['auto', ['    session: {bind: auto}'], { mode: 'auto' }],
    ['parent', ['    session: {bind: parent}'], { mode: 'ancestor', depth: 1 }],
    ['ancestor 3', ['    session:', '      bind: {ancestor: 3}'], { mode: 'ancestor', depth: 3 }],
    ['ancestor_name', ['    session:', '      bind:', '        ancestor_name: tmux'], { mode: 'ancestor_name', names: ['tmux'] }],
    ['ancestor_name with spaces kept inside', ['    session: {bind: {ancestor_name: "Visual Studio Code"}}'], { mode: 'ancestor_name', names: ['Visual Studio Code'] }],
    ['ancestor_names, trimmed and collapsed', ['    session: {bind: {ancestor_names: [zsh, " bash ", zsh]}}'], { mode: 'ancestor_name', names: ['zsh', 'bash'] }],
  ])('%s', (_name, lines, expected) => {
    const c = config(withBind(...lines));
    expect(c.profiles.get('p')?.sessionBind).toEqual(expected);
    expect(resolveProfile(c, 'p').sessionBind).toEqual(expected);
  });

  it('leaves sessionBind unset when the profile has no session.bind, or an empty session:', () => {
    expect(resolveProfile(config(withBind()), 'p').sessionBind).toBeUndefined();
    expect(resolveProfile(config(withBind('    session: {}')), 'p').sessionBind).toBeUndefined();
  });
});

type Case = [name: string, lines: string[], code: ConfigIssue['code'], at: string, key: string, problem: RegExp];

const cases: Case[] = [
  ['an unknown word', ['    session: {bind: grandparent}'], 'session.bind', '5:21', 'profiles.p.session.bind', /must be auto, parent, or a mapping with one of ancestor:, ancestor_name:, ancestor_names:$/],
  ['a differently cased word', ['    session: {bind: Parent}'], 'session.bind', '5:21', 'profiles.p.session.bind', /must be auto, parent/],
  ['two keys', ['    session: {bind: {ancestor: 1, ancestor_name: zsh}}'], 'session.bind', '5:21', 'profiles.p.session.bind', /sets ancestor and ancestor_name; set exactly one of/],
  ['an empty mapping', ['    session: {bind: {}}'], 'session.bind', '5:21', 'profiles.p.session.bind', /sets nothing; set exactly one of/],
  ['depth 0', ['    session: {bind: {ancestor: 0}}'], 'session.bind', '5:32', 'profiles.p.session.bind.ancestor', /ancestor depth must be a whole number between 1 and 3/],
  ['depth 4', ['    session: {bind: {ancestor: 4}}'], 'session.bind', '5:32', 'profiles.p.session.bind.ancestor', /between 1 and 3/],
  ['a fractional depth', ['    session: {bind: {ancestor: 1.5}}'], 'session.bind', '5:32', 'profiles.p.session.bind.ancestor', /between 1 and 3/],
  ['a depth as text', ['    session: {bind: {ancestor: "2"}}'], 'schema.type', '5:32', 'profiles.p.session.bind.ancestor', /expected an ancestor depth: 1, 2 or 3, got text/],
  ['a name with a slash', ['    session: {bind: {ancestor_name: /bin/zsh}}'], 'session.bind', '5:37', 'profiles.p.session.bind.ancestor_name', /contains '\/'; expected a basename/],
  ['a blank name', ['    session: {bind: {ancestor_name: "  "}}'], 'session.bind', '5:37', 'profiles.p.session.bind.ancestor_name', /is empty/],
  ['..', ['    session: {bind: {ancestor_name: ".."}}'], 'session.bind', '5:37', 'profiles.p.session.bind.ancestor_name', /is '\.' or '\.\.'/],
  ['a NUL in a name', ['    session: {bind: {ancestor_name: "a\\0b"}}'], 'session.bind', '5:37', 'profiles.p.session.bind.ancestor_name', /NUL/],
  ['a 129-byte name', [`    session: {bind: {ancestor_name: ${'x'.repeat(129)}}}`], 'session.bind', '5:37', 'profiles.p.session.bind.ancestor_name', /longer than 128 bytes/],
  ['a bad name in a list', ['    session: {bind: {ancestor_names: [zsh, a/b]}}'], 'session.bind', '5:44', 'profiles.p.session.bind.ancestor_names[1]', /contains '\/'/],
  ['an empty list', ['    session: {bind: {ancestor_names: []}}'], 'session.bind', '5:38', 'profiles.p.session.bind.ancestor_names', /is empty; list at least one/],
  [
    '17 different names',
    [`    session: {bind: {ancestor_names: [${Array.from({ length: 17 }, (_, i) => `n${i}`).join(', ')}]}}`],
    'session.bind',
    '5:22',
    'profiles.p.session.bind.ancestor_names',
    /lists 17 different names; at most 16/,
  ],
  ['a number in the list', ['    session: {bind: {ancestor_names: [zsh, 5]}}'], 'schema.type', '5:44', 'profiles.p.session.bind.ancestor_names[1]', /expected an executable name such as zsh, got a number/],
  ['names as one word', ['    session: {bind: {ancestor_names: zsh}}'], 'schema.type', '5:38', 'profiles.p.session.bind.ancestor_names', /expected a list of executable names/],
  ['bind as a list', ['    session: {bind: [zsh]}'], 'schema.type', '5:21', 'profiles.p.session.bind', /expected auto, parent, or a mapping with one of ancestor:, ancestor_name:, ancestor_names:, got a list/],
  ['session as a word', ['    session: auto'], 'schema.type', '5:14', 'profiles.p.session', /expected a mapping with bind:, got text/],
  ['an unknown session key', ['    session: {bind: auto, ttl: 2m}'], 'schema.unknown_key', '5:27', 'profiles.p.session', /unknown key; expected one of bind$/],
  ['an unknown bind key', ['    session: {bind: {depth: 2}}'], 'schema.unknown_key', '5:22', 'profiles.p.session.bind', /unknown key; expected one of ancestor, ancestor_name, ancestor_names$/],
];

describe('session.bind: rejected forms', () => {
  it.each(cases)('%s', (_name, lines, code, at, key, problem) => {
    const issues = issuesOf(withBind(...lines));
    expect(issues.map(where)).toEqual([{ code, at, key }]);
    expect(issues[0]?.message).toMatch(problem);
  });

  it('never quotes the rejected value', () => {
    for (const value of ['"CANARY-x/y"', 'CANARY-word', '{ancestor_name: "CANARY/9"}', '{ancestor_names: [ok, "CANARY/1"]}', '{ancestor: CANARY}']) {
      const issues = issuesOf(withBind(`    session: {bind: ${value}}`));
      for (const issue of issues) expect(`${issue.message} ${issue.hint ?? ''} ${issue.key ?? ''}`).not.toContain('CANARY');
    }
  });
});

describe('session.bind: includes', () => {
  const c = config(
    y(
      'version: 1',
      'profiles:',
      '  one: {session: {bind: parent}, secrets: {A: op://v/one/a}}',
      '  two: {session: {bind: {ancestor_name: tmux}}, secrets: {B: op://v/two/b}}',
      '  plain: {secrets: {C: op://v/c/c}}',
      '  both: {include: [one, two]}',
      '  reversed: {include: [two, one]}',
      '  later-plain: {include: [one, plain]}',
      '  own: {include: [one, two], session: {bind: {ancestor: 3}}}',
      '  nested: {include: [both]}',
      '  none: {include: [plain]}',
    ),
  );

  it.each<[string, string, BindingPolicy | undefined]>([
    ['the last include that sets it wins', 'both', { mode: 'ancestor_name', names: ['tmux'] }],
    ['include order decides', 'reversed', { mode: 'ancestor', depth: 1 }],
    ['an include that does not set it does not clear it', 'later-plain', { mode: 'ancestor', depth: 1 }],
    ["the profile's own wins last", 'own', { mode: 'ancestor', depth: 3 }],
    ['inherited through two levels', 'nested', { mode: 'ancestor_name', names: ['tmux'] }],
    ['unset when nothing sets it', 'none', undefined],
  ])('%s', (_name, profile, expected) => {
    expect(resolveProfile(c, profile).sessionBind).toEqual(expected);
  });
});

describe('profiles.example.yaml', () => {
  it('shows a session.bind that loads', () => {
    const path = fileURLToPath(new URL('../../../profiles.example.yaml', import.meta.url));
    const c = config(readFileSync(path, 'utf8'));
    const bound = [...c.profiles.values()].filter((profile) => profile.sessionBind !== undefined);
    expect(bound.length).toBeGreaterThan(0);
  });
});
