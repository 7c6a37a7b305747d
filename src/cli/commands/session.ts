// `session create|list|destroy` and `with-session`: approve a bag of references once, then let
// commands inside one process tree read them a few times. The daemon holds the values; the
// token is printed once by `session create` and is accepted only from the bound process tree
// and the session's directory. No command here prints a value; list never prints a token.

import { AgentSecretError, isAgentSecretError } from '../../core/errors.js';
import { SecretValue } from '../../core/secret-value.js';
import { SessionCreatedBodySchema, SessionListBodySchema } from '../../protocol/messages.js';
import { findEnvConflicts, resolveExecutable } from '../../exec/index.js';
import { dirsInput, type CliContext } from '../context.js';
import { shellQuote, writeJson, writeLines, type Out } from '../render/output.js';
import type { ExecOptions } from '../../plan/exec-plan.js';

export interface SessionCreateOptions extends Omit<ExecOptions, 'json'> {
  maxReads?: string;
  bindParent?: boolean;
  bindAncestor?: string;
  bindAncestorName?: string[];
  json?: boolean | string;
}

const TOKEN = /^astok_[A-Za-z0-9_-]{1,128}$/;
const SESSION_ID = /^asid_[A-Za-z0-9_-]{1,64}$/;



/** `--json` or `--json=compact`: how to print JSON, or null for text. */
export function jsonMode(value: boolean | string | undefined): 'pretty' | 'compact' | null {
  if (value === undefined || value === false) return null;
  if (value === true || value === 'true') return 'pretty';
  if (value === 'compact') return 'compact';
  throw new AgentSecretError('usage.invalid', '--json takes no value or "compact"', { details: { flag: '--json' } });
}

function printJson(out: Out, mode: 'pretty' | 'compact', document: Record<string, unknown>): void {
  if (mode === 'pretty') writeJson(out, document);
  else out.write(`${JSON.stringify({ schema_version: '1', ...document })}\n`);
}

export async function runSessionCreate(ctx: CliContext, options: SessionCreateOptions): Promise<number> {
  if (ctx.childArgv !== null) {
    throw new AgentSecretError('usage.invalid', 'session create does not run a command; use with-session TOKEN -- COMMAND afterwards');
  }
  const mode = jsonMode(options.json);
  const { parseMaxReads } = await import('../../broker/sessions.js');
  const { parseBindingFlags } = await import('../../broker/binding.js');
  const maxReads = parseMaxReads(options.maxReads);
  const { planExec } = await import('../../plan/exec-plan.js');
  const plan = await planExec(ctx, { ...options, json: false }, 'session');
  if (plan.plain.length > 0) {
    // A session holds secrets only; plain env-file entries are the caller's to set.
    const names = [...new Set(plan.plain.map((p) => p.key))].sort();
    ctx.stderr.write(`agent-secret: warning: a session holds only op:// references; the plain entries ${names.join(', ')} are not part of it\n`);
  }
  const policy = parseBindingFlags(
    { bindParent: options.bindParent, bindAncestor: options.bindAncestor, bindAncestorName: options.bindAncestorName },
    plan.sessionBind ?? undefined,
  );
  const { encodeRequest } = await import('../../request/codec.js');
  // The daemon fills in the command label, the program, the requester chain (from our pid) and
  // the warnings itself; its schema refuses a body that carries them.
  const { command: _command, executable: _executable, executable_identity: _identity, warnings: _warnings, requester: _requester, scripts: _scripts, ...request } = encodeRequest(plan.request);
  const body = await ask(ctx, 'session.create', { request, max_reads: maxReads, binding: policy, pid: ctx.pid }, true);
  const parsed = SessionCreatedBodySchema.safeParse(body);
  if (!parsed.success) throw new AgentSecretError('daemon.protocol', 'the agent-secret daemon sent an unreadable session');
  const s = parsed.data;
  if (mode !== null) {
    printJson(ctx.stdout, mode, s);
    return 0;
  }
  writeLines(ctx.stdout, [
    `session id: ${s.session_id}`,
    `session token: ${s.session_token}`,
    `expires: ${s.expires_at}`,
    `reads: ${s.remaining_reads} of ${s.max_reads}`,
    `secrets: ${s.aliases.join(', ')}`,
    `bound to: ${s.binding.process}`,
    `use: agent-secret with-session ${s.session_token} -- COMMAND`,
  ]);
  return 0;
}

