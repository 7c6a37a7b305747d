// `agent-secret policy check`: the user's policy (policy.yml, or the policy: section of
// config.yml; never a project file) checked as strictly as the daemon reads it, every problem
// listed with its line and column, then the rules in the order they decide. `policy explain`
// plans a request exactly as exec would and says which rule decides it, asking nobody.

import { AgentSecretError, EXIT_CODES } from '../../core/errors.js';
import type { ExecOptions } from '../../plan/exec-plan.js';
import { policyPathBeside } from '../../platform/dirs.js';
import { firstUnlisted } from '../../policy/evaluate.js';
import { formatDuration } from '../../policy/rate.js';
import type { Policy, PolicyDecision, PolicyInput, PolicyRule } from '../../policy/types.js';
import { dirsInput, type CliContext } from '../context.js';
import { shellQuote, writeJson, writeLines } from '../render/output.js';

export async function runPolicyCheck(ctx: CliContext, options: { json?: boolean }): Promise<number> {
  const { checkUserPolicy, loadUserConfig } = await import('../../config/user-config.js');
  const report = await checkUserPolicy(dirsInput(ctx));
  const ok = report.problems.length === 0;
  const config = ok ? await loadUserConfig(dirsInput(ctx)) : null;
  const policy = config?.policy ?? null;
  const headless = config?.approver === 'none';
  if (options.json === true) {
    writeJson(ctx.stdout, {
      ok,
      sources: report.sources,
      problems: report.problems,
      headless,
      warnings: policy === null ? [] : (await import('../../policy/parse.js')).policyWarnings(policy, config?.names ?? new Map(), await agentNames(ctx)),
      rules: policy === null ? [] : policy.rules.map(ruleJson),
    });
    return ok ? 0 : EXIT_CODES.usage;
  }
  if (!ok) {
    writeLines(ctx.stdout, [
      `policy check: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`,
      ...report.problems.map((p) => `  ${p.file}:${p.line}:${p.col}: ${p.key}: ${p.problem}`),
      'fix these and run policy check again (rules are checked against each other once each one is sound); until then every exec fails (exit 2)',
    ]);
    return EXIT_CODES.usage;
  }
  if (policy === null) {
    const where = config === null ? 'policy.yml beside your config.yml' : policyPathBeside(config.path);
    writeLines(ctx.stdout, [
      headless ? 'policy check: ok, no policy; approver is none (headless), so every request is denied' : 'policy check: ok, no policy (every request goes to the human approver)',
      `write rules in ${where}; see docs/policy.md`,
    ]);
    return 0;
  }
  const { policyWarnings } = await import('../../policy/parse.js');
  const warnings = policyWarnings(policy, config?.names ?? new Map(), await agentNames(ctx));
  writeLines(ctx.stdout, [
    `policy check: ok, ${policy.rules.length} rule${policy.rules.length === 1 ? '' : 's'} in ${policy.path}`,
    ...describeOrder(policy),
    headless ? 'no match: denied (approver is none, headless)' : 'no match: the human approver decides',
    ...warnings.map((w) => `warning: ${w}`),
  ]);
  return 0;
}

/** The registered agents' names, for the warning about a rule naming none of them; null when agents.json cannot be read. */
async function agentNames(ctx: CliContext): Promise<string[] | null> {
  const { listAgents } = await import('../../config/agents.js');
  return listAgents(dirsInput(ctx)).then(
    (agents) => agents.map((a) => a.name),
    () => null,
  );
}

/** The rules in the order they decide: deny rules first, then allow and ask in file order. */
export function describeOrder(policy: Policy): string[] {
  const denies = policy.rules.filter((r) => r.decision === 'deny');
  const others = policy.rules.filter((r) => r.decision !== 'deny');
  return [...denies, ...others].map((r, i) => `  ${String(i + 1).padStart(2)}. ${r.decision.padEnd(5)} ${r.id} (line ${r.line})${bounds(r)}`);
}

