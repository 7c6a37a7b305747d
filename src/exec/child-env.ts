// The child's environment: the caller's env, env-file plain entries on top, approved secrets
// appended in sorted alias order. Where plaintext leaves a SecretValue for a child (AGENTS.md lists
// the other reveal() sites: the broker's deliver bodies and the masker's patterns).
// Invariant: errors name a variable, never its value; nothing here logs or keeps the result.

import { validateAlias } from '../core/alias.js';
import { AgentSecretError } from '../core/errors.js';
import type { SecretValue } from '../core/secret-value.js';

export interface ChildEnvInput {
  /** The caller's environment. */
  base: Readonly<Record<string, string | undefined>>;
  /** Env-file plain entries; they replace same-named base entries. */
  plain: ReadonlyArray<{ key: string; value: string }>;
  /** Names dropped from base first (env-file secret aliases). */
  removeNames?: readonly string[];
  /** Alias → approved value. */
  secrets: ReadonlyMap<string, SecretValue>;
  /** Variable → path of its delivered file (not a secret: the file holds the value). */
  files?: ReadonlyMap<string, string>;
  /** Set last, e.g. AGENT_SECRET_REQUEST_ID. */
  extra?: Readonly<Record<string, string>>;
}

/**
 * Never inherited by a child from the caller's environment: a registered agent's token
 * (config/agents.ts AGENT_TOKEN_VARIABLE) is the agent's identity, not the approved command's, and
 * the provider tokens are agent-secret's way into a store (the command gets only the approved
 * values). An approved secret or an env-file entry of the same name is still delivered.
 */
export const NEVER_INHERITED: readonly string[] = ['AGENT_SECRET_AGENT_TOKEN', 'OP_SERVICE_ACCOUNT_TOKEN', 'OP_CONNECT_HOST', 'OP_CONNECT_TOKEN', 'BWS_ACCESS_TOKEN'];

/** Aliases that already name a variable in base, sorted and without duplicates. Pure. */
export function findEnvConflicts(base: Readonly<Record<string, string | undefined>>, aliases: readonly string[]): string[] {
  return [...new Set(aliases.filter((alias) => Object.hasOwn(base, alias) && base[alias] !== undefined))].sort();
}

/** Builds the exact environment handed to the child. */
export function buildChildEnv(opts: ChildEnvInput): Record<string, string> {
  const removed = new Set([...(opts.removeNames ?? []), ...NEVER_INHERITED]);
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(opts.base)) {
    if (value !== undefined && !removed.has(key)) env[key] = value;
  }
  for (const { key, value } of opts.plain) env[key] = value;
  // Secrets go last, sorted by alias, replacing any earlier entry of the same name.
  for (const alias of [...opts.secrets.keys()].sort()) {
    if (!validateAlias(alias).ok) {
      throw new AgentSecretError('alias.invalid', `refusing to deliver a secret under the name "${alias.replace(/[^\x20-\x7e]/g, '?')}"`, { details: { alias } });
    }
    delete env[alias];
    env[alias] = (opts.secrets.get(alias) as SecretValue).reveal();
  }
  // Delivered files' paths go with the secrets (an alias is requested once, so none clashes with a secret).
  for (const [alias, path] of [...(opts.files ?? new Map<string, string>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!validateAlias(alias, 'file').ok) {
      throw new AgentSecretError('alias.invalid', `refusing to deliver a file under the name "${alias.replace(/[^\x20-\x7e]/g, '?')}"`, { details: { alias } });
    }
    delete env[alias];
    env[alias] = path;
  }
  for (const [key, value] of Object.entries(opts.extra ?? {})) {
    delete env[key];
    env[key] = value;
  }
  for (const [key, value] of Object.entries(env)) checkDeliverable(key, value, opts.secrets.has(key));
  return { ...env };
}

// execve cannot carry a NUL byte, and a name with '=' or NUL would split differently in the
// child. Node would refuse too, but its message quotes the value.
function checkDeliverable(key: string, value: string, isSecret: boolean): void {
  if (key.length === 0 || key.includes('=') || key.includes('\0')) {
    throw new AgentSecretError('exec.spawn_failed', 'an environment variable name is empty or contains "=" or a NUL character', {
      hint: 'fix the variable names in the env file or the environment',
    });
  }
  if (value.includes('\0')) {
    const what = isSecret ? `secret ${key}` : `variable ${key.replace(/[^\x20-\x7e]/g, '?')}`;
    throw new AgentSecretError('exec.spawn_failed', `${what} contains a NUL character and cannot be passed in the environment`, {
      hint: isSecret ? 'binary values cannot be delivered as environment variables' : 'remove the NUL character from the value',
      details: isSecret ? { alias: key } : { key },
    });
  }
}
