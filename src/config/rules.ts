// The value rules of agent-secret.yml, run on the parsed (untrusted) YAML value even when the
// structure has problems, so every problem is reported at once: names, aliases, refs, ttl,
// reason, accounts, include targets, cycles and depth, default_profile, profiles with no secrets.

import { validateAccount } from '../core/account.js';
import { validateAlias } from '../core/alias.js';
import { FILE_MODES, validateFileName, validateMaxReads, type FileMode } from '../core/delivery.js';
import { parseReason } from '../core/reason.js';
import { parseSecretRef, schemeOf, SECRET_NAME, SECRET_NAME_RULE } from '../core/ref.js';
import { checkBindDepth, checkBindName, MAX_BIND_NAMES } from '../core/session-bind.js';
import { parseTtl } from '../core/ttl.js';
import { withoutEcho } from './echo-guard.js';
import { ENV_NAME, type KeyPath, type RawIssue } from './issues.js';
import { listNames } from './name-list.js';
import { BIND_KEYS, PROFILE_KEYS, PROFILE_NAME } from './schema.js';

/** Longest allowed include chain (profile → include → include …). */
export const MAX_INCLUDE_DEPTH = 16;

type Mapping = Record<string, unknown>;

/** Checks every value rule on the parsed file; returns problems, never throws. */
export function ruleIssues(data: unknown): RawIssue[] {
  if (!isMapping(data)) return [];
  const issues: RawIssue[] = [];
  if (typeof data.account === 'string') checkAccount(issues, ['account'], data.account);
  const profiles = isMapping(data.profiles) ? data.profiles : undefined;
  if (profiles === undefined) return issues;

  const names = Object.keys(profiles);
  if (names.length === 0) {
    issues.push({ code: 'profiles.empty', path: ['profiles'], at: 'value', problem: 'defines no profiles; add at least one' });
  }
  const known = new Set(names.filter((name) => PROFILE_NAME.test(name)));
  const knownList = listNames([...known]);
  for (const name of names) {
    if (!known.has(name)) {
      issues.push({
        code: 'profile.name',
        path: ['profiles', name],
        at: 'key',
        problem: 'profile names are 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
      });
    }
    const profile = profiles[name];
    if (isMapping(profile)) checkProfile(issues, name, profile, known, knownList);
  }
  if (typeof data.default_profile === 'string' && !known.has(data.default_profile)) {
    issues.push({ code: 'default_profile.not_found', path: ['default_profile'], at: 'value', problem: `names no profile; profiles: ${knownList}` });
  }
  issues.push(...includeGraphIssues(profiles, [...known]));
  return issues;
}

function checkProfile(issues: RawIssue[], name: string, profile: Mapping, known: ReadonlySet<string>, knownList: string): void {
  const at = (...rest: KeyPath): KeyPath => ['profiles', name, ...rest];
  if (typeof profile.reason === 'string') {
    const result = parseReason(profile.reason);
    if (!result.ok) {
      const problem = profile.reason.trim() === '' ? 'is empty; write why the secrets are needed, or remove the key' : withoutEcho(result.message, profile.reason);
      issues.push({ code: 'reason.invalid', path: at('reason'), at: 'value', problem });
    }
  }
  if (typeof profile.ttl === 'string') {
    const result = parseTtl(profile.ttl);
    if (!result.ok) issues.push({ code: 'ttl.invalid', path: at('ttl'), at: 'value', problem: withoutEcho(result.message, profile.ttl) });
  }
  if (typeof profile.account === 'string') checkAccount(issues, at('account'), profile.account);
  if (Array.isArray(profile.include)) {
    profile.include.forEach((entry: unknown, index) => {
      if (typeof entry !== 'string' || known.has(entry)) return;
      const trimmed = entry.trim();
      issues.push({
        code: 'include.not_found',
        path: at('include', index),
        at: 'value',
        problem: trimmed === '' ? 'is empty; expected a profile name' : `names no profile; profiles: ${knownList}`,
        hint: trimmed !== entry && known.has(trimmed) ? 'remove the spaces around the name' : undefined,
      });
    });
  }
  if (isMapping(profile.session)) checkSessionBind(issues, at('session', 'bind'), profile.session.bind);
  checkFiles(issues, at, profile);
  if (isMapping(profile.secrets)) {
    for (const [alias, secret] of Object.entries(profile.secrets)) {
      const aliasResult = validateAlias(alias);
      if (!aliasResult.ok) {
        const problem = ENV_NAME.test(alias) ? aliasResult.message : withoutEcho(aliasResult.message, alias);
        issues.push({ code: 'alias.invalid', path: at('secrets', alias), at: 'key', problem });
      }
      if (typeof secret === 'string') checkRef(issues, at('secrets', alias), secret);
      if (isMapping(secret)) {
        checkRefOrName(issues, at('secrets', alias), secret);
        if (typeof secret.ref === 'string') checkRef(issues, at('secrets', alias, 'ref'), secret.ref);
        if (typeof secret.account === 'string') {
          if (typeof secret.ref === 'string' && schemeOf(secret.ref) === 'bws') {
            issues.push({
              code: 'account.invalid',
              path: at('secrets', alias, 'account'),
              at: 'key',
              problem: 'a bws reference names its source in the reference itself (bws://SOURCE/SECRET_ID); remove account:',
            });
          } else checkAccount(issues, at('secrets', alias, 'account'), secret.account);
        }
      }
    }
  }
}

