// The `providers:` section of the user's own config.yml: the only place a provider program is
// declared, a Bitwarden Secrets Manager source gets its token, or a 1Password account is pointed
// at a service-account token. A project file cannot say any of it (config/schema-issues.ts
// refuses the key there). Tokens are never in this file: it names where each one is kept (a file
// of the user's, the macOS Keychain, the Secret Service); `agent-secret provider token set`
// puts it there. Issues carry key paths only, never a value of the file. Pure.

import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { validateAccount } from '../core/account.js';
import { BWS_SOURCE_NAME, isSchemeName, RESERVED_SCHEMES } from '../core/ref.js';

/** Where a token is kept. `file`: an absolute path; `keychain`/`secret_service`: the entry's name. */
export type TokenSource = { kind: 'file'; path: string } | { kind: 'keychain'; name: string } | { kind: 'secret_service'; name: string };

export interface ProgramProviderConfig {
  /** argv: an absolute program and its arguments. */
  command: string[];
  /** Longest a call may take (the request's deadline may cut it shorter). */
  timeoutMs: number;
}

export interface BwsSourceConfig {
  token: TokenSource;
  /** `--server-url` for bws (a self-hosted or EU server); unset: bws's default. */
  serverUrl: string | undefined;
}

export interface ProvidersConfig {
  op: {
    /** 1Password accounts (as a profile names them) resolved with a service-account token instead of the desktop app. */
    serviceAccounts: Record<string, { token: TokenSource }>;
  };
  bws: {
    /** The user config has a `providers.bws` section (doctor then reports bws failures as such). */
    declared: boolean;
    /** Absolute path of bws; unset: the first bws on PATH. */
    path: string | undefined;
    /** The source `bws://SECRET_ID` (no source named) uses. */
    defaultSource: string;
    sources: Record<string, BwsSourceConfig>;
  };
  /** Provider programs by scheme. */
  programs: Record<string, ProgramProviderConfig>;
}

/** One problem in the section: a key path below the file's top level and what is wrong. */
export interface ProviderIssue {
  path: Array<string | number>;
  problem: string;
  /** The problem is the key itself (an unknown or badly named key), not its value. */
  atKey?: boolean;
}

/** The name of the implicit bws source when the user config names none. */
export const DEFAULT_BWS_SOURCE = 'default';
/** A provider program call's time limit when the user config gives none. */
export const DEFAULT_PROGRAM_TIMEOUT_MS = 30_000;
const MAX_ENTRIES = 16;
const ENTRY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
const DURATION = /^([1-9][0-9]{0,3})(s|m)$/;

const noNul = (text: string) => !text.includes('\0');
const absolutePath = z
  .string({ error: 'must be a string' })
  .refine((p) => isAbsolute(p), { error: 'must be an absolute path' })
  .refine(noNul, { error: 'must not contain NUL' });
const entryName = z.string({ error: 'must be a string' }).regex(ENTRY_NAME, { error: 'must be 1-128 letters, digits, ".", "_", "@" or "-"' });

const TokenSchema = z
  .strictObject({ file: absolutePath.optional(), keychain: entryName.optional(), secret_service: entryName.optional() }, { error: 'must be a mapping with one of file:, keychain:, secret_service:' })
  .refine((t) => [t.file, t.keychain, t.secret_service].filter((v) => v !== undefined).length === 1, { error: 'set exactly one of file:, keychain:, secret_service:' });

const CommandSchema = z
  .array(z.string().min(1, { error: 'must not be empty' }).refine(noNul, { error: 'must not contain NUL' }), { error: 'must be a list of strings' })
  .min(1, { error: 'must name a program' })
  .max(64, { error: 'must have at most 64 elements' })
  .refine((argv) => argv[0] === undefined || isAbsolute(argv[0]), { error: 'the program (first element) must be an absolute path', path: [0] });

const ProgramSchema = z.strictObject(
  {
    command: CommandSchema,
    timeout: z
      .string({ error: 'must be a duration such as 30s' })
      .refine((t) => parseProgramTimeout(t) !== null, { error: 'must be a duration between 1s and 10m, such as 30s' })
      .optional(),
  },
  { error: 'must be a mapping with command: [/absolute/program, args…]' },
);

