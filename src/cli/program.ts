// The command table. Each action lazy-imports its command module so that `--version`,
// `--help` and `agent-context` load almost nothing. Commander never prints errors or exits
// itself: exitOverride() turns them into throws that cli/main.ts maps to the exit table.

import { Command, Option } from 'commander';
import { VERSION } from '../version.js';
import { defineExecOptions, defineSourceOptions, execUsageErrorOf } from '../plan/exec-options.js';
import type { CliContext } from './context.js';

export type RunResult = number;
type Run = (result: Promise<RunResult>) => void;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const EXEC_EXAMPLES = `
Examples:
  agent-secret exec --profile terraform-cloudflare -- terraform plan
  agent-secret exec --reason "Run the deploy smoke test" \\
      --secret API_TOKEN=op://Engineering/Deploy/token -- ./smoke-test.sh
  agent-secret exec --env-file .env.op --only DATABASE_URL --reason "Run the migration" -- npm run migrate
  agent-secret exec --reason "Check the production pods" \\
      --file KUBECONFIG=op://Infra/prod-cluster/kubeconfig -- kubectl get pods
  agent-secret exec --reason "Publish the package" \\
      --template NPM_CONFIG_USERCONFIG=.npmrc.tmpl -- npm publish
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

  addExecCommand(program, ctx, run);
  addInspectCommands(program, ctx, run);
  addSessionCommands(program, ctx, run);
  addApprovalCommands(program, ctx, run);
  addApproverCommand(program, ctx, run);
  addAuditCommand(program, ctx, run);
  addDaemonCommands(program, ctx, run);
  addAgentCommands(program, ctx, run);
  addCompletionCommands(program, ctx, run);
  addPolicyCommands(program, ctx, run);
  addRegisteredAgentCommands(program, ctx, run);
  return program;
}

/** Exec: the command that asks, resolves and runs. */
function addExecCommand(program: Command, ctx: CliContext, run: Run): void {
  defineExecOptions(
    program
      .command('exec')
      .summary('run a command with approved secrets in its environment')
      .description('Build an exact approval request, ask the human, resolve the approved references through op, and run the command with them.'),
  )
    .addHelpText('after', EXEC_EXAMPLES)
    // A command typed before `--` gets the corrected command line, not commander's symptom.
    .exitOverride((error) => {
      throw execUsageErrorOf(error, ctx.args.slice(ctx.args.indexOf('exec') + 1), ctx.childArgv);
    })
    .action(async (options) => {
      const { runExec } = await import('./commands/exec.js');
      run(runExec(ctx, options));
    });
}

/** Profile list/show, doctor, item describe: inspecting without values. */
function addInspectCommands(program: Command, ctx: CliContext, run: Run): void {
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
    .description('check node, every provider (op and its sign-in or service accounts, bws and its tokens, provider programs), the project config, the approver and the audit log; never prompts')
    .option('--config <path>', 'config file instead of discovering agent-secret.yml')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret doctor\n  agent-secret doctor --json')
    .action(async (options) => {
      const { runDoctor } = await import('./commands/doctor.js');
      run(runDoctor(ctx, options));
    });

  const provider = program
    .command('provider')
    .summary("manage the tokens of the stores agent-secret reads (bws, 1Password service accounts)")
    .description(
      "The human's side of the providers: store, check or remove the token agent-secret uses for a Bitwarden Secrets Manager source or a 1Password service account. The token is read from the terminal (hidden) or stdin, never from arguments, and never printed. See docs/providers.md.",
    );
  const token = provider.command('token').summary('set, check or remove a provider token').description('TARGET is bws (the default source), bws/SOURCE, or op/ACCOUNT (an account under providers.op.service_accounts).');
  token
    .command('set')
    .description('store a token: read from the terminal without echo, or from stdin')
    .argument('<target>', 'bws, bws/SOURCE or op/ACCOUNT')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret provider token set bws\n  agent-secret provider token set bws/team < ~/Downloads/team-token.txt\n  agent-secret provider token set op/ci.1password.com')
    .action(async (target: string, options) => {
      const { runProviderTokenSet } = await import('./commands/provider.js');
      run(runProviderTokenSet(ctx, target, options));
    });
  token
    .command('status')
    .description('say where the token is kept and whether it is there (never the token); exit 1 when it is missing or unusable')
    .argument('<target>', 'bws, bws/SOURCE or op/ACCOUNT')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret provider token status bws\n  agent-secret provider token status op/ci.1password.com --json')
    .action(async (target: string, options) => {
      const { runProviderTokenStatus } = await import('./commands/provider.js');
      run(runProviderTokenStatus(ctx, target, options));
    });
  token
    .command('remove')
    .description('remove the token from its store')
    .argument('<target>', 'bws, bws/SOURCE or op/ACCOUNT')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret provider token remove bws/team')
    .action(async (target: string, options) => {
      const { runProviderTokenRemove } = await import('./commands/provider.js');
      run(runProviderTokenRemove(ctx, target, options));
    });

  const item = program.command('item').summary('inspect 1Password items without reading their values').description('Inspect 1Password items: field names, types and references, never values.');
  item
    .command('describe')
    .description('after one approval, list the fields of a 1Password item (labels, types, sections, ready-to-use op:// references), every value stripped')
    .argument('<ref>', 'the item: op://vault/item')
    .option('--account <account>', '1Password account (default: the project config account, AGENT_SECRET_1PASSWORD_ACCOUNT, OP_ACCOUNT)')
    .option('--config <path>', 'config file instead of discovering agent-secret.yml')
    .option('--format <format>', 'text, json or env-refs (lines ALIAS=op://… for an env file)', 'text')
    .option('--json', 'print JSON (the same as --format json)')
    .option('--prefix <prefix>', 'prefix for the generated variable names, e.g. GITHUB')
    .option('--reason <text>', 'why (shown to the human; default: "Inspect 1Password item metadata")')
    .option('--ttl <duration>', 'how long the request may wait for approval, 10s..10m (default 2m)')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Examples:
  agent-secret item describe op://Infra/GitHub
  agent-secret item describe op://Infra/GitHub --format env-refs --prefix GITHUB >> .env.op
  agent-secret item describe op://Infra/GitHub --format json`,
    )
    .action(async (ref: string, options) => {
      const { runItemDescribe } = await import('./commands/item.js');
      run(runItemDescribe(ctx, ref, options));
    });
}

