// The client's half of the protocol bodies, without zod: building the request body and checking
// what the daemon delivers. A reused exec loads this, not the schemas in messages.ts (the
// daemon validates what it receives there). Pure.

import type { ChildSpec } from '../exec/run-child.js';
import type { ExecPlan } from '../plan/exec-plan.js';
import type { ApprovalRequest, ExecutableIdentity } from '../request/types.js';
import type { RequestBody } from './messages.js';

/** ApprovalRequest → body. Pure. */
export function requestToBody(request: ApprovalRequest): RequestBody {
  return {
    reason: request.reason,
    command: [...request.command],
    executable: request.executable,
    executable_identity: identityToBody(request.executableIdentity),
    cwd: request.cwd,
    secrets: request.secrets.map((s) => ({ alias: s.alias, ref: s.ref, account: s.account, source: s.source })),
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
  };
}

/** A checked exec.deliver body. `env` holds values: never log it. */
export interface ExecDeliver {
  request_id: string;
  env: Record<string, string>;
  approval_id: string | null;
  reused: boolean;
}

/** Checks an exec.deliver body by hand; null when it is not one. Pure. */
export function readExecDeliver(body: Record<string, unknown>): ExecDeliver | null {
  const { request_id: requestId, env, approval_id: approvalId, reused } = body;
  if (typeof requestId !== 'string' || !/^req_[0-9a-f]{32}$/.test(requestId)) return null;
  if (typeof env !== 'object' || env === null || Array.isArray(env)) return null;
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string') return null;
    values[name] = value;
  }
  if (approvalId !== null && typeof approvalId !== 'string') return null;
  if (typeof reused !== 'boolean') return null;
  return { request_id: requestId, env: values, approval_id: approvalId, reused };
}

type IdentityBody = RequestBody['executable_identity'];

function identityToBody(id: ExecutableIdentity): IdentityBody {
  return { dev: id.dev, ino: id.ino, size: id.size, mtime_ms: id.mtimeMs, ctime_ms: id.ctimeMs, mode: id.mode, uid: id.uid };
}

/** How the caller starts the child of an exec the daemon planned (exec.deliver's `spawn`). */
export interface SpawnBody {
  command: string[];
  executable: string;
  executable_identity: IdentityBody;
  cwd: string;
  pristine: boolean;
  plain: Array<{ key: string; value: string }>;
  remove_names: string[];
  mask: boolean;
}

/** ExecPlan → spawn body. Pure. */
export function spawnBody(plan: ExecPlan): SpawnBody {
  const { request } = plan;
  return {
    command: [...request.command],
    executable: request.executable,
    executable_identity: identityToBody(request.executableIdentity),
    cwd: request.cwd,
    pristine: request.pristine,
    plain: plan.plain.map((p) => ({ key: p.key, value: p.value })),
    remove_names: [...plan.removeNames],
    mask: plan.mask,
  };
}

/** Checks an exec.deliver `spawn` body by hand; null when it is not one. Pure. */
export function readSpawnSpec(value: unknown): ChildSpec | null {
  if (!isRecord(value)) return null;
  const { command, executable, executable_identity: id, cwd, pristine, plain, remove_names: removeNames, mask } = value;
  if (!isStrings(command) || command.length === 0 || !isStrings(removeNames)) return null;
  if (typeof executable !== 'string' || !executable.startsWith('/') || typeof cwd !== 'string' || !cwd.startsWith('/')) return null;
  if (typeof pristine !== 'boolean' || typeof mask !== 'boolean' || !Array.isArray(plain)) return null;
  const entries: Array<{ key: string; value: string }> = [];
  for (const entry of plain) {
    if (!isRecord(entry) || typeof entry.key !== 'string' || typeof entry.value !== 'string') return null;
    entries.push({ key: entry.key, value: entry.value });
  }
  if (!isRecord(id)) return null;
  const numbers = [id.dev, id.ino, id.size, id.mtime_ms, id.ctime_ms, id.mode, id.uid];
  if (!numbers.every((n) => typeof n === 'number' && Number.isFinite(n))) return null;
  const [dev, ino, size, mtimeMs, ctimeMs, mode, uid] = numbers as number[];
  return {
    command,
    executable,
    identity: { dev, ino, size, mtimeMs, ctimeMs, mode, uid } as ExecutableIdentity,
    cwd,
    pristine,
    plain: entries,
    removeNames,
    mask,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Body → ApprovalRequest (shape only; the broker validates the content). Pure. */
export function bodyToRequest(body: RequestBody): ApprovalRequest {
  const id = body.executable_identity;
  const executableIdentity: ExecutableIdentity = { dev: id.dev, ino: id.ino, size: id.size, mtimeMs: id.mtime_ms, ctimeMs: id.ctime_ms, mode: id.mode, uid: id.uid };
  return Object.freeze({
    reason: body.reason,
    command: Object.freeze([...body.command]),
    executable: body.executable,
    executableIdentity: Object.freeze(executableIdentity),
    cwd: body.cwd,
    secrets: Object.freeze(body.secrets.map((s) => Object.freeze({ alias: s.alias, ref: s.ref, account: s.account, source: s.source }))),
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
  });
}
