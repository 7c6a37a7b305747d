// Turns parsed CLI input, the selected profile and a few injected facts about the host into
// the exact, frozen ApprovalRequest. Pure and transport-free, so a dry run in the CLI and the
// broker build the same request. Input is agent-controlled; every rule that
// protects the human is checked here, not by the caller.

import { basename, resolve as resolvePath } from 'node:path';
import { pickAccount } from '../core/account.js';
import { validateAlias } from '../core/alias.js';
import { fileDeliveryOf, templateFileName, type FileDelivery, type FileOptions } from '../core/delivery.js';
import { AgentSecretError } from '../core/errors.js';
import { parseReason } from '../core/reason.js';
import { identityOf, parseSecretRef, schemeOf, SECRET_NAME } from '../core/ref.js';
import { DEFAULT_TTL_SECONDS, parseTtl } from '../core/ttl.js';
import { parseTemplate, TEMPLATE_LIMITS } from './template.js';
import type { ApprovalRequest, ExecutableIdentity, Requester, ScriptIdentity, SecretSpec, TemplateSpec } from './types.js';
import { buildWarnings, deliveryWarnings, fileWarnings } from './warnings.js';

/** The parts of a resolved profile the builder needs (see config/ResolvedProfile). */
export interface ProfileInput {
  readonly name: string;
  readonly reason: string | undefined;
  readonly ttlSeconds: number | undefined;
  /** The profile's own account, else the config's top-level account. */
  readonly account: string | undefined;
  /** Secrets and file secrets (`files:`, delivery file with its options). */
  readonly secrets: ReadonlyArray<{ alias: string; ref: string; name?: string; account: string | null; delivery?: 'env' | 'file'; file?: FileOptions }>;
  /** `templates:`: absolute template paths, the account of their references, the file options. */
  readonly templates?: ReadonlyArray<{ alias: string; path: string; account: string | null; file: FileOptions }>;
}

export interface BuildInput {
  /** argv after `--`. */
  readonly command: readonly string[];
  readonly reason: string | undefined;
  readonly ttl: string | undefined;
  readonly account: string | undefined;
  readonly overrideEnv: boolean;
  readonly allowMutableExecutable: boolean;
  readonly pristine: boolean;
  /** Whether the child's output will be masked (the planner decides; the human is shown it). */
  readonly mask: boolean;
  /** `--secret ALIAS=REF`, in the order given. */
  readonly secretFlags: readonly string[];
  /** `--file NAME=REF`, in the order given. */
  readonly fileFlags?: readonly string[];
  /** `--template NAME=PATH`, in the order given (PATH relative to callerCwd). */
  readonly templateFlags?: readonly string[];
  /** The caller's directory, which --template paths are relative to. */
  readonly callerCwd?: string;
  /** The text and SHA-256 of every template file (by absolute path) the planner read (templateReads). */
  readonly templateTexts?: ReadonlyMap<string, { text: string; sha256: string }>;
  /** Decides the default file mode (a FIFO on macOS) and the warnings about files on disk. */
  readonly platform?: NodeJS.Platform;
  /** `--only`, already split on commas; undefined when not given. */
  readonly only: readonly string[] | undefined;
  readonly profile: ProfileInput | null;
  readonly configPath: string | null;
  /** Top-level `account` of the discovered config, used for one-off and env-file refs. */
  readonly configAccount: string | undefined;
  readonly envFile: {
    readonly secrets: ReadonlyArray<{ alias: string; ref: string }>;
    readonly plain: ReadonlyArray<{ key: string }>;
  } | null;
  /** The caller's environment (names matter for conflicts; account variables are read). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface HostFacts {
  readonly executable: string;
  readonly executableIdentity: ExecutableIdentity;
  readonly cwd: string;
  readonly requester: Requester;
  readonly mutability: ReadonlyArray<{ path: string; problem: string }>;
  /** The files argv names (exec/script-identity.ts); none when left out. */
  readonly scripts?: readonly ScriptIdentity[];
  /** What makes each script replaceable by the caller, by script path. */
  readonly scriptMutability?: ReadonlyMap<string, ReadonlyArray<{ path: string; problem: string }>>;
  readonly scriptsTruncated?: boolean;
  /** Root caller only: the executable or scripts inside the project (exec/identity.ts findProjectFiles). */
  readonly rootProjectFiles?: ReadonlyArray<{ path: string; dir: string }>;
}

