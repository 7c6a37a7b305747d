// Sessions: one prompt for a bag of references bound to a process tree (session create), reads
// by with-session from inside that tree and directory with no prompt (session resolve), listing
// without tokens, and destroying (values dropped at once).

import { auditEvent, type AuditContext } from '../../audit/index.js';
import { AgentSecretError } from '../../core/errors.js';
import type { SecretValue } from '../../core/secret-value.js';
import { checkBindNames, type BindingPolicy } from '../../core/session-bind.js';
import { readAncestry, readRequesterChain, type ProcessInfo } from '../../platform/process-tree.js';
import { decodeRequest, encodeFile } from '../../request/codec.js';
import { fileSpecsOf, fileValueKeys } from '../../request/template.js';
import type { z } from 'zod';
import {
  SessionCreateBodySchema,
  SessionDestroyBodySchema,
  SessionResolveBodySchema,
  type RequestBody,
  type SessionCreatedBodySchema,
  type SessionDeliverBodySchema,
  type SessionListBodySchema,
  type SessionRequestBody,
} from '../../protocol/messages.js';
import type { ApprovalRequest } from '../../request/types.js';
import { chooseAnchor, describeProcess } from '../binding.js';
import type { Conversation } from '../conversation.js';
import { auditEnded, codeOf, registryOf, decide, followChild, parseBody, resolveWith, withScope, withTurn, type BrokerCore } from '../core.js';
import { SESSION_ERRORS } from '../sessions.js';
import { metaRequest, OWN_PROGRAM, validateSecretsRequest, withOwnWarnings } from '../validate.js';
import { randomBytes } from 'node:crypto';
import { auditLogPath } from '../../platform/dirs.js';
import { openAuditLog } from '../../audit/index.js';

// session create: one prompt for a bag of references, bound to a process tree; the values stay
// here and are read by with-session up to max_reads times until the session expires.
async function handleSessionCreate(core: BrokerCore, conv: Conversation): Promise<void> {
  const body = parseBody(SessionCreateBodySchema, conv.first.body);
  const policy = checkPolicy(body.binding);
  const ancestry = await readAncestry({ pid: body.pid, platform: core.opts.platform });
  if (ancestry[0]?.pid !== body.pid || ancestry[0].uid !== core.uid) {
    throw new AgentSecretError('check.failed', 'the session create process could not be identified; nothing was asked');
  }
  const chain = await readRequesterChain({ pid: body.pid, platform: core.opts.platform });
  const planned = decodeRequest(sessionRequestBody(body.request, body.pid, chain));
  const userConfig = await core.userConfigOf(core.opts.dirs);
  await validateSecretsRequest(planned, registryOf(core, userConfig), userConfig.names ?? new Map());
  const request = await withOwnWarnings(planned, null);
  const bound = chooseAnchor(policy, ancestry, { uid: core.uid, gid: process.getegid?.() ?? ancestry[0].gid });
  const bindingText = describeProcess(bound.anchor);
  await withScope(core, conv, request, userConfig, async (scope) => {
    const { requestId, deadline, audit, actx, signal } = scope;
    audit.write(auditEvent('request_received', actx, { max_reads: body.max_reads, session_binding: bindingText }));
    const { resolution } = await withTurn(core, requestId, deadline, signal, audit, actx, () =>
      decide(core, scope, 'session_create', {
        max_reads: body.max_reads,
        ttl_seconds: request.ttlSeconds,
        binding: bindingText,
      }),
    );
    const values = await resolveWith(core, resolution, request, audit, actx, deadline, signal);
    const created = core.sessions.create({
      ttlSeconds: request.ttlSeconds,
      maxReads: body.max_reads,
      cwd: request.cwd,
      // Every variable the child gets: secrets (environment or file) and templates.
      aliases: [...request.secrets.map((s) => s.alias), ...request.templates.map((t) => t.alias)],
      reason: request.reason,
      overrideEnv: request.overrideEnv,
      binding: { policy, anchor: bound.anchor, depth: bound.depth, ...(bound.matchedName === undefined ? {} : { matchedName: bound.matchedName }) },
      values,
    });
    core.sessionRequests.set(created.id, { request, requestId });
    try {
      audit.write(auditEvent('session_created', actx, { session_id: created.id, max_reads: body.max_reads, session_binding: bindingText }));
    } catch (error) {
      core.sessions.destroy(created.id);
      throw error;
    }
    try {
      await conv.send('session.created', {
        request_id: requestId,
        session_id: created.id,
        session_token: created.token,
        aliases: [...created.session.aliases],
        expires_at: new Date(created.session.expiresAt).toISOString(),
        max_reads: created.session.maxReads,
        remaining_reads: created.session.remainingReads,
        binding: { mode: policy.mode, depth: bound.depth, process: bindingText },
      } satisfies z.input<typeof SessionCreatedBodySchema> & { request_id: string });
    } catch (error) {
      // Nobody got the token: nobody can read the session, so its values go now, not at its ttl.
      core.sessions.destroy(created.id);
      core.sessionRequests.delete(created.id);
      try {
        audit.write(auditEvent('session_destroyed', actx, { session_id: created.id, error_code: codeOf(error) }));
      } catch {
        // The session is gone either way.
      }
      throw error;
    }
  });
}

