// Warnings shown to the human in the prompt: things about a request that are allowed but
// deserve a second look. Pure; input is the request being built and facts about the host.

import { asksForShell, inlineCodeOf, interpreterFamily, programBase, unwrapOnce } from '../core/command-line.js';
import { envRisk } from '../core/env-risk.js';

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
  if (input.secretCount >= MANY_SECRETS) {
    warnings.push(`high scope: this command asks for ${input.secretCount} secrets at once`);
  }
  const commandWarning = commandRiskWarning(input.command, input.executable);
  if (commandWarning !== null) warnings.push(commandWarning);
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

export interface DeliveryWarningInput {
  /** Every file-delivered alias (file secrets and templates) with its mode. */
  files: ReadonlyArray<{ alias: string; mode: 'file' | 'fifo' }>;
  platform: NodeJS.Platform;
}

/**
 * Warnings about delivered files: a file alias that is a variable on the risk list (KUBECONFIG,
 * NPM_CONFIG_USERCONFIG: the file then decides where the command connects or what it trusts),
 * and on macOS a regular file (`mode: file`), which lands on disk because macOS has no
 * RAM-backed filesystem. Pure.
 */
export function deliveryWarnings(input: DeliveryWarningInput): string[] {
  const warnings: string[] = [];
  const risky = riskyNames(
    input.files.map((f) => f.alias),
    () => true,
  );
  if (risky.length > 0) warnings.push(`delivered as files: ${listNames(risky)}, so what the file holds ${ENV_EFFECT}`);
  const onDisk = input.platform === 'darwin' ? [...new Set(input.files.filter((f) => f.mode === 'file').map((f) => f.alias))].sort(compareNames) : [];
  if (onDisk.length > 0) {
    warnings.push(`written to disk as a regular file (mode: file): ${listNames(onDisk)}; macOS has no RAM-backed filesystem, so the bytes reach the disk until the command exits (the default, a FIFO, never writes them)`);
  }
  return warnings;
}