/** How many argv files a request pins (exec/script-identity.ts SCRIPT_LIMITS.maxFiles, which the protocol also bounds). */
export const MAX_SCRIPTS = 16;

/** With --pristine the child starts from only these variables of the caller's environment. */
export const PRISTINE_ENV_NAMES = ['PATH', 'HOME', 'USER', 'LANG', 'TERM', 'TMPDIR'] as const;

/** The caller's environment as the child would inherit it (before env-file entries and secrets). */
export function inheritedEnv(env: Readonly<Record<string, string | undefined>>, pristine: boolean): Record<string, string | undefined> {
  if (!pristine) return { ...env };
  return Object.fromEntries(PRISTINE_ENV_NAMES.filter((name) => env[name] !== undefined).map((name) => [name, env[name]]));
}

/**
 * How much argv an approval request carries: the human reads all of it in the prompt, and it
 * travels to the daemon in one frame (1 MiB, with everything else). The daemon's protocol
 * schemas use the same bounds.
 */
export const COMMAND_LIMITS = Object.freeze({ maxArgs: 4096, maxArgLength: 64 * 1024, maxJsonBytes: 512 * 1024 });

/** Builds the approval request, or throws an AgentSecretError naming the flag, alias or ref. */
export function buildRequest(input: BuildInput, facts: HostFacts): ApprovalRequest {
  if (input.command.length === 0 || input.command[0] === '') {
    throw new AgentSecretError('usage.missing_separator', 'the command to run is missing after --', {
      hint: 'for example: agent-secret exec --profile deploy -- terraform plan',
    });
  }
  checkCommandSize(input.command);

  const reason = parseReason(input.reason ?? input.profile?.reason);
  if (!reason.ok) throw new AgentSecretError('reason.invalid', `invalid reason: ${reason.message}`, { details: { flag: '--reason' } });

  const ttlSeconds = resolveTtl(input);
  const secrets = assembleSecrets(input);
  const templates = assembleTemplates(input, secrets);
  if (secrets.length === 0 && templates.length === 0) {
    throw new AgentSecretError('usage.invalid', 'no secrets requested', {
      hint: 'pass --profile NAME, --secret ALIAS=op://vault/item/field, --file NAME=op://vault/item/field, --template NAME=PATH, or --env-file PATH',
    });
  }

  const overriddenAliases = findConflicts(input, [...secrets, ...templates]);
  if (overriddenAliases.length > 0 && !input.overrideEnv) {
    throw new AgentSecretError(
      'exec.env_conflict',
      `${overriddenAliases.join(', ')} ${overriddenAliases.length === 1 ? 'is' : 'are'} already set in the environment`,
      { hint: 'unset it, pick another alias, or pass --override-env to replace it for the child', details: { alias: overriddenAliases[0] as string } },
    );
  }

  if (facts.mutability.length > 0 && !input.allowMutableExecutable) {
    const first = facts.mutability[0] as { path: string; problem: string };
    throw new AgentSecretError(
      'exec.mutable_executable',
      `refusing ${facts.executable}: ${first.path} is ${first.problem.replaceAll('_', ' ')}, so it could be swapped after approval`,
      {
        hint: 'install it where only root can write, list its install prefix under trusted_dirs in ~/.config/agent-secret/config.yml, or rerun with --allow-mutable-executable if you trust it',
        details: { flag: '--allow-mutable-executable' },
      },
    );
  }

  const warnings = buildWarnings({
    command: input.command,
    executable: facts.executable,
    secretCount: secretCount(secrets, templates),
    overriddenAliases,
    mutability: facts.mutability,
    plainEnvNames: input.envFile?.plain.map((p) => p.key) ?? [],
    callerEnvNames: inheritedNames(input, [...secrets, ...templates]),
    parentRequestId: input.env.AGENT_SECRET_REQUEST_ID || undefined,
  });
  warnings.push(...deliveryWarnings({ files: deliveredFiles(secrets, templates), platform: platformOf(input) }));
  const scripts = facts.scripts ?? [];
  warnings.push(
    ...fileWarnings({
      scripts: scripts.map((s) => ({ path: s.path, findings: facts.scriptMutability?.get(s.path) ?? [] })),
      scriptsTruncated: facts.scriptsTruncated === true,
      maxFiles: MAX_SCRIPTS,
      rootProjectFiles: facts.rootProjectFiles ?? [],
    }),
  );

  return deepFreeze({
    reason: reason.reason,
    command: [...input.command],
    executable: facts.executable,
    executableIdentity: { ...facts.executableIdentity },
    cwd: facts.cwd,
    secrets,
    templates,
    ttlSeconds,
    overrideEnv: input.overrideEnv,
    allowMutableExecutable: input.allowMutableExecutable,
    pristine: input.pristine,
    mask: input.mask,
    overriddenAliases,
    warnings,
    requester: { pid: facts.requester.pid, chain: facts.requester.chain.map((p) => ({ ...p })) },
    profile: input.profile?.name ?? null,
    configPath: input.configPath,
    plainEnvNames: [...new Set(input.envFile?.plain.map((p) => p.key) ?? [])].sort(),
    scripts: scripts.slice(0, MAX_SCRIPTS).map((s) => ({ ...s })),
  });
}

