// The broker's shared core: the state every operation uses (the prompt queue, the stores of
// reusable approvals and sessions and the requests they came from, the user config) and the
// pipeline steps they share: a request's scope (id, deadline, audit log, cancellation), the
// prompt turn, asking the human, resolving through the providers (provider/registry.ts: op,
// bws, provider programs), following the child. The operations
// (ops/*.ts) compose these; broker.ts puts them behind the transport's hooks.

import { randomBytes } from 'node:crypto';
import { buildPrompt, selectApprover, type PromptOperation, type PromptSession } from '../approval/index.js';
import { auditEvent, openAuditLog, policyGrantsSince, type AuditContext, type AuditExtra, type AuditLog, type AuditRecord } from '../audit/index.js';
import { createUserConfigLoader, type UserConfig } from '../config/user-config.js';
import { AgentSecretError, isAgentSecretError } from '../core/errors.js';
import type { SecretValue } from '../core/secret-value.js';
import { auditLogPath, policyPathBeside, type DirsInput } from '../platform/dirs.js';
import { ExecExitedBodySchema, ExecSpawnFailedBodySchema, ExecStartedBodySchema } from '../protocol/messages.js';
import { createRegistry, prepareResolution, type ProviderRegistry, type Resolution } from '../provider/index.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import { createRateLimiter, formatDuration, type RateLimiter, type RateTicket } from '../policy/rate.js';
import type { PolicyDecision } from '../policy/types.js';
import { toWireRequest } from '../request/codec.js';
import { resolutionSpecs } from '../request/template.js';
import { missingRuleNote, missingRuleOf, policyInputOf, type PolicyHostFacts } from '../request/policy-input.js';
import type { ApprovalRequest } from '../request/types.js';
import { createAgentBindings } from './agent-binding.js';
import { clampReuse, createApprovalStore, type Reservation } from './approvals.js';
import type { Conversation } from './conversation.js';
import { callerOf } from './caller.js';
import { createConsoleHub } from './console-hub.js';
import { createPromptQueue } from './queue.js';
import { createSessionStore } from './sessions.js';
import { needsCallerTerminal } from './terminal.js';

export type Values = Map<string, SecretValue>;

/** A queued request: when a reusable approval is granted, the broker hands it a reserved use. */
export interface Pending {
  handoff: { approvalId: string; values: Values; reservation: Reservation; remaining: number } | null;
  /**
   * The human answered it together with the identical request `by` at the prompt (scope all):
   * approved once with `values` (a map of its own), or denied (`values` null).
   */
  together: Together | null;
}

/** One answer given for all identical requests: who was at the prompt, which approver, and the values of an approval. */
export interface Together {
  by: string;
  approver: string;
  values: Values | null;
}

export interface BrokerOptions {
  dirs: DirsInput;
  /** The daemon's environment: op and the approver run with it. */
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  uid?: number;
  now?: () => number;
  /** Runs inside the CLI for one request (broker/local.ts): the tty approver may ask; nothing is offered for reuse. */
  inProcess?: boolean;
}

/** One request being handled: what it asks, its audit log, its deadline and cancellation. */
export interface Scope {
  request: ApprovalRequest;
  requestId: string;
  /** Epoch ms: receipt + ttl. */
  deadline: number;
  userConfig: UserConfig;
  audit: AuditLog;
  actx: AuditContext;
  signal: AbortSignal;
  /** Tells the caller something while it waits (a `notice` frame: our own words, value-free). */
  notify: (message: string) => void;
  /** The registered agent whose token came with the request (checked), or null. */
  agent?: string | null;
}

/** The value-free request that created an approval or a session, and its request id. */
export interface Origin {
  request: ApprovalRequest;
  requestId: string;
}

