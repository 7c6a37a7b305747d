// Aliases are the environment variable names the child receives. They must look like env
// var names, and must not be names that turn a value into code or into a loader setting:
// an approved secret must never be able to change what program runs or what it loads.

import { ENV_RISK_RULES, envRiskRules, refusedAsAlias, type EnvRiskRule } from './env-risk.js';

export type AliasResult = { ok: true } | { ok: false; message: string };

const ALIAS = /^[A-Z_][A-Z0-9_]*$/;
const MAX_ALIAS_LENGTH = 128;

// The names refused come from the one risk list (env-risk.ts): every rule there that may not
// carry a secret. AGENT_SECRET_* is reserved for agent-secret's own variables.
const RESERVED_PREFIX = 'AGENT_SECRET_';

/** Validates an alias: env-var shape, length, and the loader/code denylist. Pure. */
export function validateAlias(alias: string): AliasResult {
  if (!ALIAS.test(alias)) {
    return { ok: false, message: `alias must match [A-Z_][A-Z0-9_]*, for example API_TOKEN (got "${printable(alias)}")` };
  }
  if (alias.length > MAX_ALIAS_LENGTH) return { ok: false, message: `alias is longer than ${MAX_ALIAS_LENGTH} characters` };
  if (alias.startsWith(RESERVED_PREFIX)) return { ok: false, message: `names starting with ${RESERVED_PREFIX} are reserved for agent-secret itself` };
  if (refusedAsAlias(alias)) {
    const rule = envRiskRules(alias).find((r) => !r.secretOk) as EnvRiskRule;
    const family = rule.prefix ? `, like every name starting with ${rule.name}` : '';
    return { ok: false, message: `"${alias}" controls what the child runs, loads or trusts (${rule.category}${family}) and cannot carry a secret; pick another name` };
  }
  return { ok: true };
}

/** The denylist, for documentation and `agent-context`. */
export function deniedAliasRules(): { names: string[]; prefixes: string[] } {
  const refused = ENV_RISK_RULES.filter((r) => !r.secretOk);
  return {
    names: refused.filter((r) => !r.prefix).map((r) => r.name).sort(),
    prefixes: [...refused.filter((r) => r.prefix).map((r) => r.name).sort(), RESERVED_PREFIX],
  };
}

// An alias is a key name the user typed, never a value; still, keep it short and printable.
function printable(text: string): string {
  const clipped = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return clipped.replace(/[^\x20-\x7e]/g, '?');
}