function bounds(rule: PolicyRule): string {
  const parts = [
    ...(rule.rate === null ? [] : [`at most ${rule.rate.max} per ${formatDuration(rule.rate.perSeconds)}`]),
    ...(rule.reuse === null ? [] : [`values kept ${rule.reuse.ttlSeconds}s for up to ${rule.reuse.maxUses} uses`]),
  ];
  return parts.length === 0 ? '' : `: ${parts.join(', ')}`;
}

function ruleJson(rule: PolicyRule): Record<string, unknown> {
  return {
    id: rule.id,
    decision: rule.decision,
    line: rule.line,
    rate: rule.rate === null ? null : { max: rule.rate.max, per_seconds: rule.rate.perSeconds },
    reuse: rule.reuse === null ? null : { ttl_seconds: rule.reuse.ttlSeconds, max_uses: rule.reuse.maxUses },
  };
}

/**
 * `policy explain [exec flags] -- CMD`: the request planned by the one planner, exactly as exec
 * would plan it, then each rule in deciding order with the first matcher that does not hold.
 * Nobody is asked, op is not called, nothing runs. Rate limits are counted by the daemon only.
 */
export async function runPolicyExplain(ctx: CliContext, options: ExecOptions & { json?: boolean }): Promise<number> {
  const { planExec } = await import('../../plan/exec-plan.js');
  const { loadUserConfig } = await import('../../config/user-config.js');
  const { bareNameOutsideSystem, evaluatePolicy, failedMatcher } = await import('../../policy/evaluate.js');
  const { decisionJson, missingRuleNote, missingRuleOf, policyInputOf } = await import('../../request/policy-input.js');
  if (ctx.childArgv === null || ctx.childArgv.length === 0) {
    // Said in explain's words: exec's own hint would ask the human and run the command.
    throw new AgentSecretError('usage.missing_separator', 'policy explain needs the command to explain as argv after --', {
      hint: 'for example: agent-secret policy explain --profile deploy -- terraform plan',
    });
  }
  const plan = await planExec(ctx, { ...options, dryRun: true });
  const config = await loadUserConfig(dirsInput(ctx));
  const headless = config.approver === 'none';
  const { agentOf, FORGED_TOKEN } = await import('./exec.js');
  const who = await agentOf(ctx);
  const now = new Date();
  const { systemPathsOf } = await import('../../exec/resolve-executable.js');
  const input = policyInputOf(plan.request, who.agent, now.getTime(), { systemPaths: await systemPathsOf(plan.request.command[0] ?? '', plan.request.executable), env: ctx.env });
  const decision = who.forged ? FORGED_TOKEN : evaluatePolicy(config.policy, input, { headless });
  const missing = decision.decision === 'deny' && decision.rule === null && !who.forged ? missingRuleOf(plan.request) : null;
  const note = missing === null ? null : missingRuleNote(plan.request);
  const rules = config.policy === null ? [] : deciding(config.policy);
  const checks = rules.map((rule) => ({ rule, failed: failedMatcher(rule, input) }));
  if (options.json === true) {
    writeJson(ctx.stdout, {
      policy: config.policy?.path ?? null,
      headless,
      ...decisionJson(decision),
      missing_rule: missing,
      missing_rule_note: note,
      // hours: and days: are read on this clock; the daemon decides on its own (docs/policy.md).
      time: { local: clockText(now), utc_offset_minutes: -now.getTimezoneOffset() },
      rules: checks.map(({ rule, failed }) => ({ id: rule.id, decision: rule.decision, line: rule.line, matches: failed === null, failed_matcher: failed })),
      request: requestFacts(input),
    });
    return 0;
  }
  writeLines(ctx.stdout, [
    `policy explain: ${decision.decision}${decision.rule === null ? ' (no rule)' : decision.uncovered === true ? ` (rule ${decision.rule} would allow it, not this run)` : ` by rule ${decision.rule}`} (nobody asked, nothing resolved, nothing run)`,
    `why:      ${decision.why}`,
    `exec:     ${execWould(decision, headless)}`,
    `request:  ${plan.request.profile === null ? '' : `profile ${plan.request.profile}; `}${plan.request.command.map(shellQuote).join(' ')}`,
    `secrets:  ${input.secrets.map((s) => `${s.alias}=${s.ref}${s.account === null ? '' : ` (account ${s.account})`}`).join(', ')}`,
    `requester: ${input.requester.join(' <- ') || '-'}`,
    `agent:    ${who.forged ? '(AGENT_SECRET_AGENT_TOKEN is no registered agent\'s token: exec refuses it)' : (input.agent ?? '(none: no registered agent token)')}`,
    `time:     ${clockText(now)} (this shell's clock; hours: and days: are decided on the daemon's)`,
    ...(rules.length === 0 ? [] : ['rules, in deciding order (deny rules first):']),
    ...checks.map(({ rule, failed }) => `  ${rule.decision.padEnd(5)} ${rule.id} (line ${rule.line}): ${failed === null ? 'matches' : `no, ${failedWhy(rule, failed, (failed === 'executable' || failed === 'argv') && bareNameOutsideSystem(rule, input) ? input.executable : null, input)}`}`),
    ...(missing === null ? [] : [`missing rule: ${missing}`, ...(note === null ? [] : [`note: ${note}`])]),
  ]);
  return 0;
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** `wed 14:05 UTC+01:00`: the day and time a rule's days: and hours: are matched against. */
function clockText(at: Date): string {
  const offset = -at.getTimezoneOffset();
  const abs = Math.abs(offset);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[at.getDay()] ?? ''} ${pad(at.getHours())}:${pad(at.getMinutes())} UTC${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function deciding(policy: Policy): PolicyRule[] {
  return [...policy.rules.filter((r) => r.decision === 'deny'), ...policy.rules.filter((r) => r.decision !== 'deny')];
}

function failedWhy(rule: PolicyRule, matcher: string, notSystem: string | null, input: PolicyInput): string {
  if (notSystem !== null) return `${matcher}: a bare program name matches only a program in a system directory (/usr/bin, /usr/local/bin, …), and ${notSystem} is not one; name it by absolute path`;
  if (matcher === 'templates') return rule.decision === 'allow' ? 'templates: an allow must name every template of the request (templates: path glob or sha256)' : 'templates: none of them is named';
  if (matcher === 'secrets' && rule.decision === 'allow') {
    const gap = firstUnlisted(rule.match.secrets ?? [], input.secrets);
    if (gap !== null && gap.accounts.length > 0) {
      const asked = gap.secret.account === null ? 'names no account' : `names account ${gap.secret.account}`;
      return `secrets: ${gap.secret.alias} ${asked}, and the entry for ${gap.secret.ref} allows it only in ${gap.accounts.join(', ')}; set that account in the profile (account:), with --account or OP_ACCOUNT`;
    }
    return `secrets: an allow must list every secret of the request${gap === null ? '' : `, and ${gap.secret.alias} (${gap.secret.ref}) is not listed`}`;
  }
  if (matcher === 'secrets') return 'secrets: none of them is listed';
  return `${matcher} does not match`;
}

function execWould(d: PolicyDecision, headless: boolean): string {
  if (d.decision === 'deny') return 'would be denied (exit 10) without asking anyone';
  if (d.decision === 'ask') return 'would ask the human approver';
  const kept = d.reuse === null ? '' : `; values kept ${d.reuse.ttlSeconds}s (at most the request ttl) for ${d.reuse.maxUses} uses`;
  const spent = headless ? 'once spent, denied (approver is none)' : 'once spent, the human decides';
  const rate = d.rate === null ? '' : `; at most ${d.rate.max} per ${formatDuration(d.rate.perSeconds)} (counted by the daemon: ${spent})`;
  return `would run without asking${kept}${rate}`;
}

function requestFacts(input: PolicyInput): Record<string, unknown> {
  return {
    profile: input.profile,
    config_path: input.configPath,
    executable: input.executable,
    command: input.command,
    cwd: input.cwd,
    requester: input.requester,
    agent: input.agent,
    secrets: input.secrets.map((s) => ({ alias: s.alias, ref: s.ref, account: s.account })),
  };
}
