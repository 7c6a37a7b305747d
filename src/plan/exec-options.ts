// The flags of `exec` (and the source flags `session create` shares), defined once for the
// command table and for the broker, which plans an exec from the caller's argv. A commander
// error becomes the same usage error wherever the flags are parsed.

import { Command, CommanderError, Option } from 'commander';
import { shellQuote } from '../approval/display.js';
import { AgentSecretError } from '../core/errors.js';
import type { ExecOptions } from './exec-plan.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Where the secrets of a request come from, and why: the same flags for exec and session create. */
export function defineSourceOptions(command: Command): Command {
  return command
    .option('--profile <name>', 'profile from agent-secret.yml (default: default_profile)')
    .option('--secret <ALIAS=REF>', 'one-off secret, e.g. API_TOKEN=op://Vault/Item/field (repeatable)', collect)
    .option('--file <NAME=REF>', 'one-off secret delivered as a private file; NAME holds its path, e.g. KUBECONFIG=op://Infra/prod-cluster/kubeconfig (repeatable)', collect)
    .option('--template <NAME=PATH>', 'template file with {{ op://vault/item/field }} placeholders, rendered after approval into a private file; NAME holds its path (repeatable)', collect)
    .option('--env-file <path>', 'dotenv file: op:// values become secrets, others plain variables (repeatable)', collect)
    .option('--only <aliases>', 'only these profile/env-file aliases, comma-separated (repeatable)', collect)
    .option('--reason <text>', "why the secrets are needed (shown to the human; default: the profile's reason)")
    .option('--account <account>', '1Password account for secrets that name none')
    .option('--config <path>', 'config file instead of discovering agent-secret.yml');
}

/** The options of `exec`, defined once: for the command table and for the broker, which plans every exec from the caller's argv (parseExecOptions). */
export function defineExecOptions(command: Command): Command {
  return defineSourceOptions(command)
    .option('--cwd <dir>', 'working directory of the command (default: current directory)')
    .option('--ttl <duration>', 'how long the request may wait for approval, 10s..10m (default: profile ttl or 2m)')
    .option('--override-env', 'allow secrets to replace variables already set in the environment')
    .option('--allow-mutable-executable', 'run an executable that you or others could replace (the prompt shows a warning)')
    .option('--pristine', 'start the command from a minimal environment: PATH, HOME, USER, LANG, TERM, TMPDIR, plus the secrets')
    .option('--mask', 'mask secret values in the command output even on a terminal')
    .option('--no-mask', 'never mask the command output (default: mask unless the output is a terminal and no coding agent is detected)')
    .option('--reuse-only', 'use a live reusable approval for this exact request, or fail (exit 14) without prompting')
    .option('--force-refresh', 'with a matching reusable approval: resolve every reference again through op')
    .option('--dry-run', 'validate everything and print the request; no prompt, no op call, no child')
    .option('--json', 'with --dry-run: print the request as JSON')
    .addOption(new Option('--reuse', 'not supported: reusable approvals are chosen in the approver').hideHelp())
    .allowExcessArguments(false)
    .usage('[options] -- CMD [ARGS...]');
}

/**
 * Parses the flags of `exec` (what comes between `exec` and `--`) the way the command table
 * does, printing nothing. Throws the usage error for anything the table would reject, and for
 * --help (which only the CLI answers). `command` (what came after `--`) only shapes the
 * corrected command line of a usage error.
 */
export function parseExecOptions(args: readonly string[], command: readonly string[] | null = null): ExecOptions {
  const parser = defineExecOptions(new Command('exec'))
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined })
    .action(() => undefined);
  try {
    parser.parse([...args], { from: 'user' });
  } catch (error) {
    throw usageErrorOf(execUsageErrorOf(error, args, command), ['exec']);
  }
  return parser.opts<ExecOptions>();
}

/** A commander error as the usage error agent-secret reports (anything else unchanged); the hint names the subcommand's own --help. */
export function usageErrorOf(error: unknown, commandPath: readonly string[] = []): unknown {
  if (!(error instanceof CommanderError)) return error;
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') {
    return new AgentSecretError('usage.invalid', 'exec --help is answered by the agent-secret command itself', { hint: 'run agent-secret exec --help' });
  }
  return new AgentSecretError('usage.invalid', error.message.replace(/^error: /, ''), { hint: `see ${['agent-secret', ...commandPath].join(' ')} --help` });
}

// Past this length a corrected command line is no help to read: the generic form is shown.
const MAX_CORRECTED = 400;

/**
 * For `exec`: a command typed before `--` (`exec --profile deploy sh -c 'echo hi'`) makes
 * commander say "unknown option '-c'" or "too many arguments", which names the symptom, not the
 * mistake. When the flags hold a word that is not a flag or a flag's value, the error says to put
 * the command after `--` and gives the corrected command line. `args` are the words between
 * `exec` and `--`, `command` the words after it (null without `--`). Anything else unchanged.
 */
export function execUsageErrorOf(error: unknown, args: readonly string[], command: readonly string[] | null, verb: 'exec' | 'policy explain' = 'exec'): unknown {
  if (!(error instanceof CommanderError)) return error;
  if (error.code !== 'commander.unknownOption' && error.code !== 'commander.excessArguments') return error;
  const at = firstCommandWord(args);
  if (at === -1) return error;
  const flags = args.slice(0, at);
  const words = [...args.slice(at), ...(command === null ? [] : ['--', ...command])];
  const line = ['agent-secret', ...verb.split(' '), ...flags, '--', ...words].map(shellQuote).join(' ');
  const fallback = `agent-secret ${verb} ${flags.length > 0 ? '[flags] ' : ''}-- CMD [ARGS...]`;
  return new AgentSecretError('usage.invalid', `${verb} takes the command ${verb === 'exec' ? 'to run' : 'to explain'} after --, but "${shellQuote(args[at] ?? '')}" came before it`, {
    hint: line.length <= MAX_CORRECTED ? line : fallback,
  });
}

/**
 * Index of the first word in exec's flags that is neither a flag nor a flag's value; -1 if none,
 * or if an unknown flag comes first (then it is a mistyped flag, not a misplaced command).
 */
export function firstCommandWord(args: readonly string[]): number {
  const known = new Set<string>();
  const withValue = new Set<string>();
  for (const option of defineExecOptions(new Command('exec')).options) {
    for (const name of [option.long, option.short]) {
      if (name === undefined) continue;
      known.add(name);
      if (option.required || option.optional) withValue.add(name);
    }
  }
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('-') || arg === '-') return i;
    const name = arg.startsWith('--') ? arg.split('=', 1)[0] ?? arg : arg;
    if (!known.has(name) && name !== '-h' && name !== '--help') return -1;
    if (withValue.has(arg)) i += 1;
  }
  return -1;
}
