// The bodies of the daemon protocol's frames (the envelope is envelope.ts's): zod schemas for
// what a client may send and for what the broker delivers; the request body is typed against
// the one request codec (request/codec.ts).
// Input from the socket is untrusted: the broker re-validates the request (refs, aliases, ttl,
// reason, cwd, executable identity) before anyone is asked. Values appear only in deliver bodies.

import { z } from 'zod';
import { MAX_FILE_NAME_LENGTH } from '../core/delivery.js';
import { SECRET_NAME } from '../core/ref.js';
import { COMMAND_LIMITS, MAX_SCRIPTS } from '../request/build.js';
import { TEMPLATE_LIMITS } from '../request/template.js';
import type { RequestBody as RequestBody_ } from '../request/codec.js';

// The client's half (codec.ts) reads these bodies without zod, so a reused exec does not load
// the schema library; test/unit/protocol/codec.test.ts proves both halves agree.

const identity = z.strictObject({
  dev: z.number(),
  ino: z.number(),
  size: z.number(),
  mtime_ms: z.number(),
  ctime_ms: z.number(),
  mode: z.number().int(),
  uid: z.number().int(),
});

// A file argv names (request/codec.ts ScriptBody), at most MAX_SCRIPTS per request.
const script = z.strictObject({
  path: z.string().startsWith('/').max(4096),
  dev: z.number(),
  ino: z.number(),
  size: z.number(),
  mtime_ms: z.number(),
  ctime_ms: z.number(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
});
const scripts = z.array(script).max(MAX_SCRIPTS);

// argv as the CLI's planner bounds it (request/build.ts), so that a request it built always fits.
const commandSchema = z.array(z.string().max(COMMAND_LIMITS.maxArgLength)).min(1).max(COMMAND_LIMITS.maxArgs);

const processInfo = z.strictObject({ pid: z.number().int().nonnegative(), name: z.string().max(256) });

// A delivered file's layout (request/codec.ts FileBody); the broker checks the values (core/delivery.ts).
const fileBody = z.strictObject({
  name: z.string().max(MAX_FILE_NAME_LENGTH),
  mode: z.enum(['file', 'fifo']),
  max_reads: z.number().int().nullable(),
});

// A template (request/codec.ts TemplateBody), its text bounded as the planner bounds it.
const templateBody = z.strictObject({
  alias: z.string().max(256),
  path: z.string().startsWith('/').max(4096),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  text: z.string().max(TEMPLATE_LIMITS.maxBytes),
  refs: z.array(z.string().max(4096)).min(1).max(TEMPLATE_LIMITS.maxRefs),
  account: z.string().max(256).nullable(),
  source: z.enum(['profile', 'flag']),
  file: fileBody,
});

/** The full ApprovalRequest, snake_case. */
export const RequestBodySchema = z.strictObject({
  reason: z.string().max(4096),
  command: commandSchema,
  executable: z.string().min(1).max(4096),
  executable_identity: identity,
  cwd: z.string().min(1).max(4096),
  secrets: z
    .array(
      z.strictObject({
        alias: z.string().max(256),
        ref: z.string().max(4096),
        provider: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
        name: z.string().regex(SECRET_NAME).optional(),
        account: z.string().max(256).nullable(),
        source: z.enum(['profile', 'flag', 'env_file']),
        delivery: z.enum(['env', 'file']),
        file: fileBody.nullable(),
      }),
    )
    .max(200),
  templates: z.array(templateBody).max(TEMPLATE_LIMITS.maxTemplates),
  ttl_seconds: z.number().int(),
  override_env: z.boolean(),
  allow_mutable_executable: z.boolean(),
  pristine: z.boolean(),
  mask: z.boolean(),
  overridden_aliases: z.array(z.string().max(256)).max(200),
  warnings: z.array(z.string().max(4096)).max(50),
  requester: z.strictObject({ pid: z.number().int().nonnegative(), chain: z.array(processInfo).max(64) }),
  profile: z.string().max(256).nullable(),
  config_path: z.string().max(4096).nullable(),
  plain_env_names: z.array(z.string().max(256)).max(500),
  scripts,
});
// The schema and the one codec's body type agree both ways, or this does not compile.
type SchemaBody = z.infer<typeof RequestBodySchema>;
export type RequestBody = RequestBody_ & SchemaBody;
const _bodyFitsSchema = (body: RequestBody_): SchemaBody => body;
const _schemaFitsBody = (body: SchemaBody): RequestBody_ => body;
void _bodyFitsSchema;
void _schemaFitsBody;

/**
 * exec as the caller typed it, for the broker to plan (every exec that runs a command): the flags
 * between `exec` and `--`, the command after it, and what the plan depends on in the caller's
 * process. `env` is the caller's whole environment (never logged or stored; held only while the conversation lasts).
 */
export const ExecArgvBodySchema = z.strictObject({
  // Bounded by the frame only: the planner bounds argv (request/build.ts) and says so in its own words.
  args: z.array(z.string()),
  command: z.array(z.string()),
  cwd: z.string().min(1).max(4096),
  env: z.record(z.string(), z.string()),
  homedir: z.string().max(4096),
  pid: z.number().int().positive(),
  stdout_is_tty: z.boolean(),
  stderr_is_tty: z.boolean(),
});
export type ExecArgvBody = z.infer<typeof ExecArgvBodySchema>;

export const ExecStartedBodySchema = z.strictObject({ pid: z.number().int().positive() });
export const ExecExitedBodySchema = z.strictObject({
  exit_code: z.number().int(),
  signal: z.string().max(32).nullable(),
  duration_ms: z.number().int().nonnegative(),
  /** What became of the delivered files (exec/run-child.ts FilesReport); absent when there were none. */
  files: z
    .strictObject({
      removed: z.number().int().nonnegative(),
      removed_on: z.enum(['child_exit', 'signal', 'spawn_failed']),
      removed_after_exit_ms: z.number().int().nonnegative(),
      stale_dirs_swept: z.number().int().nonnegative(),
    })
    .optional(),
});
export const ExecSpawnFailedBodySchema = z.strictObject({ error_code: z.string().max(64) });

/** The most files one child gets: every secret (200) and every template (20) of a request. */
const MAX_SPAWN_FILES = 220;

/** The files the caller lays out for the child (request/template.ts FileSpec); values travel apart, in file_values. */
export const spawnFiles = z
  .array(
    z.strictObject({
      alias: z.string().max(256),
      name: z.string().max(MAX_FILE_NAME_LENGTH),
      mode: z.enum(['file', 'fifo']),
      max_reads: z.number().int().nullable(),
      template: z.strictObject({ text: z.string().max(TEMPLATE_LIMITS.maxBytes), refs: z.array(z.string().max(4096)).max(TEMPLATE_LIMITS.maxRefs) }).nullable(),
    }),
  )
  .max(MAX_SPAWN_FILES);

/** How the caller starts the child of an exec (exec.deliver's `spawn`). Plain env entries are not secrets, but never logged either. */
export const SpawnBodySchema = z.strictObject({
  command: z.array(z.string()).min(1),
  executable: z.string().startsWith('/'),
  executable_identity: identity,
  cwd: z.string().startsWith('/'),
  pristine: z.boolean(),
  plain: z.array(z.strictObject({ key: z.string(), value: z.string() })),
  remove_names: z.array(z.string()),
  mask: z.boolean(),
  scripts,
  files: spawnFiles,
});

/**
 * What the broker delivers for an approved exec. `env` holds values: never log this body.
 * `file_values`: the values delivered as files (file secrets under their alias, template
 * references under ALIAS#n), base64 so a binary document keeps every byte.
 */
export const ExecDeliverBodySchema = z.strictObject({
  request_id: z.string().regex(/^req_[0-9a-f]{32}$/),
  env: z.record(z.string(), z.string()),
  file_values: z.record(z.string(), z.base64()),
  approval_id: z.string().nullable(),
  reused: z.boolean(),
  spawn: SpawnBodySchema,
});
export type ExecDeliverBody = z.infer<typeof ExecDeliverBodySchema>;

export const ExecQueuedBodySchema = z.strictObject({ waiting: z.number().int().nonnegative() });
export type ExecQueuedBody = z.infer<typeof ExecQueuedBodySchema>;

export const ApprovalsRevokeBodySchema = z.union([
  z.strictObject({ id: z.string().regex(/^appr_[A-Za-z0-9_-]{1,64}$/) }),
  z.strictObject({ all: z.literal(true) }),
]);

/**
 * item describe: what to read and why. The command label, the executable and the requester
 * chain shown in the prompt are the broker's own (strict: a body carrying them is refused);
 * the pid is the one thing only the caller can report.
 */
export const ItemDescribeBodySchema = z.strictObject({
  reason: z.string().max(4096),
  ttl_seconds: z.number().int(),
  cwd: z.string().min(1).max(4096),
  /** The `item describe` process (reported by the caller; the broker checks it is a live process of this user). */
  pid: z.number().int().positive(),
  ref: z.string().max(4096),
  account: z.string().max(256).nullable(),
});

/**
 * approver test: a sample prompt through the configured approver; nothing is resolved. The
 * broker writes the reason, label and prompt itself; the caller reports only its directory, its
 * pid (checked as for item describe) and how long to wait.
 */
export const ApproverTestBodySchema = z.strictObject({
  ttl_seconds: z.number().int(),
  cwd: z.string().min(1).max(4096),
  pid: z.number().int().positive(),
});

/** What the human answered, and through which approver (its name as doctor shows it). */
export const ApproverTestOkBodySchema = z.object({
  request_id: z.string(),
  answer: z.enum(['approve', 'deny']),
  approver: z.string(),
});

/**
 * `agent-secret approve` attaching as the approval console: its pid and directory. The daemon
 * labels it and reads its process chain itself (as for item describe), for the audit log and
 * the messages about it.
 */
export const ConsoleAttachBodySchema = z.strictObject({
  cwd: z.string().min(1).max(4096),
  pid: z.number().int().positive(),
});

/** A console's answer (`console.answer`) has the approver program's shape: approval/decision.ts checks it. */

/** What the daemon says back to a console answer: what it did, with the failed check's reason. */
export const ConsoleAnswerOkBodySchema = z.object({
  id: z.string().nullable(),
  outcome: z.enum(['approved', 'denied', 'failed', 'stale']),
  reason: z.string().optional(),
});

const bindingPolicy = z.union([
  z.strictObject({ mode: z.literal('auto') }),
  z.strictObject({ mode: z.literal('ancestor'), depth: z.union([z.literal(1), z.literal(2), z.literal(3)]) }),
  z.strictObject({ mode: z.literal('ancestor_name'), names: z.array(z.string().min(1).max(128)).min(1).max(16) }),
]);

/**
 * The request a session is created for, without what the broker fills in itself: the command
 * label, the executable (none runs on approval), the requester chain (read from `pid`), the
 * pinned argv files (none) and the warnings (derived by the broker). Strict: a client cannot send its own versions of them.
 */
export const SessionRequestBodySchema = RequestBodySchema.omit({ command: true, executable: true, executable_identity: true, warnings: true, requester: true, scripts: true });
export type SessionRequestBody = z.infer<typeof SessionRequestBodySchema>;

export const SessionCreateBodySchema = z.strictObject({
  request: SessionRequestBodySchema,
  max_reads: z.number().int().min(1).max(100),
  binding: bindingPolicy,
  /** The `session create` process: its ancestry decides the anchor. */
  pid: z.number().int().positive(),
});

export const SessionResolveBodySchema = z.strictObject({
  token: z.string().regex(/^astok_[A-Za-z0-9_-]{1,128}$/),
  cwd: z.string().min(1).max(4096),
  only: z.array(z.string().max(256)).max(200).nullable(),
  /** The `with-session` process: its ancestry must contain the session's anchor. */
  pid: z.number().int().positive(),
  command: commandSchema,
  executable: z.string().min(1).max(4096),
  /** Names (never values) of the variables set in the caller's environment, for the collision check before a read is spent. */
  env_names: z.array(z.string().max(64 * 1024)).max(20_000).optional(),
});

export const SessionDestroyBodySchema = z.union([
  z.strictObject({ id: z.string().regex(/^asid_[A-Za-z0-9_-]{1,64}$/) }),
  z.strictObject({ all: z.literal(true) }),
]);

/** What with-session receives: values of the selected aliases. Never log this body. */
export const SessionDeliverBodySchema = z.strictObject({
  request_id: z.string().regex(/^req_[0-9a-f]{32}$/),
  session_id: z.string(),
  env: z.record(z.string(), z.string()),
  /** The selected files (laid out by with-session as exec lays them out) and their values, base64. */
  files: spawnFiles,
  file_values: z.record(z.string(), z.base64()),
  override_env: z.boolean(),
  remaining_reads: z.number().int().nonnegative(),
});

// Replies the broker sends and the CLI reads, one schema for both: the broker's bodies satisfy
// these types, the CLI parses with them (objects here accept extra keys, for newer daemons).

export const SessionCreatedBodySchema = z.object({
  session_id: z.string().regex(/^asid_[A-Za-z0-9_-]{1,64}$/),
  session_token: z.string().regex(/^astok_[A-Za-z0-9_-]{1,128}$/),
  aliases: z.array(z.string()),
  expires_at: z.string(),
  max_reads: z.number().int(),
  remaining_reads: z.number().int(),
  binding: z.object({ mode: z.string(), depth: z.number().int(), process: z.string() }),
});

export const SessionListBodySchema = z.object({
  sessions: z.array(
    z.object({
      session_id: z.string(),
      reason: z.string(),
      cwd: z.string(),
      aliases: z.array(z.string()),
      expires_at: z.string(),
      max_reads: z.number().int(),
      remaining_reads: z.number().int(),
      override_env: z.boolean(),
      binding: z.object({ mode: z.string(), depth: z.number().int(), process: z.string() }),
    }),
  ),
});

export const ApprovalsListBodySchema = z.object({
  approvals: z.array(
    z.object({
      id: z.string(),
      expires_at: z.string(),
      max_uses: z.number().int(),
      used: z.number().int(),
      remaining_uses: z.number().int(),
      reason: z.string(),
      command: z.array(z.string()),
      cwd: z.string(),
      aliases: z.array(z.string()),
      secrets: z.array(z.object({ alias: z.string(), ref: z.string(), provider: z.string(), name: z.string().optional(), account: z.string().nullable() })),
      profile: z.string().nullable(),
      agent: z.string().nullable().optional(),
      policy_rule: z.string().nullable().optional(),
    }),
  ),
});

export const ApprovalsRevokeOkBodySchema = z.object({ revoked: z.number().int().nonnegative() });

const itemFieldSchema = z.object({
  label: z.string(),
  id: z.string(),
  type: z.string(),
  purpose: z.string().optional(),
  section: z.string().nullable(),
  sectionId: z.string().nullable(),
  concealed: z.boolean(),
  reference: z.string(),
});

export const ItemDescriptionSchema = z.object({
  vault: z.object({ id: z.string(), name: z.string() }),
  item: z.object({ id: z.string(), title: z.string(), category: z.string() }),
  fields: z.array(itemFieldSchema),
});

export const ItemDescribeOkBodySchema = z.object({ request_id: z.string(), description: ItemDescriptionSchema });
