// exec: the caller sent what it typed (exec.argv). The broker plans it with the one planner
// (plan-argv.ts), validates the plan against its own user config, serves it from a live reusable
// approval or queues it for the prompt, resolves, delivers the values with how to start the
// child, and records the child's start and exit as the caller reports them.

import { auditEvent, type AuditContext, type AuditExtra, type AuditLog, type AuditRecord } from '../../audit/index.js';
import { agentOfToken, AGENT_TOKEN_VARIABLE } from '../../config/agents.js';
import type { UserConfig } from '../../config/user-config.js';
import { AgentSecretError } from '../../core/errors.js';
import { spawnBody, type SpawnBody } from '../../protocol/codec.js';
import { ExecArgvBodySchema, type ExecDeliverBody, type ExecQueuedBody } from '../../protocol/messages.js';
import type { ApprovalRequest } from '../../request/types.js';
import type { Reservation } from '../approvals.js';
import { callerOf } from '../caller.js';
import type { Conversation } from '../conversation.js';
import type { PolicyDecision } from '../../policy/types.js';
import { clampReuse } from '../approvals.js';
import { answerTogether, registryOf, decide, followChild, auditQueueFailure, NO_RESERVATION, parseBody, policyDenied, policyVerdict, resolve, resolveWith, verdictExtra, withScope, type BrokerCore, type Pending, type Scope, type Together, type Values } from '../core.js';
import { planFromArgv } from '../plan-argv.js';
import { reuseKey } from '../reuse-key.js';
import { decodeFile } from '../../request/codec.js';
import { systemPathsOf } from '../../exec/index.js';
import { fileValueKeys, resolutionKeys } from '../../request/template.js';
import { needsCallerTerminal } from '../terminal.js';
import { tokenHolder, tokenKey } from '../agent-binding.js';
import { describeProcess } from '../binding.js';
import { initialEnvironHolds, isSameLiveProcess } from '../../platform/environ.js';
import { readAncestry, type AncestryEntry } from '../../platform/process-tree.js';
import { validateRequest, withOwnWarnings } from '../validate.js';

/** How an exec arrived: its environment fingerprint, its flags, and how the caller starts the child. */
interface ExecHow {
  fingerprint: string;
  /** The registered agent whose token came with the request, or null. */
  agent: string | null;
  /** AGENT_SECRET_AGENT_TOKEN was set but is no registered agent's token. */
  forgedToken: boolean;
  /** The agent's token is bound to this live process, outside the caller's tree. */
  boundElsewhere: AncestryEntry | null;
  /** The caller's environment, which the child inherits (what the policy checks for risky variables). */
  env: Readonly<Record<string, string | undefined>>;
  /** Binds a free token to the caller's holder once the request is granted (null: no agent). */
  bindAgent: (() => Promise<AncestryEntry | null>) | null;
  reuseOnly: boolean;
  forceRefresh: boolean;
  spawn: SpawnBody;
}

interface Grant {
  approvalId: string | null;
  values: Values;
  reservation: Reservation;
  reused: boolean;
}

// exec: the caller sent what it typed; the broker plans it (planning errors go back as they
// are), then serves it and tells the caller how to start the child.
async function handleExecArgv(core: BrokerCore, conv: Conversation): Promise<void> {
  const body = parseBody(ExecArgvBodySchema, conv.first.body);
  const userConfig = await core.userConfigOf(core.opts.dirs);
  if (needsCallerTerminal(userConfig, core.opts.inProcess)) {
    // The daemon has no terminal: the CLI runs this request with an in-process broker.
    await conv.send('exec.in_process', { reason: 'tty_approver' });
    return;
  }
  const { plan, fingerprint, reuseOnly, forceRefresh } = await planFromArgv(body, core.uid);
  if (core.opts.inProcess === true && (reuseOnly || forceRefresh)) {
    throw new AgentSecretError('usage.invalid', '--reuse-only and --force-refresh need the daemon, and the tty approver runs without it', {
      hint: 'choose a dialog or command approver in ~/.config/agent-secret/config.yml to get reusable approvals',
    });
  }
  // A registered agent's token (checked against the daemon's own agents.json), never stored or logged.
  const token = body.env[AGENT_TOKEN_VARIABLE];
  const agent = token === undefined ? null : await agentOfToken(core.opts.dirs, token);
  const binding = token === undefined || agent === null ? null : await agentBinding(core, agent, token, body.pid);
  const how: ExecHow = {
    fingerprint,
    agent,
    env: body.env,
    forgedToken: token !== undefined && agent === null,
    boundElsewhere: binding === null ? null : await binding(false),
    bindAgent: binding === null ? null : () => binding(true),
    reuseOnly,
    forceRefresh,
    spawn: spawnBody(plan),
  };
  await serveExec(core, conv, userConfig, plan.request, how);
}

