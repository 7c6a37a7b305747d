// `agent-secret exec`: plan the request; with --dry-run print it; otherwise ask the human,
// resolve exactly the approved references, and run the child with them. Approval, op and
// the child are loaded only on the path that uses them.

import { formatTtl } from '../../core/ttl.js';
import { toWireRequest, type ApprovalRequest } from '../../request/types.js';
import type { CliContext } from '../context.js';
import { shellQuote, writeJson, writeLines } from '../render/output.js';
import { planExec, type ExecOptions } from './exec-plan.js';

/** Runs `exec`; returns the child's exit code, or 0 for a dry run. */
export async function runExec(ctx: CliContext, options: ExecOptions): Promise<number> {
  const plan = await planExec(ctx, options);
  if (options.dryRun === true) {
    printDryRun(ctx, plan.request, plan.mask, options.json === true, options.reuseOnly === true);
    return 0;
  }
  const { runApprovedExec } = await import('./exec-run.js');
  return runApprovedExec(ctx, plan, { reuseOnly: options.reuseOnly === true, forceRefresh: options.forceRefresh === true });
}

function printDryRun(ctx: CliContext, request: ApprovalRequest, mask: boolean, json: boolean, reuseOnly: boolean): void {
  if (json) {
    writeJson(ctx.stdout, {
      ok: true,
      dry_run: true,
      would_prompt: !reuseOnly,
      would_spawn: false,
      output_masked: mask,
      request: toWireRequest(request),
      notes: [
        'validated locally: config, references, accounts, cwd, executable',
        'did not prompt anyone',
        'did not call op or resolve any value',
        'did not start the command',
      ],
    });
    return;
  }
  const width = Math.max(...request.secrets.map((s) => s.alias.length));
  writeLines(ctx.stdout, [
    'agent-secret exec dry run: ok (no prompt, no op call, no child)',
    `reason:      ${request.reason}`,
    `command:     ${request.command.map(shellQuote).join(' ')}`,
    `executable:  ${request.executable}`,
    `cwd:         ${request.cwd}`,
    `ttl:         ${formatTtl(request.ttlSeconds)}`,
    `output:      ${mask ? 'masked (secret values replaced in the command output)' : 'not masked'}${request.pristine ? '; minimal environment (--pristine)' : ''}`,
    ...(request.profile === null ? [] : [`profile:     ${request.profile} (${request.configPath ?? ''})`]),
    `secrets:`,
    ...request.secrets.map(
      (s) => `  ${s.alias.padEnd(width)} = ${s.ref}  account=${s.account ?? '(op default)'}  from=${s.source.replace('_', '-')}`,
    ),
    ...(request.plainEnvNames.length > 0 ? [`plain env:   ${request.plainEnvNames.join(', ')}`] : []),
    ...(request.warnings.length > 0 ? ['warnings:', ...request.warnings.map((w) => `  - ${w}`)] : []),
    `requested by: ${[`agent-secret (pid ${request.requester.pid})`, ...request.requester.chain.map((p) => `${p.name} (pid ${p.pid})`)].join(' <- ')}`,
  ]);
}
