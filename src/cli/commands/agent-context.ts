// `agent-secret agent-context --json`: everything a coding agent needs to use agent-secret,
// derived from the live command table (so it cannot drift from --help), the exit-code
// table and the discovered project config. Never resolves a reference, never prompts.

import type { Command, Option } from 'commander';
import { deniedAliasRules } from '../../core/alias.js';
import { EXIT_CODE_TABLE, listErrorCodes } from '../../core/errors.js';
import { VERSION } from '../../version.js';
import type { CliContext } from '../context.js';
import { writeJson } from '../render/output.js';
import { inspectProjectConfig } from './project-config.js';

/** Prints the machine-readable summary. */
export async function runAgentContext(ctx: CliContext, program: Command, options: { config?: string }): Promise<number> {
  const commands: Record<string, unknown> = {};
  const visit = (command: Command, prefix: string) => {
    const visible = new Set(command.createHelp().visibleCommands(command));
    for (const sub of command.commands) {
      if (!visible.has(sub)) continue; // hidden, like `daemon serve`
      const name = `${prefix}${sub.name()}`;
      if (sub.commands.length > 0) {
        visit(sub, `${name} `);
        continue;
      }
      commands[name] = {
        summary: sub.summary() || sub.description(),
        usage: `agent-secret ${name} ${sub.usage()}`.trim(),
        flags: sub.options.filter((o) => !o.hidden).map(describeOption),
      };
    }
  };
  visit(program, '');

  writeJson(ctx.stdout, {
    cli: 'agent-secret',
    version: VERSION,
    commands,
    exit_codes: EXIT_CODE_TABLE.map((e) => ({ code: e.code === -1 ? 'child' : e.code, kind: e.kind, meaning: e.meaning })),
    error_codes: listErrorCodes(),
    config: {
      discovery: ['agent-secret.yml', '.agent-secret.yml'],
      discovery_rule: 'walk up from the current directory; --config PATH overrides',
      user_config: '$XDG_CONFIG_HOME/agent-secret/config.yml (approver, op_path, touch_id, providers; the only place an approver or a provider is chosen)',
      reference_schemes: ['op://vault/item[/section]/field (1Password)', 'bws://SECRET_ID or bws://SOURCE/SECRET_ID (Bitwarden Secrets Manager)', 'SCHEME://… of a provider program the human declared in the user config'],
      inspect_command: 'agent-secret profile list --json',
      refused_aliases: deniedAliasRules(),
    },
    available: { profile_config: await inspectProjectConfig(ctx, options.config) },
    conventions: {
      json_flag: '--json',
      dry_run_flag: '--dry-run',
      no_prompt_flag: '--reuse-only',
      argv_separator: '--',
      secret_safety: [
        'never run op, bws or a provider program directly; ask for secrets through agent-secret exec (bws:// and other schemes work exactly like op://)',
        'never handle provider tokens: agent-secret provider token is the human\'s command',
        'to find references, use agent-secret item describe op://vault/item (field names, never values), not op item get',
        'a command the human allowed again for a while runs without a new prompt; exec --reuse-only checks that without prompting (exit 14: nothing to reuse)',
        'run exec --dry-run --json first to see exactly what the human will be asked',
        'never print, log, commit or write a secret value; prove it arrived with test -n "$ALIAS"',
        'avoid env, printenv, set -x and debug logging in secret-backed commands',
      ],
      exit_code_caveat: "exec returns the child's own exit code, which may collide with agent-secret's codes; agent-secret's own failures always print an 'agent-secret:' line on stderr",
    },
  });
  return 0;
}

function describeOption(option: Option): Record<string, unknown> {
  return {
    name: option.long ?? option.short,
    ...(option.short !== undefined && option.long !== undefined ? { short: option.short } : {}),
    // A negated flag (--no-mask) takes no value either.
    type: option.isBoolean() || option.negate ? 'boolean' : 'string',
    ...(option.variadic || (option.parseArg !== undefined && !option.isBoolean()) ? { repeatable: true } : {}),
    description: option.description,
  };
}