// files: and templates: share the alias space of secrets: (one variable each), and set the
// file's layout: name, mode (file or fifo) and, for a FIFO, a read limit.
function checkFiles(issues: RawIssue[], at: (...rest: KeyPath) => KeyPath, profile: Mapping): void {
  const taken = new Map<string, string>(isMapping(profile.secrets) ? Object.keys(profile.secrets).map((alias) => [alias, 'secrets']) : []);
  for (const section of ['files', 'templates'] as const) {
    const entries = profile[section];
    if (!isMapping(entries)) continue;
    for (const [alias, entry] of Object.entries(entries)) {
      const aliasResult = validateAlias(alias, 'file');
      if (!aliasResult.ok) {
        const problem = ENV_NAME.test(alias) ? aliasResult.message : withoutEcho(aliasResult.message, alias);
        issues.push({ code: 'alias.invalid', path: at(section, alias), at: 'key', problem });
      } else if (taken.has(alias)) {
        issues.push({ code: 'alias.invalid', path: at(section, alias), at: 'key', problem: `is also defined under ${taken.get(alias)}:; each variable is delivered one way` });
      }
      taken.set(alias, section);
      if (section === 'files') {
        if (typeof entry === 'string') checkRef(issues, at(section, alias), entry);
        if (isMapping(entry) && typeof entry.ref === 'string') checkRef(issues, at(section, alias, 'ref'), entry.ref);
      } else {
        if (typeof entry === 'string') checkTemplatePath(issues, at(section, alias), entry);
        if (isMapping(entry) && typeof entry.path === 'string') checkTemplatePath(issues, at(section, alias, 'path'), entry.path);
      }
      if (isMapping(entry)) checkFileOptions(issues, at(section, alias), entry);
    }
  }
}

function checkFileOptions(issues: RawIssue[], path: KeyPath, entry: Mapping): void {
  if (typeof entry.account === 'string') checkAccount(issues, [...path, 'account'], entry.account);
  if (typeof entry.name === 'string') {
    const name = validateFileName(entry.name);
    if (!name.ok) issues.push({ code: 'file.invalid', path: [...path, 'name'], at: 'value', problem: name.message });
  }
  if (entry.mode !== undefined && !FILE_MODES.includes(entry.mode as FileMode)) {
    issues.push({ code: 'file.invalid', path: [...path, 'mode'], at: 'value', problem: 'must be file (a regular 0600 file) or fifo (a named pipe agent-secret serves)' });
  }
  if (entry.max_reads !== undefined) {
    const reads = validateMaxReads(entry.max_reads);
    if (!reads.ok) issues.push({ code: 'file.invalid', path: [...path, 'max_reads'], at: 'value', problem: reads.message });
    else if (entry.mode !== 'fifo') {
      issues.push({ code: 'file.invalid', path: [...path, 'max_reads'], at: 'key', problem: 'needs mode: fifo; a regular file cannot count its reads', hint: 'add mode: fifo, or remove max_reads' });
    }
  }
}

function checkTemplatePath(issues: RawIssue[], path: KeyPath, value: string): void {
  if (value.trim() === '' || value.includes('\0')) {
    issues.push({ code: 'template.invalid', path, at: 'value', problem: 'must be the path of a template file, relative to this config file' });
  }
}

