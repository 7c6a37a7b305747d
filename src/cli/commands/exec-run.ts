// The approved path of `exec`: audit → prompt → resolve → spawn → audit. Fail closed at every
// step before delivery: if the audit log cannot be written, the human says no, the prompt
// times out or op fails, no value is resolved or handed to anyone and the child never starts.
// Values exist only as SecretValue between resolveSecrets and buildChildEnv.

import { randomBytes } from 'node:crypto';
import { buildPrompt, selectApprover } from '../../approval/index.js';
import { auditEvent, openAuditLog, type AuditContext } from '../../audit/index.js';
import { loadUserConfig } from '../../config/user-config.js';
import { AgentSecretError } from '../../core/errors.js';
import { buildChildEnv, spawnChild, verifyIdentity } from '../../exec/index.js';
import { auditLogPath } from '../../platform/dirs.js';
import { findOp, resolveSecrets } from '../../provider/index.js';
import { inheritedEnv } from '../../request/build.js';
import { toWireRequest } from '../../request/types.js';
import type { SecretValue } from '../../core/secret-value.js';
import { dirsInput, type CliContext } from '../context.js';
import type { ExecPlan } from './exec-plan.js';

/** Asks for approval, resolves, runs the child and returns its exit code. */
export async function runApprovedExec(ctx: CliContext, plan: ExecPlan): Promise<number> {
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
    const prompt = buildPrompt(toWireRequest(request), { id: requestId, expiresAt });
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

    const output = plan.mask ? await maskedOutput(ctx, values) : undefined;
    const env = buildChildEnv({
      base: inheritedEnv(ctx.env, request.pristine),
      plain: plan.plain,
      removeNames: plan.removeNames,
      secrets: values,
      extra: { AGENT_SECRET_REQUEST_ID: requestId },
    });
    let result;
    try {
      result = await spawnChild({
        file: request.executable,
        args: request.command.slice(1),
        argv0: request.command[0] as string,
        cwd: request.cwd,
        env,
        ...(output === undefined ? {} : { output }),
        beforeSpawn: () => verifyIdentity(request.executable, request.executableIdentity),
        onStart: (pid) => audit.write(auditEvent('child_started', actx, { pid })),
      });
    } catch (error) {
      audit.write(auditEvent('child_spawn_failed', actx, { error_code: codeOf(error) }));
      throw error;
    }
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

// One masker per stream (each keeps its own held-back tail). Values too short to mask safely
// are named (never shown) on stderr, since the prompt came before anyone knew their length.
async function maskedOutput(ctx: CliContext, values: ReadonlyMap<string, SecretValue>) {
  const { createMasker, MIN_MASK_LENGTH } = await import('../../mask/masker.js');
  const { createMaskTransform } = await import('../../mask/stream.js');
  const plain = [...values.values()].map((v) => v.reveal());
  const short = [...values.entries()].filter(([, v]) => v.length > 0 && [...v.reveal()].length < MIN_MASK_LENGTH).map(([alias]) => alias);
  if (short.length > 0) {
    ctx.stderr.write(`agent-secret: warning: ${short.join(', ')} ${short.length === 1 ? 'is' : 'are'} shorter than ${MIN_MASK_LENGTH} characters and will not be masked in the output\n`);
  }
  return {
    stdout: { transform: createMaskTransform(createMasker(plain)), destination: process.stdout },
    stderr: { transform: createMaskTransform(createMasker(plain)), destination: process.stderr },
  };
}

function codeOf(error: unknown): string {
  return error instanceof AgentSecretError ? error.code : 'internal';
}
