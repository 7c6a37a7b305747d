// Re-validation of a request before anyone is asked: the broker planned an exec itself from the
// caller's argv (with the caller's view of the user config), the CLI planned a session create;
// either way what the human approves must be well-formed, must describe the executable and
// directory that exist now, and must satisfy this broker's own user config. Same rules as the CLI's planner; fixed, value-free messages.

import { realpath, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateAccount } from '../core/account.js';
import { validateAlias } from '../core/alias.js';
import { AgentSecretError } from '../core/errors.js';
import { parseReason } from '../core/reason.js';
import { parseBwsRef } from '../core/ref.js';
import { checkTtlRange } from '../core/ttl.js';
import { findMutability, verifyIdentity } from '../exec/index.js';
import { checkSpecs, type ProviderRegistry } from '../provider/index.js';
import type { ApprovalRequest, SecretSpec } from '../request/types.js';
import { buildWarnings } from '../request/warnings.js';

/** Throws a usage-kind AgentSecretError when the request is not one the CLI could have built. */
export async function validateRequest(request: ApprovalRequest, opts: { uid: number; trustedDirs: readonly string[]; registry: ProviderRegistry }): Promise<void> {
  await validateSecretsRequest(request, opts.registry);
  if (!isAbsolute(request.executable) || (await realpath(request.executable).catch(() => null)) !== request.executable) {
    throw new AgentSecretError('exec.not_found', 'the request executable is not an existing, symlink-free path');
  }
  await verifyIdentity(request.executable, request.executableIdentity);
  if (!request.allowMutableExecutable) {
    const findings = await untrustedFindings(request.executable, opts);
    if (findings.length > 0) {
      throw new AgentSecretError('exec.mutable_executable', 'the request executable could be swapped after approval and --allow-mutable-executable was not given');
    }
  }
}

/**
 * The request with the prompt warnings the daemon can derive itself (shell, env printer, inline
 * code, many secrets, a replaceable executable, overrides, plain env-file names) first, then any
 * others the broker's own planner added (the nested-request one, read from the caller's
 * environment). No client sends warnings: exec is planned here from argv, and session.create's
 * schema has no such field, so a client can neither hide a warning nor add one in agent-secret's
 * voice. Call after validateRequest.
 */
export async function withOwnWarnings(request: ApprovalRequest, opts: { uid: number; trustedDirs: readonly string[] } | null): Promise<ApprovalRequest> {
  const own = buildWarnings({
    command: request.command,
    executable: request.executable,
    secretCount: request.secrets.length,
    overriddenAliases: request.overriddenAliases,
    // null: no child runs on approval (session create), so there is no executable to look at.
    mutability: opts !== null && request.allowMutableExecutable ? await untrustedFindings(request.executable, opts) : [],
    plainEnvNames: request.plainEnvNames,
    parentRequestId: undefined,
  });
  const warnings = [...own, ...request.warnings.filter((w) => !own.includes(w))];
  return Object.freeze({ ...request, warnings: Object.freeze(warnings) });
}

// Mutability findings that trusted_dirs in the daemon's user config do not excuse.
async function untrustedFindings(executable: string, opts: { uid: number; trustedDirs: readonly string[] }) {
  return (await findMutability(executable, { uid: opts.uid })).filter(
    (f) => !opts.trustedDirs.some((dir) => f.path === dir || f.path.startsWith(`${dir.replace(/\/+$/, '')}/`)),
  );
}

/**
 * Reason, ttl, aliases, references (each against its provider in this broker's user config),
 * accounts, overrides and cwd: everything but the executable (session create runs none).
 */
