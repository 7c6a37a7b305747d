// The approved path of `exec`. Normally the per-user daemon asks, resolves and audits, and this
// process receives the values over the socket and runs the child (reporting start and exit
// back). With the tty approver, which needs this process's terminal, the same steps run here
// in-process: audit → prompt → resolve → spawn → audit. Fail closed at every step before
// delivery. Values exist only as SecretValue between delivery and buildChildEnv.

import { randomBytes } from 'node:crypto';
import type { AuditContext } from '../../audit/index.js';
import { AgentSecretError } from '../../core/errors.js';
import { SecretValue } from '../../core/secret-value.js';
import { auditLogPath, userConfigPath } from '../../platform/dirs.js';
import { toWireRequest } from '../../request/types.js';
import { dirsInput, type CliContext } from '../context.js';
import { childSpecOf, codeOf, runChild, runChildForDaemon } from './exec-child.js';
import type { ExecPlan } from './exec-plan.js';

export interface RunOptions {
  reuseOnly: boolean;
  forceRefresh: boolean;
}

/** Gets the request approved and resolved (by the daemon, or in-process for tty), runs the child, returns its exit code. */
export async function runApprovedExec(ctx: CliContext, plan: ExecPlan, options: RunOptions = { reuseOnly: false, forceRefresh: false }): Promise<number> {
  // A cheap look at the user config text keeps tty users off the daemon entirely; the daemon
  // (which parses the file properly) sends anyone this misses back with exec.in_process.
  if (await looksLikeTtyApprover(ctx)) {
    if (options.reuseOnly || options.forceRefresh) throw ttyWithoutDaemon();
    return runInProcess(ctx, plan);
  }
  return runThroughDaemon(ctx, plan, options);
}

/** True when the user config plainly sets `approver: tty` (YAML or JSON spelling). */
export function mentionsTtyApprover(text: string): boolean {
  return /^approver[ \t]*:[ \t]*["']?tty["']?[ \t]*(#.*)?$/m.test(text) || /"approver"\s*:\s*"tty"/.test(text);
}

async function looksLikeTtyApprover(ctx: CliContext): Promise<boolean> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(userConfigPath(dirsInput(ctx)), 'utf8').catch(() => '');
  return mentionsTtyApprover(text);
}

function ttyWithoutDaemon(): AgentSecretError {
  return new AgentSecretError('usage.invalid', '--reuse-only and --force-refresh need the daemon, and the tty approver runs without it', {
    hint: 'choose a dialog or command approver in ~/.config/agent-secret/config.yml to get reusable approvals',
  });
}

async function runThroughDaemon(ctx: CliContext, plan: ExecPlan, options: RunOptions): Promise<number> {
  const { openConversation } = await import('../../daemon/client.js');
  const { planFingerprint } = await import('../../daemon/reuse-key.js');
  const { readExecDeliver, requestToBody } = await import('../../daemon/wire.js');
  const { request } = plan;
  const fingerprint = planFingerprint(ctx.env, plan);
  const conv = await openConversation({
    dirs: dirsInput(ctx),
    env: { ...ctx.env },
    autoStart: true,
    firstType: 'exec.request',
    firstBody: { request: requestToBody(request), fingerprint, reuse_only: options.reuseOnly, force_refresh: options.forceRefresh },
  });
  let closed = false;
  try {
    let frame = await conv.receive();
    while (frame.type === 'exec.queued') frame = await conv.receive();
    if (frame.type === 'exec.in_process') {
      // The user chose the tty approver: it needs this process's terminal, so every step runs here.
      conv.close();
      closed = true;
      if (options.reuseOnly || options.forceRefresh) throw ttyWithoutDaemon();
      return await runInProcess(ctx, plan);
    }
    const delivered = frame.type === 'exec.deliver' ? readExecDeliver(frame.body) : null;
    if (delivered === null) {
      throw new AgentSecretError('daemon.protocol', 'the agent-secret daemon answered with something other than the approved values', {
        hint: 'agent-secret daemon stop, then retry; agent-secret doctor shows the setup',
      });
    }
    const values = new Map<string, SecretValue>();
    for (const spec of request.secrets) {
      const value = delivered.env[spec.alias];
      if (value === undefined) throw new AgentSecretError('daemon.protocol', 'the agent-secret daemon delivered an incomplete set of values; the command did not run');
      values.set(spec.alias, new SecretValue(value));
    }
    return await runChildForDaemon(ctx, childSpecOf(plan), values, delivered.request_id, conv);
  } finally {
    if (!closed) conv.close();
  }
}