/** Session create/list/destroy and with-session. */
function addSessionCommands(program: Command, ctx: CliContext, run: Run): void {
  const session = program
    .command('session')
    .summary('approve secrets once for several commands in one process tree')
    .description('A session is one approval for a set of secrets, read by with-session up to --max-reads times until its ttl ends, only from the process tree it is bound to and its directory.');
  defineSourceOptions(
    session.command('create').description('ask the human once; print a session id and a token (shown once) for with-session'),
  )
    .option('--cwd <dir>', 'the directory with-session must run in (default: current directory)')
    .option('--ttl <duration>', 'how long the session lives after approval, 10s..10m (default: profile ttl or 2m)')
    .option('--max-reads <n>', 'how many with-session runs may read it, 1..100 (default 1)')
    .option('--override-env', 'let with-session replace variables already set in its environment')
    .option('--bind-parent', 'bind to the direct parent of this command')
    .option('--bind-ancestor <n>', 'bind to the ancestor at depth n (1..3)')
    .option('--bind-ancestor-name <name>', 'bind to the nearest ancestor running this program (repeatable)', collect)
    .option('--json [format]', 'print JSON; --json=compact for one line')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Examples:
  agent-secret session create --profile deploy --max-reads 5 --ttl 10m
  agent-secret session create --profile deploy --bind-ancestor-name zsh --json=compact
  agent-secret with-session astok_… -- npm run deploy`,
    )
    .action(async (options) => {
      const { runSessionCreate } = await import('./commands/session.js');
      run(runSessionCreate(ctx, options));
    });
  session
    .command('list')
    .description('list live sessions (never tokens or values)')
    .option('--json [format]', 'print JSON; --json=compact for one line')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Examples:
  agent-secret session list
  agent-secret session list --json=compact`,
    )
    .action(async (options) => {
      const { runSessionList } = await import('./commands/session.js');
      run(runSessionList(ctx, options));
    });
  session
    .command('destroy')
    .description('end a session now and drop its values from the daemon')
    .argument('[id]', 'session id (asid_…), from session list')
    .option('--all', 'destroy every live session')
    .option('--json [format]', 'print JSON; --json=compact for one line')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Examples:
  agent-secret session destroy asid_…
  agent-secret session destroy --all`,
    )
    .action(async (id: string | undefined, options) => {
      const { runSessionDestroy } = await import('./commands/session.js');
      run(runSessionDestroy(ctx, id, options));
    });
  program
    .command('with-session')
    .summary('run a command with the values of a session')
    .description('Read a session (one of its reads) and run the command with its values; only from the bound process tree and the session directory.')
    .argument('<token>', 'the token session create printed')
    .usage('[options] <token> -- CMD [ARGS...]')
    .option('--only <aliases>', 'only these aliases of the session, comma-separated (repeatable)', collect)
    .option('--cwd <dir>', 'working directory; must be the session directory (default: current directory)')
    .option('--mask', 'mask secret values in the command output even on a terminal')
    .option('--no-mask', 'never mask the command output')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret with-session astok_… -- npm test\n  agent-secret with-session astok_… --only DATABASE_URL -- npm run migrate')
    .action(async (token: string, options) => {
      const { runWithSession } = await import('./commands/session.js');
      run(runWithSession(ctx, token, options));
    });
}

/** Approvals list/revoke. */
function addApprovalCommands(program: Command, ctx: CliContext, run: Run): void {
  program
    .command('approve')
    .summary('be the approval console: answer requests in this terminal (headless hosts, SSH)')
    .description(
      'Attach this terminal to the daemon as the approval console of the console approver (approver: console in ~/.config/agent-secret/config.yml) and answer each request as it comes, one at a time: allow once, allow again for a while, or deny. Runs until Ctrl-C. One console at a time; stdin must be a terminal. Meant for the human, never for an agent.',
    )
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Examples:
  # once, in ~/.config/agent-secret/config.yml:  approver: console
  agent-secret approve          # in a terminal or SSH session of your own; Ctrl-C to detach`,
    )
    .action(async () => {
      const { runApprove } = await import('./commands/approve.js');
      run(runApprove(ctx));
    });
  const approvals = program
    .command('approvals')
    .summary('list or revoke the reusable approvals the daemon holds')
    .description('Reusable approvals are granted in the approver ("allow this exact request again for a while"); the daemon holds them until they expire or run out of uses. See and end them here.');
  approvals
    .command('list')
    .description('list live reusable approvals: id, uses left, expiry, reason, command, cwd, aliases (never a value)')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret approvals list\n  agent-secret approvals list --json')
    .action(async (options) => {
      const { runApprovalsList } = await import('./commands/approvals.js');
      run(runApprovalsList(ctx, options));
    });
  approvals
    .command('revoke')
    .description('end a reusable approval now and drop its values from the daemon')
    .argument('[id]', 'approval id (appr_…), from approvals list')
    .option('--all', 'revoke every live reusable approval')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret approvals revoke appr_3f2a…\n  agent-secret approvals revoke --all')
    .action(async (id: string | undefined, options) => {
      const { runApprovalsRevoke } = await import('./commands/approvals.js');
      run(runApprovalsRevoke(ctx, id, options));
    });
}