// with-session: the token, the directory and the caller's process tree decide; no prompt.
async function handleSessionResolve(core: BrokerCore, conv: Conversation): Promise<void> {
  const body = parseBody(SessionResolveBodySchema, conv.first.body);
  const ancestry = await readAncestry({ pid: body.pid, platform: core.opts.platform });
  const requestId = `req_${randomBytes(16).toString('hex')}`;
  const audit = await openAuditLog(auditLogPath(core.opts.dirs));
  let resolved;
  try {
    try {
      if (ancestry[0]?.pid !== body.pid || ancestry[0].uid !== core.uid) throw new AgentSecretError('check.failed', SESSION_ERRORS.notBound);
      resolved = core.sessions.resolve({ token: body.token, cwd: body.cwd, callerAncestry: ancestry, only: body.only ?? undefined });
    } catch (error) {
      // Nothing about the session is known to a caller with a wrong token; record the refusal only.
      audit.write(auditEvent('session_refused', { requestId, request: withSessionRequest(body, null, []) }, { error_code: codeOf(error) }));
      throw error;
    }
    const { session, values, aliases, reservation } = resolved;
    const origin = core.sessionRequests.get(session.id)?.request ?? null;
    const actx: AuditContext = { requestId, request: withSessionRequest(body, origin, aliases) };
    // A variable the caller already has would be replaced: refuse before the read is spent.
    const taken = new Set(body.env_names ?? []);
    const conflicts = session.overrideEnv ? [] : aliases.filter((alias) => taken.has(alias)).sort();
    if (conflicts.length > 0) {
      reservation.release();
      audit.write(auditEvent('session_refused', actx, { session_id: session.id, error_code: 'exec.env_conflict' }));
      throw new AgentSecretError('exec.env_conflict', `${conflicts.join(', ')} ${conflicts.length === 1 ? 'is' : 'are'} already set in the environment; the command did not run`, {
        hint: 'unset it, or create the session with --override-env',
      });
    }
    try {
      audit.write(auditEvent('session_resolved', actx, { session_id: session.id, max_reads: session.maxReads, remaining_reads: session.remainingReads - 1 }));
      // A session destroyed or expired since the check has dropped its values: deliver all or nothing.
      if (!reservation.live()) throw new AgentSecretError('check.failed', SESSION_ERRORS.unknownToken);
      // The selected files as the session's request laid them out; their values travel as exact bytes.
      const files = (origin === null ? [] : fileSpecsOf(origin)).filter((f) => aliases.includes(f.alias));
      const inFiles = fileValueKeys(files);
      const envAliases = aliases.filter((alias) => !files.some((f) => f.alias === alias));
      if ([...envAliases, ...inFiles].some((key) => !values.has(key))) throw new AgentSecretError('check.failed', SESSION_ERRORS.unknownToken);
      const env: Record<string, string> = {};
      for (const alias of envAliases) env[alias] = (values.get(alias) as SecretValue).reveal();
      const fileValues: Record<string, string> = {};
      for (const key of inFiles) fileValues[key] = (values.get(key) as SecretValue).revealBytes().toString('base64');
      await conv.send('session.deliver', {
        request_id: requestId,
        session_id: session.id,
        env,
        files: files.map((f) => ({ alias: f.alias, ...encodeFile(f.file), template: f.template === null ? null : { text: f.template.text, refs: [...f.template.refs] } })),
        file_values: fileValues,
        override_env: session.overrideEnv,
        remaining_reads: session.remainingReads - 1,
      } satisfies z.input<typeof SessionDeliverBodySchema>);
      reservation.commit();
    } catch (error) {
      reservation.release();
      throw error;
    }
    await followChild(core, conv, audit, actx);
  } finally {
    await audit.close().catch(() => undefined);
  }
}