/** The tty approver's path: every step in this process. */
async function runInProcess(ctx: CliContext, plan: ExecPlan): Promise<number> {
  // Loaded only here: the daemon path needs none of them.
  const { loadUserConfig } = await import('../../config/user-config.js');
  const { buildPrompt, selectApprover } = await import('../../approval/index.js');
  const { auditEvent, openAuditLog } = await import('../../audit/index.js');
  const { findOp, resolveSecrets } = await import('../../provider/index.js');
  const { request } = plan;
  const requestId = `req_${randomBytes(16).toString('hex')}`;
  const userConfig = await loadUserConfig(dirsInput(ctx));
  const audit = await openAuditLog(auditLogPath(dirsInput(ctx)));
  const actx: AuditContext = { requestId, request };
  try {
    audit.write(auditEvent('request_received', actx));

    let approver;
    try {
      approver = await selectApprover(userConfig, { platform: ctx.platform, env: ctx.env });
    } catch (error) {
      audit.write(auditEvent('approval_unavailable', actx, { error_code: codeOf(error), approver_config: userConfig.path }));
      throw error;
    }

    // Fail before prompting when op cannot possibly work: the human should not approve in vain.
    const opPath = findOp({ explicitPath: userConfig.opPath, pathEnv: ctx.env.PATH });
    if (opPath === null) {
      audit.write(auditEvent('resolution_failed', actx, { error_code: 'provider.missing' }));
      throw new AgentSecretError('provider.missing', 'the 1Password CLI (op) was not found', {
        hint: 'install op, or set op_path in ~/.config/agent-secret/config.yml; then run agent-secret doctor',
      });
    }

    const chosenBy = { approver: approver.name, approver_config: userConfig.path };
    const expiresAt = new Date(Date.now() + request.ttlSeconds * 1000);
    // Reusable approvals live in the daemon; without it, "again for a while" is not offered.
    const prompt = { ...buildPrompt(toWireRequest(request), { id: requestId, expiresAt }), allows_reusable: false };
    const decision = await approver.decide(prompt, { deadline: expiresAt.getTime() });
    if (decision.kind === 'deny') {
      audit.write(auditEvent('approval_denied', actx, { ...chosenBy, decision_reason: decision.reason }));
      throw new AgentSecretError('approval.denied', `request denied (${decision.reason}); nothing was resolved and the command did not run`);
    }
    if (decision.kind === 'timeout') {
      audit.write(auditEvent('approval_timed_out', actx, chosenBy));
      throw new AgentSecretError('approval.timeout', 'nobody approved the request before its ttl ran out; the command did not run', {
        hint: 'rerun when the human is at the prompt, or pass a longer --ttl (up to 10m)',
      });
    }
    audit.write(auditEvent('approval_granted', actx, chosenBy));

    audit.write(auditEvent('resolution_started', actx));
    let values;
    try {
      values = await resolveSecrets(request.secrets, { opPath, env: ctx.env, timeoutMs: request.ttlSeconds * 1000 });
    } catch (error) {
      audit.write(auditEvent('resolution_failed', actx, { error_code: codeOf(error) }));
      throw error;
    }
    audit.write(auditEvent('resolution_succeeded', actx));

    const result = await runChild(ctx, childSpecOf(plan), values, requestId, {
      onStart: (pid) => audit.write(auditEvent('child_started', actx, { pid })),
      onSpawnFailed: (code) => audit.write(auditEvent('child_spawn_failed', actx, { error_code: code })),
    });
    writeAfterStart(ctx, () =>
      audit.write(auditEvent('child_exited', actx, { ...(result.pid === undefined ? {} : { pid: result.pid }), exit_code: result.exitCode, signal: result.signal, duration_ms: result.durationMs })),
    );
    return result.exitCode;
  } finally {
    await audit.close().catch(() => undefined);
  }
}

// After the child ran, an audit failure must not change its exit code; say so once instead.
function writeAfterStart(ctx: CliContext, write: () => void): void {
  try {
    write();
  } catch {
    ctx.stderr.write('agent-secret: warning: the child exited but its exit could not be recorded in the audit log\n');
  }
}