/** Approver test. */
function addApproverCommand(program: Command, ctx: CliContext, run: Run): void {
  const approver = program
    .command('approver')
    .summary('check the approver: a sample request, and what you answered')
    .description('Check the approver chosen in ~/.config/agent-secret/config.yml.');
  approver
    .command('test')
    .description(
      'Show a harmless sample request through the configured approver, as a real request would be shown (the dialog and Touch ID, the approval console, the approver program, or the terminal for tty), and report what you answered. No secrets: nothing is read from 1Password and nothing runs. The prompt is audited like any other. Exit 0 for Allow and for Deny, 11 when nobody answered in time.',
    )
    .option('--ttl <duration>', 'how long the sample waits for an answer, 10s..10m (default: 60s)')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Examples:
  agent-secret approver test
  agent-secret approver test --ttl 2m --json`,
    )
    .action(async (options) => {
      const { runApproverTest } = await import('./commands/approver.js');
      run(runApproverTest(ctx, options));
    });
}

/** Audit and audit verify. */
function addAuditCommand(program: Command, ctx: CliContext, run: Run): void {
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
}

/** Daemon start/stop/status and the hidden serve. */
function addDaemonCommands(program: Command, ctx: CliContext, run: Run): void {
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
}

/** Guard, skill-install, hook-install, agent-context, version: for coding agents. */
function addAgentCommands(program: Command, ctx: CliContext, run: Run): void {
  program
    .command('guard')
    .summary('tool-call hook for Claude Code, Codex CLI, Cursor and Gemini CLI: block op reads and .env dumps, name the agent-secret command instead')
    .description(
      "Read one tool-call hook (JSON) on stdin in the --agent's contract. A shell command, file read or search that would show a secret to the model (op read/run/inject/signin/item get, cat/grep/source of a file holding op:// references or values) gets that agent's deny, naming the agent-secret command to use; anything else, malformed input included, gets its allow. Exit 0, except Codex CLI's deny (exit 2, reason on stderr).",
    )
    .option('--agent <agent>', 'whose hook contract: claude, codex, cursor or gemini', 'claude')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Examples:
  echo '{"tool_name":"Bash","tool_input":{"command":"op read op://Vault/Item/field"}}' | agent-secret guard
  echo '{"hook_event_name":"beforeShellExecution","command":"cat .env","cwd":"/tmp"}' | agent-secret guard --agent cursor
  echo '{"tool_name":"run_shell_command","tool_input":{"command":"op read op://V/I/f"}}' | agent-secret guard --agent gemini
  agent-secret hook-install --agent codex       register it where that agent reads hooks

A seatbelt against habits, not a sandbox: see "Agent guardrails" in the README for what it cannot catch.`,
    )
    .action(async (options: { agent?: string }) => {
      const { runGuard } = await import('./commands/guard.js');
      run(runGuard(ctx, process.stdin, options));
    });

  const agentOption = () =>
    new Option('--agent <agent>', 'which agent: claude, codex, cursor or gemini').choices(['claude', 'codex', 'cursor', 'gemini']);
  program
    .command('skill-install')
    .description(
      'install the agent-secret skill where an agent reads skills: Claude Code ~/.claude/skills, Codex CLI ~/.agents/skills, Cursor ~/.cursor/skills, Gemini CLI ~/.gemini/skills (no --agent: ~/.agents/skills and ~/.claude/skills); idempotent',
    )
    .addOption(agentOption())
    .option('--project', "the repository's skills folder (nearest .git above) instead of your home")
    .option('--remove', 'remove the installed skill instead')
    .option('--force', 'replace (or remove) an installed skill that differs from this version; a backup is kept')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Examples:
  agent-secret skill-install
  agent-secret skill-install --agent cursor
  agent-secret skill-install --agent gemini --project
  agent-secret skill-install --agent codex --remove --json`,
    )
    .action(async (options) => {
      const { runSkillInstall } = await import('./commands/install.js');
      run(runSkillInstall(ctx, options));
    });

  program
    .command('hook-install')
    .description(
      "register `agent-secret guard --agent <agent>` where the agent reads hooks (Claude Code ~/.claude/settings.json, Codex CLI ~/.codex/hooks.json, Cursor ~/.cursor/hooks.json, Gemini CLI ~/.gemini/settings.json), keeping every other setting and a backup of the file; idempotent",
    )
    .addOption(agentOption().default('claude'))
    .option('--project', "the repository's own hook file (nearest .git above) instead of your home; the hook then runs agent-secret from PATH")
    .option('--remove', 'remove the guard hook instead')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Examples:
  agent-secret hook-install                      Claude Code
  agent-secret hook-install --agent codex        then trust it in codex's /hooks
  agent-secret hook-install --agent cursor --project
  agent-secret hook-install --agent gemini --remove --json`,
    )
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
    .addHelpText(
      'after',
      `
Examples:
  agent-secret version
  agent-secret version --json`,
    )
    .action(async (options) => {
      const { runVersion } = await import('./commands/version.js');
      run(runVersion(ctx, options));
    });
}