/** The broker's state: what every operation shares for as long as the broker lives. */
export function createCore(opts: BrokerOptions) {
  const now = opts.now ?? Date.now;
  // Strings cannot be wiped in JS; dropping every reference is what "clearing" can mean here.
  const timer = (fn: () => void, ms: number) => {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return { clear: () => clearTimeout(handle) };
  };
  return {
    opts,
    now,
    uid: opts.uid ?? process.getuid?.() ?? -1,
    // Values are dropped at expiry by the stores' own timers, not only on the next lookup.
    approvals: createApprovalStore<Values>({ now, onDrop: (values) => values.clear(), setTimer: timer }),
    sessions: createSessionStore<Values>({ now, onDrop: (values) => values.clear(), setTimer: timer }),
    // The value-free request each session was created from, and each reusable approval was
    // granted to, for the audit line when it is destroyed or revoked.
    sessionRequests: new Map<string, Origin>(),
    approvalRequests: new Map<string, Origin>(),
    // Each registered agent's token bound to the process tree holding it (agent-binding.ts).
    agentBindings: createAgentBindings(),
    queue: createPromptQueue<Pending>({ now }),
    // The one attached approval console (`agent-secret approve`), the `console` approver's channel.
    consoles: createConsoleHub({ now }),
    // Read at every request; parsed again only when the file changed.
    userConfigOf: createUserConfigLoader(),
    controllers: new Set<AbortController>(),
    closers: new Map<AbortController, () => void>(),
    // Deliveries by each rate-limited policy rule, counted again from the audit log at start, so
    // that `daemon stop` does not give a rule a fresh allowance.
    rates: seededRates(auditLogPath(opts.dirs), now()),
  };
}

export type BrokerCore = ReturnType<typeof createCore>;

function seededRates(auditPath: string, at: number): RateLimiter {
  const rates = createRateLimiter();
  for (const grant of policyGrantsSince(auditPath, at)) rates.seed(grant.rule, grant.at);
  return rates;
}

// One request's id, deadline (receipt + ttl), audit log and cancellation, for the length of `fn`.
export async function withScope(core: BrokerCore, conv: Conversation, request: ApprovalRequest, userConfig: UserConfig, fn: (scope: Scope) => Promise<void>): Promise<void> {
  const requestId = `req_${randomBytes(16).toString('hex')}`;
  const deadline = core.now() + request.ttlSeconds * 1000;
  const audit = await openAuditLog(auditLogPath(core.opts.dirs));
  const abort = track(core, conv);
  try {
    const notify = (message: string) => void conv.send('notice', { message }).catch(() => undefined);
    await fn({ request, requestId, deadline, userConfig, audit, actx: { requestId, request }, signal: abort.signal, notify });
  } finally {
    untrack(core, conv, abort);
    await audit.close().catch(() => undefined);
  }
}

function track(core: BrokerCore, conv: Conversation): AbortController {
  const abort = new AbortController();
  // Keep the conversation's reason (daemon.unavailable at shutdown): a queued request fails with it, not as internal.
  const onClose = () => abort.abort(conv.signal.reason);
  conv.signal.addEventListener('abort', onClose, { once: true });
  core.closers.set(abort, () => conv.signal.removeEventListener('abort', onClose));
  core.controllers.add(abort);
  return abort;
}

function untrack(core: BrokerCore, _conv: Conversation, abort: AbortController): void {
  core.closers.get(abort)?.();
  core.closers.delete(abort);
  core.controllers.delete(abort);
}

/** Waits for the prompt turn (one prompt at a time), runs fn holding it, passes the turn on. */
export async function withTurn<T>(core: BrokerCore, requestId: string, deadline: number, signal: AbortSignal, audit: AuditLog, actx: AuditContext, fn: () => Promise<T>): Promise<T> {
  try {
    await core.queue.enqueue({ id: requestId, key: `single:${requestId}`, deadline, caller: callerOf(actx.request.requester, core.opts.platform), item: { handoff: null, together: null } }, signal);
  } catch (error) {
    auditQueueFailure(core, error, audit, actx);
    throw error;
  }
  try {
    return await fn();
  } finally {
    core.queue.done(requestId);
  }
}

export function auditQueueFailure(core: BrokerCore, error: unknown, audit: AuditLog, actx: AuditContext): void {
  if (isAgentSecretError(error) && error.code === 'approval.timeout') {
    audit.write(auditEvent('approval_timed_out', actx, { decision_reason: 'expired while queued' }));
  } else {
    audit.write(auditEvent('approval_cancelled', actx, { error_code: codeOf(error) }));
  }
}

/** What the human approved: the providers made ready, a reusable window, when, and how many identical waiting requests the approval also covers (scope all). */
export interface Approved {
  resolution: Resolution;
  reuse: { ttlSeconds: number; maxUses: number } | null;
  approvedAt: number;
  approver: string;
  /** The identical queued requests the prompt counted, to approve once each with this one (none: this one only); the caller takes them after resolving. */
  together: readonly string[];
}