// session.bind: auto | parent | {ancestor: 1..3} | {ancestor_name: X} | {ancestor_names: [X, …]}.
// Wrong kinds of value are the schema's to report; names are never quoted back.
function checkSessionBind(issues: RawIssue[], path: KeyPath, bind: unknown): void {
  const bindIssue = (where: KeyPath, problem: string, at: 'key' | 'value' = 'value'): void => {
    issues.push({ code: 'session.bind', path: where, at, problem });
  };
  if (typeof bind === 'string') {
    if (bind !== 'auto' && bind !== 'parent') bindIssue(path, 'must be auto, parent, or a mapping with one of ancestor:, ancestor_name:, ancestor_names:');
    return;
  }
  if (!isMapping(bind)) return;
  const set = BIND_KEYS.filter((key) => Object.hasOwn(bind, key));
  const unknown = Object.keys(bind).some((key) => !BIND_KEYS.includes(key));
  if (set.length > 1) bindIssue(path, `sets ${set.join(' and ')}; set exactly one of ancestor:, ancestor_name:, ancestor_names:`);
  if (set.length === 0 && !unknown) bindIssue(path, 'sets nothing; set exactly one of ancestor:, ancestor_name:, ancestor_names:');
  if (typeof bind.ancestor === 'number') {
    const depth = checkBindDepth(bind.ancestor);
    if (!depth.ok) bindIssue([...path, 'ancestor'], depth.message);
  }
  if (typeof bind.ancestor_name === 'string') {
    const name = checkBindName(bind.ancestor_name);
    if (!name.ok) bindIssue([...path, 'ancestor_name'], name.message);
  }
  if (Array.isArray(bind.ancestor_names)) {
    const list: unknown[] = bind.ancestor_names;
    if (list.length === 0) bindIssue([...path, 'ancestor_names'], 'is empty; list at least one executable name, such as [zsh]');
    const distinct = new Set<string>();
    list.forEach((entry, index) => {
      if (typeof entry !== 'string') return;
      const name = checkBindName(entry);
      if (name.ok) distinct.add(name.value);
      else bindIssue([...path, 'ancestor_names', index], name.message);
    });
    if (distinct.size > MAX_BIND_NAMES) bindIssue([...path, 'ancestor_names'], `lists ${distinct.size} different names; at most ${MAX_BIND_NAMES} are allowed`, 'key');
  }
}

// A secret mapping gives a reference or a logical name of the user config's names:, never both.
function checkRefOrName(issues: RawIssue[], path: KeyPath, secret: Mapping): void {
  const name = secret.name;
  if (name !== undefined && typeof name === 'string' && !SECRET_NAME.test(name)) {
    issues.push({ code: 'ref.invalid', path: [...path, 'name'], at: 'value', problem: `is not a valid logical name: ${SECRET_NAME_RULE}` });
  }
  if (name !== undefined && secret.ref !== undefined) {
    issues.push({ code: 'ref.invalid', path: [...path, 'name'], at: 'key', problem: 'give ref: or name:, not both (a name stands for the reference names: in your user config maps it to)' });
  } else if (name !== undefined && secret.account !== undefined) {
    issues.push({ code: 'account.invalid', path: [...path, 'account'], at: 'key', problem: 'a named secret takes its account from names: in your user config (or the profile\'s account); remove account:' });
  } else if (name === undefined && secret.ref === undefined) {
    issues.push({ code: 'ref.invalid', path, at: 'value', problem: 'needs ref: (op://vault/item/field, bws://SECRET_ID, …) or name: (a logical name from names: in your user config)' });
  }
}

function checkRef(issues: RawIssue[], path: KeyPath, ref: string): void {
  const result = parseSecretRef(ref);
  if (result.ok) return;
  issues.push({
    code: 'ref.invalid',
    path,
    at: 'value',
    problem: `invalid reference: ${withoutEcho(result.message, ref)}`,
    hint: schemeOf(ref) !== null ? undefined : 'write a reference here (op://vault/item/field, bws://SECRET_ID, or a scheme from providers: in your user config), never a secret value itself',
  });
}

function checkAccount(issues: RawIssue[], path: KeyPath, account: string): void {
  const result = validateAccount(account);
  if (!result.ok) issues.push({ code: 'account.invalid', path, at: 'value', problem: result.message });
}

interface Edge {
  target: string;
  index: number;
}

interface NodeFacts {
  depth: number;
  /** The next profile on the deepest include chain. */
  deepest: string | undefined;
  /** true: defines or inherits a secret; false: none anywhere; undefined: unknown (some part is malformed). */
  hasSecrets: boolean | undefined;
}

