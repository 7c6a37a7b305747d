// The daemon's broker: everything between a request arriving on the socket and its values
// leaving on that socket. It re-validates the request, serves it from a live reusable approval
// or queues it for the one prompt at a time, resolves exactly the approved references through
// op, records every step in the audit log, and holds values (SecretValue, in memory only) for
// reusable approvals and sessions until they expire, run out, are revoked or the daemon stops.

import { randomBytes } from 'node:crypto';
import { buildPrompt, selectApprover, type PromptOperation, type PromptSession } from '../approval/index.js';
import { auditEvent, openAuditLog, type AuditContext, type AuditExtra, type AuditLog, type AuditRecord } from '../audit/index.js';
import { createUserConfigLoader, type UserConfig } from '../config/user-config.js';
import { AgentSecretError, isAgentSecretError } from '../core/errors.js';
import type { SecretValue } from '../core/secret-value.js';
import { auditLogPath, type DirsInput } from '../platform/dirs.js';
import { findOp, resolveSecrets } from '../provider/index.js';
import { checkItemRef, describeItem } from '../provider/op/item.js';
import { toWireRequest, type ApprovalRequest } from '../request/types.js';
import { clampReuse, createApprovalStore, type Reservation } from './approvals.js';
import {
  ApprovalsRevokeBodySchema,
  ExecExitedBodySchema,
  ExecArgvBodySchema,
  ExecRequestBodySchema,
  ExecSpawnFailedBodySchema,
  ExecStartedBodySchema,
  ItemDescribeBodySchema,
  SessionCreateBodySchema,
  SessionDestroyBodySchema,
  SessionResolveBodySchema,
  bodyToRequest,
} from './messages.js';
import { planFromArgv } from './plan-argv.js';
import { createPromptQueue } from './queue.js';
import { reuseKey } from './reuse-key.js';
import { spawnBody, type SpawnBody } from './wire.js';
import type { Conversation, DaemonHooks } from './server.js';
import { metaRequest, validateMetaRequest, validateRequest, validateSecretsRequest, withOwnWarnings } from './validate.js';
import { chooseAnchor, describeProcess } from './binding.js';
import { createSessionStore, SESSION_ERRORS } from './sessions.js';
import { checkBindNames, type BindingPolicy } from '../core/session-bind.js';
import { readAncestry } from '../platform/process-tree.js';

type Values = Map<string, SecretValue>;

/** A queued request: when a reusable approval is granted, the broker hands it a reserved use. */
interface Pending {
  handoff: { approvalId: string; values: Values; reservation: Reservation; remaining: number } | null;
}

export interface BrokerOptions {
  dirs: DirsInput;
  /** The daemon's environment: op and the approver run with it. */
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  uid?: number;
  now?: () => number;
}