function resolveTtl(input: BuildInput): number {
  if (input.ttl !== undefined) {
    const ttl = parseTtl(input.ttl);
    if (!ttl.ok) throw new AgentSecretError('ttl.invalid', `invalid --ttl: ${ttl.message}`, { details: { flag: '--ttl' } });
    return ttl.seconds;
  }
  return input.profile?.ttlSeconds ?? DEFAULT_TTL_SECONDS;
}

// Order: profile secrets by alias, then --secret as given, then env-file secrets by alias.
function assembleSecrets(input: BuildInput): SecretSpec[] {
  const only = input.only === undefined ? undefined : new Set(input.only);
  if (only !== undefined) {
    if (input.profile === null && (input.envFile?.secrets.length ?? 0) === 0) {
      throw new AgentSecretError('usage.invalid', '--only needs a profile or --env-file references to filter', { details: { flag: '--only' } });
    }
    const known = new Set([...(input.profile?.secrets ?? []), ...(input.profile?.templates ?? []), ...(input.envFile?.secrets ?? [])].map((s) => s.alias));
    const missing = [...only].filter((a) => !known.has(a)).sort();
    if (missing.length > 0) {
      throw new AgentSecretError('usage.invalid', `--only names aliases that are not in the profile or env files: ${missing.join(', ')}`, {
        hint: `known aliases: ${[...known].sort().join(', ') || '(none)'}`,
        details: { flag: '--only', alias: missing[0] as string },
      });
    }
  }
  const keep = (alias: string) => only === undefined || only.has(alias);
  const fallback = {
    flag: input.account,
    agentSecretEnv: input.env.AGENT_SECRET_1PASSWORD_ACCOUNT,
    opEnv: input.env.OP_ACCOUNT,
  };
  const oneOffAccount = pickAccount({ profile: input.profile?.account, config: input.configAccount, ...fallback });

  const fromProfile: SecretSpec[] = [...(input.profile?.secrets ?? [])]
    .filter((s) => keep(s.alias))
    .sort((a, b) => compare(a.alias, b.alias))
    .map((s) => {
      const file = s.delivery === 'file' ? fileDelivery(s.file ?? {}, s.alias, s.alias, platformOf(input), null) : null;
      return specOf(s.alias, s.ref, identityOf(s.ref, s.account, pickAccount({ secret: s.account ?? undefined, ...fallback })), 'profile', file, s.name);
    });

  const fromFlags = (flag: '--secret' | '--file', texts: readonly string[]): SecretSpec[] =>
    texts.map((text) => {
      const { alias, value: ref } = splitAssignment(text, flag);
      checkAlias(alias, flag, flag === '--file' ? 'file' : 'env');
      const parsed = parseSecretRef(ref);
      if (!parsed.ok) {
        // A bare word is most likely a logical name from config.yml: those work only in a profile.
        const hint = !ref.includes('://') && SECRET_NAME.test(ref) ? `a logical name works only in a profile's secrets: (${alias}: { name: NAME }); here write the reference itself` : undefined;
        throw new AgentSecretError('ref.invalid', `invalid reference for ${alias} in ${flag}: ${parsed.message}`, { ...(hint === undefined ? {} : { hint }), details: { alias, flag } });
      }
      const file = flag === '--file' ? fileDelivery({}, alias, alias, platformOf(input), flag) : null;
      return specOf(alias, ref, identityOf(ref, null, oneOffAccount), 'flag', file);
    });

  const fromEnvFile: SecretSpec[] = [...(input.envFile?.secrets ?? [])]
    .filter((s) => keep(s.alias))
    .sort((a, b) => compare(a.alias, b.alias))
    .map((s) => specOf(s.alias, s.ref, identityOf(s.ref, null, oneOffAccount), 'env_file', null));

  const all = [...fromProfile, ...fromFlags('--secret', input.secretFlags), ...fromFlags('--file', input.fileFlags ?? []), ...fromEnvFile];
  const seen = new Map<string, SecretSpec>();
  for (const spec of all) {
    const earlier = seen.get(spec.alias);
    if (earlier !== undefined) {
      throw new AgentSecretError('alias.invalid', `duplicate alias ${spec.alias}: from ${label(earlier)} and ${label(spec)}`, {
        hint: 'each alias may be requested once; rename one of them or use --only',
        details: { alias: spec.alias },
      });
    }
    seen.set(spec.alias, spec);
  }
  return all;
}

