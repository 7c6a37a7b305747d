// Public surface of audit/: value-free event records, the private append-only writer with its
// hash chain and rotation, the chain verifier and the request summaries read back from it.
// Invariant: a failed audit write is an error the caller must act on (deliver nothing).

export { auditEvent, type AuditContext, type AuditEventType, type AuditExtra, type AuditRecord } from './events.js';
export { openAuditLog, checkAuditPath, AUDIT_SCHEMA_VERSION, type AuditLog, type AuditLogOptions, type AuditPathCheck } from './writer.js';
export { GENESIS, GENESIS_HASH } from './chain.js';
export { DEFAULT_KEEP_ROTATED, DEFAULT_MAX_BYTES } from './trail.js';
export { policyGrantsSince, readAuditTrail, type ReadTrailOptions, type TrailSnapshot } from './reader.js';
export { verifyAuditTrail, verifySnapshot, type ChainBreak, type ChainProblem, type VerifyReport } from './verify.js';
export {
  filterRequests,
  summarizeRequests,
  OUTCOME_FILTERS,
  type AuditDecision,
  type AuditOutcome,
  type RequestFilter,
  type RequestSummary,
} from './requests.js';
