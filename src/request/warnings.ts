// Warnings shown to the human in the prompt: things about a request that are allowed but
// deserve a second look. Pure; input is the request being built and facts about the host.

import { basename } from 'node:path';
import { envRisk } from '../core/env-risk.js';

/** A request with this many secrets or more gets a high-scope warning. */
export const MANY_SECRETS = 6;

const ENV_PRINTERS = new Set(['env', 'printenv', 'set', 'export', 'declare', 'compgen']);
const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'fish', 'csh', 'tcsh', 'ash', 'busybox', 'pwsh', 'nu', 'xonsh', 'elvish']);
const INTERPRETER_EVAL_FLAGS: Record<string, readonly string[]> = {
  node: ['-e', '--eval', '-p', '--print'],
  python: ['-c'],
  python3: ['-c'],
  perl: ['-e', '-E'],
  ruby: ['-e'],
  php: ['-r'],
};

export interface WarningInput {
  command: readonly string[];
  executable: string;
  secretCount: number;
  overriddenAliases: readonly string[];
  /** Problems that make the executable replaceable by the requesting user. */
  mutability: ReadonlyArray<{ path: string; problem: string }>;
  /** Names of plain env-file entries (their values are not secrets, but some names change what runs). */
  plainEnvNames: readonly string[];
  /**
   * Names the child inherits from the caller's environment (none but PRISTINE_ENV_NAMES with
   * --pristine; without env-file entries and secret aliases, which replace them). Omitted where
   * the caller's environment is unknown (the broker re-deriving warnings from a request alone).
   */
  callerEnvNames?: readonly string[];
  /** AGENT_SECRET_REQUEST_ID of an enclosing approved request, when nested. */
  parentRequestId: string | undefined;
}

/** Lists the warnings for a request, most important first. Pure. */
export function buildWarnings(input: WarningInput): string[] {
  const warnings: string[] = [];
  const names = new Set([basename(input.executable), basename(input.command[0] ?? '')]);
  const has = (set: Set<string>) => [...names].some((n) => set.has(n));

  if (input.secretCount >= MANY_SECRETS) {
    warnings.push(`high scope: this command asks for ${input.secretCount} secrets at once`);
  }
  if (has(ENV_PRINTERS)) {
    warnings.push('the command can print environment variables, including the secrets');
  } else if (has(SHELLS)) {
    warnings.push('the command is a shell: it can run anything with these secrets');
  } else {
    const evalFlags = [...names].flatMap((n) => INTERPRETER_EVAL_FLAGS[n.replace(/[0-9.]+$/, '')] ?? INTERPRETER_EVAL_FLAGS[n] ?? []);
    if (evalFlags.length > 0 && input.command.slice(1).some((arg) => evalFlags.includes(arg))) {
      warnings.push('the command evaluates inline code given on the command line');
    }
  }
  for (const finding of input.mutability) {
    warnings.push(`the executable can be replaced by you or others: ${finding.path} is ${finding.problem.replaceAll('_', ' ')}`);
  }
  warnings.push(...envWarnings(input.plainEnvNames, input.callerEnvNames ?? []));
  if (input.overriddenAliases.length > 0) {
    warnings.push(`replaces variables already set in the environment: ${input.overriddenAliases.join(', ')}`);
  }
  if (input.parentRequestId !== undefined) {
    warnings.push(`nested: started from inside approved request ${input.parentRequestId}`);
  }
  return warnings;
}

/** How many risky names one warning lists before "and N more". */
export const MAX_RISKY_NAMES_SHOWN = 8;

const ENV_EFFECT = 'can change what the command runs, loads or trusts, or where it connects';

/**
 * Warnings for variables on the risk list (core/env-risk.ts), names and categories only, never
 * a value. An env file is warned about for every risky name, HOME, PATH and TMPDIR included: a
 * project file has no business moving them. The caller's own ambient variables (PATH, HOME,
 * TMPDIR, SHELL, EDITOR, … set in nearly every session) are not: warning on every prompt would
 * teach the human to skip warnings, and the reuse key still covers their values. Pure.
 */
export function envWarnings(plainEnvNames: readonly string[], callerEnvNames: readonly string[]): string[] {
  const warnings: string[] = [];
  const fromFile = riskyNames(plainEnvNames, () => true);
  if (fromFile.length > 0) warnings.push(`an env file sets ${listNames(fromFile)}, which ${ENV_EFFECT}`);
  const fileSet = new Set(plainEnvNames);
  const fromCaller = riskyNames(
    callerEnvNames.filter((name) => !fileSet.has(name)),
    (ambient) => !ambient,
  );
  if (fromCaller.length > 0) {
    warnings.push(`the caller's environment sets ${listNames(fromCaller)}, which the command inherits and which ${ENV_EFFECT}; --pristine starts it from a minimal environment`);
  }
  return warnings;
}

function riskyNames(names: readonly string[], keep: (ambient: boolean) => boolean): string[] {
  const out: string[] = [];
  for (const name of [...new Set(names)].sort(compareNames)) {
    const rule = envRisk(name);
    if (rule !== null && keep(rule.ambient)) out.push(`${name.length > 64 ? `${name.slice(0, 64)}…` : name} (${rule.category})`);
  }
  return out;
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, MAX_RISKY_NAMES_SHOWN).join(', ');
  const hidden = names.length - MAX_RISKY_NAMES_SHOWN;
  return hidden > 0 ? `${shown} and ${hidden} more` : shown;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