function addCompletionCommands(program: Command, ctx: CliContext, run: Run): void {
  program
    .command('completion')
    .summary('print a shell completion script: bash, zsh or fish')
    .description(
      'Print a completion script for bash, zsh or fish, generated from this command table: commands, subcommands and flags, profile names from the nearest agent-secret.yml, and approval and session ids from a running daemon (never started for it).',
    )
    .argument('<shell>', 'bash, zsh or fish')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      `
Examples:
  eval "$(agent-secret completion bash)"        this shell; for every one, add the line to ~/.bashrc
  eval "$(agent-secret completion zsh)"         this shell; for every one, add the line to ~/.zshrc
  agent-secret completion fish > ~/.config/fish/completions/agent-secret.fish

Profile names come from the nearest agent-secret.yml, approval and session ids from a running
daemon (none is started for it).`,
    )
    .action(async (shell: string) => {
      const { runCompletion } = await import('./commands/completion.js');
      run(runCompletion(ctx, program, shell));
    });

  program
    .command('__complete', { hidden: true })
    .description('names for shell completion: profiles, approvals or sessions (one a line)')
    .argument('<kind>')
    .allowExcessArguments(false)
    .action(async (kind: string) => {
      const { runComplete } = await import('./commands/completion.js');
      run(runComplete(ctx, kind));
    });
}

