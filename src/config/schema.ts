// The shape of agent-secret.yml as zod strict schemas (unknown keys rejected at every level),
// in two builds from one definition: a structural one for parsing, whose value rules are left
// to rules.ts and core, and an annotated one that becomes the JSON Schema editors use.

import { z } from 'zod';
import { MAX_REASON_LENGTH } from '../core/reason.js';
import { MAX_FILE_NAME_LENGTH, MAX_FILE_READS } from '../core/delivery.js';
import { MAX_BIND_DEPTH, MAX_BIND_NAMES } from '../core/session-bind.js';

/** Profile names: what `--profile` and `include:` accept. */
export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Allowed keys per level, in the order they are documented. */
export const TOP_KEYS: readonly string[] = ['version', 'account', 'default_profile', 'profiles'];
export const PROFILE_KEYS: readonly string[] = ['reason', 'ttl', 'account', 'include', 'mask', 'session', 'secrets', 'files', 'templates'];
export const SECRET_KEYS: readonly string[] = ['ref', 'account', 'name'];
/** A `files:` entry as a mapping. */
export const FILE_KEYS: readonly string[] = ['ref', 'account', 'name', 'mode', 'max_reads'];
/** A `templates:` entry as a mapping. */
export const TEMPLATE_KEYS: readonly string[] = ['path', 'account', 'name', 'mode', 'max_reads'];
export const SESSION_KEYS: readonly string[] = ['bind'];
/** A `session.bind` mapping sets exactly one of these. */
export const BIND_KEYS: readonly string[] = ['ancestor', 'ancestor_name', 'ancestor_names'];

// Editor-only patterns: the authoritative checks are core's parseSecretRef/validateAlias/parseTtl.
const SEGMENT = '[A-Za-z0-9._ -]+';
const OP_REF = `op://${SEGMENT}/${SEGMENT}(/${SEGMENT})?/${SEGMENT}(\\?.+)?`;
const UUID = '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}';
const BWS_REF = `bws://([A-Za-z0-9][A-Za-z0-9._-]{0,63}/)?${UUID}`;
// A provider program's scheme (declared in the user config), anything but op and bws.
const PROGRAM_REF = '(?!op://|bws://)[a-z][a-z0-9-]{0,31}://.+';
const REF_PATTERN = new RegExp(`^(${OP_REF}|${BWS_REF}|${PROGRAM_REF})$`);
const ALIAS_PATTERN = /^[A-Z_][A-Z0-9_]*$/;
const TTL_PATTERN = /^(\d+h(\d+m)?(\d+s)?|\d+m(\d+s)?|\d+s)$/;