/**
 * Asks the human about one request (the caller holds the turn); audits the answer; throws unless
 * approved. A "deny all" also denies the identical requests waiting (they then fail without a prompt).
 */
export async function decide(core: BrokerCore, scope: Scope, operation: PromptOperation, session?: PromptSession, onApprover?: (name: string) => void): Promise<Approved> {
  const { request, requestId, deadline, userConfig, audit, actx, signal } = scope;
  let approver;
  try {
    if (needsCallerTerminal(userConfig, core.opts.inProcess)) {
      // The daemon has no terminal; exec (and approver test) with the tty approver runs in the CLI instead.
      throw new AgentSecretError('approval.unavailable', 'the tty approver can only ask for exec, which then runs without the daemon', {
        hint: 'choose a dialog or command approver in ~/.config/agent-secret/config.yml for session create and item describe',
      });
    }
    approver = await selectApprover(userConfig, { platform: core.opts.platform, env: core.opts.env }, core.opts.inProcess === true ? {} : { console: core.consoles });
  } catch (error) {
    audit.write(auditEvent('approval_unavailable', actx, { error_code: codeOf(error), approver_config: userConfig.path }));
    throw error;
  }
  onApprover?.(approver.name);
  // Fail before prompting when a provider cannot possibly work: the human should not approve in vain
  // (an approver test has no secrets, so it needs no provider).
  const resolution = await prepareProviders(core, request, userConfig, audit, actx);
  const chosenBy = { approver: approver.name, approver_config: userConfig.path };
  // Only exec requests share keys (the others queue under a key of their own): 0 for them.
  const identical = core.queue.identicalTo(requestId);
  const prompt = buildPrompt(toWireRequest(request), {
    id: requestId,
    expiresAt: new Date(deadline),
    waiting: core.queue.waitingFor(requestId),
    identicalWaiting: identical.length,
    operation,
    ...(session === undefined ? {} : { session }),
    agent: scope.agent ?? null,
  });
  // Reusable approvals live in the daemon; a broker inside the CLI ends with its one request.
  if (core.opts.inProcess === true) prompt.allows_reusable = false;
  const decision = await approver.decide(prompt, { deadline, signal, onWaiting: scope.notify });
  const approvedAt = core.now();
  // Cut short by a daemon stop or the client leaving: cancelled, not a denial by the human.
  if (signal.aborted) {
    audit.write(auditEvent('approval_cancelled', actx, { ...chosenBy, error_code: codeOf(signal.reason) }));
    throw signal.reason;
  }
  if (decision.kind === 'deny') {
    audit.write(auditEvent('approval_denied', actx, { ...chosenBy, decision_reason: decision.reason }));
    if (decision.scope === 'all') answerTogether(core, requestId, identical, { by: requestId, approver: approver.name, values: null });
    throw new AgentSecretError('approval.denied', `request denied (${decision.reason}); nothing was resolved${operation === 'exec' ? ' and the command did not run' : ''}`);
  }
  if (decision.kind === 'failed') {
    // The approver broke (crash, non-zero exit, malformed answer): nobody decided, so this is not a denial.
    audit.write(auditEvent('approval_failed', actx, { ...chosenBy, error_code: 'approval.failed', decision_reason: decision.reason }));
    throw new AgentSecretError('approval.failed', `approval failed: ${decision.reason}; nobody decided, nothing was resolved${operation === 'exec' ? ' and the command did not run' : ''}`, {
      hint: 'the approver is broken, not the request: tell the human, who can check the approver in ~/.config/agent-secret/config.yml and run agent-secret doctor',
    });
  }
  if (decision.kind === 'timeout' || approvedAt >= deadline) {
    audit.write(auditEvent('approval_timed_out', actx, chosenBy));
    throw new AgentSecretError('approval.timeout', 'nobody approved the request before its ttl ran out; nothing was resolved', {
      hint: 'rerun when the human is at the prompt, or pass a longer --ttl (up to 10m)',
    });
  }
  const reuse = operation === 'exec' && decision.reuse !== undefined ? clampReuse(decision.reuse, request.ttlSeconds) : null;
  audit.write(auditEvent('approval_granted', actx, { ...chosenBy, ...(reuse === null ? {} : { reuse: { ttl_seconds: reuse.ttlSeconds, max_uses: reuse.maxUses } }) }));
  return { resolution, reuse, approvedAt, approver: approver.name, together: decision.scope === 'all' ? identical : [] };
}