/** Policy check and explain: the rules that decide without asking, and which one would. */
function addPolicyCommands(program: Command, ctx: CliContext, run: Run): void {
  const policy = program
    .command('policy')
    .summary('check the policy that approves or denies requests without asking')
    .description('The user policy (~/.config/agent-secret/policy.yml, or policy: in config.yml; never a project file): rules that allow, deny or ask. See docs/policy.md.');
  policy
    .command('check')
    .description('validate the policy: every problem with its line and column, then the rules in the order they decide')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret policy check\n  agent-secret policy check --json')
    .action(async (options) => {
      const { runPolicyCheck } = await import('./commands/policy.js');
      run(runPolicyCheck(ctx, options));
    });
  defineExecOptions(
    policy
      .command('explain')
      .description('plan a request exactly as exec would (same flags) and say which rule decides it and why; asks nobody, resolves nothing, runs nothing'),
  )
    .addHelpText('after', '\nExamples:\n  agent-secret policy explain --profile deploy -- npm run deploy\n  agent-secret policy explain --json --secret API_TOKEN=op://CI/Deploy/token -- ./smoke.sh')
    .exitOverride((error) => {
      throw execUsageErrorOf(error, ctx.args.slice(ctx.args.indexOf('explain') + 1), ctx.childArgv, 'policy explain');
    })
    .action(async (options) => {
      const { runPolicyExplain } = await import('./commands/policy.js');
      run(runPolicyExplain(ctx, options));
    });
}

/** Registered agents: a token each, matched by policy rules (agent: NAME) and shown in prompts and the audit. */
function addRegisteredAgentCommands(program: Command, ctx: CliContext, run: Run): void {
  const agent = program
    .command('agent')
    .summary('register agents: a token each, for policy rules, prompts and the audit')
    .description('Registered agents. An orchestrator gives each agent its token as AGENT_SECRET_AGENT_TOKEN; the daemon checks it and names the agent in prompts, the audit and approvals list. See docs/policy.md.');
  agent
    .command('add')
    .description('register an agent and print its token once (only its hash is kept)')
    .argument('<name>', 'letters, digits, ".", "_" or "-"')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret agent add ci-builder\n  agent-secret agent add reviewer --json')
    .action(async (name: string, options) => {
      const { runAgentAdd } = await import('./commands/agents.js');
      run(runAgentAdd(ctx, name, options));
    });
  agent
    .command('list')
    .description('the registered agents (names and dates, never tokens)')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret agent list\n  agent-secret agent list --json')
    .action(async (options) => {
      const { runAgentList } = await import('./commands/agents.js');
      run(runAgentList(ctx, options));
    });
  agent
    .command('remove')
    .description('remove an agent: its token stops working at once')
    .argument('<name>', 'the agent to remove')
    .option('--json', 'print JSON')
    .allowExcessArguments(false)
    .addHelpText('after', '\nExamples:\n  agent-secret agent remove ci-builder\n  agent-secret agent remove ci-builder --json')
    .action(async (name: string, options) => {
      const { runAgentRemove } = await import('./commands/agents.js');
      run(runAgentRemove(ctx, name, options));
    });
}