async function serveExec(core: BrokerCore, conv: Conversation, userConfig: UserConfig, planned: ApprovalRequest, how: ExecHow): Promise<void> {
  // Also when planned here: the plan used the caller's user config, the daemon's own decides.
  await validateRequest(planned, { uid: core.uid, trustedDirs: userConfig.trustedDirs, registry: registryOf(core, userConfig), names: userConfig.names ?? new Map() });
  const request = await withOwnWarnings(planned, { uid: core.uid, trustedDirs: userConfig.trustedDirs });

  const key = reuseKey(request, how.fingerprint);
  const flags: AuditExtra = {
    ...(how.forceRefresh ? { force_refresh: true } : {}),
    ...(how.reuseOnly ? { reuse_only: true } : {}),
    ...(core.opts.inProcess === true ? {} : { planned_by: 'daemon' as const }),
  };
  await withScope(core, conv, request, userConfig, async (scope) => {
    const { requestId, deadline, audit, actx, signal } = scope;
    scope.agent = how.agent;
    if (how.forgedToken) refuseToken(scope, flags);
    if (how.boundElsewhere !== null && how.agent !== null) refuseBoundToken(scope, flags, how.agent, how.boundElsewhere);
    // The user's policy decides first: a deny is final, an allow skips the prompt, ask goes on as before.
    const verdict = policyVerdict(core, request, userConfig, how.agent, {
      systemPaths: userConfig.policy === null ? [] : await systemPathsOf(request.command[0] ?? '', request.executable),
      env: how.env,
    });
    let ticket = verdict.ticket;
    let reservation: Reservation | null = null;
    try {
      // Receipt and reuse go to the log together (one lock, one sync): a reused exec waits for them.
      const received = auditEvent('request_received', actx, { ...flags, ...verdictExtra(verdict, how.agent) });
      if (verdict.decision.decision === 'deny') policyDenied(scope, verdict, [received], 'exec');
      const allowed = verdict.decision.decision === 'allow' ? verdict.decision : null;
      // Values an allow rule keeps serve only requests that rule allows (its rate limit counts them).
      const reusedGrant =
        (allowed === null ? null : takeReuse(core, policyKey(allowed, key), audit, actx, { ...flags, policy_rule: allowed.rule ?? '' }, [received])) ??
        takeReuse(core, key, audit, actx, flags, [received]);
      if (reusedGrant === null && how.reuseOnly) {
        audit.writeAll([received, auditEvent('approval_reuse_missed', actx, { ...flags, error_code: 'reuse.none' })]);
        throw new AgentSecretError('reuse.none', 'no live reusable approval matches this exact request; nothing was asked or resolved', {
          hint: 'run without --reuse-only to ask the human, or see agent-secret approvals list',
        });
      }
      if (reusedGrant === null) audit.write(received);
      let grant: Grant = reusedGrant ?? (allowed !== null ? await allowByPolicy(core, scope, policyKey(allowed, key), allowed) : await promptAndResolve(core, scope, key, conv));
      reservation = grant.reservation;
      if (how.forceRefresh && grant.reused && grant.approvalId !== null) {
        const approvalId = grant.approvalId;
        const values = await resolve(core, request, userConfig, audit, actx, deadline, signal);
        core.approvals.replaceValues(approvalId, values);
        grant = { ...grant, values };
        audit.write(auditEvent('approval_refreshed', actx, { approval_id: approvalId }));
      }

      // A revoke or expiry between reservation and now drops the values: never deliver a partial set.
      if (!reservation.live() || resolutionKeys(request).some((key) => !grant.values.has(key))) {
        throw new AgentSecretError('reuse.none', 'the reusable approval ended (revoked or expired) before its values were delivered; nothing was delivered', {
          hint: 'rerun the command to ask again',
        });
      }
      // Granted: only now is a free agent token bound to the caller's tree (a denied request from a
      // stolen token binds nothing). Another tree may have bound it while this one waited.
      const bindAgent = how.bindAgent;
      const lost = bindAgent === null ? null : await bindAgent();
      if (lost !== null && how.agent !== null) refuseBoundToken(scope, flags, how.agent, lost, false);
      // Values delivered as files travel as their exact bytes (base64), apart from the environment's.
      const inFiles = fileValueKeys(how.spawn.files.map((f) => ({ alias: f.alias, file: decodeFile(f), template: f.template })));
      const env: Record<string, string> = {};
      const fileValues: Record<string, string> = {};
      for (const [key, value] of grant.values) {
        if (inFiles.has(key)) fileValues[key] = value.revealBytes().toString('base64');
        else env[key] = value.reveal();
      }
      await conv.send('exec.deliver', {
        request_id: requestId,
        env,
        file_values: fileValues,
        approval_id: grant.approvalId,
        reused: grant.reused,
        spawn: how.spawn,
      } satisfies ExecDeliverBody);
      reservation.commit();
      reservation = null;
      // Delivered: the rule's rate-limit slot stays taken.
      ticket = null;
      // Values of a one-time approval have nothing left to serve: drop them now, not at GC.
      if (grant.approvalId === null) grant.values.clear();
      await followChild(core, conv, audit, actx);
    } catch (error) {
      reservation?.release();
      ticket?.release();
      throw error;
    }
  });
}