// The provider is the reference's scheme (every reference here has passed parseSecretRef); file: how a file secret is laid out (null: an environment variable).
function specOf(alias: string, ref: string, account: string | null, source: SecretSpec['source'], file: FileDelivery | null, name?: string): SecretSpec {
  return { alias, ref, provider: schemeOf(ref) ?? 'op', ...(name === undefined ? {} : { name }), account, source, delivery: file === null ? 'env' : 'file', file };
}

function checkAlias(alias: string, flag: string, delivery: 'env' | 'file' = 'env'): void {
  const result = validateAlias(alias, delivery);
  if (!result.ok) throw new AgentSecretError('alias.invalid', `invalid alias in ${flag}: ${result.message}`, { details: { alias, flag } });
}

/** `NAME=VALUE` of --secret, --file and --template, trimmed; a usage error naming the flag otherwise. Pure. */
export function splitAssignment(text: string, flag: '--secret' | '--file' | '--template'): { alias: string; value: string } {
  const eq = text.indexOf('=');
  const alias = eq === -1 ? '' : text.slice(0, eq).trim();
  const value = eq === -1 ? '' : text.slice(eq + 1).trim();
  if (alias === '' || value === '') {
    const example = flag === '--secret' ? 'API_TOKEN=op://Example/Item/token or API_TOKEN=bws://SECRET_ID' : flag === '--file' ? 'KUBECONFIG=op://Infra/prod-cluster/kubeconfig' : 'NPM_CONFIG_USERCONFIG=./npmrc.tmpl';
    throw new AgentSecretError('usage.invalid', `${flag} must be ${flag === '--template' ? 'NAME=PATH' : flag === '--file' ? 'NAME=REF' : 'ALIAS=REF'}, for example ${example}`, { details: { flag } });
  }
  return { alias, value };
}

/**
 * The template files a request needs read: each --template path (absolute, against the caller's
 * directory) and the templates of the profile that --only keeps. The planner reads them and
 * hands their text to buildRequest as templateTexts. Pure.
 */