/**
 * Hands one answer to the identical requests queued behind `requestId` that the prompt counted
 * (`ids`), those still waiting and no other, so nobody is answered whom the human did not see
 * counted. Each then audits its own approval or denial, noting `answered_with`.
 */
export function answerTogether(core: BrokerCore, requestId: string, ids: readonly string[], together: Together): number {
  if (ids.length === 0) return 0;
  const taken = core.queue.takeIdentical(requestId, ids);
  for (const entry of taken) {
    entry.item.together = { ...together, values: together.values === null ? null : new Map(together.values) };
  }
  return taken.length;
}

/** The providers of this broker's user config (the daemon's own, never the caller's). */
export function registryOf(core: BrokerCore, userConfig: UserConfig): ProviderRegistry {
  return createRegistry(userConfig, {
    env: core.opts.env,
    platform: core.opts.platform,
    uid: core.uid,
    brokerName: core.opts.inProcess === true ? 'the agent-secret broker' : 'the agent-secret daemon',
  });
}

// Every provider the request uses, ready (its program found, its sources configured); audited and thrown when one cannot work.
async function prepareProviders(core: BrokerCore, request: ApprovalRequest, userConfig: UserConfig, audit: AuditLog, actx: AuditContext): Promise<Resolution> {
  try {
    return await prepareResolution(resolutionSpecs(request), registryOf(core, userConfig));
  } catch (error) {
    audit.write(auditEvent('resolution_failed', actx, { error_code: codeOf(error) }));
    throw error;
  }
}

export async function resolve(core: BrokerCore, request: ApprovalRequest, userConfig: UserConfig, audit: AuditLog, actx: AuditContext, deadline: number, signal: AbortSignal): Promise<Values> {
  return resolveWith(core, await prepareProviders(core, request, userConfig, audit, actx), request, audit, actx, deadline, signal);
}

export async function resolveWith(core: BrokerCore, resolution: Resolution, request: ApprovalRequest, audit: AuditLog, actx: AuditContext, deadline: number, signal: AbortSignal): Promise<Values> {
  audit.write(auditEvent('resolution_started', actx));
  try {
    // File secrets and every reference a template uses are resolved with the rest (request/template.ts resolutionSpecs).
    const values = await resolution.resolve(resolutionSpecs(request), { requestId: actx.requestId, deadline, timeoutMs: Math.max(1000, deadline - core.now()), signal });
    audit.write(auditEvent('resolution_succeeded', actx));
    return values;
  } catch (error) {
    audit.write(auditEvent('resolution_failed', actx, { error_code: codeOf(error) }));
    throw error;
  }
}

// After delivery the client runs the child and reports it; the daemon only records.
export async function followChild(core: BrokerCore, conv: Conversation, audit: AuditLog, actx: AuditContext): Promise<void> {
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
    const exitedEvent = auditEvent('child_exited', actx, { pid, exit_code: result.exit_code, signal: result.signal, duration_ms: result.duration_ms });
    const files = result.files;
    if (files === undefined) audit.write(exitedEvent);
    else {
      // The delivered files, as the caller reports their removal (counts and times, never a path's content).
      const removed = auditEvent('files_removed', actx, {
        files_removed: files.removed,
        removed_on: files.removed_on,
        removed_after_exit_ms: files.removed_after_exit_ms,
        ...(files.stale_dirs_swept > 0 ? { stale_dirs_swept: files.stale_dirs_swept } : {}),
      });
      audit.writeAll([exitedEvent, removed]);
    }
    await conv.send('exec.exited.ok', {}).catch(() => undefined);
  } catch (error) {
    // The client went away after delivery: the child may still run; record what is known.
    audit.write(auditEvent('client_lost', actx, { error_code: codeOf(error) }));
  }
}

