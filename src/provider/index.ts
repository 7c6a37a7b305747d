// Public surface of the providers: the registry (one provider per reference scheme: op, bws,
// provider programs) that checks, prepares and resolves approved references all or nothing,
// the provider interface, op's item description and doctor lookups, and the token stores.
// Callers pass the SecretSpecs of an approved request only; values come back as SecretValue,
// and every failure is a value-free AgentSecretError.

export type { OpOptions } from './op/run-op.js';
export { resolveSecrets, countOpCalls } from './op/resolve.js';
export { findOp, checkOp, type OpStatus } from './op/status.js';
export { describeItem, checkItemRef, parseItemJson, type ItemDescription, type ItemField, type DescribeItemOptions } from './op/item.js';
export { createRegistry, checkSpecs, prepareResolution, unknownScheme, type ProviderRegistry, type Resolution, type RegistryHost } from './registry.js';
export type { DoctorCheck, Provider, ProviderHost, ResolveOptions, Resolver } from './types.js';
