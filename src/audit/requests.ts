// Audit events grouped into requests, for `agent-secret audit`: one summary per request id with
// its time, requester, command, profile, aliases, decision, outcome, why it failed and exit code.
// Only these fields are read from a line (a zod schema strips everything else), and no value
// exists in the log; the failure text is built from our error codes and fixed deny reasons only,
// never from free text. Rotation records belong to no request and are skipped. Pure.

import { z } from 'zod';
import type { TrailSnapshot } from './reader.js';
import { ROTATION_EVENT } from './rotation.js';

export type AuditDecision = 'approved' | 'reused' | 'session' | 'denied' | 'approver_failed' | 'timed_out' | 'unavailable';
export type AuditOutcome = 'approved' | 'denied' | 'timed_out' | 'failed' | 'pending';

/** The outcomes `--outcome` accepts. */
export const OUTCOME_FILTERS: readonly AuditOutcome[] = ['approved', 'denied', 'timed_out', 'failed'];

export interface RequestSummary {
  request_id: string;
  /** ISO time of the request's first event. */
  time: string;
  /** The nearest process in the requester chain that is not agent-secret itself. */
  requester: { name: string; pid: number } | null;
  command: string[];
  profile: string | null;
  aliases: string[];
  /** The logical name (the user config's names:) each named alias was given, alias → name. */
  names: Record<string, string>;
  decision: AuditDecision | null;
  /** approved (and delivered), denied, timed_out, failed (no approver, approver failed, op or spawn failed), pending (no end recorded). */
  outcome: AuditOutcome;
  exit_code: number | null;
  /** Why a failed request failed, with its error code: `op failed (provider.signed_out)`; null otherwise. */
  error: string | null;
  /** Who decided: `rule ID` when a policy rule allowed or denied it, `policy` when the policy denied it for want of a rule; null when a human did. */
  decided_by: string | null;
  /** The registered agent that sent it, or null. */
  agent: string | null;
}

export interface RequestFilter {
  /** Only requests at or after this time (epoch ms). */
  sinceMs?: number;
  profile?: string;
  outcome?: AuditOutcome;
  /** The newest N, still in time order. */
  limit?: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const lineSchema = z.object({
  timestamp: z.string(),
  event: z.string(),
  request_id: z.string(),
  command: z.array(z.string()).catch([]),
  profile: z.string().nullable().catch(null),
  secrets: z.array(z.object({ alias: z.string(), name: z.string().regex(NAME).optional().catch(undefined) })).catch([]),
  requester_chain: z.array(z.object({ pid: z.number().int(), name: z.string() })).catch([]),
  exit_code: z.number().int().optional().catch(undefined),
  error_code: z.string().optional().catch(undefined),
  decision_reason: z.string().optional().catch(undefined),
  approver: z.string().optional().catch(undefined),
  // Rule ids and agent names are ours to check: shown only when they look like one.
  policy_rule: z.string().regex(NAME).optional().catch(undefined),
  agent: z.string().regex(NAME).optional().catch(undefined),
});
type Line = z.infer<typeof lineSchema>;

const DECISIONS: Readonly<Record<string, AuditDecision>> = {
  approval_granted: 'approved',
  approval_denied: 'denied',
  approval_timed_out: 'timed_out',
  approval_unavailable: 'unavailable',
  /** The approver broke (crash, non-zero exit, malformed answer): nobody decided. */
  approval_failed: 'approver_failed',
  /** Served by a reusable approval, no prompt. */
  approval_reused: 'reused',
  /** A with-session read of an approved session. */
  session_resolved: 'session',
};
/** What each failure event means; the error code follows in brackets when the line has one. */
const FAILURES: Readonly<Record<string, string>> = {
  resolution_failed: 'op failed',
  child_spawn_failed: 'spawn failed',
  approval_unavailable: 'no approver',
  approval_reuse_missed: 'no reusable approval',
  approval_cancelled: 'cancelled',
  session_refused: 'session read refused',
};
/** A distinct event for an approver that failed to answer (exit code approval.failed). */
const APPROVAL_FAILED = 'approval_failed';
/**
 * Deny reasons (approval/types.ts DENY_REASONS, which audit/ may not import) that mean the approver
 * program broke rather than a human said no; a test keeps them equal. Older trails record these
 * as approval_denied.
 */
export const APPROVER_FAILURE_REASONS: readonly string[] = ['malformed approver output', 'wrong id', 'approver output too large', 'approver could not be started'];

/**
 * Who decided, when the policy did: `rule ID`, `policy` (no rule, headless), or a refusal that is
 * no rule's (fixed reasons: an unknown agent token, one bound to another tree, a spent rate limit,
 * a request the matching allow rule does not cover).
 */
const POLICY_REFUSALS: Readonly<Record<string, string>> = {
  'unknown agent token': 'unknown agent token',
  'agent token bound to another process tree': 'agent token bound elsewhere',
};
function policyDecider(line: Line): string {
  const refusal = line.event === 'approval_denied' ? POLICY_REFUSALS[line.decision_reason ?? ''] : undefined;
  if (refusal !== undefined) return refusal;
  if (line.policy_rule === undefined) return 'policy';
  // An allow rule whose rate limit was spent, or that does not cover what the request would start
  // with (policy/evaluate.ts), on a host with nobody to ask.
  const reason = line.event === 'approval_denied' ? (line.decision_reason ?? '') : '';
  if (reason.startsWith(`policy rule ${line.policy_rule} already allowed its `)) return `rate limit of rule ${line.policy_rule}`;
  if (reason.startsWith(`policy rule ${line.policy_rule} would allow it, but `)) return `not covered by rule ${line.policy_rule}`;
  return `rule ${line.policy_rule}`;
}

/** Groups the trail's events by request id, in the order requests were first seen. */
export function summarizeRequests(snapshot: TrailSnapshot): { requests: RequestSummary[]; unreadable: number } {
  const groups = new Map<string, Line[]>();
  let unreadable = 0;
  for (const file of snapshot.files) {
    for (const text of file.bytes.toString('utf8').split('\n')) {
      if (text === '') continue;
      const line = parseLine(text);
      if (line === 'rotation') continue;
      if (line === null) {
        unreadable++;
        continue;
      }
      const group = groups.get(line.request_id);
      if (group === undefined) groups.set(line.request_id, [line]);
      else group.push(line);
    }
  }
  return { requests: [...groups.values()].map(summarize), unreadable };
}

/** Applies the filters, then keeps the newest `limit`. */
export function filterRequests(requests: readonly RequestSummary[], filter: RequestFilter): RequestSummary[] {
  const kept = requests.filter(
    (r) =>
      (filter.sinceMs === undefined || Date.parse(r.time) >= filter.sinceMs) &&
      (filter.profile === undefined || r.profile === filter.profile) &&
      (filter.outcome === undefined || r.outcome === filter.outcome),
  );
  return filter.limit === undefined ? kept : kept.slice(Math.max(0, kept.length - filter.limit));
}

function parseLine(text: string): Line | 'rotation' | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value === 'object' && value !== null && (value as { event?: unknown }).event === ROTATION_EVENT) return 'rotation';
  const parsed = lineSchema.safeParse(value);
  if (!parsed.success || Number.isNaN(Date.parse(parsed.data.timestamp))) return null;
  return parsed.data;
}