export function templateReads(input: Pick<BuildInput, 'templateFlags' | 'callerCwd' | 'only' | 'profile'>): string[] {
  const only = input.only === undefined ? undefined : new Set(input.only);
  const fromProfile = (input.profile?.templates ?? []).filter((t) => only === undefined || only.has(t.alias)).map((t) => t.path);
  const fromFlags = (input.templateFlags ?? []).map((text) => resolvePath(input.callerCwd ?? '/', splitAssignment(text, '--template').value));
  return [...new Set([...fromProfile, ...fromFlags])];
}

// Profile templates by alias, then --template in order; aliases must not repeat a secret's.
function assembleTemplates(input: BuildInput, secrets: readonly SecretSpec[]): TemplateSpec[] {
  const only = input.only === undefined ? undefined : new Set(input.only);
  const fallback = { flag: input.account, agentSecretEnv: input.env.AGENT_SECRET_1PASSWORD_ACCOUNT, opEnv: input.env.OP_ACCOUNT };
  const oneOffAccount = pickAccount({ profile: input.profile?.account, config: input.configAccount, ...fallback });
  const wanted = [
    ...[...(input.profile?.templates ?? [])]
      .filter((t) => only === undefined || only.has(t.alias))
      .sort((a, b) => compare(a.alias, b.alias))
      .map((t) => ({ alias: t.alias, path: t.path, account: pickAccount({ secret: t.account ?? undefined, ...fallback }), file: t.file, source: 'profile' as const, flag: null })),
    ...(input.templateFlags ?? []).map((text) => {
      const { alias, value } = splitAssignment(text, '--template');
      checkAlias(alias, '--template', 'file');
      return { alias, path: resolvePath(input.callerCwd ?? '/', value), account: oneOffAccount, file: {}, source: 'flag' as const, flag: '--template' as const };
    }),
  ];
  if (wanted.length > TEMPLATE_LIMITS.maxTemplates) {
    throw new AgentSecretError('usage.invalid', `a request may render at most ${TEMPLATE_LIMITS.maxTemplates} templates (${wanted.length} asked)`, { hint: 'use --only to pick the templates this command needs' });
  }
  const seen = new Map<string, string>(secrets.map((s) => [s.alias, label(s)]));
  return wanted.map((t) => {
    const earlier = seen.get(t.alias);
    if (earlier !== undefined) {
      throw new AgentSecretError('alias.invalid', `duplicate alias ${t.alias}: from ${earlier} and ${t.flag ?? 'the profile templates'}`, {
        hint: 'each alias may be requested once; rename one of them or use --only',
        details: { alias: t.alias },
      });
    }
    seen.set(t.alias, t.flag ?? 'the profile templates');
    const read = input.templateTexts?.get(t.path);
    if (read === undefined) throw new AgentSecretError('internal', `the template for ${t.alias} was not read before planning`, { details: { alias: t.alias, file: t.path } });
    if (Buffer.byteLength(read.text) > TEMPLATE_LIMITS.maxBytes) {
      throw new AgentSecretError('template.invalid', `template ${t.path} for ${t.alias} is larger than ${TEMPLATE_LIMITS.maxBytes / 1024} KiB`, {
        hint: 'a template is a small config file with {{ op://… }} placeholders',
        details: { alias: t.alias, file: t.path },
      });
    }
    const parsed = parseTemplate(read.text);
    if (!parsed.ok) {
      throw new AgentSecretError('template.invalid', `${t.path}:${parsed.line}:${parsed.col}: template for ${t.alias}: ${parsed.problem}`, {
        hint: 'placeholders are written {{ op://vault/item/field }}, as op inject reads them',
        details: { alias: t.alias, file: t.path, line: parsed.line, col: parsed.col },
      });
    }
    const file = fileDelivery(t.file, t.alias, templateFileName(basename(t.path), t.alias), platformOf(input), t.flag);
    return { alias: t.alias, path: t.path, sha256: read.sha256, text: read.text, refs: [...parsed.refs], account: t.account, source: t.source, file };
  });
}

