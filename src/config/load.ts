// The config pipeline (read → YAML → schema → rules → normalize) for agent-secret.yml, which
// the repo controls and so is untrusted. All problems are collected and sorted by position;
// messages carry file:line:col, key paths and expected shapes, never a value or a source line.

import { dirname, isAbsolute, resolve } from 'node:path';
import type { FileMode, FileOptions } from '../core/delivery.js';
import { AgentSecretError } from '../core/errors.js';
import { parseReason } from '../core/reason.js';
import { schemeOf } from '../core/ref.js';
import { checkBindNames, type BindingPolicy } from '../core/session-bind.js';
import { parseTtl } from '../core/ttl.js';
import { formatIssueLine, positionIssues, yamlIssues } from './issues.js';
import { byAlias } from './name-list.js';
import { readSmallTextFile } from './read-file.js';
import { ruleIssues } from './rules.js';
import { configFileSchema, type ConfigFileData } from './schema.js';
import { schemaIssues } from './schema-issues.js';
import type { ConfigIssue, ConfigIssueCode, ProfileDefinition, ProjectConfig, SecretEntry, TemplateEntry } from './types.js';
import { checkYamlLimits } from './yaml-limits.js';
import { keysInOrder, MAX_ALIAS_COUNT, parseYamlText, type ParsedYaml } from './yaml-positions.js';

const LIMIT_HINT = 'agent-secret refuses files of this shape before parsing them; a profile file needs far less (docs/security.md, "Limits")';

export type ParseConfigResult = { ok: true; config: ProjectConfig } | { ok: false; issues: ConfigIssue[] };

