// Warnings shown to the human in the prompt: things about a request that are allowed but
// deserve a second look. Pure; input is the request being built and facts about the host.

import { basename } from 'node:path';
import { validateAlias } from '../core/alias.js';

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
  const loaderNames = input.plainEnvNames.filter((name) => /^[A-Z_][A-Z0-9_]*$/.test(name) && !validateAlias(name).ok);
  if (loaderNames.length > 0) {
    warnings.push(`an env file sets ${loaderNames.join(', ')}, which can change what the command runs or loads`);
  }
  if (input.overriddenAliases.length > 0) {
    warnings.push(`replaces variables already set in the environment: ${input.overriddenAliases.join(', ')}`);
  }
  if (input.parentRequestId !== undefined) {
    warnings.push(`nested: started from inside approved request ${input.parentRequestId}`);
  }
  return warnings;
}

export interface FileWarningInput {
  /** Each script the argv names, with what makes it replaceable by the requesting user. */
  scripts: ReadonlyArray<{ path: string; findings: ReadonlyArray<{ path: string; problem: string }> }>;
  /** argv had more operands or files than are pinned (exec/script-identity.ts SCRIPT_LIMITS). */
  scriptsTruncated: boolean;
  maxFiles: number;
  /** Root caller only: the executable or scripts inside the project, and which directory. */
  rootProjectFiles: ReadonlyArray<{ path: string; dir: string }>;
}

/** Warnings about the files the command runs besides the executable: scripts, and root in a project. Pure. */
export function fileWarnings(input: FileWarningInput): string[] {
  const warnings: string[] = [];
  for (const script of input.scripts) {
    const first = script.findings[0];
    if (first !== undefined) warnings.push(`the file ${script.path} can be changed by you or others before it runs: ${first.path} is ${first.problem.replaceAll('_', ' ')}`);
  }
  if (input.scriptsTruncated) {
    warnings.push(`only the first ${input.maxFiles} files named in the arguments are pinned: later files could change without a new prompt`);
  }
  for (const file of input.rootProjectFiles) {
    warnings.push(`running as root: ${file.path} is inside ${file.dir}, where being owned by root does not protect it, since anything running as root there can rewrite it`);
  }
  return warnings;
}