function fileDelivery(options: FileOptions, alias: string, defaultName: string, platform: NodeJS.Platform, flag: string | null): FileDelivery {
  const result = fileDeliveryOf(options, { name: defaultName, platform });
  if (result.ok) return result.delivery;
  throw new AgentSecretError('usage.invalid', `invalid file delivery for ${alias}: ${result.message}`, { details: { alias, ...(flag === null ? {} : { flag }) } });
}

function platformOf(input: BuildInput): NodeJS.Platform {
  return input.platform ?? process.platform;
}

// What the "many secrets" warning counts: every value resolved, template references included.
function secretCount(secrets: readonly SecretSpec[], templates: readonly TemplateSpec[]): number {
  return secrets.length + templates.reduce((n, t) => n + t.refs.length, 0);
}

/** Every file-delivered alias of a request with its mode (file secrets, then templates). Pure. */
export function deliveredFiles(secrets: readonly SecretSpec[], templates: readonly TemplateSpec[]): Array<{ alias: string; mode: 'file' | 'fifo' }> {
  return [...secrets.flatMap((s) => (s.file === null ? [] : [{ alias: s.alias, mode: s.file.mode }])), ...templates.map((t) => ({ alias: t.alias, mode: t.file.mode }))];
}

// An alias clashes when the child's base environment (caller env + plain env-file entries,
// minus env-file secret aliases, which the env file itself is replacing) already has it.
function findConflicts(input: BuildInput, secrets: ReadonlyArray<{ alias: string; source: SecretSpec['source'] }>): string[] {
  const envFileAliases = new Set(input.envFile?.secrets.map((s) => s.alias) ?? []);
  const plainKeys = new Set(input.envFile?.plain.map((p) => p.key) ?? []);
  const inherited = inheritedEnv(input.env, input.pristine);
  return secrets
    .filter((s) => s.source !== 'env_file')
    .map((s) => s.alias)
    .filter((alias) => !envFileAliases.has(alias) && (inherited[alias] !== undefined || plainKeys.has(alias)))
    .sort(compare);
}

// The caller's variables the child really inherits: the inherited environment minus what the
// env file and the secrets put in their place.
function inheritedNames(input: BuildInput, secrets: ReadonlyArray<{ alias: string }>): string[] {
  const replaced = new Set([...(input.envFile?.plain.map((p) => p.key) ?? []), ...(input.envFile?.secrets.map((s) => s.alias) ?? []), ...secrets.map((s) => s.alias)]);
  const inherited = inheritedEnv(input.env, input.pristine);
  return Object.keys(inherited).filter((name) => inherited[name] !== undefined && !replaced.has(name));
}

function label(spec: Pick<SecretSpec, 'source' | 'delivery'>): string {
  return spec.source === 'env_file' ? 'an env file' : spec.source === 'flag' ? (spec.delivery === 'file' ? '--file' : '--secret') : 'the profile';
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

// Too much argv is a usage error here, not a protocol error at the daemon.
function checkCommandSize(command: readonly string[]): void {
  const longest = command.reduce((max, arg) => Math.max(max, arg.length), 0);
  const bytes = Buffer.byteLength(JSON.stringify(command));
  if (command.length <= COMMAND_LIMITS.maxArgs && longest <= COMMAND_LIMITS.maxArgLength && bytes <= COMMAND_LIMITS.maxJsonBytes) return;
  throw new AgentSecretError(
    'usage.invalid',
    `the command is too large for an approval request: ${command.length} arguments, the longest ${longest} characters, ${Math.ceil(bytes / 1024)} KiB in all (at most ${COMMAND_LIMITS.maxArgs} arguments of up to ${COMMAND_LIMITS.maxArgLength / 1024} KiB, ${COMMAND_LIMITS.maxJsonBytes / 1024} KiB in all)`,
    { hint: 'pass bulk data through a file or stdin instead of argv' },
  );
}