function summarize(lines: Line[]): RequestSummary {
  const first = lines[0] as Line;
  let decision: AuditDecision | null = null;
  let error: string | null = null;
  let exitCode: number | null = null;
  let decidedBy: string | null = null;
  for (const line of lines) {
    if (DECISIONS[line.event] !== undefined) decidedBy = line.approver === 'policy' || line.policy_rule !== undefined ? policyDecider(line) : null;
    const approverFailed = line.event === APPROVAL_FAILED || (line.event === 'approval_denied' && APPROVER_FAILURE_REASONS.includes(line.decision_reason ?? ''));
    if (approverFailed) {
      decision = 'approver_failed';
      const known = APPROVER_FAILURE_REASONS.find((r) => r === line.decision_reason);
      error = `approver failed${withDetail(known ?? line.error_code)}`;
    } else {
      decision = DECISIONS[line.event] ?? decision;
    }
    const failure = FAILURES[line.event];
    if (failure !== undefined) error = `${failure}${withDetail(line.error_code)}`;
    if (line.event === 'child_exited' && line.exit_code !== undefined) exitCode = line.exit_code;
  }
  const requester = first.requester_chain.find((p) => p.name !== 'agent-secret');
  return {
    request_id: first.request_id,
    time: new Date(Date.parse(first.timestamp)).toISOString(),
    requester: requester === undefined ? null : { name: requester.name, pid: requester.pid },
    command: first.command,
    profile: first.profile,
    aliases: first.secrets.map((s) => s.alias),
    names: Object.fromEntries(first.secrets.flatMap((s) => (s.name === undefined ? [] : [[s.alias, s.name]]))),
    decision,
    outcome: outcomeOf(decision, error !== null),
    exit_code: exitCode,
    error,
    decided_by: decidedBy,
    agent: first.agent ?? null,
  };
}

// An error code is ours (a closed set, clipped when written); shown only when it looks like one.
function withDetail(detail: string | undefined): string {
  return detail !== undefined && /^[a-z0-9 ._-]{1,60}$/.test(detail) ? ` (${detail})` : '';
}

function outcomeOf(decision: AuditDecision | null, failed: boolean): AuditOutcome {
  if (decision === 'denied' || decision === 'timed_out') return decision;
  if (decision === 'unavailable' || decision === 'approver_failed' || failed) return 'failed';
  return decision === 'approved' || decision === 'reused' || decision === 'session' ? 'approved' : 'pending';
}
