// The flags of `exec` (and the source flags `session create` shares), defined once for the
// command table and for the broker, which plans an exec from the caller's argv. A commander
// error becomes the same usage error wherever the flags are parsed.

import { Command, CommanderError, Option } from 'commander';
import { AgentSecretError } from '../core/errors.js';
import type { ExecOptions } from './exec-plan.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Where the secrets of a request come from, and why: the same flags for exec and session create. */
export function defineSourceOptions(command: Command): Command {
  return command
    .option('--profile <name>', 'profile from agent-secret.yml (default: default_profile)')
    .option('--secret <ALIAS=REF>', 'one-off secret, e.g. API_TOKEN=op://Vault/Item/field (repeatable)', collect)
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
    .option('--no-mask', 'never mask the command output (default: mask when output is captured, not a terminal)')
    .option('--reuse-only', 'use a live reusable approval for this exact request, or fail (exit 14) without prompting')
    .option('--force-refresh', 'with a matching reusable approval: resolve every reference again through op')
    .option('--dry-run', 'validate everything and print the request; no prompt, no op call, no child')
    .option('--json', 'with --dry-run: print the request as JSON')
    .addOption(new Option('--reuse', 'not supported: reusable approvals are chosen in the approver').hideHelp())
    .allowExcessArguments(false);
}

/**
 * Parses the flags of `exec` (what comes between `exec` and `--`) the way the command table
 * does, printing nothing. Throws the usage error for anything the table would reject, and for
 * --help (which only the CLI answers).
 */
export function parseExecOptions(args: readonly string[]): ExecOptions {
  const command = defineExecOptions(new Command('exec'))
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined })
    .action(() => undefined);
  try {
    command.parse([...args], { from: 'user' });
  } catch (error) {
    throw usageErrorOf(error);
  }
  return command.opts<ExecOptions>();
}

/** A commander error as the usage error agent-secret reports (anything else unchanged). */
export function usageErrorOf(error: unknown): unknown {
  if (!(error instanceof CommanderError)) return error;
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') {
    return new AgentSecretError('usage.invalid', 'exec --help is answered by the agent-secret command itself', { hint: 'run agent-secret exec --help' });
  }
  return new AgentSecretError('usage.invalid', error.message.replace(/^error: /, ''), { hint: 'see agent-secret --help' });
}