/** Parses and validates config text; `file` is used in issues as given and, made absolute, as the config's path. Never throws. */
export function parseConfigText(text: string, file: string): ParseConfigResult {
  // Shape limits first: the parser must never see a file that could stall or exhaust it.
  const over = checkYamlLimits(text);
  if (over !== null) {
    const position = { line: over.line, col: over.col };
    return { ok: false, issues: [{ code: 'yaml.limit', message: formatIssueLine(file, position, '', `the file ${over.problem}`), file, ...position, hint: LIMIT_HINT }] };
  }
  let parsed: ParsedYaml & { problems: Parameters<typeof yamlIssues>[0] };
  try {
    parsed = parseYamlText(text);
  } catch (error) {
    // Stack exhaustion on pathological nesting; anything else is a bug and must surface.
    if (!(error instanceof RangeError)) throw error;
    return { ok: false, issues: [wholeFileIssue(file, 'yaml.syntax', 'the YAML is too deeply nested to read')] };
  }
  if (parsed.problems.length > 0) return { ok: false, issues: yamlIssues(parsed.problems, file) };

  let data: unknown;
  try {
    data = parsed.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch {
    return { ok: false, issues: [wholeFileIssue(file, 'yaml.alias', `aliases (*name) expand too often (more than ${MAX_ALIAS_COUNT} times); write the entries out or use include:`)] };
  }
  const checked = configFileSchema.safeParse(data);
  const raw = [...(checked.success ? [] : schemaIssues(checked.error.issues, data)), ...ruleIssues(data)];
  if (raw.length > 0 || !checked.success) return { ok: false, issues: positionIssues(raw, parsed, file) };
  return { ok: true, config: normalize(checked.data, keysInOrder(parsed, ['profiles']), isAbsolute(file) ? file : resolve(file)) };
}

/** Reads and validates the config at `path`; throws one AgentSecretError('config.invalid') naming the first problem and how many more there are. */
export async function loadConfig(path: string): Promise<ProjectConfig> {
  const file = resolve(path);
  const text = await readSmallTextFile(file, 'config');
  const result = parseConfigText(text, file);
  if (result.ok) return result.config;
  throw configError(result.issues, file);
}

// The single error for a failed load: the first issue in full, the count of the rest, and their lines.
function configError(issues: readonly ConfigIssue[], file: string): AgentSecretError {
  const [first, ...rest] = issues;
  if (first === undefined) return new AgentSecretError('config.invalid', `${file}: invalid config`, { details: { file } });
  const more = rest.length === 0 ? '' : ` (and ${rest.length} more problem${rest.length === 1 ? '' : 's'})`;
  const lines = [...new Set(rest.flatMap((issue) => (issue.line === undefined ? [] : [issue.line])))];
  const elsewhere = lines.length === 0 ? undefined : `other problems at line${lines.length === 1 ? '' : 's'} ${clipList(lines)}`;
  const hint = [first.hint, elsewhere].filter((part) => part !== undefined).join('; ');
  return new AgentSecretError('config.invalid', `${first.message}${more}`, {
    ...(hint === '' ? {} : { hint }),
    details: {
      file: first.file,
      ...(first.line === undefined ? {} : { line: first.line }),
      ...(first.col === undefined ? {} : { col: first.col }),
      ...(first.key === undefined ? {} : { key: first.key }),
    },
  });
}

function clipList(lines: readonly number[]): string {
  return lines.length > 8 ? `${lines.slice(0, 8).join(', ')}, …` : lines.join(', ');
}

function wholeFileIssue(file: string, code: ConfigIssueCode, problem: string): ConfigIssue {
  return { code, message: `${file}:1:1: ${problem}`, file, line: 1, col: 1 };
}

// Only reached when schema and rules found nothing, so every parse below succeeds.
function normalize(data: ConfigFileData, order: readonly string[], path: string): ProjectConfig {
  const profiles = new Map<string, ProfileDefinition>();
  const names = order.filter((name) => Object.hasOwn(data.profiles, name));
  for (const name of names) {
    const profile = data.profiles[name];
    if (profile === undefined) continue;
    const reason = profile.reason === undefined ? undefined : parseReason(profile.reason);
    const ttl = profile.ttl === undefined ? undefined : parseTtl(profile.ttl);
    const secrets: SecretEntry[] = Object.entries(profile.secrets ?? {}).map(([alias, entry]) => {
      const secret = entry as string | { ref?: string; account?: string; name?: string };
      // A logical name: the planner fills in its reference from the user config (config/user-names.ts).
      if (typeof secret !== 'string' && secret.name !== undefined) return { alias, ref: '', name: secret.name, account: profile.account ?? data.account ?? null };
      const ref = typeof secret === 'string' ? secret : (secret.ref as string);
      const own = typeof secret === 'string' ? undefined : secret.account;
      // The profile's and the file's account are 1Password's; other providers take only a secret's own.
      const inherited = schemeOf(ref) === 'op' ? (profile.account ?? data.account) : undefined;
      return { alias, ref, account: own ?? inherited ?? null };
    });
    for (const [alias, entry] of Object.entries(profile.files ?? {})) {
      const ref = typeof entry === 'string' ? entry : entry.ref;
      const own = typeof entry === 'string' ? undefined : entry.account;
      secrets.push({ alias, ref, account: own ?? profile.account ?? data.account ?? null, delivery: 'file', file: fileOptionsOf(entry) });
    }
    // A template path is relative to the config file, wherever exec runs.
    const templates: TemplateEntry[] = Object.entries(profile.templates ?? {}).map(([alias, entry]) => {
      const where = typeof entry === 'string' ? entry : entry.path;
      const own = typeof entry === 'string' ? undefined : entry.account;
      return { alias, path: resolve(dirname(path), where), account: own ?? profile.account ?? data.account ?? null, file: fileOptionsOf(entry) };
    });
    profiles.set(name, {
      name,
      reason: reason?.ok === true ? reason.reason : undefined,
      ttlSeconds: ttl?.ok === true ? ttl.seconds : undefined,
      mask: profile.mask,
      account: profile.account,
      ...(profile.session?.bind === undefined ? {} : { sessionBind: bindingOf(profile.session.bind) }),
      include: [...(profile.include ?? [])],
      secrets: secrets.sort(byAlias),
      templates: templates.sort(byAlias),
    });
  }
  return { path, account: data.account, defaultProfile: data.default_profile, profileNames: [...profiles.keys()], profiles };
}

// Rules have checked every value: mode is file or fifo, max_reads a whole number with mode fifo.
function fileOptionsOf(entry: string | { name?: string | undefined; mode?: string | undefined; max_reads?: number | undefined }): FileOptions {
  if (typeof entry === 'string') return {};
  return {
    ...(entry.name === undefined ? {} : { name: entry.name }),
    ...(entry.mode === undefined ? {} : { mode: entry.mode as FileMode }),
    ...(entry.max_reads === undefined ? {} : { maxReads: entry.max_reads }),
  };
}

// Rules have checked the shape and every value: a word is auto or parent, a mapping has one key.
function bindingOf(bind: string | { ancestor?: number | undefined; ancestor_name?: string | undefined; ancestor_names?: string[] | undefined }): BindingPolicy {
  if (typeof bind === 'string') return bind === 'parent' ? { mode: 'ancestor', depth: 1 } : { mode: 'auto' };
  if (bind.ancestor !== undefined) return { mode: 'ancestor', depth: bind.ancestor as 1 | 2 | 3 };
  const names = bind.ancestor_names ?? (bind.ancestor_name === undefined ? [] : [bind.ancestor_name]);
  const checked = checkBindNames(names);
  return { mode: 'ancestor_name', names: checked.ok ? checked.value : [] };
}