function buildSchema(forEditors: boolean) {
  const text = (description: string, pattern?: RegExp, limits?: { min: number; max: number }) => {
    let schema = z.string();
    if (!forEditors) return schema;
    if (pattern !== undefined) schema = schema.regex(pattern);
    if (limits !== undefined) schema = schema.min(limits.min).max(limits.max);
    return schema.describe(description);
  };
  const name = (description: string) => text(description, PROFILE_NAME);
  const account = (description: string) => text(`${description}: sign-in address, shorthand, email or account ID`);
  const ref = text(
    'Secret reference: op://vault/item[/section]/field[?attribute=otp] (1Password), bws://[SOURCE/]SECRET_ID (Bitwarden Secrets Manager), or SCHEME://… of a provider program declared in the user config',
    REF_PATTERN,
  );

  const secretAccount = account('1Password account for this secret (or the account a provider program is told); not for bws references');
  const logicalName = text('A logical name from names: in your user config (~/.config/agent-secret/config.yml), which maps it to a reference', /^[A-Za-z][A-Za-z0-9._-]{0,63}$/);
  // Structurally one mapping; rules.ts requires exactly one of ref and name.
  const secret = forEditors
    ? z.union([ref, z.strictObject({ ref, account: secretAccount.optional() }), z.strictObject({ name: logicalName })])
    : z.union([ref, z.strictObject({ ref: ref.optional(), account: secretAccount.optional(), name: logicalName.optional() })]);
  // The file layout a `files:` or `templates:` mapping may set; core/delivery.ts checks the values.
  const fileOptions = {
    name: text('File name in the private directory (default: the alias, or the template name without .tmpl): letters, digits, ".", "_", "-"', /^[A-Za-z0-9._-]+$/, {
      min: 1,
      max: MAX_FILE_NAME_LENGTH,
    }).optional(),
    mode: (forEditors ? z.enum(['file', 'fifo']).describe('file: a regular 0600 file (Linux: on a RAM-backed filesystem); fifo: a named pipe agent-secret serves (default on macOS)') : z.string()).optional(),
    max_reads: (forEditors ? z.int().min(1).max(MAX_FILE_READS).describe('fifo only: how many times the pipe may be read (default 1)') : z.number()).optional(),
  };
  const file = z.union([ref, z.strictObject({ ref, account: account('1Password account for this file').optional(), ...fileOptions })]);
  const templatePath = text('Template file with {{ op://vault/item/field }} placeholders, relative to this config file', undefined, { min: 1, max: 4096 });
  const template = z.union([templatePath, z.strictObject({ path: templatePath, account: account('1Password account for every reference in the template').optional(), ...fileOptions })]);
  // Structurally a word or a mapping; rules.ts checks the word, the one key and the values.
  // eslint-disable-next-line no-control-regex
  const bindName = text('Executable basename of an ancestor process, such as zsh or tmux (no /)', /^[^/\u0000]+$/, { min: 1, max: 128 });
  const bind = forEditors
    ? z
        .union([
          z.enum(['auto', 'parent']).describe('auto: the nearest stable ancestor, over nested shells of the same executable; parent: the direct parent of agent-secret'),
          z.strictObject({ ancestor: z.int().min(1).max(MAX_BIND_DEPTH).describe('Bind to exactly this ancestor depth (1 = parent)') }),
          z.strictObject({ ancestor_name: bindName }),
          z.strictObject({ ancestor_names: z.array(bindName).min(1).max(MAX_BIND_NAMES).describe('Bind to the nearest ancestor with one of these executable names') }),
        ])
        .describe('Which process a session token is bound to; the session-create flags override it')
    : z.union([z.string(), z.strictObject({ ancestor: z.number().optional(), ancestor_name: z.string().optional(), ancestor_names: z.array(z.string()).optional() })]);
  const session = z.strictObject({ bind: bind.optional() });
  const profile = z.strictObject({
    reason: text('Why the secrets are needed; shown to the human in the prompt', undefined, { min: 1, max: MAX_REASON_LENGTH }).optional(),
    ttl: text('How long the request may wait and live, 10s..10m, written like 90s, 2m or 1m30s', TTL_PATTERN).optional(),
    account: account('1Password account for the secrets this profile defines').optional(),
    include: z.array(name('Name of a profile whose secrets, reason and ttl this profile inherits')).optional(),
    mask: z.boolean({ error: 'must be true or false' }).meta({ description: 'false: never mask the child output, even when it is captured (default: mask when not a terminal)' }).optional(),
    session: (forEditors ? session.describe('Settings for agent-secret session create') : session).optional(),
    secrets: z.record(forEditors ? z.string().regex(ALIAS_PATTERN) : z.string(), secret).optional(),
    files: (forEditors
      ? z.record(z.string().regex(ALIAS_PATTERN), file).describe('Secrets delivered as files: the variable holds the path of a private file with the value, byte for byte')
      : z.record(z.string(), file)
    ).optional(),
    templates: (forEditors
      ? z.record(z.string().regex(ALIAS_PATTERN), template).describe('Template files rendered after approval into a private file; the variable holds its path')
      : z.record(z.string(), template)
    ).optional(),
  });
  const profiles = z.record(forEditors ? z.string().regex(PROFILE_NAME) : z.string(), profile);
  return z.strictObject({
    version: z.literal(1),
    account: account('Default 1Password account for every profile').optional(),
    default_profile: name('Profile used when exec gets no --profile').optional(),
    profiles: forEditors ? profiles.meta({ minProperties: 1 }) : profiles,
  });
}

/** The structural schema used when loading a file. */
export const configFileSchema = buildSchema(false);

/** What a structurally valid file parses to. */
export type ConfigFileData = z.output<typeof configFileSchema>;

/** The JSON Schema of agent-secret.yml (written to schema/agent-secret.schema.json). */
export const configJsonSchema = (): object =>
  z.toJSONSchema(
    buildSchema(true).meta({
      title: 'agent-secret project config',
      description: 'Profiles of secret references (1Password, Bitwarden Secrets Manager, provider programs) that agent-secret exec may inject after a human approves.',
    }),
    { target: 'draft-7' },
  );
