// The `names:` section of the user's own config.yml: logical secret names mapped to references
// (`openai_key: op://AI/OpenAI/credential`). A profile asks for `{name: openai_key}` and a policy
// rule matches `name: openai_key`, so a vault item can move by editing one line here, and the
// prompt and the audit read in words the human chose. Only this file defines a name: a project
// file (which the agent can edit) cannot, and the broker checks every named secret of a request
// against its own copy of this section. Issues carry key paths only, never a value. Pure.

import { validateAccount } from '../core/account.js';
import { AgentSecretError } from '../core/errors.js';
import { suggest } from '../core/suggest.js';
import { BUILTIN_SCHEMES, parseSecretRef, schemeOf, SECRET_NAME, SECRET_NAME_RULE } from '../core/ref.js';
import type { ResolvedProfile, SecretEntry } from './types.js';
import type { ProviderIssue } from './user-providers.js';

/** What a logical name stands for: the reference and, when the entry names one, its account. */
export interface NamedSecret {
  readonly ref: string;
  readonly account: string | null;
}

/** Logical names, as the user config defines them. */
export type NameRegistry = ReadonlyMap<string, NamedSecret>;

const MAX_NAMES = 512;

/**
 * Reads the `names:` value of a user config; the issues name key paths below `names`. A
 * reference's scheme must be op, bws or a provider program the same file declares. Pure.
 */
export function parseNames(raw: unknown, programSchemes: readonly string[]): { value: NameRegistry; issues: ProviderIssue[] } {
  const value = new Map<string, NamedSecret>();
  const issues: ProviderIssue[] = [];
  if (raw === undefined || raw === null) return { value, issues };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { value, issues: [{ path: [], problem: 'must be a mapping of logical names to references, such as openai_key: op://AI/OpenAI/credential' }] };
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_NAMES) return { value, issues: [{ path: [], problem: `defines ${entries.length} names; at most ${MAX_NAMES} are allowed` }] };
  const known = new Set([...BUILTIN_SCHEMES, ...programSchemes]);
  for (const [name, entry] of entries) {
    if (!SECRET_NAME.test(name)) {
      issues.push({ path: [name], problem: `is not a valid name: ${SECRET_NAME_RULE}`, atKey: true });
      continue;
    }
    const mapping = typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? (entry as Record<string, unknown>) : null;
    const unknownKey = mapping === null ? undefined : Object.keys(mapping).find((key) => key !== 'ref' && key !== 'account');
    if (unknownKey !== undefined) {
      issues.push({ path: [name, unknownKey], problem: 'unknown key (a name has ref: and account:)', atKey: true });
      continue;
    }
    const ref = mapping === null ? entry : mapping.ref;
    const at = mapping === null ? [name] : [name, 'ref'];
    if (typeof ref !== 'string') {
      issues.push({ path: at, problem: mapping === null ? 'must be a reference, or a mapping with ref: and account:' : 'is required: the reference this name stands for' });
      continue;
    }
    const parsed = parseSecretRef(ref);
    if (!parsed.ok) {
      // The reference rule's words only: a value pasted here by mistake is never repeated.
      issues.push({ path: at, problem: 'is not a reference: write op://vault/item/field, bws://SECRET_ID or a scheme from providers: here, never a secret value itself' });
      continue;
    }
    if (!known.has(parsed.scheme)) {
      issues.push({ path: at, problem: `uses ${parsed.scheme}://, which no provider handles: declare it under providers: programs: in this file` });
      continue;
    }
    const account = mapping === null ? undefined : mapping.account;
    if (account !== undefined && (typeof account !== 'string' || !validateAccount(account).ok)) {
      issues.push({ path: [name, 'account'], problem: 'must be an account: sign-in address, shorthand, email or account ID' });
      continue;
    }
    if (account !== undefined && schemeOf(ref) === 'bws') {
      issues.push({ path: [name, 'account'], problem: 'a bws reference has no account: its source is part of the reference (bws://SOURCE/SECRET_ID)' });
      continue;
    }
    value.set(name, Object.freeze({ ref, account: typeof account === 'string' ? account : null }));
  }
  return { value, issues };
}

/** The profile with every named secret's reference and account filled in from `names`; config.invalid for a name `names` lacks. Pure. */
export function applyNames(profile: ResolvedProfile, names: NameRegistry, userConfigPath: string): ResolvedProfile {
  if (!profile.secrets.some((s) => s.name !== undefined)) return profile;
  const secrets = profile.secrets.map((secret): SecretEntry => {
    if (secret.name === undefined) return secret;
    const named = names.get(secret.name);
    if (named === undefined) {
      throw new AgentSecretError('config.invalid', `profile ${profile.name}: ${secret.alias} asks for the name ${secret.name}, which names: in ${userConfigPath} does not define`, {
        hint: suggest(secret.name, [...names.keys()]) ?? `add a line under names: in that file, such as ${secret.name}: op://vault/item/field, or use ref: in the profile`,
        details: { alias: secret.alias, file: userConfigPath },
      });
    }
    // The name's own account, else (op:// only) the account the profile gave it.
    const account = named.account ?? (schemeOf(named.ref) === 'op' ? secret.account : null);
    return { ...secret, ref: named.ref, account };
  });
  return { ...profile, secrets };
}
