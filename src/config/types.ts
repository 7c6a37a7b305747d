// Shapes the config module hands to the rest of agent-secret: the validated project config,
// a resolved profile, positioned config issues and env-file entries. They hold names and
// op:// references only; plain env-file values are the one exception and are never printed.

import type { FileOptions } from '../core/delivery.js';
import type { BindingPolicy } from '../core/session-bind.js';

/** One secret of a profile: the alias the child sees, its reference and the account it was defined with. */
export interface SecretEntry {
  alias: string;
  /** The reference; '' for a named secret until the planner looks its name up (config/names.ts applyNames). */
  ref: string;
  /**
   * A logical name of the user config's `names:` registry, for `{name: …}` entries. Until the
   * name is looked up, `account` holds the profile's or top-level account, which an op://
   * reference takes when the registry names no account of its own.
   */
  name?: string;
  /**
   * op:// references: secret `account` > defining profile `account` > top-level `account`; other
   * providers: the secret's own `account` only (a bws reference has none: its source is in the
   * reference). null when none is set.
   */
  account: string | null;
  /** Set for `files:` entries: the child gets the path of a private file holding the value. */
  delivery?: 'file';
  /** The file layout a `files:` entry sets (unset parts take their defaults when the request is built). */
  file?: FileOptions;
}

/** One `templates:` entry: the template file (absolute, resolved against the config file's directory). */
export interface TemplateEntry {
  alias: string;
  path: string;
  /** template `account` > defining profile `account` > top-level `account`; null when none is set. */
  account: string | null;
  file: FileOptions;
}

/** One profile as written in the file, already validated (includes not yet applied). */
export interface ProfileDefinition {
  name: string;
  reason: string | undefined;
  ttlSeconds: number | undefined;
  /** The profile's own `mask`, if any. */
  mask: boolean | undefined;
  /** The profile's own `account`, if any. */
  account: string | undefined;
  /** The profile's own `session.bind`, if any (`parent` is ancestor depth 1). */
  sessionBind?: BindingPolicy | undefined;
  include: string[];
  /** The profile's own secrets and `files:`, each with its account already computed, sorted by alias. */
  secrets: SecretEntry[];
  /** The profile's own `templates:`, sorted by alias. */
  templates: TemplateEntry[];
}

/** A project config file that passed every check at load. */
export interface ProjectConfig {
  /** Absolute path of the file. */
  path: string;
  /** Top-level `account`. */
  account: string | undefined;
  defaultProfile: string | undefined;
  /** In file order. */
  profileNames: string[];
  /** Every profile by name, for include resolution. */
  profiles: ReadonlyMap<string, ProfileDefinition>;
}

/** A profile with its includes applied. */
export interface ResolvedProfile {
  name: string;
  isDefault: boolean;
  reason: string | undefined;
  ttlSeconds: number | undefined;
  /** The profile's own account, else the top-level one. */
  account: string | undefined;
  /** Output masking: own value, else the last include that sets it. */
  mask: boolean | undefined;
  /** Session binding for `session create`: own `session.bind`, else the last include that sets it; flags override it. */
  sessionBind?: BindingPolicy | undefined;
  /** As written. */
  include: string[];
  /** Merged (secrets and files), sorted by alias. */
  secrets: SecretEntry[];
  /** Merged, sorted by alias; an alias is a secret or a template, whichever the nearest definition says. */
  templates: TemplateEntry[];
}

/** What kind of problem a config issue is. */
export type ConfigIssueCode =
  | 'yaml.syntax'
  | 'yaml.duplicate_key'
  | 'yaml.alias'
  | 'yaml.limit'
  | 'schema.type'
  | 'schema.required'
  | 'schema.unknown_key'
  | 'schema.user_config_only'
  | 'schema.version'
  | 'profiles.empty'
  | 'profile.name'
  | 'profile.empty'
  | 'alias.invalid'
  | 'ref.invalid'
  | 'file.invalid'
  | 'template.invalid'
  | 'ttl.invalid'
  | 'reason.invalid'
  | 'account.invalid'
  | 'session.bind'
  | 'include.not_found'
  | 'include.cycle'
  | 'include.depth'
  | 'default_profile.not_found';

/** One positioned, value-free problem in a config file. */
export interface ConfigIssue {
  code: ConfigIssueCode;
  /** The whole line to show: `<file>:<line>:<col>: <key path>: <what is wrong and what is expected>`. */
  message: string;
  file: string;
  line?: number;
  col?: number;
  /** Key path such as `profiles.deploy.secrets.API_TOKEN`; names that failed validation are left out. */
  key?: string;
  /** The next step, when there is a specific one. */
  hint?: string;
}

/** An env-file entry whose value is an op:// reference. */
export interface EnvFileSecret {
  alias: string;
  ref: string;
  file: string;
  line: number;
}

/** An env-file entry with a plain value for the child's environment (never printed). */
export interface EnvFilePlain {
  key: string;
  value: string;
  file: string;
  line: number;
}

/** Env files merged in order, the later file winning per key; secrets sorted by alias, plain by key. */
export interface EnvFileResult {
  secrets: EnvFileSecret[];
  plain: EnvFilePlain[];
}