/** Creates the broker the daemon server calls for every conversation. */
export function createBroker(opts: BrokerOptions): DaemonHooks {
  const now = opts.now ?? Date.now;
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  // Strings cannot be wiped in JS; dropping every reference is what "clearing" can mean here.
  const timer = (fn: () => void, ms: number) => {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return { clear: () => clearTimeout(handle) };
  };
  // Values are dropped at expiry by the stores' own timers, not only on the next lookup.
  const approvals = createApprovalStore<Values>({ now, onDrop: (values) => values.clear(), setTimer: timer });
  // Session values, and the value-free request each session was created from (for the audit log).
  const sessionRequests = new Map<string, Origin>();
  // The request each reusable approval was granted to, for the audit line when it is revoked.
  const approvalRequests = new Map<string, Origin>();
  const sessions = createSessionStore<Values>({
    now,
    onDrop: (values) => values.clear(),
    setTimer: timer,
  });
  const queue = createPromptQueue<Pending>({ now });
  // Read at every request; parsed again only when the file changed.
  const userConfigOf = createUserConfigLoader();
  const controllers = new Set<AbortController>();
  const closers = new Map<AbortController, () => void>();
  let active = 0;

  async function handleExec(conv: Conversation): Promise<void> {
    const body = parseBody(ExecRequestBodySchema, conv.first.body);
    const userConfig = await execUserConfig(conv);
    if (userConfig === null) return;
    const how: ExecHow = { fingerprint: body.fingerprint, reuseOnly: body.reuse_only, forceRefresh: body.force_refresh, spawn: null };
    await serveExec(conv, userConfig, bodyToRequest(body.request), how);
  }

  // The fast path: the caller sent its argv; the daemon plans, then serves it like any exec and
  // tells the caller how to start the child. Anything the CLI reports itself goes back to it.
  async function handleExecArgv(conv: Conversation): Promise<void> {
    // A body this daemon cannot take (argv or env past its bounds): the CLI plans it and says
    // what is wrong in its own words, as it would without a daemon.
    const parsed = ExecArgvBodySchema.safeParse(conv.first.body);
    if (!parsed.success) {
      await conv.send('exec.in_process', { reason: 'plan_locally' });
      return;
    }
    const body = parsed.data;
    const userConfig = await execUserConfig(conv);
    if (userConfig === null) return;
    const planned = await planFromArgv(body, uid);
    if (planned === null) {
      await conv.send('exec.in_process', { reason: 'plan_locally' });
      return;
    }
    const { plan } = planned;
    const how: ExecHow = { fingerprint: planned.fingerprint, reuseOnly: planned.reuseOnly, forceRefresh: planned.forceRefresh, spawn: spawnBody(plan) };
    await serveExec(conv, userConfig, plan.request, how);
  }

  // The user config for an exec, or null after telling the CLI to run it itself: the daemon has
  // no terminal, so with the tty approver the CLI asks on its own and runs every step.
  async function execUserConfig(conv: Conversation): Promise<UserConfig | null> {
    const userConfig = await userConfigOf(opts.dirs);
    if (userConfig.approver !== 'tty') return userConfig;
    await conv.send('exec.in_process', { reason: 'tty_approver' });
    return null;
  }

  async function serveExec(conv: Conversation, userConfig: UserConfig, planned: ApprovalRequest, how: ExecHow): Promise<void> {
    // Also when planned here: the plan used the caller's user config, the daemon's own decides.
    await validateRequest(planned, { uid, trustedDirs: userConfig.trustedDirs });
    const request = await withOwnWarnings(planned, { uid, trustedDirs: userConfig.trustedDirs });

    const key = reuseKey(request, how.fingerprint);
    const flags: AuditExtra = {
      ...(how.forceRefresh ? { force_refresh: true } : {}),
      ...(how.reuseOnly ? { reuse_only: true } : {}),
      ...(how.spawn === null ? {} : { planned_by: 'daemon' as const }),
    };
    await withScope(conv, request, userConfig, async (scope) => {
      const { requestId, deadline, audit, actx, signal } = scope;
      let reservation: Reservation | null = null;
      try {
        // Receipt and reuse go to the log together (one lock, one sync): a reused exec waits for them.
        const received = auditEvent('request_received', actx, flags);
        const reusedGrant = takeReuse(key, audit, actx, flags, [received]);
        if (reusedGrant === null && how.reuseOnly) {
          audit.writeAll([received, auditEvent('approval_reuse_missed', actx, { ...flags, error_code: 'reuse.none' })]);
          throw new AgentSecretError('reuse.none', 'no live reusable approval matches this exact request; nothing was asked or resolved', {
            hint: 'run without --reuse-only to ask the human, or see agent-secret approvals list',
          });
        }
        if (reusedGrant === null) audit.write(received);
        let grant: Grant = reusedGrant ?? (await promptAndResolve(scope, key, conv));
        reservation = grant.reservation;
        if (how.forceRefresh && grant.reused && grant.approvalId !== null) {
          const approvalId = grant.approvalId;
          const values = await resolve(request, userConfig, audit, actx, deadline, signal);
          approvals.replaceValues(approvalId, values);
          grant = { ...grant, values };
          audit.write(auditEvent('approval_refreshed', actx, { approval_id: approvalId }));
        }

        // A revoke or expiry between reservation and now drops the values: never deliver a partial set.
        if (!reservation.live() || request.secrets.some((s) => !grant.values.has(s.alias))) {
          throw new AgentSecretError('reuse.none', 'the reusable approval ended (revoked or expired) before its values were delivered; nothing was delivered', {
            hint: 'rerun the command to ask again',
          });
        }
        const env: Record<string, string> = {};
        for (const [alias, value] of grant.values) env[alias] = value.reveal();
        await conv.send('exec.deliver', {
          request_id: requestId,
          env,
          approval_id: grant.approvalId,
          reused: grant.reused,
          ...(how.spawn === null ? {} : { spawn: how.spawn }),
        });
        reservation.commit();
        reservation = null;
        // Values of a one-time approval have nothing left to serve: drop them now, not at GC.
        if (grant.approvalId === null) grant.values.clear();
        await followChild(conv, audit, actx);
      } catch (error) {
        reservation?.release();
        throw error;
      }
    });
  }

  interface Grant {
    approvalId: string | null;
    values: Values;
    reservation: Reservation;
    reused: boolean;
  }

  // A use of a live approval for this key, reserved, with its line (after `before`) in the log; null when none is live.
  function takeReuse(key: string, audit: AuditLog, actx: AuditContext, flags: AuditExtra, before: AuditRecord[] = []): (Grant & { approvalId: string }) | null {
    const found = approvals.reserve(key);
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

  async function promptAndResolve(scope: Scope, key: string, conv: Conversation): Promise<Grant> {
    const { requestId, deadline, audit, actx, signal } = scope;
    const pending: Pending = { handoff: null };
    await conv.send('exec.queued', { waiting: queue.waiting() });
    for (;;) {
      let outcome;
      try {
        outcome = await queue.enqueue({ id: requestId, key, deadline, item: pending }, signal);
      } catch (error) {
        auditQueueFailure(error, audit, actx);
        throw error;
      }
      if (outcome === 'turn') break;
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
      const again = takeReuse(key, audit, actx, {});
      if (again !== null) return again;
      return await askHuman(scope, key);
    } finally {
      queue.done(requestId);
    }
  }

  async function askHuman(scope: Scope, key: string): Promise<Grant> {
    const { request, requestId, deadline, audit, actx, signal } = scope;
    const { opPath, reuse, approvedAt } = await decide(scope, 'exec');
    const values = await resolveWith(opPath, request, audit, actx, deadline, signal);
    // A window that ran out while op answered still lets this approved run go, once.
    if (reuse === null || reuse.maxUses < 2 || approvedAt + reuse.ttlSeconds * 1000 <= now()) return { approvalId: null, values, reservation: NO_RESERVATION, reused: false };

    const { approval, reservation } = approvals.create({
      key,
      ttlSeconds: reuse.ttlSeconds,
      maxUses: reuse.maxUses,
      // The window the human chose starts at the approval, not after op answered.
      approvedAt,
      summary: { reason: request.reason, command: [...request.command], cwd: request.cwd, aliases: request.secrets.map((s) => s.alias), profile: request.profile },
      values,
    });
    approvalRequests.set(approval.id, { request, requestId });
    // Identical requests waiting behind this one are served from the new approval, in arrival order.
    for (const entry of queue.takeMatching(key, approval.maxUses - approval.used - approval.reserved)) {
      const next = approvals.reserve(key);
      entry.item.handoff =
        next === null ? null : { approvalId: next.approval.id, values: next.approval.values, reservation: next.reservation, remaining: next.approval.maxUses - next.approval.used - next.approval.reserved };
    }
    return { approvalId: approval.id, values, reservation, reused: false };
  }

  /** Asks the human about one request (the caller holds the turn); audits the answer; throws unless approved. */
  async function decide(scope: Scope, operation: PromptOperation, session?: PromptSession): Promise<{ opPath: string; reuse: { ttlSeconds: number; maxUses: number } | null; approvedAt: number }> {
    const { request, requestId, deadline, userConfig, audit, actx, signal } = scope;
    let approver;
    try {
      if (userConfig.approver === 'tty') {
        // The daemon has no terminal; exec with the tty approver runs in the CLI instead.
        throw new AgentSecretError('approval.unavailable', 'the tty approver can only ask for exec, which then runs without the daemon', {
          hint: 'choose a dialog or command approver in ~/.config/agent-secret/config.yml for sessions and item describe',
        });
      }
      approver = await selectApprover(userConfig, { platform: opts.platform, env: opts.env });
    } catch (error) {
      audit.write(auditEvent('approval_unavailable', actx, { error_code: codeOf(error), approver_config: userConfig.path }));
      throw error;
    }
    // Fail before prompting when op cannot possibly work: the human should not approve in vain.
    const opPath = requireOp(userConfig, audit, actx);
    const chosenBy = { approver: approver.name, approver_config: userConfig.path };
    const prompt = buildPrompt(toWireRequest(request), {
      id: requestId,
      expiresAt: new Date(deadline),
      waiting: queue.waitingFor(requestId),
      operation,
      ...(session === undefined ? {} : { session }),
    });
    const decision = await approver.decide(prompt, { deadline, signal });
    const approvedAt = now();
    // Cut short by a daemon stop or the client leaving: cancelled, not a denial by the human.
    if (signal.aborted) {
      audit.write(auditEvent('approval_cancelled', actx, { ...chosenBy, error_code: codeOf(signal.reason) }));
      throw signal.reason;
    }
    if (decision.kind === 'deny') {
      audit.write(auditEvent('approval_denied', actx, { ...chosenBy, decision_reason: decision.reason }));
      throw new AgentSecretError('approval.denied', `request denied (${decision.reason}); nothing was resolved${operation === 'exec' ? ' and the command did not run' : ''}`);
    }
    if (decision.kind === 'timeout' || approvedAt >= deadline) {
      audit.write(auditEvent('approval_timed_out', actx, chosenBy));
      throw new AgentSecretError('approval.timeout', 'nobody approved the request before its ttl ran out; nothing was resolved', {
        hint: 'rerun when the human is at the prompt, or pass a longer --ttl (up to 10m)',
      });
    }
    const reuse = operation === 'exec' && decision.reuse !== undefined ? clampReuse(decision.reuse, request.ttlSeconds) : null;
    audit.write(auditEvent('approval_granted', actx, { ...chosenBy, ...(reuse === null ? {} : { reuse: { ttl_seconds: reuse.ttlSeconds, max_uses: reuse.maxUses } }) }));
    return { opPath, reuse, approvedAt };
  }

  /** Waits for the prompt turn (one prompt at a time), runs fn holding it, passes the turn on. */
  async function withTurn<T>(requestId: string, deadline: number, signal: AbortSignal, audit: AuditLog, actx: AuditContext, fn: () => Promise<T>): Promise<T> {
    try {
      await queue.enqueue({ id: requestId, key: `single:${requestId}`, deadline, item: { handoff: null } }, signal);
    } catch (error) {
      auditQueueFailure(error, audit, actx);
      throw error;
    }
    try {
      return await fn();
    } finally {
      queue.done(requestId);
    }
  }

  function auditQueueFailure(error: unknown, audit: AuditLog, actx: AuditContext): void {
    if (isAgentSecretError(error) && error.code === 'approval.timeout') {
      audit.write(auditEvent('approval_timed_out', actx, { decision_reason: 'expired while queued' }));
    } else {
      audit.write(auditEvent('approval_cancelled', actx, { error_code: codeOf(error) }));
    }
  }

  function requireOp(userConfig: UserConfig, audit: AuditLog, actx: AuditContext): string {
    const opPath = findOp({ explicitPath: userConfig.opPath, pathEnv: opts.env.PATH });
    if (opPath !== null) return opPath;
    audit.write(auditEvent('resolution_failed', actx, { error_code: 'provider.missing' }));
    throw new AgentSecretError('provider.missing', 'the 1Password CLI (op) was not found by the agent-secret daemon', {
      hint: 'install op, or set op_path in ~/.config/agent-secret/config.yml; then run agent-secret doctor',
    });
  }

  async function resolve(request: ApprovalRequest, userConfig: UserConfig, audit: AuditLog, actx: AuditContext, deadline: number, signal: AbortSignal): Promise<Values> {
    return resolveWith(requireOp(userConfig, audit, actx), request, audit, actx, deadline, signal);
  }

  async function resolveWith(opPath: string, request: ApprovalRequest, audit: AuditLog, actx: AuditContext, deadline: number, signal: AbortSignal): Promise<Values> {
    audit.write(auditEvent('resolution_started', actx));
    try {
      const values = await resolveSecrets(request.secrets, { opPath, env: opts.env, timeoutMs: Math.max(1000, deadline - now()), signal });
      audit.write(auditEvent('resolution_succeeded', actx));
      return values;
    } catch (error) {
      audit.write(auditEvent('resolution_failed', actx, { error_code: codeOf(error) }));
      throw error;
    }
  }

  // After delivery the client runs the child and reports it; the daemon only records.
  async function followChild(conv: Conversation, audit: AuditLog, actx: AuditContext): Promise<void> {
    try {
      const started = await conv.receive();
      if (started.type !== 'exec.started') {
        const failed = ExecSpawnFailedBodySchema.safeParse(started.body);
        audit.write(auditEvent('child_spawn_failed', actx, { error_code: failed.success ? failed.data.error_code : 'daemon.protocol' }));
        return;
      }
      const { pid } = parseBody(ExecStartedBodySchema, started.body);
      audit.write(auditEvent('child_started', actx, { pid }));
      const exited = await conv.receive();
      if (exited.type !== 'exec.exited') throw new AgentSecretError('daemon.protocol', 'expected exec.exited');
      const result = parseBody(ExecExitedBodySchema, exited.body);
      audit.write(auditEvent('child_exited', actx, { pid, exit_code: result.exit_code, signal: result.signal, duration_ms: result.duration_ms }));
      await conv.send('exec.exited.ok', {}).catch(() => undefined);
    } catch (error) {
      // The client went away after delivery: the child may still run; record what is known.
      audit.write(auditEvent('client_lost', actx, { error_code: codeOf(error) }));
    }
  }

  async function handleApprovalsList(conv: Conversation): Promise<void> {
    const list = approvals.list().map((a) => ({
      id: a.id,
      expires_at: new Date(a.expiresAt).toISOString(),
      max_uses: a.maxUses,
      used: a.used,
      remaining_uses: Math.max(0, a.maxUses - a.used - a.reserved),
      reason: a.summary.reason,
      command: a.summary.command,
      cwd: a.summary.cwd,
      aliases: a.summary.aliases,
      profile: a.summary.profile,
    }));
    await conv.send('approvals.list.ok', { approvals: list });
  }

  async function handleApprovalsRevoke(conv: Conversation): Promise<void> {
    const body = parseBody(ApprovalsRevokeBodySchema, conv.first.body);
    const ids = 'all' in body ? approvals.list().map((a) => a.id) : [body.id];
    const revoked = ids.filter((id) => approvals.revoke(id));
    if (!('all' in body) && revoked.length === 0) {
      throw new AgentSecretError('usage.invalid', `no live reusable approval ${body.id}`, { hint: 'see agent-secret approvals list' });
    }
    await auditEnded(revoked, approvalRequests, 'approval_revoked', (id) => ({ approval_id: id }));
    await conv.send('approvals.revoke.ok', { revoked: revoked.length });
  }

  // Revoke and destroy happen first (ending access never waits on the log); each is then recorded
  // under the request that created it. A log that cannot be written does not undo the end.
  async function auditEnded(ids: readonly string[], origins: Map<string, Origin>, type: 'approval_revoked' | 'session_destroyed', extra: (id: string) => AuditExtra): Promise<void> {
    if (ids.length === 0) return;
    let audit: AuditLog | null = null;
    try {
      audit = await openAuditLog(auditLogPath(opts.dirs));
      for (const id of ids) {
        const origin = origins.get(id);
        origins.delete(id);
        if (origin !== undefined) audit.write(auditEvent(type, { requestId: origin.requestId, request: origin.request }, extra(id)));
      }
    } catch {
      // Recorded as far as possible; the approval or session is gone either way.
    } finally {
      await audit?.close().catch(() => undefined);
    }
  }

  // item describe: one prompt (never reusable), one `op item get`, a value-free description back.
  async function handleItemDescribe(conv: Conversation): Promise<void> {
    const body = parseBody(ItemDescribeBodySchema, conv.first.body);
    const ref = checkItemRef(body.ref);
    const request = metaRequest(body, [{ alias: 'ITEM', ref: ref.raw, account: body.account, source: 'flag' }]);
    await validateMetaRequest(request);
    const userConfig = await userConfigOf(opts.dirs);
    await withScope(conv, request, userConfig, async (scope) => {
      const { requestId, deadline, audit, actx, signal } = scope;
      audit.write(auditEvent('request_received', actx));
      const { opPath } = await withTurn(requestId, deadline, signal, audit, actx, () => decide(scope, 'item_describe'));
      audit.write(auditEvent('resolution_started', actx));
      let description;
      try {
        description = await describeItem({ itemRef: ref.raw, account: body.account, opPath, env: opts.env, timeoutMs: Math.max(1000, deadline - now()), signal });
      } catch (error) {
        audit.write(auditEvent('resolution_failed', actx, { error_code: codeOf(error) }));
        throw error;
      }
      audit.write(auditEvent('resolution_succeeded', actx));
      await conv.send('item.describe.ok', { request_id: requestId, description: { ...description } });
    });
  }

  // One request's id, deadline (receipt + ttl), audit log and cancellation, for the length of `fn`.
  async function withScope(conv: Conversation, request: ApprovalRequest, userConfig: UserConfig, fn: (scope: Scope) => Promise<void>): Promise<void> {
    const requestId = `req_${randomBytes(16).toString('hex')}`;
    const deadline = now() + request.ttlSeconds * 1000;
    const audit = await openAuditLog(auditLogPath(opts.dirs));
    const abort = track(conv);
    try {
      await fn({ request, requestId, deadline, userConfig, audit, actx: { requestId, request }, signal: abort.signal });
    } finally {
      untrack(conv, abort);
      await audit.close().catch(() => undefined);
    }
  }

  function track(conv: Conversation): AbortController {
    const abort = new AbortController();
    // Keep the conversation's reason (daemon.unavailable at shutdown): a queued request fails with it, not as internal.
    const onClose = () => abort.abort(conv.signal.reason);
    conv.signal.addEventListener('abort', onClose, { once: true });
    closers.set(abort, () => conv.signal.removeEventListener('abort', onClose));
    controllers.add(abort);
    return abort;
  }

  function untrack(_conv: Conversation, abort: AbortController): void {
    closers.get(abort)?.();
    closers.delete(abort);
    controllers.delete(abort);
  }

  // session create: one prompt for a bag of references, bound to a process tree; the values stay
  // here and are read by with-session up to max_reads times until the session expires.
  async function handleSessionCreate(conv: Conversation): Promise<void> {
    const body = parseBody(SessionCreateBodySchema, conv.first.body);
    const planned = bodyToRequest(body.request);
    await validateSecretsRequest(planned);
    const request = await withOwnWarnings(planned, null);
    const policy = checkPolicy(body.binding);
    const ancestry = await readAncestry({ pid: body.pid, platform: opts.platform });
    if (ancestry[0]?.pid !== body.pid || ancestry[0].uid !== uid) {
      throw new AgentSecretError('check.failed', 'the session create process could not be identified; nothing was asked');
    }
    const bound = chooseAnchor(policy, ancestry, { uid, gid: process.getegid?.() ?? ancestry[0].gid });
    const bindingText = describeProcess(bound.anchor);
    const userConfig = await userConfigOf(opts.dirs);
    await withScope(conv, request, userConfig, async (scope) => {
      const { requestId, deadline, audit, actx, signal } = scope;
      audit.write(auditEvent('request_received', actx, { max_reads: body.max_reads, session_binding: bindingText }));
      const { opPath } = await withTurn(requestId, deadline, signal, audit, actx, () =>
        decide(scope, 'session_create', {
          max_reads: body.max_reads,
          ttl_seconds: request.ttlSeconds,
          binding: bindingText,
        }),
      );
      const values = await resolveWith(opPath, request, audit, actx, deadline, signal);
      const created = sessions.create({
        ttlSeconds: request.ttlSeconds,
        maxReads: body.max_reads,
        cwd: request.cwd,
        aliases: request.secrets.map((s) => s.alias),
        reason: request.reason,
        overrideEnv: request.overrideEnv,
        binding: { policy, anchor: bound.anchor, depth: bound.depth, ...(bound.matchedName === undefined ? {} : { matchedName: bound.matchedName }) },
        values,
      });
      sessionRequests.set(created.id, { request, requestId });
      try {
        audit.write(auditEvent('session_created', actx, { session_id: created.id, max_reads: body.max_reads, session_binding: bindingText }));
      } catch (error) {
        sessions.destroy(created.id);
        throw error;
      }
      try {
        await conv.send('session.created', {
          request_id: requestId,
          session_id: created.id,
          session_token: created.token,
          aliases: [...created.session.aliases],
          expires_at: new Date(created.session.expiresAt).toISOString(),
          max_reads: created.session.maxReads,
          remaining_reads: created.session.remainingReads,
          binding: { mode: policy.mode, depth: bound.depth, process: bindingText },
        });
      } catch (error) {
        // Nobody got the token: nobody can read the session, so its values go now, not at its ttl.
        sessions.destroy(created.id);
        sessionRequests.delete(created.id);
        try {
          audit.write(auditEvent('session_destroyed', actx, { session_id: created.id, error_code: codeOf(error) }));
        } catch {
          // The session is gone either way.
        }
        throw error;
      }
    });
  }

  // with-session: the token, the directory and the caller's process tree decide; no prompt.
  async function handleSessionResolve(conv: Conversation): Promise<void> {
    const body = parseBody(SessionResolveBodySchema, conv.first.body);
    const ancestry = await readAncestry({ pid: body.pid, platform: opts.platform });
    const requestId = `req_${randomBytes(16).toString('hex')}`;
    const audit = await openAuditLog(auditLogPath(opts.dirs));
    let resolved;
    try {
      try {
        if (ancestry[0]?.pid !== body.pid || ancestry[0].uid !== uid) throw new AgentSecretError('check.failed', SESSION_ERRORS.notBound);
        resolved = sessions.resolve({ token: body.token, cwd: body.cwd, callerAncestry: ancestry, only: body.only ?? undefined });
      } catch (error) {
        // Nothing about the session is known to a caller with a wrong token; record the refusal only.
        audit.write(auditEvent('session_refused', { requestId, request: withSessionRequest(body, null, []) }, { error_code: codeOf(error) }));
        throw error;
      }
      const { session, values, aliases, reservation } = resolved;
      const origin = sessionRequests.get(session.id)?.request ?? null;
      const actx: AuditContext = { requestId, request: withSessionRequest(body, origin, aliases) };
      // A variable the caller already has would be replaced: refuse before the read is spent.
      const taken = new Set(body.env_names ?? []);
      const conflicts = session.overrideEnv ? [] : aliases.filter((alias) => taken.has(alias)).sort();
      if (conflicts.length > 0) {
        reservation.release();
        audit.write(auditEvent('session_refused', actx, { session_id: session.id, error_code: 'exec.env_conflict' }));
        throw new AgentSecretError('exec.env_conflict', `${conflicts.join(', ')} ${conflicts.length === 1 ? 'is' : 'are'} already set in the environment; the command did not run`, {
          hint: 'unset it, or create the session with --override-env',
        });
      }
      try {
        audit.write(auditEvent('session_resolved', actx, { session_id: session.id, max_reads: session.maxReads, remaining_reads: session.remainingReads - 1 }));
        // A session destroyed or expired since the check has dropped its values: deliver all or nothing.
        if (!reservation.live() || aliases.some((alias) => !values.has(alias))) throw new AgentSecretError('check.failed', SESSION_ERRORS.unknownToken);
        const env: Record<string, string> = {};
        for (const alias of aliases) env[alias] = (values.get(alias) as SecretValue).reveal();
        await conv.send('session.deliver', { request_id: requestId, session_id: session.id, env, override_env: session.overrideEnv, remaining_reads: session.remainingReads - 1 });
        reservation.commit();
      } catch (error) {
        reservation.release();
        throw error;
      }
      await followChild(conv, audit, actx);
    } finally {
      await audit.close().catch(() => undefined);
    }
  }

  async function handleSessionList(conv: Conversation): Promise<void> {
    const list = sessions.list().map((info) => ({
      session_id: info.id,
      reason: info.reason,
      cwd: info.cwd,
      aliases: [...info.aliases],
      expires_at: new Date(info.expiresAt).toISOString(),
      max_reads: info.maxReads,
      remaining_reads: info.remainingReads,
      override_env: info.overrideEnv,
      binding: { mode: info.binding.policy.mode, depth: info.binding.depth, process: describeProcess(info.binding.anchor) },
    }));
    await conv.send('session.list.ok', { sessions: list });
  }

  async function handleSessionDestroy(conv: Conversation): Promise<void> {
    const body = parseBody(SessionDestroyBodySchema, conv.first.body);
    const ids = 'all' in body ? sessions.list().map((x) => x.id) : [body.id];
    const destroyed = ids.filter((id) => sessions.destroy(id));
    if (!('all' in body) && destroyed.length === 0) throw new AgentSecretError('usage.invalid', `no live session ${body.id}`, { hint: 'see agent-secret session list' });
    await auditEnded(destroyed, sessionRequests, 'session_destroyed', (id) => ({ session_id: id }));
    await conv.send('session.destroy.ok', { destroyed: destroyed.length });
  }

  const handlers: Record<string, (conv: Conversation) => Promise<void>> = {
    'session.create': handleSessionCreate,
    'session.resolve': handleSessionResolve,
    'session.list': handleSessionList,
    'session.destroy': handleSessionDestroy,
    'exec.request': handleExec,
    'exec.argv': handleExecArgv,
    'item.describe': handleItemDescribe,
    'approvals.list': handleApprovalsList,
    'approvals.revoke': handleApprovalsRevoke,
  };

  return {
    async handler(conv) {
      const handle = handlers[conv.first.type];
      if (handle === undefined) throw new AgentSecretError('daemon.protocol', `this daemon does not handle ${conv.first.type}`);
      active += 1;
      try {
        await handle(conv);
      } finally {
        active -= 1;
      }
    },
    isIdle() {
      approvals.sweep();
      const liveSessions = new Set(sessions.list().map((x) => x.id));
      for (const id of sessionRequests.keys()) if (!liveSessions.has(id)) sessionRequests.delete(id);
      const liveApprovals = new Set(approvals.list().map((a) => a.id));
      for (const id of approvalRequests.keys()) if (!liveApprovals.has(id)) approvalRequests.delete(id);
      return active === 0 && queue.size() === 0 && approvals.size() === 0 && sessions.size() === 0;
    },
    async shutdown() {
      queue.cancelAll(new AgentSecretError('daemon.unavailable', 'the agent-secret daemon stopped before the request was answered'));
      for (const controller of controllers) controller.abort();
      approvals.revokeAll();
      sessions.destroyAll();
      sessionRequests.clear();
      approvalRequests.clear();
    },
  };
}

// The request as the audit log records a with-session read: its own command and directory, and
// the selected aliases with the references the session was created for.
function withSessionRequest(body: { command: string[]; executable: string; cwd: string; pid: number }, origin: ApprovalRequest | null, aliases: readonly string[]): ApprovalRequest {
  const secrets = origin === null ? [] : origin.secrets.filter((s) => aliases.includes(s.alias));
  return {
    ...(origin ?? metaRequest({ reason: 'session read', ttl_seconds: 0, command: body.command, executable: body.executable, cwd: body.cwd, requester: { pid: body.pid, chain: [] } }, [])),
    command: [...body.command],
    executable: body.executable,
    cwd: body.cwd,
    secrets,
    requester: { pid: body.pid, chain: [] },
  };
}

function checkPolicy(policy: BindingPolicy): BindingPolicy {
  if (policy.mode !== 'ancestor_name') return policy;
  const names = checkBindNames(policy.names);
  if (!names.ok) throw new AgentSecretError('usage.invalid', `session binding: ${names.message}`);
  return { mode: 'ancestor_name', names: names.value };
}

/** One request being handled: what it asks, its audit log, its deadline and cancellation. */
interface Scope {
  request: ApprovalRequest;
  requestId: string;
  /** Epoch ms: receipt + ttl. */
  deadline: number;
  userConfig: UserConfig;
  audit: AuditLog;
  actx: AuditContext;
  signal: AbortSignal;
}

/** How an exec arrived: its environment fingerprint, its flags, and (planned here) how the caller starts the child. */
interface ExecHow {
  fingerprint: string;
  reuseOnly: boolean;
  forceRefresh: boolean;
  spawn: SpawnBody | null;
}

/** The value-free request that created an approval or a session, and its request id. */
interface Origin {
  request: ApprovalRequest;
  requestId: string;
}

const NO_RESERVATION: Reservation = { approvalId: '', live: () => true, commit() {}, release() {} };

function parseBody<T>(schema: { safeParse(input: unknown): { success: true; data: T } | { success: false } }, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new AgentSecretError('daemon.protocol', 'the request body does not match the protocol');
  return parsed.data;
}

function codeOf(error: unknown): string {
  return isAgentSecretError(error) ? error.code : 'internal';
}