// A token that is no registered agent's: refused before the policy or anyone is asked.
function refuseToken(scope: Scope, flags: AuditExtra): never {
  const { audit, actx } = scope;
  audit.writeAll([
    auditEvent('request_received', actx, flags),
    auditEvent('approval_denied', actx, { approver: 'policy', decision_reason: 'unknown agent token' }),
  ]);
  throw new AgentSecretError('approval.denied', `request denied: ${AGENT_TOKEN_VARIABLE} is not the token of a registered agent (forged, mistyped, or the agent was removed); nobody was asked, nothing was resolved and the command did not run`, {
    hint: 'ask the human for a new token (agent-secret agent add NAME), or run without the variable',
  });
}

// The agent's token is bound to the process tree holding it (agent-binding.ts). The caller's
// ancestry and the token's holder are read once; the returned check gives the live process the
// token is bound to when that is outside the caller's tree, else null, and with `bind` binds a
// free token to the holder. On Linux the holder is found through /proc/<pid>/environ; on other
// platforms only the requesting process is known to hold it, so nothing is ever bound.
async function agentBinding(core: BrokerCore, agent: string, token: string, pid: number): Promise<(bind: boolean) => Promise<AncestryEntry | null>> {
  const platform = core.opts.platform;
  const ancestry = await readAncestry({ pid, platform });
  const self = { uid: core.uid, gid: process.getegid?.() ?? ancestry[0]?.gid ?? -1 };
  const holds = platform === 'linux' ? (entry: AncestryEntry) => initialEnvironHolds(entry, AGENT_TOKEN_VARIABLE, token, platform) : (_entry: AncestryEntry, index: number) => index === 0;
  const holder = ancestry[0]?.pid === pid ? tokenHolder(ancestry, self, holds) : -1;
  const key = tokenKey(token);
  return async (bind) => {
    const checked = await core.agentBindings.check(agent, key, { ancestry, holder, alive: (anchor) => isSameLiveProcess(anchor, platform) }, bind);
    return checked.ok ? null : checked.anchor;
  };
}

