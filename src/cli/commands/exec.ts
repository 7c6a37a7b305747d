// `agent-secret exec`. A dry run (and --json, which only a dry run takes) is answered here: the
// request is planned and printed, nobody is asked. Every other exec goes to the broker as the
// caller typed it (client/exec.ts): the daemon's, or an in-process one when the approver needs
// this terminal; the broker plans, asks, resolves and audits, and this process runs the child.

import { AgentSecretError } from '../../core/errors.js';
import { formatTtl } from '../../core/ttl.js';
import { toWireRequest } from '../../request/codec.js';
import type { ApprovalRequest, FileDelivery } from '../../request/types.js';
import type { ExecOptions } from '../../plan/exec-plan.js';
import type { PolicyDecision } from '../../policy/types.js';
import { decisionJson } from '../../request/policy-input.js';
import { dirsInput, type CliContext } from '../context.js';
import { shellQuote, writeJson, writeLines } from '../render/output.js';

/** Runs `exec`; returns the child's exit code, or 0 for a dry run. */
export async function runExec(ctx: CliContext, options: ExecOptions): Promise<number> {
  if (options.dryRun === true || options.json === true) return dryRun(ctx, options);
  const { execArgvBody, followExec } = await import('../../client/exec.js');
  const body = execArgvBody({ args: ctx.args.slice(1), command: ctx.childArgv ?? [], cwd: ctx.cwd, env: ctx.env, homedir: ctx.homedir, pid: ctx.pid });
  const { fitsInFrame } = await import('../../protocol/envelope.js');
  const fits = fitsInFrame('exec.argv', { ...body });
  if (body.command.length === 0 || !fits) {
    // What the broker cannot be sent is planned here, for the planner's own message (no
    // command, argv past its bounds); what is left is an environment too large to send.
    const { planExec } = await import('../../plan/exec-plan.js');
    await planExec(ctx, options);
    throw new AgentSecretError('usage.invalid', 'the environment is too large to send to the agent-secret broker (the command and environment must fit in 1 MiB)', {
      hint: 'unset large variables you do not need, for example: env -u BIG_VARIABLE agent-secret exec ...',
    });
  }
  const { loadUserConfig } = await import('../../config/user-config.js');
  const { needsCallerTerminal } = await import('../../broker/terminal.js');
  if (!needsCallerTerminal(await loadUserConfig(dirsInput(ctx)))) {
    const { openConversation } = await import('../../client/daemon.js');
    const conv = await openConversation({ dirs: dirsInput(ctx), env: { ...ctx.env }, autoStart: true, firstType: 'exec.argv', firstBody: { ...body } });
    try {
      const code = await followExec(conv, ctx, body);
      if (code !== 'in_process') return code;
    } finally {
      conv.close();
    }
  }
  // The tty approver asks on this terminal: the same pipeline runs in this process.
  const { openLocalConversation } = await import('../../broker/local.js');
  const conv = openLocalConversation({ dirs: dirsInput(ctx), env: ctx.env, platform: ctx.platform, uid: ctx.uid }, 'exec.argv', { ...body });
  try {
    const code = await followExec(conv, ctx, body);
    if (code === 'in_process') throw new Error('the in-process broker sent the request away');
    return code;
  } finally {
    conv.close();
  }
}

async function dryRun(ctx: CliContext, options: ExecOptions): Promise<number> {
  const { planExec } = await import('../../plan/exec-plan.js');
  const plan = await planExec(ctx, options);
  const policy = await policyOf(ctx, plan.request);
  printDryRun(ctx, plan.request, plan.mask, options.json === true, options.reuseOnly === true, policy);
  return 0;
}

/** What the user's policy would decide for this planned request (rate limits are counted by the daemon only). */
export async function policyOf(ctx: CliContext, request: ApprovalRequest): Promise<PolicyDecision> {
  const { loadUserConfig } = await import('../../config/user-config.js');
  const { evaluatePolicy } = await import('../../policy/evaluate.js');
  const { policyInputOf } = await import('../../request/policy-input.js');
  const config = await loadUserConfig(dirsInput(ctx));
  const who = await agentOf(ctx);
  if (who.forged) return FORGED_TOKEN;
  const { systemPathsOf } = await import('../../exec/resolve-executable.js');
  const systemPaths = config.policy === null ? [] : await systemPathsOf(request.command[0] ?? '', request.executable);
  return evaluatePolicy(config.policy, policyInputOf(request, who.agent, Date.now(), { systemPaths, env: ctx.env }), { headless: config.approver === 'none' });
}

