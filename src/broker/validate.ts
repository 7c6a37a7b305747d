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
import { createHash } from 'node:crypto';
import { validateFileName, validateMaxReads, type FileDelivery } from '../core/delivery.js';
import { checkSpecs, type ProviderRegistry } from '../provider/index.js';
import type { NameRegistry } from '../config/user-names.js';
import { deliveredFiles } from '../request/build.js';
import { parseTemplate, templateSpecs } from '../request/template.js';
import type { ApprovalRequest, SecretSpec, TemplateSpec } from '../request/types.js';
import { buildWarnings, deliveryWarnings } from '../request/warnings.js';

/**
 * A named secret stands for what this broker's user config maps the name to: the prompt and the
 * policy read the name, so a caller (whose own user config planned the request) cannot attach a
 * name to another reference or account.
 */
function checkName(secret: SecretSpec, names: NameRegistry): void {
  const named = names.get(secret.name as string);
  if (named !== undefined && named.ref === secret.ref && (named.account === null || named.account === secret.account)) return;
  throw new AgentSecretError('config.invalid', `${secret.alias} asks for the name ${secret.name as string}, which names: in the broker's user config ${named === undefined ? 'does not define' : 'maps to another reference or account'}`, {
    hint: "a name means what names: in the daemon's own config.yml says: fix the entry there (it is read again at the next request)",
    details: { alias: secret.alias },
  });
}

/** Throws a usage-kind AgentSecretError when the request is not one the CLI could have built. */
export async function validateRequest(request: ApprovalRequest, opts: { uid: number; trustedDirs: readonly string[]; registry: ProviderRegistry; names: NameRegistry }): Promise<void> {
  await validateSecretsRequest(request, opts.registry, opts.names);
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
    secretCount: request.secrets.length + request.templates.reduce((n, t) => n + t.refs.length, 0),
    overriddenAliases: request.overriddenAliases,
    // null: no child runs on approval (session create), so there is no executable to look at.
    mutability: opts !== null && request.allowMutableExecutable ? await untrustedFindings(request.executable, opts) : [],
    plainEnvNames: request.plainEnvNames,
    parentRequestId: undefined,
  });
  own.push(...deliveryWarnings({ files: deliveredFiles(request.secrets, request.templates), platform: process.platform }));
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
export async function validateSecretsRequest(request: ApprovalRequest, registry: ProviderRegistry, names: NameRegistry): Promise<void> {
  const reason = parseReason(request.reason);
  if (!reason.ok || reason.reason !== request.reason) throw new AgentSecretError('reason.invalid', 'the request reason is not valid');
  if (!checkTtlRange(request.ttlSeconds).ok) throw new AgentSecretError('ttl.invalid', 'the request ttl is out of range (10s..10m)');
  const aliases = new Set<string>();
  if (request.secrets.length === 0 && request.templates.length === 0) throw new AgentSecretError('usage.invalid', 'the request asks for no secret');
  for (const secret of request.secrets) {
    if (!validateAlias(secret.alias, secret.delivery).ok || aliases.has(secret.alias)) {
      throw new AgentSecretError('alias.invalid', 'the request names an invalid or repeated alias', { details: { alias: secret.alias } });
    }
    aliases.add(secret.alias);
    if (secret.account !== null && !validateAccount(secret.account).ok) {
      throw new AgentSecretError('account.invalid', 'the request names an invalid account', { details: { alias: secret.alias } });
    }
    if ((secret.delivery === 'file') !== (secret.file !== null) || (secret.file !== null && !validFile(secret.file))) {
      throw new AgentSecretError('usage.invalid', 'the request holds an invalid file delivery', { details: { alias: secret.alias } });
    }
    if (secret.name !== undefined) checkName(secret, names);
    // A bws secret's identity is the source its reference names: the prompt must show that one.
    if (secret.provider === 'bws') {
      const parsed = parseBwsRef(secret.ref);
      if (parsed.ok && parsed.ref.source !== secret.account) throw new AgentSecretError('account.invalid', 'the request names a bws source its reference does not', { details: { alias: secret.alias } });
    }
  }
  for (const template of request.templates) checkTemplate(template, aliases);
  checkSpecs(request.secrets, registry);
  // Each reference a template uses is one its provider can take; the error names the template, not a resolution key.
  for (const template of request.templates) {
    try {
      checkSpecs(templateSpecs(template), registry);
    } catch (error) {
      if (!(error instanceof AgentSecretError)) throw error;
      throw new AgentSecretError('template.invalid', `template ${template.path} for ${template.alias}: ${error.message.replace(/^[^:]*#\d+: /, '')}`, {
        ...(error.hint === undefined ? {} : { hint: error.hint }),
        details: { alias: template.alias, file: template.path },
      });
    }
  }
  if (request.overriddenAliases.some((a) => !aliases.has(a))) throw new AgentSecretError('usage.invalid', 'overridden aliases must be requested aliases');
  if (request.overriddenAliases.length > 0 && !request.overrideEnv) throw new AgentSecretError('exec.env_conflict', 'overridden aliases need override_env');

  if (!isAbsolute(request.cwd) || (await realpath(request.cwd).catch(() => null)) !== request.cwd || !(await isDirectory(request.cwd))) {
    throw new AgentSecretError('cwd.invalid', 'the request cwd is not an existing, symlink-free directory');
  }
}

// A template must be what the planner made of its file: text, hash and references agree.
function checkTemplate(template: TemplateSpec, aliases: Set<string>): void {
  const bad = (code: 'alias.invalid' | 'template.invalid' | 'account.invalid' | 'usage.invalid', what: string) =>
    new AgentSecretError(code, `the request holds ${what}`, { details: { alias: template.alias } });
  if (!validateAlias(template.alias, 'file').ok || aliases.has(template.alias)) throw bad('alias.invalid', 'an invalid or repeated alias');
  aliases.add(template.alias);
  if (!isAbsolute(template.path)) throw bad('template.invalid', 'a template path that is not absolute');
  if (createHash('sha256').update(template.text, 'utf8').digest('hex') !== template.sha256) throw bad('template.invalid', 'a template whose hash does not match its text');
  const parsed = parseTemplate(template.text);
  if (!parsed.ok || parsed.refs.length !== template.refs.length || parsed.refs.some((ref, i) => ref !== template.refs[i])) {
    throw bad('template.invalid', 'a template whose references do not match its text');
  }
  if (template.account !== null && !validateAccount(template.account).ok) throw bad('account.invalid', 'an invalid account');
  if (!validFile(template.file)) throw bad('usage.invalid', 'an invalid file delivery');
}

function validFile(file: FileDelivery): boolean {
  if (!validateFileName(file.name).ok) return false;
  if (file.mode === 'fifo') return validateMaxReads(file.maxReads).ok;
  return file.mode === 'file' && file.maxReads === null;
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
export function metaRequest(facts: MetaFacts, secrets: readonly SecretSpec[], templates: readonly TemplateSpec[] = []): ApprovalRequest {
  return Object.freeze({
    reason: facts.reason,
    command: Object.freeze([...facts.command]),
    executable: OWN_PROGRAM,
    executableIdentity: Object.freeze({ ...NO_IDENTITY }),
    cwd: facts.cwd,
    secrets: Object.freeze(secrets.map((s) => Object.freeze({ ...s }))),
    templates: Object.freeze([...templates]),
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
