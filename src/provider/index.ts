// Public surface of the 1Password provider: resolve approved references, count op calls,
// describe an item's fields without values, and find and check op for doctor. Callers pass the
// SecretSpecs of an approved request only; the values come back as SecretValue, and every
// failure is a value-free AgentSecretError.

export type { OpOptions } from './op/run-op.js';
export { resolveSecrets, countOpCalls } from './op/resolve.js';
export { findOp, checkOp, type OpStatus } from './op/status.js';
export { describeItem, checkItemRef, parseItemJson, type ItemDescription, type ItemField, type DescribeItemOptions } from './op/item.js';