/** What exec does with an AGENT_SECRET_AGENT_TOKEN no registered agent has: refused before any rule. */
export const FORGED_TOKEN: PolicyDecision = {
  decision: 'deny',
  rule: null,
  why: 'AGENT_SECRET_AGENT_TOKEN is not the token of a registered agent (forged, mistyped, or the agent was removed): exec refuses it before any rule',
  reuse: null,
  rate: null,
};

/** The registered agent whose AGENT_SECRET_AGENT_TOKEN this process carries (null: none), and whether it carries one no agent has. */
export async function agentOf(ctx: CliContext): Promise<{ agent: string | null; forged: boolean }> {
  const { agentOfToken, AGENT_TOKEN_VARIABLE } = await import('../../config/agents.js');
  const token = ctx.env[AGENT_TOKEN_VARIABLE];
  const agent = token === undefined ? null : await agentOfToken(dirsInput(ctx), token);
  return { agent, forged: token !== undefined && agent === null };
}

/** `account=…` / `source=…` for a secret's identity, naming the default when there is none. Pure. */
export function identityText(provider: string, account: string | null): string {
  if (provider === 'bws') return `source=${account ?? '(default)'}`;
  return `account=${account ?? (provider === 'op' ? '(op default)' : '(none)')}`;
}

function printDryRun(ctx: CliContext, request: ApprovalRequest, mask: boolean, json: boolean, reuseOnly: boolean, policy: PolicyDecision): void {
  if (json) {
    writeJson(ctx.stdout, {
      ok: true,
      dry_run: true,
      would_prompt: !reuseOnly && policy.decision === 'ask',
      would_spawn: false,
      output_masked: mask,
      request: toWireRequest(request),
      policy: decisionJson(policy),
      notes: [
        'validated locally: config, references, providers, accounts, cwd, executable',
        'did not prompt anyone',
        'did not call any provider (op, bws, provider programs) or resolve any value',
        'did not start the command',
      ],
    });
    return;
  }
  const width = Math.max(0, ...request.secrets.map((s) => s.alias.length));
  writeLines(ctx.stdout, [
    'agent-secret exec dry run: ok (no prompt, no provider call, no child)',
    `reason:      ${request.reason}`,
    `command:     ${request.command.map(shellQuote).join(' ')}`,
    `executable:  ${request.executable}`,
    `cwd:         ${request.cwd}`,
    `ttl:         ${formatTtl(request.ttlSeconds)}`,
    `output:      ${mask ? 'masked (secret values replaced in the command output)' : 'not masked'}${request.pristine ? '; minimal environment (--pristine)' : ''}`,
    ...(request.profile === null ? [] : [`profile:     ${request.profile} (${request.configPath ?? ''})`]),
    ...(request.secrets.length > 0 ? ['secrets:'] : []),
    ...request.secrets.map(
      (s) => `  ${s.alias.padEnd(width)} = ${s.name === undefined ? '' : `${s.name} → `}${s.ref}  provider=${s.provider} ${identityText(s.provider, s.account)}  from=${s.source.replace('_', '-')}${s.file === null ? '' : `  as a file: ${fileText(s.file)}`}`,
    ),
    ...(request.templates.length > 0 ? ['templates (rendered into files):'] : []),
    ...request.templates.flatMap((t) => [
      `  ${t.alias} = ${t.path}  sha256=${t.sha256}  account=${t.account ?? '(op default)'}  from=${t.source}  as a file: ${fileText(t.file)}`,
      ...t.refs.map((ref) => `    uses ${ref}`),
    ]),
    ...(request.plainEnvNames.length > 0 ? [`plain env:   ${request.plainEnvNames.join(', ')}`] : []),
    ...(request.warnings.length > 0 ? ['warnings:', ...request.warnings.map((w) => `  - ${w}`)] : []),
    `requested by: ${[`agent-secret (pid ${request.requester.pid})`, ...request.requester.chain.map((p) => `${p.name} (pid ${p.pid})`)].join(' <- ')}`,
    `policy:      ${policy.decision}${policy.rule === null ? '' : ` (rule ${policy.rule})`}: ${policy.why}`,
  ]);
}

function fileText(file: FileDelivery): string {
  return `name=${file.name} mode=${file.mode}${file.maxReads === null ? '' : ` max_reads=${file.maxReads}`}`;
}