export async function validateSecretsRequest(request: ApprovalRequest, registry: ProviderRegistry): Promise<void> {
  const reason = parseReason(request.reason);
  if (!reason.ok || reason.reason !== request.reason) throw new AgentSecretError('reason.invalid', 'the request reason is not valid');
  if (!checkTtlRange(request.ttlSeconds).ok) throw new AgentSecretError('ttl.invalid', 'the request ttl is out of range (10s..10m)');
  const aliases = new Set<string>();
  for (const secret of request.secrets) {
    if (!validateAlias(secret.alias).ok || aliases.has(secret.alias)) {
      throw new AgentSecretError('alias.invalid', 'the request names an invalid or repeated alias', { details: { alias: secret.alias } });
    }
    aliases.add(secret.alias);
    if (secret.account !== null && !validateAccount(secret.account).ok) {
      throw new AgentSecretError('account.invalid', 'the request names an invalid account', { details: { alias: secret.alias } });
    }
    // A bws secret's identity is the source its reference names: the prompt must show that one.
    if (secret.provider === 'bws') {
      const parsed = parseBwsRef(secret.ref);
      if (parsed.ok && parsed.ref.source !== secret.account) throw new AgentSecretError('account.invalid', 'the request names a bws source its reference does not', { details: { alias: secret.alias } });
    }
  }
  checkSpecs(request.secrets, registry);
  if (request.overriddenAliases.some((a) => !aliases.has(a))) throw new AgentSecretError('usage.invalid', 'overridden aliases must be requested aliases');
  if (request.overriddenAliases.length > 0 && !request.overrideEnv) throw new AgentSecretError('exec.env_conflict', 'overridden aliases need override_env');

  if (!isAbsolute(request.cwd) || (await realpath(request.cwd).catch(() => null)) !== request.cwd || !(await isDirectory(request.cwd))) {
    throw new AgentSecretError('cwd.invalid', 'the request cwd is not an existing, symlink-free directory');
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The agent-secret program this daemon belongs to: the executable shown for requests that run no child. */
export const OWN_PROGRAM = fileURLToPath(new URL('../../bin/agent-secret.js', import.meta.url));

/** What the broker itself established for a request that runs no child. */
export interface MetaFacts {
  reason: string;
  ttl_seconds: number;
  /** The fixed label of the operation, derived by the broker (never the client's argv). */
  command: readonly string[];
  cwd: string;
  /** The pid the caller reported and the chain the broker read for it. */
  requester: { pid: number; chain: ReadonlyArray<{ pid: number; name: string }> };
}

/**
 * The ApprovalRequest shape for requests that run no child (item describe, session read): the
 * command is a label of the operation and the executable is this daemon's own program, both
 * chosen here, so a client speaking the protocol directly cannot put its own words in the
 * prompt. No executable identity is checked: nothing is spawned on approval.
 */
export function metaRequest(facts: MetaFacts, secrets: readonly SecretSpec[]): ApprovalRequest {
  return Object.freeze({
    reason: facts.reason,
    command: Object.freeze([...facts.command]),
    executable: OWN_PROGRAM,
    executableIdentity: Object.freeze({ ...NO_IDENTITY }),
    cwd: facts.cwd,
    secrets: Object.freeze(secrets.map((s) => Object.freeze({ ...s }))),
    ttlSeconds: facts.ttl_seconds,
    overrideEnv: false,
    allowMutableExecutable: false,
    pristine: false,
    mask: true,
    overriddenAliases: Object.freeze([]),
    warnings: Object.freeze([]),
    requester: Object.freeze({ pid: facts.requester.pid, chain: Object.freeze(facts.requester.chain.map((p) => Object.freeze({ ...p }))) }),
    profile: null,
    configPath: null,
    plainEnvNames: Object.freeze([]),
    scripts: Object.freeze([]),
  });
}

/** The identity a request that spawns nothing carries (all zero: nothing to verify). */
export const NO_IDENTITY = Object.freeze({ dev: 0, ino: 0, size: 0, mtimeMs: 0, ctimeMs: 0, mode: 0, uid: 0 });

/** Checks what a request without a child must get right: reason, ttl, cwd. */
export async function validateMetaRequest(request: ApprovalRequest): Promise<void> {
  const reason = parseReason(request.reason);
  if (!reason.ok || reason.reason !== request.reason) throw new AgentSecretError('reason.invalid', 'the request reason is not valid');
  if (!checkTtlRange(request.ttlSeconds).ok) throw new AgentSecretError('ttl.invalid', 'the request ttl is out of range (10s..10m)');
  if (!isAbsolute(request.cwd) || !(await isDirectory(request.cwd))) throw new AgentSecretError('cwd.invalid', 'the request cwd is not an existing directory');
  for (const secret of request.secrets) {
    if (secret.account !== null && !validateAccount(secret.account).ok) {
      throw new AgentSecretError('account.invalid', 'the request names an invalid account', { details: { alias: secret.alias } });
    }
  }
}