// A registered agent's token presented from outside the process tree it is bound to: refused
// before the policy or anyone is asked, like a forged one. `first`: false when another tree bound
// the token while this request was being decided (its values are then not delivered).
function refuseBoundToken(scope: Scope, flags: AuditExtra, agent: string, anchor: AncestryEntry, first = true): never {
  const { audit, actx } = scope;
  const denied = auditEvent('approval_denied', actx, { approver: 'policy', decision_reason: 'agent token bound to another process tree' });
  audit.writeAll(first ? [auditEvent('request_received', actx, { ...flags, agent }), denied] : [denied]);
  throw new AgentSecretError(
    'approval.denied',
    `request denied: ${AGENT_TOKEN_VARIABLE} of agent ${agent} is bound to another process tree, ${describeProcess(anchor)}; ${first ? 'nobody was asked, nothing was resolved' : 'nothing was delivered'} and the command did not run`,
    { hint: `run it from under that process, or give the agent a new token: agent-secret agent remove ${agent}, then agent-secret agent add ${agent}` },
  );
}

// Approvals an allow rule created live under a key of their own.
function policyKey(decision: PolicyDecision, key: string): string {
  return `policy:${decision.rule ?? ''}:${key}`;
}

// An allow rule decided: nobody is asked; the grant is audited with the rule, then resolved.
// A rule with `reuse` keeps the values for identical requests it allows, as a human's "allow again".
async function allowByPolicy(core: BrokerCore, scope: Scope, key: string, decision: PolicyDecision): Promise<Grant> {
  const { request, audit, actx, deadline, signal, userConfig } = scope;
  const reuse = decision.reuse === null ? null : clampReuse(decision.reuse, request.ttlSeconds);
  const approvedAt = core.now();
  audit.write(
    auditEvent('approval_granted', actx, {
      approver: 'policy',
      approver_config: userConfig.policy?.path ?? userConfig.path,
      policy_rule: decision.rule ?? '',
      ...(reuse === null ? {} : { reuse: { ttl_seconds: reuse.ttlSeconds, max_uses: reuse.maxUses } }),
    }),
  );
  const values = await resolve(core, request, userConfig, audit, actx, deadline, signal);
  if (reuse === null || reuse.maxUses < 2 || approvedAt + reuse.ttlSeconds * 1000 <= core.now()) return { approvalId: null, values, reservation: NO_RESERVATION, reused: false };
  const { approval, reservation } = storeReusable(core, scope, key, reuse, approvedAt, values, decision.rule);
  return { approvalId: approval.id, values, reservation, reused: false };
}

function storeReusable(core: BrokerCore, scope: Scope, key: string, reuse: { ttlSeconds: number; maxUses: number }, approvedAt: number, values: Values, policyRule: string | null = null) {
  const { request, requestId } = scope;
  const created = core.approvals.create({
    key,
    ttlSeconds: reuse.ttlSeconds,
    maxUses: reuse.maxUses,
    // The window starts at the approval, not after op answered.
    approvedAt,
    summary: {
      reason: request.reason,
      command: [...request.command],
      cwd: request.cwd,
      aliases: request.secrets.map((s) => s.alias),
      secrets: request.secrets.map((s) => ({ alias: s.alias, ref: s.ref, provider: s.provider, ...(s.name === undefined ? {} : { name: s.name }), account: s.account })),
      profile: request.profile,
      agent: scope.agent ?? null,
      policyRule,
    },
    values,
  });
  core.approvalRequests.set(created.approval.id, { request, requestId });
  return created;
}

// A use of a live approval for this key, reserved, with its line (after `before`) in the log; null when none is live.
function takeReuse(core: BrokerCore, key: string, audit: AuditLog, actx: AuditContext, flags: AuditExtra, before: AuditRecord[] = []): (Grant & { approvalId: string }) | null {
  const found = core.approvals.reserve(key);
  if (found === null) return null;
  const { approval, reservation } = found;
  const remaining = approval.maxUses - approval.used - approval.reserved;
  try {
    audit.writeAll([...before, auditEvent('approval_reused', actx, { ...flags, approval_id: approval.id, remaining_uses: remaining })]);
  } catch (error) {
    reservation.release();
    throw error;
  }
  return { approvalId: approval.id, values: approval.values, reservation, reused: true };
}