const BwsSourceSchema = z.strictObject(
  {
    token: TokenSchema.optional(),
    server_url: z
      .string({ error: 'must be a string' })
      .refine((u) => /^https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~/-]*)?$/.test(u), { error: 'must be an https:// URL such as https://vault.bitwarden.eu' })
      .optional(),
  },
  { error: 'must be a mapping (token:, server_url:)' },
);

const BwsSchema = z.strictObject(
  {
    path: absolutePath.optional(),
    default_source: z.string({ error: 'must be a string' }).optional(),
    sources: z.record(z.string(), BwsSourceSchema, { error: 'must be a mapping of source names' }).optional(),
  },
  { error: 'must be a mapping (path:, default_source:, sources:)' },
);

const OpSchema = z.strictObject(
  {
    service_accounts: z.record(z.string(), z.strictObject({ token: TokenSchema.optional() }, { error: 'must be a mapping (token:)' }), { error: 'must be a mapping of account names' }).optional(),
  },
  { error: 'must be a mapping (service_accounts:)' },
);

/** Parses `30s`, `2m` within 1s..10m; null otherwise. Pure. */
export function parseProgramTimeout(text: string): number | null {
  const match = DURATION.exec(text);
  if (match === null) return null;
  const ms = Number(match[1]) * (match[2] === 'm' ? 60_000 : 1_000);
  return ms >= 1_000 && ms <= 600_000 ? ms : null;
}

/** The default file a token is kept in when the user config names no place: `<config dir>/tokens/<provider>.<name>`. Pure. */
export function defaultTokenFile(configPath: string, provider: 'op' | 'bws', name: string): TokenSource {
  return { kind: 'file', path: join(configPath, '..', 'tokens', `${provider}.${name}`) };
}

/** The providers a user config without a `providers:` section has: op through the desktop app, one bws source. */
export function defaultProviders(configPath: string): ProvidersConfig {
  return {
    op: { serviceAccounts: {} },
    bws: { declared: false, path: undefined, defaultSource: DEFAULT_BWS_SOURCE, sources: { [DEFAULT_BWS_SOURCE]: { token: defaultTokenFile(configPath, 'bws', DEFAULT_BWS_SOURCE), serverUrl: undefined } } },
    programs: {},
  };
}

/** Reads the `providers:` value of a user config; the issues name key paths below `providers`. Pure. */
export function parseProviders(raw: unknown, configPath: string): { value: ProvidersConfig; issues: ProviderIssue[] } {
  const value = defaultProviders(configPath);
  const issues: ProviderIssue[] = [];
  if (raw === undefined) return { value, issues };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { value, issues: [{ path: [], problem: 'must be a mapping of provider schemes (op, bws, or a program scheme such as vault)' }] };
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  const programs = entries.filter(([key]) => key !== 'op' && key !== 'bws');
  if (programs.length > MAX_ENTRIES) issues.push({ path: [], problem: `declares ${programs.length} provider programs; at most ${MAX_ENTRIES} are allowed` });
  for (const [key, entry] of entries) {
    if (key === 'op') readOp(entry, configPath, value, issues);
    else if (key === 'bws') readBws(entry, configPath, value, issues);
    else readProgram(key, entry, value, issues);
  }
  return { value, issues };
}

function zodIssues(result: z.ZodSafeParseResult<unknown>, base: Array<string | number>): ProviderIssue[] {
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const path = [...base, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
    if (issue.code === 'unrecognized_keys') return { path: [...path, issue.keys[0] ?? ''], problem: 'unknown key', atKey: true };
    return { path, problem: issue.message };
  });
}

function tokenOf(token: { file?: string | undefined; keychain?: string | undefined; secret_service?: string | undefined } | undefined, fallback: TokenSource): TokenSource {
  if (token?.file !== undefined) return { kind: 'file', path: token.file };
  if (token?.keychain !== undefined) return { kind: 'keychain', name: token.keychain };
  if (token?.secret_service !== undefined) return { kind: 'secret_service', name: token.secret_service };
  return fallback;
}