async function handleSessionList(core: BrokerCore, conv: Conversation): Promise<void> {
  const list = core.sessions.list().map((info) => ({
    session_id: info.id,
    reason: info.reason,
    cwd: info.cwd,
    aliases: [...info.aliases],
    expires_at: new Date(info.expiresAt).toISOString(),
    max_reads: info.maxReads,
    remaining_reads: info.remainingReads,
    override_env: info.overrideEnv,
    binding: { mode: info.binding.policy.mode, depth: info.binding.depth, process: describeProcess(info.binding.anchor) },
  }));
  await conv.send('session.list.ok', { sessions: list } satisfies z.input<typeof SessionListBodySchema>);
}

async function handleSessionDestroy(core: BrokerCore, conv: Conversation): Promise<void> {
  const body = parseBody(SessionDestroyBodySchema, conv.first.body);
  const ids = 'all' in body ? core.sessions.list().map((x) => x.id) : [body.id];
  const destroyed = ids.filter((id) => core.sessions.destroy(id));
  if (!('all' in body) && destroyed.length === 0) throw new AgentSecretError('usage.invalid', `no live session ${body.id}`, { hint: 'see agent-secret session list' });
  await auditEnded(core, destroyed, core.sessionRequests, 'session_destroyed', (id) => ({ session_id: id }));
  await conv.send('session.destroy.ok', { destroyed: destroyed.length });
}

/** The session.* handlers over the broker's core. */
export function sessionOps(core: BrokerCore) {
  return {
    'session.create': (conv: Conversation) => handleSessionCreate(core, conv),
    'session.resolve': (conv: Conversation) => handleSessionResolve(core, conv),
    'session.list': (conv: Conversation) => handleSessionList(core, conv),
    'session.destroy': (conv: Conversation) => handleSessionDestroy(core, conv),
  };
}

/** The label a session create prompt shows as its command: the operation, chosen here, not the client's argv. */
export const SESSION_CREATE_COMMAND = Object.freeze(['agent-secret', 'session', 'create']);

// The full request body of a session create: the client's request (what to read, why, where)
// with what only the broker may say filled in: the command label, this daemon's own program
// (nothing runs on approval), the chain read for the caller's pid, no pinned files and no warnings (the broker
// derives them next).
function sessionRequestBody(request: SessionRequestBody, pid: number, chain: readonly ProcessInfo[]): RequestBody {
  const identity = { dev: 0, ino: 0, size: 0, mtime_ms: 0, ctime_ms: 0, mode: 0, uid: 0 };
  return {
    ...request,
    command: [...SESSION_CREATE_COMMAND],
    executable: OWN_PROGRAM,
    executable_identity: identity,
    warnings: [],
    scripts: [],
    requester: { pid, chain: chain.map((p) => ({ pid: p.pid, name: p.name })) },
  };
}

// The request as the audit log records a with-session read: its own command and directory, and
// the selected aliases with the references the session was created for.
function withSessionRequest(body: { command: string[]; executable: string; cwd: string; pid: number }, origin: ApprovalRequest | null, aliases: readonly string[]): ApprovalRequest {
  const secrets = origin === null ? [] : origin.secrets.filter((s) => aliases.includes(s.alias));
  const templates = origin === null ? [] : origin.templates.filter((t) => aliases.includes(t.alias));
  return {
    ...(origin ?? metaRequest({ reason: 'session read', ttl_seconds: 0, command: body.command, cwd: body.cwd, requester: { pid: body.pid, chain: [] } }, [])),
    command: [...body.command],
    executable: body.executable,
    cwd: body.cwd,
    secrets,
    templates,
    requester: { pid: body.pid, chain: [] },
  };
}

function checkPolicy(policy: BindingPolicy): BindingPolicy {
  if (policy.mode !== 'ancestor_name') return policy;
  const names = checkBindNames(policy.names);
  if (!names.ok) throw new AgentSecretError('usage.invalid', `session binding: ${names.message}`);
  return { mode: 'ancestor_name', names: names.value };
}