// Revoke and destroy happen first (ending access never waits on the log); each is then recorded
// under the request that created it. A log that cannot be written does not undo the end.
export async function auditEnded(core: BrokerCore, ids: readonly string[], origins: Map<string, Origin>, type: 'approval_revoked' | 'session_destroyed', extra: (id: string) => AuditExtra): Promise<void> {
  if (ids.length === 0) return;
  let audit: AuditLog | null = null;
  try {
    audit = await openAuditLog(auditLogPath(core.opts.dirs));
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

/** The policy's decision on one request, and the rate-limit slot an allow took (release it if nothing is delivered). */
export interface Verdict {
  decision: PolicyDecision;
  ticket: RateTicket | null;
}

/**
 * What the user's policy decides for this request, sent by `agent` (a registered agent, or null);
 * `host`: the system links argv[0] reaches the executable by, and the caller's environment.
 * An allow rule whose rate limit is used up leaves the request to the human (headless: denies).
 */
export function policyVerdict(core: BrokerCore, request: ApprovalRequest, userConfig: UserConfig, agent: string | null, host: PolicyHostFacts = {}): Verdict {
  const headless = userConfig.approver === 'none';
  const decision = evaluatePolicy(userConfig.policy, policyInputOf(request, agent, core.now(), host), { headless });
  if (decision.decision !== 'allow' || decision.rate === null || decision.rule === null) return { decision, ticket: null };
  const ticket = core.rates.take(decision.rule, decision.rate, core.now());
  if (ticket !== null) return { decision, ticket };
  const spent = `policy rule ${decision.rule} already allowed its ${deliveries(decision.rate.max)} per ${formatDuration(decision.rate.perSeconds)}`;
  const why = headless ? `${spent}, and approver is none` : `${spent}: the human decides`;
  return { decision: { ...decision, decision: headless ? 'deny' : 'ask', why, reuse: null }, ticket: null };
}

const deliveries = (n: number) => `${n} ${n === 1 ? 'delivery' : 'deliveries'}`;

/** The audit fields of a verdict, on the request's first line. */
export function verdictExtra(verdict: Verdict, agent: string | null): AuditExtra {
  return {
    policy_decision: verdict.decision.decision,
    ...(verdict.decision.rule === null ? {} : { policy_rule: verdict.decision.rule }),
    ...(agent === null ? {} : { agent }),
  };
}

/** A policy deny: audited with the rule (or the missing one) and thrown as approval.denied, nobody asked. */
export function policyDenied(scope: Scope, verdict: Verdict, before: AuditRecord[], operation: PromptOperation): never {
  const { audit, actx, userConfig, request } = scope;
  const { rule, why } = verdict.decision;
  const ran = operation === 'exec' ? ' and the command did not run' : '';
  audit.writeAll([
    ...before,
    auditEvent('approval_denied', actx, { approver: 'policy', approver_config: userConfig.policy?.path ?? userConfig.path, decision_reason: why, ...(rule === null ? {} : { policy_rule: rule }) }),
  ]);
  if (rule !== null) {
    // A spent rate limit is an allow rule's bound, not a refusal: the window frees a slot.
    // An allow rule that does not cover what this run would start with (policy/evaluate.ts).
    const rate = verdict.decision.rate;
    const uncovered = verdict.decision.uncovered === true;
    throw new AgentSecretError('approval.denied', `request denied: ${why}; nobody was asked, nothing was resolved${ran}`, {
      hint: uncovered
        ? 'run it without those variables (unset them, or exec --pristine for a minimal environment) and without --allow-mutable-executable'
        : rate === null
          ? 'the human wrote this rule; do not retry or work around it: tell the human what you needed (agent-secret policy explain with the same flags -- CMD shows the rule)'
          : `the rule allows ${rate.max} per ${formatDuration(rate.perSeconds)}: retry once the window has room, or ask the human to raise its rate: in the policy`,
    });
  }
  const note = missingRuleNote(request);
  throw new AgentSecretError('approval.denied', `request denied: ${why}; missing rule: ${missingRuleOf(request)}; nothing was resolved${ran}`, {
    hint: `ask the human to add such a rule to ${userConfig.policy?.path ?? policyPathBeside(userConfig.path)} (agent-secret policy explain with the same flags -- CMD shows what decides), or to choose an approver${note === null ? '' : `; note: ${note}`}`,
  });
}

export const NO_RESERVATION: Reservation = { approvalId: '', live: () => true, commit() {}, release() {} };

/** A body checked against its schema; daemon.protocol (quoting nothing) when it does not match. */
export function parseBody<T>(schema: { safeParse(input: unknown): { success: true; data: T } | { success: false } }, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new AgentSecretError('daemon.protocol', 'the request body does not match the protocol');
  return parsed.data;
}

/** The error code of a thrown value, for the audit log. */
export function codeOf(error: unknown): string {
  return isAgentSecretError(error) ? error.code : 'internal';
}
