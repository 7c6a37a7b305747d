// Aliases are the environment variable names the child receives. They must look like env
// var names, and must not be names that turn a value into code or into a loader setting:
// an approved secret must never be able to change what program runs or what it loads.

import type { DeliveryKind } from './delivery.js';
import { ENV_RISK_RULES, envRiskRules, refusedAsAlias, type EnvRiskCategory, type EnvRiskRule } from './env-risk.js';

export type AliasResult = { ok: true } | { ok: false; message: string };

const ALIAS = /^[A-Z_][A-Z0-9_]*$/;
const MAX_ALIAS_LENGTH = 128;

// The names refused come from the one risk list (env-risk.ts): every rule there that may not
// carry a secret. AGENT_SECRET_* is reserved for agent-secret's own variables.
const RESERVED_PREFIX = 'AGENT_SECRET_';

/**
 * Risk categories a file-delivered alias may have: the variable then holds the path of an
 * approved file, and these are the variables that name credential and configuration files
 * (KUBECONFIG, DOCKER_CONFIG, SSL_CERT_FILE, NPM_CONFIG_USERCONFIG). The prompt still names
 * them (request/warnings.ts). Loader, shell, interpreter, git, helper-program, build-tool and
 * location variables stay refused: a file there is code or a program to run.
 */
export const FILE_ALIAS_CATEGORIES: readonly EnvRiskCategory[] = Object.freeze(['network-trust', 'package-manager']);

/**
 * Validates an alias: env-var shape, length, and the loader/code denylist. A file alias (the
 * variable holds a path agent-secret chose) may also be a variable of FILE_ALIAS_CATEGORIES. Pure.
 */
export function validateAlias(alias: string, delivery: DeliveryKind = 'env'): AliasResult {
  if (!ALIAS.test(alias)) {
    return { ok: false, message: `alias must match [A-Z_][A-Z0-9_]*, for example API_TOKEN (got "${printable(alias)}")` };
  }
  if (alias.length > MAX_ALIAS_LENGTH) return { ok: false, message: `alias is longer than ${MAX_ALIAS_LENGTH} characters` };
  if (alias.startsWith(RESERVED_PREFIX)) return { ok: false, message: `names starting with ${RESERVED_PREFIX} are reserved for agent-secret itself` };
  if (delivery === 'file' ? refusedAsFileAlias(alias) : refusedAsAlias(alias)) {
    const rule = envRiskRules(alias).find((r) => !r.secretOk && (delivery === 'env' || !FILE_ALIAS_CATEGORIES.includes(r.category))) as EnvRiskRule;
    const family = rule.prefix ? `, like every name starting with ${rule.name}` : '';
    return { ok: false, message: `"${alias}" controls what the child runs, loads or trusts (${rule.category}${family}) and cannot carry a secret; pick another name` };
  }
  return { ok: true };
}

// As refusedAsAlias, with the rules of FILE_ALIAS_CATEGORIES allowing the name.
function refusedAsFileAlias(name: string): boolean {
  const rules = envRiskRules(name);
  const first = rules[0];
  const allowed = (r: EnvRiskRule) => r.secretOk || FILE_ALIAS_CATEGORIES.includes(r.category);
  if (first !== undefined && !first.prefix) return !allowed(first);
  return rules.some((r) => !allowed(r));
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
