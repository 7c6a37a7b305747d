// The command table. Each action lazy-imports its command module so that `--version`,
// `--help` and `agent-context` load almost nothing. Commander never prints errors or exits
// itself: exitOverride() turns them into throws that cli/main.ts maps to the exit table.

import { Command, Option } from 'commander';
import { VERSION } from '../version.js';
import type { CliContext } from './context.js';

export type RunResult = number;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const EXEC_EXAMPLES = `
Examples:
  agent-secret exec --profile terraform-cloudflare -- terraform plan
  agent-secret exec --reason "Run the deploy smoke test" \\
      --secret API_TOKEN=op://Engineering/Deploy/token -- ./smoke-test.sh
  agent-secret exec --env-file .env.op --only DATABASE_URL -- npm run migrate
  agent-secret exec --dry-run --json --profile deploy -- fly deploy

Everything after -- is the command, as argv (no shell). To use a shell, say so:
  agent-secret exec --profile deploy -- sh -c 'make deploy'`;

/** Builds the commander program; `run` receives the chosen command's result. */
export function buildProgram(ctx: CliContext, run: (result: Promise<RunResult>) => void): Command {
  const program = new Command('agent-secret')
    .description('Ask a human before a coding agent gets a 1Password secret; give the value only to the approved command.')
    .version(VERSION, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
      outputError: () => undefined,
    })
    .addHelpText(
      'after',
      `
Start here:
  agent-secret doctor                      check op, the approver and the audit log
  agent-secret profile list                profiles in this project's agent-secret.yml
  agent-secret exec --dry-run --profile P -- CMD   show the request without asking anyone
  agent-secret agent-context --json        everything an agent needs, as JSON`,
    );

  program
    .command('exec')
    .summary('run a command with approved secrets in its environment')
    .description('Build an exact approval request, ask the human, resolve the approved references through op, and run the command with them.')
    .option('--profile <name>', 'profile from agent-secret.yml (default: default_profile)')
    .option('--secret <ALIAS=REF>', 'one-off secret, e.g. API_TOKEN=op://Vault/Item/field (repeatable)', collect)
    .option('--env-file <path>', 'dotenv file: op:// values become secrets, others plain variables (repeatable)', collect)
    .option('--only <aliases>', 'only these profile/env-file aliases, comma-separated (repeatable)', collect)
    .option('--reason <text>', "why the secrets are needed (shown to the human; default: the profile's reason)")
    .option('--account <account>', '1Password account for secrets that name none')
    .option('--config <path>', 'config file instead of discovering agent-secret.yml')
    .option('--cwd <dir>', 'working directory of the command (default: current directory)')
    .option('--ttl <duration>', 'how long the request may wait for approval, 10s..10m (default: profile ttl or 2m)')
    .option('--override-env', 'allow secrets to replace variables already set in the environment')
    .option('--allow-mutable-executable', 'run an executable that you or others could replace (the prompt shows a warning)')
    .option('--pristine', 'start the command from a minimal environment: PATH, HOME, USER, LANG, TERM, TMPDIR, plus the secrets')
    .option('--mask', 'mask secret values in the command output even on a terminal')
    .option('--no-mask', 'never mask the command output (default: mask when output is captured, not a terminal)')
    .option('--dry-run', 'validate everything and print the request; no prompt, no op call, no child')
    .option('--json', 'with --dry-run: print the request as JSON')
    .addOption(new Option('--reuse', 'not supported: reusable approvals are chosen in the approver').hideHelp())
    .allowExcessArguments(false)
    .addHelpText('after', EXEC_EXAMPLES)
    .action(async (options) => {
      const { runExec } = await import('./commands/exec.js');
      run(runExec(ctx, options));
    });

  const profile = program.command('profile').summary("inspect the project's profiles").description("Inspect the profiles in this project's agent-secret.yml.");
  profile
    .command('list')
    .description('list profiles (the default is marked)')
    .option('--config <path>', 'config file instead of discovering agent-secret.yml')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret profile list\n  agent-secret profile list --json')
    .action(async (options) => {
      const { runProfileList } = await import('./commands/profile.js');
      run(runProfileList(ctx, options));
    });
  profile
    .command('show')
    .description('show one profile with includes and accounts resolved (references only, never values)')
    .argument('[name]', 'profile name (default: default_profile)')
    .option('--config <path>', 'config file instead of discovering agent-secret.yml')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret profile show\n  agent-secret profile show deploy --json')
    .action(async (name: string | undefined, options) => {
      const { runProfileShow } = await import('./commands/profile.js');
      run(runProfileShow(ctx, name, options));
    });

  program
    .command('doctor')
    .description('check node, op, sign-in, the project config, the approver and the audit log; never prompts')
    .option('--config <path>', 'config file instead of discovering agent-secret.yml')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret doctor\n  agent-secret doctor --json')
    .action(async (options) => {
      const { runDoctor } = await import('./commands/doctor.js');
      run(runDoctor(ctx, options));
    });

  program
    .command('audit')
    .summary('show recent requests from the audit log, or verify its hash chain')
    .description('Show recent requests from the audit log (one row per request; never a value), or, with "verify", check that no line was edited, removed, inserted or reordered.')
    .argument('[action]', '"verify": check the hash chain of the whole trail (rotated files included)')
    .option('--since <duration>', 'only requests newer than this: 30m, 1h, 2d')
    .option('--profile <name>', 'only requests for this profile')
    .option('--outcome <outcome>', 'only requests that ended so: approved, denied, timed_out or failed')
    .option('--limit <n>', 'at most the newest n requests (default 50)')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Examples:
  agent-secret audit                        the last 50 requests: time, requester, decision, exit code
  agent-secret audit --since 1h --outcome denied
  agent-secret audit --profile deploy --limit 10 --json
  agent-secret audit verify                 exit 0 when the trail is intact, 1 naming the first broken line
  agent-secret audit verify --json`,
    )
    .action(async (action: string | undefined, options) => {
      const { runAudit } = await import('./commands/audit.js');
      run(runAudit(ctx, action, options));
    });

  const daemon = program
    .command('daemon')
    .summary('start, stop or check the per-user agent-secret daemon')
    .description('The daemon holds the prompt queue, reusable approvals and sessions for every agent of this user. Commands that need it start it on demand; it exits after a quiet period.');
  daemon
    .command('start')
    .description('start the daemon unless one of this version already runs, then show it')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret daemon start\n  agent-secret daemon start --json')
    .action(async (options) => {
      const { runDaemonStart } = await import('./commands/daemon.js');
      run(runDaemonStart(ctx, options));
    });
  daemon
    .command('stop')
    .description('stop the daemon: pending prompts are cancelled and every held value and approval is dropped')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret daemon stop\n  agent-secret daemon stop --json')
    .action(async (options) => {
      const { runDaemonStop } = await import('./commands/daemon.js');
      run(runDaemonStop(ctx, options));
    });
  daemon
    .command('status')
    .description('show whether the daemon runs (exit 0) or not (exit 1); never starts it')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret daemon status\n  agent-secret daemon status --json')
    .action(async (options) => {
      const { runDaemonStatus } = await import('./commands/daemon.js');
      run(runDaemonStatus(ctx, options));
    });
  daemon
    .command('serve', { hidden: true })
    .description('run the daemon in the foreground (what a detached start runs)')
    .allowExcessArguments(false)
    .action(async () => {
      const { runDaemonServe } = await import('./commands/daemon.js');
      run(runDaemonServe(ctx));
    });

  program
    .command('guard')
    .summary('Claude Code PreToolUse hook: block op reads and .env dumps, name the agent-secret command instead')
    .description('Read a Claude Code PreToolUse hook call (JSON) on stdin. A Bash command or Read that would show a secret to the agent (op read/run/inject/signin/item get, cat/grep/source of a file holding op:// references or values) gets a deny naming the agent-secret command to use; anything else, malformed input included, prints nothing. Always exits 0.')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Examples:
  echo '{"tool_name":"Bash","tool_input":{"command":"op read op://Vault/Item/field"}}' | agent-secret guard
  agent-secret hook-install                 register it in ~/.claude/settings.json

A seatbelt against habits, not a sandbox: see "Agent guardrails" in the README for what it cannot catch.`,
    )
    .action(async () => {
      const { runGuard } = await import('./commands/guard.js');
      run(runGuard(ctx, process.stdin));
    });

  program
    .command('skill-install')
    .description('install the agent-secret skill into ~/.agents/skills and ~/.claude/skills (idempotent)')
    .option('--force', 'replace an installed skill that differs from this version')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret skill-install\n  agent-secret skill-install --force --json')
    .action(async (options) => {
      const { runSkillInstall } = await import('./commands/install.js');
      run(runSkillInstall(ctx, options));
    });

  program
    .command('hook-install')
    .description('add `agent-secret guard` as a PreToolUse hook to ~/.claude/settings.json, keeping every other setting (idempotent)')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret hook-install\n  agent-secret hook-install --json')
    .action(async (options) => {
      const { runHookInstall } = await import('./commands/install.js');
      run(runHookInstall(ctx, options));
    });

  program
    .command('agent-context')
    .description('machine-readable summary of commands, flags, exit codes and profiles, for coding agents')
    .option('--config <path>', 'config file instead of discovering agent-secret.yml')
    .option('--json', 'print JSON (the only format)')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExample:\n  agent-secret agent-context --json')
    .action(async (options) => {
      const { runAgentContext } = await import('./commands/agent-context.js');
      run(runAgentContext(ctx, program, options));
    });

  program
    .command('version')
    .description('print the version')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .action(async (options) => {
      const { runVersion } = await import('./commands/version.js');
      run(runVersion(ctx, options));
    });

  return program;
}
