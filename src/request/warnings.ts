// Warnings shown to the human in the prompt: things about a request that are allowed but
// deserve a second look. Pure; input is the request being built and facts about the host.

import { validateAlias } from '../core/alias.js';
import { asksForShell, inlineCodeOf, interpreterFamily, programBase, unwrapOnce } from '../core/command-line.js';

/** A request with this many secrets or more gets a high-scope warning. */
export const MANY_SECRETS = 6;

const ENV_PRINTERS = new Set(['env', 'printenv', 'set', 'export', 'declare', 'compgen']);
const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'fish', 'csh', 'tcsh', 'ash', 'busybox', 'pwsh', 'nu', 'xonsh', 'elvish']);

/** The warnings about what the command itself can do with the secrets. */
export const COMMAND_WARNINGS = {
  envPrinter: 'the command can print environment variables, including the secrets',
  shell: 'the command is a shell: it can run anything with these secrets',
  inlineCode: 'the command evaluates inline code given on the command line',
} as const;

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
  if (input.secretCount >= MANY_SECRETS) {
    warnings.push(`high scope: this command asks for ${input.secretCount} secrets at once`);
  }
  const commandWarning = commandRiskWarning(input.command, input.executable);
  if (commandWarning !== null) warnings.push(commandWarning);
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

const SEVERITY: readonly string[] = [COMMAND_WARNINGS.envPrinter, COMMAND_WARNINGS.shell, COMMAND_WARNINGS.inlineCode];

/**
 * The warning about the program the command really runs, or null: wrappers (`timeout 5`, `nice`,
 * `env -i`, `sudo -u x`, `xargs`, …) are seen through, both as typed and with the resolved
 * executable in argv[0] (a symlink's own name may hide an interpreter). The most severe wins. Pure.
 */
export function commandRiskWarning(command: readonly string[], executable: string): string | null {
  const found = [classifyCommand(command), classifyCommand([executable, ...command.slice(1)])].filter((w): w is string => w !== null);
  return found.sort((a, b) => SEVERITY.indexOf(a) - SEVERITY.indexOf(b))[0] ?? null;
}

// One argv, unwrapped step by step: each program on the way may be the risky one.
function classifyCommand(argv: readonly string[]): string | null {
  let current = [...argv];
  for (let depth = 0; depth < 32 && current.length > 0; depth += 1) {
    const name = programBase(current[0]!);
    const inner = unwrapOnce(current);
    // `env` with a command to run is a wrapper; alone (or with only options) it prints the environment.
    if (ENV_PRINTERS.has(name) && (name !== 'env' || inner === null || inner.length === 0)) return COMMAND_WARNINGS.envPrinter;
    if (SHELLS.has(name) || asksForShell(current)) return COMMAND_WARNINGS.shell;
    const code = inlineCodeOf(current);
    if (code !== null) {
      // awk reads variables only through ENVIRON; any other inline code can do anything.
      if (interpreterFamily(name) !== 'awk') return COMMAND_WARNINGS.inlineCode;
      if (code.some((text) => text.includes('ENVIRON'))) return COMMAND_WARNINGS.envPrinter;
    }
    if (inner === null) return null;
    current = inner;
  }
  return null;
}
