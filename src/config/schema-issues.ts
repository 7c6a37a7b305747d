// Maps zod issues from the structural schema to positioned-to-be RawIssues with plain words:
// what kind of value was expected and what kind was found (a number, a list, …). It reads
// the parsed value only for its type, never zod's message or issue.input.

import type { z } from 'zod';
import type { KeyPath, RawIssue } from './issues.js';
import { BIND_KEYS, PROFILE_KEYS, SECRET_KEYS, SESSION_KEYS, TOP_KEYS } from './schema.js';
import { suggest } from '../core/suggest.js';

type ZodIssue = z.core.$ZodIssue;

const ACCOUNT = 'a 1Password account (sign-in address, shorthand, email or ID)';
const SECRET = 'a reference (op://, bws:// or a declared provider scheme), or a mapping with ref: and optional account:';

/**
 * Keys only the user's own config may set: a project file is the agent's to write, so it never
 * chooses who approves or which program reads secrets.
 */
const USER_CONFIG_ONLY: Readonly<Record<string, readonly [problem: string, doc: string]>> = {
  providers: ['providers are declared only in your user config (~/.config/agent-secret/config.yml): a project file cannot choose which program reads secrets', 'docs/providers.md'],
  approver: ['the approver is chosen only in your user config (~/.config/agent-secret/config.yml), never by a project file', 'docs/approvers.md'],
  op_path: ['op_path is set only in your user config (~/.config/agent-secret/config.yml), never by a project file', 'docs/providers.md'],
  policy: ['a policy lives only in your user config (~/.config/agent-secret/policy.yml), never in a project file the agent can edit', 'docs/policy.md'],
  names: ['logical names are defined only in your user config (names: in ~/.config/agent-secret/config.yml); a profile uses one with { name: NAME }', 'docs/policy.md#logical-names'],
};
const BIND = 'auto, parent, or a mapping with one of ancestor:, ancestor_name:, ancestor_names:';
const BIND_NAME = 'an executable name such as zsh';

/** Converts zod issues for `data` into RawIssues. */
export function schemaIssues(issues: readonly ZodIssue[], data: unknown, base: KeyPath = []): RawIssue[] {
  return issues.flatMap((issue) => convert(issue, data, [...base, ...(issue.path as KeyPath)]));
}

function convert(issue: ZodIssue, data: unknown, path: KeyPath): RawIssue[] {
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(path);
      return issue.keys.map((key) => {
        const userOnly = path.length === 0 && Object.hasOwn(USER_CONFIG_ONLY, key) ? USER_CONFIG_ONLY[key] : undefined;
        if (userOnly !== undefined) {
          return { code: 'schema.user_config_only' as const, path: [...path, key], at: 'key' as const, problem: userOnly[0], hint: `remove it from this file; see ${userOnly[1]}` };
        }
        return {
        code: 'schema.unknown_key' as const,
        path: [...path, key],
        at: 'key' as const,
        problem: `unknown key; expected ${allowed.length === 0 ? 'no other keys' : `one of ${allowed.join(', ')}`}`,
        hint: suggest(key, allowed),
        };
      });
    }
    case 'invalid_union': {
      // The secret union: report the branch that matches the kind of value written.
      const branch = isMapping(value) ? issue.errors[1] : typeof value === 'string' ? issue.errors[0] : undefined;
      if (branch !== undefined && branch.length > 0) return schemaIssues(branch, data, path);
      return [typeIssue(path, value)];
    }
    case 'invalid_value':
      if (last(path) === 'version') {
        return value === undefined
          ? [{ code: 'schema.required', path, at: 'key', problem: 'is required; add version: 1' }]
          : [{ code: 'schema.version', path, at: 'value', problem: 'must be 1, the only supported version' }];
      }
      return [typeIssue(path, value)];
    default:
      return [typeIssue(path, value)];
  }
}

function typeIssue(path: KeyPath, value: unknown): RawIssue {
  const expected = expectedAt(path);
  if (path.length === 0) {
    const problem = value === null || value === undefined ? 'the file is empty' : `the file holds ${kindOf(value)}`;
    return { code: 'schema.type', path, at: 'value', problem: `${problem}; expected ${expected}`, hint: 'see profiles.example.yaml for a complete file' };
  }
  if (value === undefined) {
    // `name:` of a files: entry is its file name: someone reaching for a logical name lands here.
    const fileRef = path.length === 5 && path[2] === 'files' && last(path) === 'ref';
    return {
      code: 'schema.required',
      path,
      at: 'key',
      problem: `is required; expected ${expected}`,
      ...(fileRef ? { hint: "a files: entry needs ref:; its name: is the file's name, not a logical name (names from your config.yml work only under secrets:)" } : {}),
    };
  }
  if (value === null) return { code: 'schema.type', path, at: 'value', problem: `is empty; expected ${expected}` };
  if (last(path) === 'ttl' && typeof value === 'number') {
    const hint = Number.isInteger(value) && value > 0 && value <= 86_400 ? `write ${value}s` : 'write it like 90s, 2m or 1m30s';
    return { code: 'ttl.invalid', path, at: 'value', problem: `a bare number is not a duration; expected ${expected}`, hint };
  }
  return { code: 'schema.type', path, at: 'value', problem: `expected ${expected}, got ${kindOf(value)}` };
}

function expectedAt(path: KeyPath): string {
  const key = last(path);
  if (path.length === 0) return 'a mapping with version: 1 and profiles:';
  if (path[2] === 'session') return expectedInSession(path);
  if (typeof key === 'number') return 'a profile name';
  if (path.length === 1) {
    if (key === 'profiles') return 'a mapping of profile names to profiles';
    if (key === 'default_profile') return 'a profile name';
    if (key === 'account') return ACCOUNT;
  }
  if (path.length === 2) return `a mapping with ${PROFILE_KEYS.map((k) => `${k}:`).join(', ')}`;
  if (path.length === 4 && path[2] === 'secrets') return SECRET;
  switch (key) {
    case 'reason':
      return 'one line of text';
    case 'ttl':
      return 'a duration such as 90s, 2m or 1m30s';
    case 'account':
      return ACCOUNT;
    case 'include':
      return 'a list of profile names, such as [base]';
    case 'secrets':
      return 'a mapping of ALIAS: op://vault/item/field';
    case 'ref':
      return 'an op:// reference such as op://vault/item/field';
    default:
      return 'another kind of value';
  }
}

function expectedInSession(path: KeyPath): string {
  if (path.length === 3) return 'a mapping with bind:';
  if (path.length === 4) return BIND;
  switch (path[4]) {
    case 'ancestor':
      return 'an ancestor depth: 1, 2 or 3';
    case 'ancestor_name':
      return BIND_NAME;
    case 'ancestor_names':
      return path.length === 5 ? 'a list of executable names, such as [zsh, tmux]' : BIND_NAME;
    default:
      return 'another kind of value';
  }
}

function allowedKeys(path: KeyPath): readonly string[] {
  if (path.length === 0) return TOP_KEYS;
  if (path.length === 2 && path[0] === 'profiles') return PROFILE_KEYS;
  if (path.length === 4 && path[2] === 'secrets') return SECRET_KEYS;
  if (path.length === 3 && path[2] === 'session') return SESSION_KEYS;
  if (path.length === 4 && path[2] === 'session' && path[3] === 'bind') return BIND_KEYS;
  return [];
}

/** Describes the kind of a parsed YAML value without showing it. */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'true/false';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : 'another kind of value';
}

function isMapping(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(data: unknown, path: KeyPath): unknown {
  let current = data;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function last(path: KeyPath): string | number | undefined {
  return path[path.length - 1];
}