async function promptAndResolve(core: BrokerCore, scope: Scope, key: string, conv: Conversation): Promise<Grant> {
  const { requestId, deadline, audit, actx, signal } = scope;
  const pending: Pending = { handoff: null, together: null };
  const caller = callerOf(scope.request.requester, core.opts.platform);
  await conv.send('exec.queued', { waiting: core.queue.waiting() } satisfies ExecQueuedBody);
  for (;;) {
    let outcome;
    try {
      outcome = await core.queue.enqueue({ id: requestId, key, deadline, caller, item: pending }, signal);
    } catch (error) {
      auditQueueFailure(core, error, audit, actx);
      throw error;
    }
    if (outcome === 'turn') break;
    if (pending.together !== null) return answeredTogether(pending.together, scope);
    if (pending.handoff !== null) {
      // Served from a reusable approval granted to an identical request ahead of this one.
      const { approvalId, values, reservation, remaining } = pending.handoff;
      try {
        audit.write(auditEvent('approval_reused', actx, { approval_id: approvalId, remaining_uses: remaining }));
      } catch (error) {
        // Not delivered: the use goes back, or it stays reserved until the approval expires.
        reservation.release();
        throw error;
      }
      return { approvalId, values, reservation, reused: true };
    }
    // Coalesced, but the approval ran out first: wait for a turn again.
  }
  try {
    const again = takeReuse(core, key, audit, actx, {});
    if (again !== null) return again;
    return await askHuman(core, scope, key);
  } finally {
    core.queue.done(requestId);
  }
}

// The human answered this queued request together with the identical one at the prompt: audited
// here as its own approval or denial, noting which request was on screen.
function answeredTogether(together: Together, scope: Scope): Grant {
  const { audit, actx } = scope;
  const noted = { approver: together.approver, approver_config: scope.userConfig.path, answered_with: together.by };
  if (together.values === null) {
    audit.write(auditEvent('approval_denied', actx, { ...noted, decision_reason: 'denied by user' }));
    throw new AgentSecretError('approval.denied', 'request denied (denied by user, together with the identical requests waiting); nothing was resolved and the command did not run');
  }
  try {
    audit.write(auditEvent('approval_granted', actx, noted));
  } catch (error) {
    together.values.clear();
    throw error;
  }
  return { approvalId: null, values: together.values, reservation: NO_RESERVATION, reused: false };
}

async function askHuman(core: BrokerCore, scope: Scope, key: string): Promise<Grant> {
  const { request, requestId, deadline, audit, actx, signal } = scope;
  const { resolution, reuse, approvedAt, approver, together } = await decide(core, scope, 'exec');
  const values = await resolveWith(core, resolution, request, audit, actx, deadline, signal);
  // "Allow all once": each identical request waiting gets this one approval's values, once.
  if (together.length > 0) answerTogether(core, requestId, together, { by: requestId, approver, values });
  // A window that ran out while op answered still lets this approved run go, once.
  if (reuse === null || reuse.maxUses < 2 || approvedAt + reuse.ttlSeconds * 1000 <= core.now()) return { approvalId: null, values, reservation: NO_RESERVATION, reused: false };

  const { approval, reservation } = storeReusable(core, scope, key, reuse, approvedAt, values);
  // Identical requests waiting behind this one are served from the new approval, in arrival order.
  for (const entry of core.queue.takeMatching(key, approval.maxUses - approval.used - approval.reserved)) {
    const next = core.approvals.reserve(key);
    entry.item.handoff =
      next === null ? null : { approvalId: next.approval.id, values: next.approval.values, reservation: next.reservation, remaining: next.approval.maxUses - next.approval.used - next.approval.reserved };
  }
  return { approvalId: approval.id, values, reservation, reused: false };
}

/** The exec handler over the broker's core. */
export function execOps(core: BrokerCore) {
  return { 'exec.argv': (conv: Conversation) => handleExecArgv(core, conv) };
}