export async function runSessionList(ctx: CliContext, options: { json?: boolean | string }): Promise<number> {
  const mode = jsonMode(options.json);
  const body = await ask(ctx, 'session.list', {}, false);
  const parsed = body === null ? { success: true as const, data: { sessions: [] } } : SessionListBodySchema.safeParse(body);
  if (!parsed.success) throw new AgentSecretError('daemon.protocol', 'the agent-secret daemon sent an unreadable session list');
  const { sessions } = parsed.data;
  if (mode !== null) {
    printJson(ctx.stdout, mode, { sessions });
    return 0;
  }
  if (sessions.length === 0) {
    writeLines(ctx.stdout, ['no active sessions']);
    return 0;
  }
  writeLines(
    ctx.stdout,
    sessions.flatMap((s) => [
      `${s.session_id}  ${s.remaining_reads} of ${s.max_reads} reads left, expires ${s.expires_at}`,
      `  reason:   ${s.reason}`,
      // A directory name can hold terminal escapes: shown quoted and escaped.
      `  cwd:      ${shellQuote(s.cwd)}`,
      `  secrets:  ${s.aliases.join(', ')}`,
      `  bound to: ${s.binding.process}`,
    ]),
  );
  return 0;
}

export async function runSessionDestroy(ctx: CliContext, id: string | undefined, options: { all?: boolean; json?: boolean | string }): Promise<number> {
  const mode = jsonMode(options.json);
  if ((id === undefined) === (options.all !== true)) {
    throw new AgentSecretError('usage.invalid', 'session destroy needs exactly one of: a session id, or --all', { hint: 'agent-secret session list shows the ids' });
  }
  if (id !== undefined && !SESSION_ID.test(id)) throw new AgentSecretError('usage.invalid', 'session ids look like asid_…', { hint: 'agent-secret session list shows the ids' });
  const body = await ask(ctx, 'session.destroy', id === undefined ? { all: true } : { id }, false);
  if (body === null && id !== undefined) throw new AgentSecretError('usage.invalid', `no live session ${id} (the daemon is not running)`);
  const destroyed = typeof body?.destroyed === 'number' ? body.destroyed : 0;
  if (mode !== null) printJson(ctx.stdout, mode, id === undefined ? { destroyed: true, destroyed_count: destroyed } : { session_id: id, destroyed: true });
  else writeLines(ctx.stdout, [id === undefined ? `destroyed sessions: ${destroyed}` : `destroyed session: ${id}`]);
  return 0;
}

export interface WithSessionOptions {
  only?: string[];
  cwd?: string;
  mask?: boolean;
}

