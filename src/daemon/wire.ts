// The client's half of the protocol bodies, without zod: building the request body and checking
// what the daemon delivers. A reused exec loads this, not the schemas in messages.ts (the
// daemon validates what it receives there). Pure.

import type { ApprovalRequest } from '../request/types.js';
import type { RequestBody } from './messages.js';

/** ApprovalRequest → body. Pure. */
export function requestToBody(request: ApprovalRequest): RequestBody {
  const id = request.executableIdentity;
  return {
    reason: request.reason,
    command: [...request.command],
    executable: request.executable,
    executable_identity: { dev: id.dev, ino: id.ino, size: id.size, mtime_ms: id.mtimeMs, ctime_ms: id.ctimeMs, mode: id.mode, uid: id.uid },
    cwd: request.cwd,
    secrets: request.secrets.map((s) => ({ alias: s.alias, ref: s.ref, account: s.account, source: s.source })),
    ttl_seconds: request.ttlSeconds,
    override_env: request.overrideEnv,
    allow_mutable_executable: request.allowMutableExecutable,
    pristine: request.pristine,
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