// Iterative depth-first walk (a chain of thousands of includes must not overflow the stack):
// reports each cycle once, at the include entry that closes it, then depth and emptiness
// for every profile not on or leading into a cycle.
function includeGraphIssues(profiles: Mapping, names: readonly string[]): RawIssue[] {
  const known = new Set(names);
  const edges = new Map<string, Edge[]>();
  for (const name of names) {
    const include = (profiles[name] as Mapping | undefined)?.include;
    const list = Array.isArray(include) ? include : [];
    edges.set(
      name,
      list.flatMap((target: unknown, index) => (typeof target === 'string' && known.has(target) ? [{ target, index }] : [])),
    );
  }

  const issues: RawIssue[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const cyclic = new Set<string>();
  const facts = new Map<string, NodeFacts>();
  for (const root of names) {
    if (state.has(root)) continue;
    const stack: Array<{ name: string; next: number }> = [{ name: root, next: 0 }];
    const onPath: string[] = [root];
    state.set(root, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { name: string; next: number };
      const out = edges.get(top.name) ?? [];
      const edge = out[top.next];
      if (edge !== undefined) {
        top.next += 1;
        const seen = state.get(edge.target);
        if (seen === 'open') {
          const cycle = onPath.slice(onPath.indexOf(edge.target));
          for (const member of cycle) cyclic.add(member);
          issues.push({
            code: 'include.cycle',
            path: ['profiles', top.name, 'include', edge.index],
            at: 'value',
            problem: `include cycle: ${[...cycle, edge.target].join(' -> ')}`,
          });
        } else if (seen === undefined) {
          state.set(edge.target, 'open');
          stack.push({ name: edge.target, next: 0 });
          onPath.push(edge.target);
        }
        continue;
      }
      stack.pop();
      onPath.pop();
      state.set(top.name, 'done');
      if (out.some((e) => cyclic.has(e.target))) cyclic.add(top.name);
      if (!cyclic.has(top.name)) facts.set(top.name, factsOf(profiles[top.name], out, facts));
    }
  }

  const overDeep = [...facts].filter(([, f]) => f.depth > MAX_INCLUDE_DEPTH).map(([name]) => name);
  const reachedFromDeep = new Set(overDeep.flatMap((name) => (edges.get(name) ?? []).map((e) => e.target)));
  for (const name of overDeep) {
    if (reachedFromDeep.has(name)) continue;
    const depth = facts.get(name)?.depth ?? 0;
    issues.push({
      code: 'include.depth',
      path: ['profiles', name, 'include'],
      at: 'key',
      problem: `include chain is ${depth} levels deep (${chainOf(name, facts)}); at most ${MAX_INCLUDE_DEPTH} are allowed`,
    });
  }
  for (const [name, f] of facts) {
    if (f.hasSecrets !== false) continue;
    const includes = (edges.get(name) ?? []).length > 0;
    issues.push({
      code: 'profile.empty',
      path: ['profiles', name],
      at: 'key',
      problem: includes
        ? 'has no secrets of its own and its includes define none; add secrets: to it or to an included profile'
        : 'defines no secrets and includes none; add secrets: (ALIAS: op://vault/item/field) or include: a profile',
    });
  }
  return issues;
}

function factsOf(profile: unknown, out: readonly Edge[], facts: ReadonlyMap<string, NodeFacts>): NodeFacts {
  let depth = 0;
  let deepest: string | undefined;
  let hasSecrets: boolean | undefined = false;
  if (!isMapping(profile)) hasSecrets = undefined;
  else {
    const { secrets, include } = profile;
    if ([profile.files, profile.templates].some((entries) => isMapping(entries) && Object.keys(entries).length > 0)) hasSecrets = true;
    else if (isMapping(secrets) && Object.keys(secrets).length > 0) hasSecrets = true;
    else if (secrets !== undefined && !isMapping(secrets)) hasSecrets = undefined;
    // A misspelt key (`secret:`) is reported as unknown; "no secrets" on top would be noise.
    else if (Object.keys(profile).some((key) => !PROFILE_KEYS.includes(key))) hasSecrets = undefined;
    // An include that is malformed or names no profile is reported elsewhere; do not add "empty".
    if (include !== undefined && (!Array.isArray(include) || include.length !== out.length) && hasSecrets === false) hasSecrets = undefined;
  }
  for (const edge of out) {
    const target = facts.get(edge.target);
    if (target === undefined) continue;
    if (target.depth + 1 > depth) {
      depth = target.depth + 1;
      deepest = edge.target;
    }
    if (target.hasSecrets === true) hasSecrets = true;
    else if (target.hasSecrets === undefined && hasSecrets === false) hasSecrets = undefined;
  }
  return { depth, deepest, hasSecrets };
}

function chainOf(start: string, facts: ReadonlyMap<string, NodeFacts>): string {
  const chain = [start];
  for (let next = facts.get(start)?.deepest; next !== undefined; next = facts.get(next)?.deepest) chain.push(next);
  return chain.length <= 6 ? chain.join(' -> ') : [...chain.slice(0, 3), '…', ...chain.slice(-2)].join(' -> ');
}

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
