// Public surface of audit/: value-free event records and the private append-only writer.
// Records come only from an ApprovalRequest and typed fields, never from a SecretValue.
// Invariant: a failed audit write is an error the caller must act on (deliver nothing).

export { auditEvent, type AuditContext, type AuditEventType, type AuditExtra, type AuditRecord } from './events.js';
export { openAuditLog, checkAuditPath, AUDIT_SCHEMA_VERSION, type AuditLog, type AuditPathCheck } from './writer.js';
