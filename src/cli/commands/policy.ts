// `agent-secret policy check`: the user's policy (policy.yml, or the policy: section of
// config.yml; never a project file) checked as strictly as the daemon reads it, every problem
// listed with its line and column, then the rules in the order they decide. `policy explain`
// plans a request exactly as exec would and says which rule decides it, asking nobody.

import { EXIT_CODES } from '../../core/errors.js';
import type { Policy, PolicyRule } from '../../policy/types.js';
import { dirsInput, type CliContext } from '../context.js';
import { writeJson, writeLines } from '../render/output.js';

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
      rules: policy === null ? [] : policy.rules.map(ruleJson),
    });
    return ok ? 0 : EXIT_CODES.usage;
  }
  if (!ok) {
    writeLines(ctx.stdout, [
      `policy check: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`,
      ...report.problems.map((p) => `  ${p.file}:${p.line}:${p.col}: ${p.key}: ${p.problem}`),
      'nothing was changed; the daemon refuses every request until the policy is fixed',
    ]);
    return EXIT_CODES.usage;
  }
  if (policy === null) {
    writeLines(ctx.stdout, [
      'policy check: ok, no policy (every request goes to the human approver)',
      headless ? 'approver is none (headless): with no policy, every request is denied' : 'write rules in ~/.config/agent-secret/policy.yml; see docs/policy.md',
    ]);
    return 0;
  }
  writeLines(ctx.stdout, [`policy check: ok, ${policy.rules.length} rule${policy.rules.length === 1 ? '' : 's'} in ${policy.path}`, ...describeOrder(policy), headless ? 'no match: denied (approver is none, headless)' : 'no match: the human approver decides']);
  return 0;
}

/** The rules in the order they decide: deny rules first, then allow and ask in file order. */
export function describeOrder(policy: Policy): string[] {
  const denies = policy.rules.filter((r) => r.decision === 'deny');
  const others = policy.rules.filter((r) => r.decision !== 'deny');
  return [...denies, ...others].map((r, i) => `  ${String(i + 1).padStart(2)}. ${r.decision.padEnd(5)} ${r.id} (line ${r.line})${bounds(r)}`);
}

function bounds(rule: PolicyRule): string {
  const parts = [
    ...(rule.rate === null ? [] : [`at most ${rule.rate.max} per ${rule.rate.perSeconds}s`]),
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
