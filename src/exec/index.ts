// Public surface of exec/: finding the approved program, its identity, the child's env and
// running it. Inputs from the agent (argv, PATH) are untrusted; see each module's header.
// Invariant: secret values leave this folder only as the child's environment.

export { resolveExecutable, systemPathsOf, type ResolvedExecutable } from './resolve-executable.js';
export { readIdentity, verifyIdentity, verifyIdentitySync, findMutability, findProjectFiles, openApprovedExecutable, type ExecTarget, type MutabilityFinding } from './identity.js';
export { readScriptIdentities, verifyScriptsSync, SCRIPT_LIMITS, type ScriptScan } from './script-identity.js';
export { buildChildEnv, findEnvConflicts, type ChildEnvInput } from './child-env.js';
export { spawnChild, exitCodeOf, FORWARDED_SIGNALS, type ChildResult, type SpawnChildOptions } from './spawn.js';
export { pumpThrough, type OutputFilter, type PipedOutput } from './pump.js';
export { isNullDevice } from './null-device.js';