/** Reads the session's values (one read), runs the command with them, returns its exit code. */
export async function runWithSession(ctx: CliContext, token: string, options: WithSessionOptions): Promise<number> {
  if (!TOKEN.test(token)) throw new AgentSecretError('usage.invalid', 'invalid session token', { hint: 'pass the token session create printed' });
  const argv = ctx.childArgv;
  if (argv === null || argv.length === 0) {
    throw new AgentSecretError('usage.missing_separator', 'with-session needs the command as argv after --', { hint: 'agent-secret with-session TOKEN -- npm test' });
  }
  const only = options.only?.flatMap((o) => o.split(',')).map((o) => o.trim());
  if (only?.some((o) => o === '') === true) throw new AgentSecretError('usage.invalid', '--only must name non-empty aliases, comma-separated', { details: { flag: '--only' } });
  const { resolveCwd } = await import('../../plan/exec-plan.js');
  const cwd = await resolveCwd(ctx, options.cwd);
  const executable = await resolveExecutable(argv[0] as string, { cwd, pathEnv: ctx.env.PATH });

  const { openConversation } = await import('../../client/daemon.js');
  const { SessionDeliverBodySchema } = await import('../../protocol/messages.js');
  const conv = await openConversation({
    dirs: dirsInput(ctx),
    env: { ...ctx.env },
    autoStart: false,
    firstType: 'session.resolve',
    // The names of our variables let the daemon refuse a collision before it spends a read.
    firstBody: { token, cwd, only: only ?? null, pid: ctx.pid, command: [...argv], executable: executable.path, env_names: Object.keys(ctx.env).filter((name) => ctx.env[name] !== undefined) },
  }).catch((error: unknown) => {
    if (isAgentSecretError(error) && error.code === 'daemon.unavailable') {
      throw new AgentSecretError('check.failed', 'unknown or expired session token (the agent-secret daemon is not running)', { hint: 'create a new session with agent-secret session create' });
    }
    throw error;
  });
  try {
    const frame = await conv.receive();
    const parsed = frame.type === 'session.deliver' ? SessionDeliverBodySchema.safeParse(frame.body) : null;
    if (parsed === null || !parsed.success) throw new AgentSecretError('daemon.protocol', 'the agent-secret daemon answered with something other than the session values');
    const values = new Map(Object.entries(parsed.data.env).map(([alias, value]) => [alias, new SecretValue(value)] as const));
    for (const [key, base64] of Object.entries(parsed.data.file_values)) {
      const bytes = Buffer.from(base64, 'base64');
      values.set(key, new SecretValue(bytes));
      bytes.fill(0);
    }
    const { decodeFile } = await import('../../request/codec.js');
    // Laid out as exec lays them out: a private directory on a RAM-backed filesystem, removed at the child's exit.
    const files = parsed.data.files.map((f) => ({ alias: f.alias, file: decodeFile(f), template: f.template }));
    const aliases = [...Object.keys(parsed.data.env), ...files.map((f) => f.alias)].sort();
    const conflicts = findEnvConflicts(ctx.env, aliases);
    if (conflicts.length > 0 && !parsed.data.override_env) {
      await conv.send('exec.spawn_failed', { error_code: 'exec.env_conflict' }).catch(() => undefined);
      throw new AgentSecretError('exec.env_conflict', `${conflicts.join(', ')} ${conflicts.length === 1 ? 'is' : 'are'} already set in the environment; the command did not run`, {
        hint: 'unset it, or create the session with --override-env',
      });
    }
    const { runChildForDaemon } = await import('../../exec/run-child.js');
    // As for exec: masked unless a human's terminal has both streams and no agent harness is
    // detected (its variables, or its program in our chain; the chain is read only on a terminal).
    const { maskDecision } = await import('../../plan/exec-plan.js');
    const onTerminal = options.mask === undefined && ctx.stdoutIsTTY && ctx.stderrIsTTY;
    const chain = onTerminal ? await (await import('../../platform/process-tree.js')).readRequesterChain({ pid: ctx.pid, platform: ctx.platform }) : [];
    const mask = maskDecision(options.mask, undefined, ctx, chain);
    const spec = {
      command: argv,
      executable: executable.path,
      identity: executable.identity,
      cwd,
      pristine: false,
      plain: [],
      removeNames: [],
      mask,
      // A session approves secrets, not a command: no argv file was pinned.
      scripts: [],
      files,
    };
    return await runChildForDaemon(ctx, spec, values, parsed.data.request_id, conv);
  } finally {
    conv.close();
  }
}

const REPLY_TYPE: Readonly<Record<string, string>> = { 'session.create': 'session.created', 'session.list': 'session.list.ok', 'session.destroy': 'session.destroy.ok' };

// One request and its one answer (of the type that answers it); null when no daemon runs and startDaemon is false.
async function ask(ctx: CliContext, type: string, body: Record<string, unknown>, startDaemon: boolean): Promise<Record<string, unknown> | null> {
  const { openConversation } = await import('../../client/daemon.js');
  let conv;
  try {
    conv = await openConversation({ dirs: dirsInput(ctx), env: { ...ctx.env }, autoStart: startDaemon, firstType: type, firstBody: body });
  } catch (error) {
    if (!startDaemon && isAgentSecretError(error) && error.code === 'daemon.unavailable') return null;
    throw error;
  }
  try {
    const frame = await conv.receive();
    if (frame.type !== REPLY_TYPE[type]) throw new AgentSecretError('daemon.protocol', `the agent-secret daemon did not answer ${type}`);
    return frame.body;
  } finally {
    conv.close();
  }
}
