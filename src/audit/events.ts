// Audit events: one typed record per step of a request, built from the ApprovalRequest (names,
// refs, argv, paths) and a few typed numbers and codes. The API takes no SecretValue and copies
// only known fields of known primitive types, so a record is value-free by construction.

import { clip as clipText } from '../platform/fs.js';
import { auditFields } from '../request/codec.js';
import type { ApprovalRequest } from '../request/types.js';

export type AuditEventType =
  | 'request_received'
  | 'approval_granted'
  | 'approval_denied'
  | 'approval_failed'
  | 'approval_timed_out'
  | 'approval_unavailable'
  | 'resolution_started'
  | 'resolution_succeeded'
  | 'resolution_failed'
  | 'child_started'
  | 'child_exited'
  | 'child_spawn_failed'
  | 'files_removed'
  | 'approval_reused'
  | 'approval_reuse_missed'
  | 'approval_refreshed'
  | 'approval_cancelled'
  | 'client_lost'
  | 'session_created'
  | 'session_resolved'
  | 'session_refused'
  | 'session_destroyed'
  | 'approval_revoked'
  | 'console_attached'
  | 'console_detached'
  | 'console_refused';

export interface AuditContext {
  requestId: string;
  request: ApprovalRequest;
}

/** Event-specific fields; only these, with these types, ever reach a record. */
export interface AuditExtra {
  approver?: string;
  /** The user config file that chose the approver (HOME/XDG_CONFIG_HOME are caller-set). */
  approver_config?: string;
  decision_reason?: string;
  error_code?: string;
  pid?: number;
  exit_code?: number;
  signal?: string | null;
  duration_ms?: number;
  reuse?: { ttl_seconds: number; max_uses: number };
  /** The reusable approval that served (or was created by) this request. */
  approval_id?: string;
  /** Uses of that approval left after this one. */
  remaining_uses?: number;
  /** The request on screen when the human answered this one together with it ("allow all once", "deny all"). */
  answered_with?: string;
  force_refresh?: boolean;
  reuse_only?: boolean;
  /** 'daemon' when the daemon built the request from the caller's argv (the reused-exec fast path). */
  planned_by?: 'daemon';
  session_id?: string;
  max_reads?: number;
  remaining_reads?: number;
  /** Which process a session is bound to, described (name, pid, path). */
  session_binding?: string;
  /** Delivered files removed (files_removed): how many, on what, and how long after the child's exit (0: before it). */
  files_removed?: number;
  removed_on?: 'child_exit' | 'signal' | 'spawn_failed';
  removed_after_exit_ms?: number;
  /** Private file directories of earlier runs whose process was gone, removed before this one. */
  stale_dirs_swept?: number;
  /** The policy rule that decided (allow, deny) or left it to the human (ask). */
  policy_rule?: string;
  /** What the policy decided: allow, deny, or ask (the human decides). */
  policy_decision?: 'allow' | 'deny' | 'ask';
  /** The registered agent whose token came with the request. */
  agent?: string;
}

export interface AuditRecord extends AuditExtra {
  readonly event: AuditEventType;
  readonly request_id: string;
  readonly reason: string;
  readonly command: readonly string[];
  readonly executable: string;
  readonly cwd: string;
  /** `delivery: 'file'` marks a value delivered as a file (absent: an environment variable). */
  readonly secrets: ReadonlyArray<{ alias: string; ref: string; provider: string; account: string | null; delivery?: 'file' }>;
  /** Rendered files: template path, content hash and the references it uses (present only when there are any). */
  readonly templates?: ReadonlyArray<{ alias: string; path: string; sha256: string; refs: readonly string[]; account: string | null }>;
  readonly profile: string | null;
  readonly ttl_seconds: number;
  readonly override_env: boolean;
  readonly overridden_aliases: readonly string[];
  readonly requester_pid: number;
  readonly requester_chain: ReadonlyArray<{ pid: number; name: string }>;
}

/** Text from an approver (decision reason, name) is clipped: it is theirs, not ours. */
const MAX_FREE_TEXT = 240;

/** Builds the record for one event of a request. Pure. */
export function auditEvent(type: AuditEventType, ctx: AuditContext, extra: AuditExtra = {}): AuditRecord {
  return {
    event: type,
    request_id: ctx.requestId,
    ...auditFields(ctx.request),
    ...copyExtra(extra),
  };
}

// Copies field by field with a runtime type check, so even a cast-in object (a SecretValue
// passed through `any`) is dropped rather than serialized.
function copyExtra(extra: AuditExtra): AuditExtra {
  const out: AuditExtra = {};
  if (typeof extra.approver === 'string') out.approver = clip(extra.approver);
  if (typeof extra.approver_config === 'string') out.approver_config = clip(extra.approver_config);
  if (typeof extra.decision_reason === 'string') out.decision_reason = clip(extra.decision_reason);
  if (typeof extra.error_code === 'string') out.error_code = clip(extra.error_code);
  if (isInt(extra.pid)) out.pid = extra.pid;
  if (isInt(extra.exit_code)) out.exit_code = extra.exit_code;
  if (typeof extra.signal === 'string') out.signal = clip(extra.signal);
  else if (extra.signal === null) out.signal = null;
  if (isInt(extra.duration_ms)) out.duration_ms = extra.duration_ms;
  const reuse = extra.reuse;
  if (reuse !== undefined && isInt(reuse.ttl_seconds) && isInt(reuse.max_uses)) {
    out.reuse = { ttl_seconds: reuse.ttl_seconds, max_uses: reuse.max_uses };
  }
  if (typeof extra.approval_id === 'string') out.approval_id = clip(extra.approval_id);
  if (isInt(extra.remaining_uses)) out.remaining_uses = extra.remaining_uses;
  if (typeof extra.answered_with === 'string') out.answered_with = clip(extra.answered_with);
  if (extra.force_refresh === true) out.force_refresh = true;
  if (extra.reuse_only === true) out.reuse_only = true;
  if (extra.planned_by === 'daemon') out.planned_by = 'daemon';
  if (typeof extra.session_id === 'string') out.session_id = clip(extra.session_id);
  if (isInt(extra.max_reads)) out.max_reads = extra.max_reads;
  if (isInt(extra.remaining_reads)) out.remaining_reads = extra.remaining_reads;
  if (typeof extra.session_binding === 'string') out.session_binding = clip(extra.session_binding);
  if (isInt(extra.files_removed)) out.files_removed = extra.files_removed;
  if (extra.removed_on === 'child_exit' || extra.removed_on === 'signal' || extra.removed_on === 'spawn_failed') out.removed_on = extra.removed_on;
  if (isInt(extra.removed_after_exit_ms)) out.removed_after_exit_ms = extra.removed_after_exit_ms;
  if (isInt(extra.stale_dirs_swept)) out.stale_dirs_swept = extra.stale_dirs_swept;
  if (typeof extra.policy_rule === 'string') out.policy_rule = clip(extra.policy_rule);
  if (extra.policy_decision === 'allow' || extra.policy_decision === 'deny' || extra.policy_decision === 'ask') out.policy_decision = extra.policy_decision;
  if (typeof extra.agent === 'string') out.agent = clip(extra.agent);
  return out;
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function clip(text: string): string {
  return clipText(text, MAX_FREE_TEXT);
}
