// The one codec of the approval request: its snake_case wire shape (RequestBody) and the two
// conversions, and the views other places show of it, each a projection of the same body: the
// approver-program request and `--dry-run --json` (WireRequest), the prompt (built from the
// WireRequest by approval/prompt.ts) and the audit record's request fields (auditFields). The
// zod schema the broker checks bodies with (protocol/messages.ts) is typed against RequestBody,
// so a field added here and not there does not compile. Pure.

import type { ApprovalRequest, DeliveryKind, ExecutableIdentity, FileDelivery, FileMode, ScriptIdentity, SecretSource, TemplateSpec } from './types.js';

/** How a file-delivered value is laid out, on the wire. */
export interface FileBody {
  name: string;
  mode: FileMode;
  max_reads: number | null;
}

/** A template on the wire (request bodies): its text travels with it, so the text approved is the text rendered. */
export interface TemplateBody {
  alias: string;
  path: string;
  sha256: string;
  text: string;
  refs: string[];
  account: string | null;
  source: 'profile' | 'flag';
  file: FileBody;
}

/** FileDelivery → its wire shape. Pure. */
export function encodeFile(file: FileDelivery): FileBody {
  return { name: file.name, mode: file.mode, max_reads: file.maxReads };
}

/** The wire shape → a frozen FileDelivery. Pure. */
export function decodeFile(file: FileBody): FileDelivery {
  return Object.freeze({ name: file.name, mode: file.mode, maxReads: file.max_reads });
}

function encodeTemplate(t: TemplateSpec): TemplateBody {
  return { alias: t.alias, path: t.path, sha256: t.sha256, text: t.text, refs: [...t.refs], account: t.account, source: t.source, file: encodeFile(t.file) };
}

function decodeTemplate(t: TemplateBody): TemplateSpec {
  return Object.freeze({ alias: t.alias, path: t.path, sha256: t.sha256, text: t.text, refs: Object.freeze([...t.refs]), account: t.account, source: t.source, file: decodeFile(t.file) });
}

/** The full request on the wire (socket bodies). */
export interface RequestBody {
  reason: string;
  command: string[];
  executable: string;
  executable_identity: { dev: number; ino: number; size: number; mtime_ms: number; ctime_ms: number; mode: number; uid: number };
  cwd: string;
  /** `name`: the logical name (user config `names:`) the reference was asked for by; absent otherwise. */
  secrets: Array<{ alias: string; ref: string; provider: string; name?: string | undefined; account: string | null; source: SecretSource; delivery: DeliveryKind; file: FileBody | null }>;
  templates: TemplateBody[];
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

// A secret's logical name travels only when it has one, so requests without names keep their shape.
function named(name: string | undefined): { name?: string } {
  return name === undefined ? {} : { name };
}

/** ApprovalRequest → body: fresh arrays and objects, nothing shared with the frozen request. Pure. */
export function encodeRequest(request: ApprovalRequest): RequestBody {
  return {
    reason: request.reason,
    command: [...request.command],
    executable: request.executable,
    executable_identity: encodeIdentity(request.executableIdentity),
    cwd: request.cwd,
    secrets: request.secrets.map((s) => ({
      alias: s.alias,
      ref: s.ref,
      provider: s.provider,
      ...named(s.name),
      account: s.account,
      source: s.source,
      delivery: s.delivery,
      file: s.file === null ? null : encodeFile(s.file),
    })),
    templates: request.templates.map(encodeTemplate),
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
    secrets: Object.freeze(
      body.secrets.map((s) =>
        Object.freeze({ alias: s.alias, ref: s.ref, provider: s.provider, ...named(s.name), account: s.account, source: s.source, delivery: s.delivery, file: s.file === null ? null : decodeFile(s.file) }),
      ),
    ),
    templates: Object.freeze(body.templates.map(decodeTemplate)),
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
  /**
   * `provider`: the scheme that resolves the reference; `account`: its identity there (a bws source for bws).
   * delivery file: the child gets the path of a private file (`file`: its name, mode, read limit) instead of the value.
   */
  secrets: Array<{ alias: string; ref: string; provider: string; name?: string; account: string | null; delivery?: DeliveryKind; file?: FileBody | null }>;
  /** Rendered files: the template's path, content hash and every reference it uses (not its text). Always set by toWireRequest. */
  templates?: WireTemplate[];
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

/** A template as the approver program, a JSON dry run and the audit log see it: everything but its text. */
export interface WireTemplate {
  alias: string;
  path: string;
  sha256: string;
  refs: string[];
  account: string | null;
  file: FileBody;
}

function wireTemplate(t: TemplateBody): WireTemplate {
  return { alias: t.alias, path: t.path, sha256: t.sha256, refs: t.refs, account: t.account, file: t.file };
}

/** The request as the approver program and a JSON dry run see it: a projection of the body. Pure. */
export function toWireRequest(request: ApprovalRequest): WireRequest {
  const body = encodeRequest(request);
  return {
    reason: body.reason,
    command: body.command,
    executable: body.executable,
    cwd: body.cwd,
    secrets: body.secrets.map(({ alias, ref, provider, name, account, delivery, file }) => ({ alias, ref, provider, ...named(name), account, delivery, file })),
    templates: body.templates.map(wireTemplate),
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
    secrets: body.secrets.map(({ alias, ref, provider, name, account, delivery }) => ({ alias, ref, provider, ...named(name), account, ...(delivery === 'file' ? { delivery } : {}) })),
    ...(body.templates.length === 0 ? {} : { templates: body.templates.map(({ alias, path, sha256, refs, account }) => ({ alias, path, sha256, refs, account })) }),
    profile: body.profile,
    ttl_seconds: body.ttl_seconds,
    override_env: body.override_env,
    overridden_aliases: body.overridden_aliases,
    requester_pid: body.requester.pid,
    requester_chain: body.requester.chain,
  };
}