function readProgram(scheme: string, entry: unknown, value: ProvidersConfig, issues: ProviderIssue[]): void {
  if (!isSchemeName(scheme)) {
    issues.push({ path: [scheme], problem: 'a provider scheme is 1-32 lower-case letters, digits or "-", starting with a letter', atKey: true });
    return;
  }
  if (RESERVED_SCHEMES.has(scheme)) {
    issues.push({ path: [scheme], problem: `${scheme} cannot be a provider program's scheme (it is a URL scheme or agent-secret's own)`, atKey: true });
    return;
  }
  const result = ProgramSchema.safeParse(entry);
  issues.push(...zodIssues(result, [scheme]));
  if (!result.success) return;
  const timeout = result.data.timeout === undefined ? null : parseProgramTimeout(result.data.timeout);
  value.programs[scheme] = { command: [...result.data.command], timeoutMs: timeout ?? DEFAULT_PROGRAM_TIMEOUT_MS };
}

function readBws(entry: unknown, configPath: string, value: ProvidersConfig, issues: ProviderIssue[]): void {
  const result = BwsSchema.safeParse(entry);
  issues.push(...zodIssues(result, ['bws']));
  if (!result.success) return;
  const names = Object.keys(result.data.sources ?? {});
  if (names.length > MAX_ENTRIES) issues.push({ path: ['bws', 'sources'], problem: `names ${names.length} sources; at most ${MAX_ENTRIES} are allowed` });
  const sources: Record<string, BwsSourceConfig> = {};
  for (const [name, source] of Object.entries(result.data.sources ?? {})) {
    if (!BWS_SOURCE_NAME.test(name)) {
      issues.push({ path: ['bws', 'sources', name], problem: 'a source name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit', atKey: true });
      continue;
    }
    sources[name] = { token: tokenOf(source.token, defaultTokenFile(configPath, 'bws', name)), serverUrl: source.server_url };
  }
  const declared = Object.keys(sources);
  const wanted = result.data.default_source;
  let defaultSource = declared.length === 1 ? (declared[0] as string) : DEFAULT_BWS_SOURCE;
  if (wanted !== undefined) {
    if (declared.length > 0 && !Object.hasOwn(sources, wanted)) issues.push({ path: ['bws', 'default_source'], problem: `names no source under bws.sources (${declared.join(', ')})` });
    else if (!BWS_SOURCE_NAME.test(wanted)) issues.push({ path: ['bws', 'default_source'], problem: 'a source name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit' });
    defaultSource = wanted;
  } else if (declared.length > 1 && !Object.hasOwn(sources, DEFAULT_BWS_SOURCE)) {
    issues.push({ path: ['bws', 'sources'], problem: `names ${declared.length} sources; set bws.default_source to the one bws://SECRET_ID uses`, atKey: true });
  }
  // With no sources listed, the default one keeps its default token file.
  if (declared.length === 0) sources[defaultSource] = { token: defaultTokenFile(configPath, 'bws', defaultSource), serverUrl: undefined };
  value.bws = { declared: true, path: result.data.path, defaultSource, sources };
}

function readOp(entry: unknown, configPath: string, value: ProvidersConfig, issues: ProviderIssue[]): void {
  const result = OpSchema.safeParse(entry);
  issues.push(...zodIssues(result, ['op']));
  if (!result.success) return;
  const accounts = Object.entries(result.data.service_accounts ?? {});
  if (accounts.length > MAX_ENTRIES) issues.push({ path: ['op', 'service_accounts'], problem: `names ${accounts.length} accounts; at most ${MAX_ENTRIES} are allowed` });
  for (const [account, settings] of accounts) {
    if (!validateAccount(account).ok || !ENTRY_NAME.test(account)) {
      issues.push({ path: ['op', 'service_accounts', account], problem: 'an account name is 1-128 letters, digits, ".", "_", "@" or "-", as a profile names it', atKey: true });
      continue;
    }
    value.op.serviceAccounts[account] = { token: tokenOf(settings.token, defaultTokenFile(configPath, 'op', account)) };
  }
}

/** The providers of a loaded user config: its `providers:` section, or the defaults. Pure. */
export function providersOf(config: { path: string; providers?: ProvidersConfig | undefined }): ProvidersConfig {
  return config.providers ?? defaultProviders(config.path);
}
