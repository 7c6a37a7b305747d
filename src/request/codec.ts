// The one codec of the approval request: its snake_case wire shape (RequestBody) and the two
// conversions, and the views other places show of it, each a projection of the same body: the
// approver-program request and `--dry-run --json` (WireRequest), the prompt (built from the
// WireRequest by approval/prompt.ts) and the audit record's request fields (auditFields). The
// zod schema the broker checks bodies with (protocol/messages.ts) is typed against RequestBody,
// so a field added here and not there does not compile. Pure.

import type { ApprovalRequest, ExecutableIdentity, ScriptIdentity, SecretSource } from './types.js';

/** The full request on the wire (socket bodies). */
export interface RequestBody {
  reason: string;
  command: string[];
  executable: string;
  executable_identity: { dev: number; ino: number; size: number; mtime_ms: number; ctime_ms: number; mode: number; uid: number };
  cwd: string;
  secrets: Array<{ alias: string; ref: string; provider: string; account: string | null; source: SecretSource }>;
  ttl_seconds: number;
  override_env: boolean;
  allow_mutable_executable: boolean;
  pristine: boolean;
  mask: boolean;
  overridden_aliases: string[];
  warnings: string[];
  requester: { pid: number; chain: Array<{ pid: number; name: string }> };
  profile: string | null;
  config_path: string | null;
  plain_env_names: string[];
  scripts: ScriptBody[];
}

/** A file argv names, on the wire (request and spawn bodies). */
export interface ScriptBody {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtime_ms: number;
  ctime_ms: number;
  sha256: string | null;
}

/** ScriptIdentity → its wire shape. Pure. */
export function encodeScript(s: ScriptIdentity): ScriptBody {
  return { path: s.path, dev: s.dev, ino: s.ino, size: s.size, mtime_ms: s.mtimeMs, ctime_ms: s.ctimeMs, sha256: s.sha256 };
}

/** The wire shape → a frozen ScriptIdentity. Pure. */
export function decodeScript(s: ScriptBody): ScriptIdentity {
  return Object.freeze({ path: s.path, dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtime_ms, ctimeMs: s.ctime_ms, sha256: s.sha256 });
}

/** ExecutableIdentity → its wire shape. Pure. */
export function encodeIdentity(id: ExecutableIdentity): RequestBody['executable_identity'] {
  return { dev: id.dev, ino: id.ino, size: id.size, mtime_ms: id.mtimeMs, ctime_ms: id.ctimeMs, mode: id.mode, uid: id.uid };
}

/** ApprovalRequest → body: fresh arrays and objects, nothing shared with the frozen request. Pure. */
export function encodeRequest(request: ApprovalRequest): RequestBody {
  return {
    reason: request.reason,
    command: [...request.command],
    executable: request.executable,
    executable_identity: encodeIdentity(request.executableIdentity),
    cwd: request.cwd,
    secrets: request.secrets.map((s) => ({ alias: s.alias, ref: s.ref, provider: s.provider, account: s.account, source: s.source })),
    ttl_seconds: request.ttlSeconds,
    override_env: request.overrideEnv,
    allow_mutable_executable: request.allowMutableExecutable,
    pristine: request.pristine,
    mask: request.mask,
    overridden_aliases: [...request.overriddenAliases],
    warnings: [...request.warnings],
    requester: { pid: request.requester.pid, chain: request.requester.chain.map((p) => ({ pid: p.pid, name: p.name })) },
    profile: request.profile,
    config_path: request.configPath,
    plain_env_names: [...request.plainEnvNames],
    scripts: request.scripts.map(encodeScript),
  };
}

/** Body → frozen ApprovalRequest (shape only; the broker validates the content). Pure. */
export function decodeRequest(body: RequestBody): ApprovalRequest {
  const id = body.executable_identity;
  const executableIdentity: ExecutableIdentity = { dev: id.dev, ino: id.ino, size: id.size, mtimeMs: id.mtime_ms, ctimeMs: id.ctime_ms, mode: id.mode, uid: id.uid };
  return Object.freeze({
    reason: body.reason,
    command: Object.freeze([...body.command]),
    executable: body.executable,
    executableIdentity: Object.freeze(executableIdentity),
    cwd: body.cwd,
    secrets: Object.freeze(body.secrets.map((s) => Object.freeze({ alias: s.alias, ref: s.ref, provider: s.provider, account: s.account, source: s.source }))),
    ttlSeconds: body.ttl_seconds,
    overrideEnv: body.override_env,
    allowMutableExecutable: body.allow_mutable_executable,
    pristine: body.pristine,
    mask: body.mask,
    overriddenAliases: Object.freeze([...body.overridden_aliases]),
    warnings: Object.freeze([...body.warnings]),
    requester: Object.freeze({ pid: body.requester.pid, chain: Object.freeze(body.requester.chain.map((p) => Object.freeze({ ...p }))) }),
    profile: body.profile,
    configPath: body.config_path,
    plainEnvNames: Object.freeze([...body.plain_env_names]),
    scripts: Object.freeze(body.scripts.map(decodeScript)),
  });
}

/** What the approver program and `--dry-run --json` see, in the documented key order. */
export interface WireRequest {
  reason: string;
  command: string[];
  executable: string;
  cwd: string;
  /** `provider`: the scheme that resolves the reference; `account`: its identity there (a bws source for bws). */
  secrets: Array<{ alias: string; ref: string; provider: string; account: string | null }>;
  ttl_seconds: number;
  override_env: boolean;
  overridden_aliases: string[];
  allow_mutable_executable: boolean;
  pristine: boolean;
  mask: boolean;
  warnings: string[];
  requester: { pid: number; chain: Array<{ pid: number; name: string }> };
  profile: string | null;
  config_path: string | null;
  /** Names (never values) of the plain env-file entries, sorted. */
  plain_env: string[];
  /** The files argv names: path and content hash (null: too large to hash, pinned by identity). */
  scripts: Array<{ path: string; sha256: string | null }>;
}

/** The request as the approver program and a JSON dry run see it: a projection of the body. Pure. */
export function toWireRequest(request: ApprovalRequest): WireRequest {
  const body = encodeRequest(request);
  return {
    reason: body.reason,
    command: body.command,
    executable: body.executable,
    cwd: body.cwd,
    secrets: body.secrets.map(({ alias, ref, provider, account }) => ({ alias, ref, provider, account })),
    ttl_seconds: body.ttl_seconds,
    override_env: body.override_env,
    overridden_aliases: body.overridden_aliases,
    allow_mutable_executable: body.allow_mutable_executable,
    pristine: body.pristine,
    mask: body.mask,
    warnings: body.warnings,
    requester: body.requester,
    profile: body.profile,
    config_path: body.config_path,
    plain_env: [...new Set(body.plain_env_names)].sort(),
    scripts: body.scripts.map(({ path, sha256 }) => ({ path, sha256 })),
  };
}

/** The request's fields in every audit record: a projection of the body (no warnings, identity or plain names). Pure. */
export function auditFields(request: ApprovalRequest) {
  const body = encodeRequest(request);
  return {
    reason: body.reason,
    command: body.command,
    executable: body.executable,
    cwd: body.cwd,
    secrets: body.secrets.map(({ alias, ref, provider, account }) => ({ alias, ref, provider, account })),
    profile: body.profile,
    ttl_seconds: body.ttl_seconds,
    override_env: body.override_env,
    overridden_aliases: body.overridden_aliases,
    requester_pid: body.requester.pid,
    requester_chain: body.requester.chain,
  };
}
