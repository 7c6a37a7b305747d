// The user's own config, `$XDG_CONFIG_HOME/agent-secret/config.yml`: the ONLY place an approver,
// op_path and the secret providers (config/user-providers.ts) can be chosen — never a flag, an env var or a project file, which the agent
// controls. The file is the trust anchor, so it must be a regular, non-symlink file of the
// user's, not writable by others; errors are positioned and never echo the file's content.

import { errnoOf, lstatOrNull } from '../platform/fs.js';
import { constants, type Stats } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { basename, dirname, isAbsolute } from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { shellQuote } from '../core/display-text.js';
import { AgentSecretError } from '../core/errors.js';
import { chownCommand } from './file-trust.js';
import { policyPath, userConfigPath, type DirsInput } from '../platform/dirs.js';
import { parsePolicy, type KeyPath } from '../policy/parse.js';
import type { Policy } from '../policy/types.js';
import { duplicateKeyOffsets } from './unique-keys.js';
import { parseNames, type NameRegistry } from './user-names.js';
import { parseProviders, type ProviderIssue, type ProvidersConfig } from './user-providers.js';
import { checkYamlLimits } from './yaml-limits.js';

export type ApproverSetting = 'auto' | 'macos' | 'zenity' | 'kdialog' | 'tty' | 'console' | 'none' | { command: string[] };

export interface UserConfig {
  path: string;
  exists: boolean;
  approver: ApproverSetting;
  opPath: string | undefined;
  touchId: boolean;
  /** Absolute install prefixes whose executables are trusted although the user owns them. */
  trustedDirs: string[];
  /** `daemon_idle_timeout`: how long an idle daemon waits before it exits, in ms (unset: the default). */
  daemonIdleMs?: number;
  /** The rules of policy.yml or of this file's `policy:` section; null when there are none. */
  policy: Policy | null;
  /** The `providers:` section, when the file has one (config/user-providers.ts `providersOf` gives the defaults otherwise). */
  providers?: ProvidersConfig;
  /** The `names:` section: logical secret names and the references they stand for (unset: none). */
  names?: NameRegistry;
}

/** `daemon_idle_timeout` bounds: 10 seconds .. 7 days. */
const IDLE_PATTERN = /^([1-9][0-9]{0,6})(s|m|h|d)$/;
const IDLE_UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const MIN_IDLE_MS = 10_000;
const MAX_IDLE_MS = 7 * 86_400_000;

/** Parses `30s`, `10m`, `2h`, `1d` within 10s..7d; null otherwise. Pure. */
export function parseIdleTimeout(text: string): number | null {
  const match = IDLE_PATTERN.exec(text);
  if (match === null) return null;
  const ms = Number(match[1]) * IDLE_UNIT_MS[match[2] as keyof typeof IDLE_UNIT_MS];
  return ms >= MIN_IDLE_MS && ms <= MAX_IDLE_MS ? ms : null;
}

/** Largest user config accepted, in bytes. */
export const MAX_USER_CONFIG_BYTES = 64 * 1024;

const APPROVER_NAMES = ['auto', 'macos', 'zenity', 'kdialog', 'tty', 'console', 'none'] as const;
const APPROVER_PROBLEM = `must be one of ${APPROVER_NAMES.join(', ')}, or {command: [/absolute/path/to/program, args…]}`;
const HINT = 'fix ~/.config/agent-secret/config.yml (see README "Approvers"), or remove it to use the defaults';

const noNul = (text: string) => !text.includes('\0');

const CommandSchema = z
  .array(z.string().min(1, { error: 'must not be empty' }).refine(noNul, { error: 'must not contain NUL' }), { error: 'must be a list of strings' })
  .min(1, { error: 'must name a program' })
  .max(64, { error: 'must have at most 64 elements' })
  .refine((argv) => argv[0] === undefined || isAbsolute(argv[0]), { error: 'the program (first element) must be an absolute path', path: [0] });

const ApproverObjectSchema = z.strictObject({ command: CommandSchema });
const ApproverNameSchema = z.enum(APPROVER_NAMES, { error: APPROVER_PROBLEM });

const UserConfigSchema = z.strictObject({
  version: z.literal(1, { error: (issue) => (issue.input === undefined ? 'is required' : 'must be 1') }),
  // Checked by approverIssues, so that `{command: [relative]}` gets its own precise message.
  approver: z.unknown().optional(),
  op_path: z
    .string({ error: 'must be a string' })
    .refine((p) => isAbsolute(p), { error: 'must be an absolute path' })
    .refine(noNul, { error: 'must not contain NUL' })
    .optional(),
  touch_id: z.boolean({ error: 'must be true or false' }).optional(),
  // Install prefixes the human trusts even though they own them (Homebrew, nvm, npm globals):
  // executables under them are not refused as mutable. Only this file can say so.
  trusted_dirs: z
    .array(
      z
        .string({ error: 'must be a string' })
        .refine((p) => isAbsolute(p), { error: 'must be an absolute path' })
        .refine(noNul, { error: 'must not contain NUL' }),
      { error: 'must be a list of absolute paths' },
    )
    .max(32, { error: 'at most 32 entries' })
    .optional(),
  daemon_idle_timeout: z
    .string({ error: 'must be a duration such as 10m' })
    .refine((t) => parseIdleTimeout(t) !== null, { error: 'must be a duration between 10s and 7d, such as 30m or 2h' })
    .optional(),
  // Checked by policy/parse.ts, with positions of its own.
  policy: z.unknown().optional(),
  // Checked by parseProviders (config/user-providers.ts): each key chooses its own shape.
  providers: z.unknown().optional(),
  // Checked by parseNames (config/user-names.ts): the keys are the user's own names.
  names: z.unknown().optional(),
});

/** Loads and validates the user config; a missing file gives the defaults. */
export async function loadUserConfig(input: DirsInput): Promise<UserConfig> {
  const path = userConfigPath(input);
  const text = await readTrustedFile(path);
  const parsed = text === null ? null : parseUserConfig(text, path);
  // policy.yml is read with the same checks: it decides who gets secrets without asking.
  const filePath = policyPath(input);
  const policyText = await readTrustedFile(filePath);
  const fromFile = policyText === null ? null : parsePolicyFile(policyText, filePath);
  if (fromFile !== null && parsed?.policy != null) {
    throw new AgentSecretError('user_config.invalid', `${filePath}: a policy is also in the policy: section of ${path}; keep one of them`, {
      hint: 'move the rules into one place, then run agent-secret policy check',
      details: { file: filePath },
    });
  }
  if (parsed === null) return { path, exists: false, approver: 'auto', opPath: undefined, touchId: true, trustedDirs: [], policy: fromFile };
  return { path, exists: true, ...parsed, policy: fromFile ?? parsed.policy };
}

/**
 * A loader for a process that reads the user config at every request (the daemon): the file is
 * read and parsed again only when it or its directory changed (lstat: device, inode, size,
 * mode, owner, mtime, ctime), so the checks and the parse are those of loadUserConfig.
 */
export function createUserConfigLoader(): (input: DirsInput) => Promise<UserConfig> {
  let last: { key: string; config: UserConfig } | null = null;
  return async (input) => {
    const path = userConfigPath(input);
    const key = changeKey(path, policyPath(input));
    if (key !== null && last?.key === key) return last.config;
    const config = await loadUserConfig(input);
    last = key === null ? null : { key, config };
    return config;
  };
}

// Two synchronous lstat calls: the daemon asks on every exec, for its own user's config directory.
function changeKey(path: string, policy: string): string | null {
  const file = lstatOrNull(path);
  const dir = lstatOrNull(dirname(path));
  if (file === null || dir === null) return null;
  const of = (s: Stats | null) => (s === null ? 'none' : [s.dev, s.ino, s.size, s.mode, s.uid, s.mtimeMs, s.ctimeMs].join(':'));
  return `${path}\0${of(file)}\0${of(dir)}\0${of(lstatOrNull(policy))}`;
}


/** What `policy check` reports: where the policy is, and every problem of it, positioned. */
export interface PolicyReport {
  /** policy.yml, config.yml (its policy: section), both (an error), or neither. */
  sources: string[];
  problems: Array<{ file: string; line: number; col: number; key: string; problem: string }>;
}

/** Reads policy.yml and config.yml as loadUserConfig does and lists every policy problem in them. */
export async function checkUserPolicy(input: DirsInput): Promise<PolicyReport> {
  const sources: string[] = [];
  const problems: PolicyReport['problems'] = [];
  const configPath = userConfigPath(input);
  const configText = await readTrustedFile(configPath);
  if (configText !== null) {
    const { data } = readYaml(configText, configPath);
    if ((data as Record<string, unknown>).policy != null) {
      sources.push(configPath);
      problems.push(...policyProblems(configText, configPath, true).map((p) => ({ file: configPath, ...p })));
    }
  }
  const filePath = policyPath(input);
  const fileText = await readTrustedFile(filePath);
  if (fileText !== null) {
    sources.push(filePath);
    const { data } = readYaml(fileText, filePath);
    if ((data as Record<string, unknown>).version === undefined) problems.push({ file: filePath, line: 1, col: 1, key: 'version', problem: 'is required: the file starts with "version: 1"' });
    problems.push(...policyProblems(fileText, filePath, false).map((p) => ({ file: filePath, ...p })));
  }
  if (sources.length === 2) problems.push({ file: filePath, line: 1, col: 1, key: '(top level)', problem: `a policy is also in the policy: section of ${configPath}; keep one of them` });
  return { sources, problems };
}

/** Validates the text of a user config; throws user_config.invalid with a position. Pure. */
export function parseUserConfig(text: string, path: string): Omit<UserConfig, 'path' | 'exists'> {
  const { data, doc, lineCounter } = readYaml(text, path);
  const result = UserConfigSchema.safeParse(data);
  const approver = parseApprover((data as Record<string, unknown>).approver);
  const rawProviders = (data as Record<string, unknown>).providers;
  const providers = parseProviders(rawProviders, path);
  const names = parseNames((data as Record<string, unknown>).names, Object.keys(providers.value.programs));
  const issues = [...(result.success ? [] : result.error.issues), ...approver.issues];
  if (!result.success || issues.length > 0 || providers.issues.length > 0 || names.issues.length > 0) {
    const problems = [
      ...issues.map((issue) => describeIssue(issue, doc, lineCounter)),
      ...providers.issues.map((issue) => describeSectionIssue('providers', issue, doc, lineCounter)),
      ...names.issues.map((issue) => describeSectionIssue('names', issue, doc, lineCounter)),
    ];
    throwFirst(path, problems);
  }
  const idle = result.data?.daemon_idle_timeout === undefined ? null : parseIdleTimeout(result.data.daemon_idle_timeout);
  const section = (data as Record<string, unknown>).policy;
  return {
    approver: approver.value,
    opPath: result.data?.op_path,
    touchId: result.data?.touch_id ?? true,
    trustedDirs: result.data?.trusted_dirs ?? [],
    ...(idle === null ? {} : { daemonIdleMs: idle }),
    ...(rawProviders === undefined ? {} : { providers: providers.value }),
    ...(names.value.size === 0 ? {} : { names: names.value }),
    policy: section === undefined || section === null ? null : policyOf(section, path, ['policy'], doc, lineCounter),
  };
}

/** Validates the text of policy.yml (`version: 1` and `rules:`); throws user_config.invalid with a position. Pure. */
export function parsePolicyFile(text: string, path: string): Policy {
  const { data, doc, lineCounter } = readYaml(text, path);
  if ((data as Record<string, unknown>).version === undefined) throw invalid(path, positionOf(doc, lineCounter, []), 'version', 'is required: the file starts with "version: 1"');
  return policyOf(data, path, [], doc, lineCounter);
}

/** Every problem of a policy text, positioned, first in the file first (for `policy check`). Pure. */
export function policyProblems(text: string, path: string, section: boolean): Array<{ line: number; col: number; key: string; problem: string }> {
  const { data, doc, lineCounter } = readYaml(text, path);
  const prefix: KeyPath = section ? ['policy'] : [];
  const target = section ? (data as Record<string, unknown>).policy : data;
  const lineOf = (p: KeyPath) => positionOf(doc, lineCounter, p).line;
  const { problems } = parsePolicy(target, path, prefix, lineOf);
  return sortProblems(problems.map((p) => locate(p.path, p.problem, doc, lineCounter))).map((p) => ({ ...p.pos, key: p.key, problem: p.problem }));
}

function policyOf(data: unknown, path: string, prefix: KeyPath, doc: Document, lc: LineCounter): Policy {
  const { policy, problems } = parsePolicy(data, path, prefix, (p) => positionOf(doc, lc, p).line);
  if (problems.length > 0) throwFirst(path, problems.map((p) => locate(p.path, p.problem, doc, lc)), 'run agent-secret policy check to see every problem; docs/policy.md describes the rules');
  return policy;
}

// An unknown key points at the key itself, anything else at its value.
function locate(path: KeyPath, problem: string, doc: Document, lc: LineCounter): Problem {
  const key = path.length === 0 ? '(top level)' : path.map(String).map(printableKey).join('.');
  if (problem === 'unknown key' && path.length > 0) return { pos: keyPositionOf(doc, lc, path.slice(0, -1), String(path[path.length - 1])), key, problem };
  return { pos: positionOf(doc, lc, path), key, problem };
}

function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
}

function throwFirst(path: string, problems: Problem[], hint = HINT): never {
  const [first, ...rest] = sortProblems(problems) as [Problem, ...Problem[]];
  const more = rest.length === 0 ? '' : ` (and ${rest.length} more problem${rest.length === 1 ? '' : 's'})`;
  throw new AgentSecretError('user_config.invalid', `${path}:${first.pos.line}:${first.pos.col}: ${first.key}: ${first.problem}${more}`, {
    hint,
    details: { file: path, line: first.pos.line, col: first.pos.col, key: first.key },
  });
}

// Limits, YAML, duplicate keys, aliases, a mapping at the top: the checks every file of ours gets.
function readYaml(text: string, path: string): { data: object; doc: Document; lineCounter: LineCounter } {
  // The same shape limits as a project config, checked before the parser sees the text.
  const over = checkYamlLimits(text);
  if (over !== null) throw invalid(path, over, 'yaml', `the file ${over.problem}`);
  const lineCounter = new LineCounter();
  // yaml's duplicate-key check is quadratic; duplicateKeyOffsets does it in one pass.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, schema: 'core', strict: true });
  const yamlError = firstYamlError(doc);
  if (yamlError !== undefined) {
    const pos = lineCounter.linePos(yamlError.offset);
    throw invalid(path, pos, 'yaml', `not valid YAML (${yamlError.code.toLowerCase().replaceAll('_', ' ')})`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 }) ?? {};
  } catch {
    throw invalid(path, { line: 1, col: 1 }, 'yaml', 'not valid YAML (too many aliases)');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw invalid(path, positionOf(doc, lineCounter, []), 'yaml', 'the file must be a mapping such as "version: 1"');
  }
  return { data, doc, lineCounter };
}

function describeSectionIssue(section: 'providers' | 'names', issue: ProviderIssue, doc: Document, lc: LineCounter): Problem {
  const path = [section, ...issue.path];
  const key = path.map(String).map(printableKey).join('.');
  const name = path.at(-1);
  const pos = issue.atKey === true && typeof name === 'string' ? keyPositionOf(doc, lc, path.slice(0, -1), name) : positionOf(doc, lc, path);
  return { pos, key, problem: issue.problem };
}

// The first syntax error or duplicate key, whichever comes first in the file.
function firstYamlError(doc: Document): { code: string; offset: number } | undefined {
  const error = doc.errors[0];
  const duplicate = duplicateKeyOffsets(doc)[0];
  const found = error === undefined ? undefined : { code: error.code as string, offset: error.pos[0] };
  if (duplicate === undefined || (found !== undefined && found.offset <= duplicate)) return found;
  return { code: 'DUPLICATE_KEY', offset: duplicate };
}

function parseApprover(raw: unknown): { value: ApproverSetting; issues: z.core.$ZodIssue[] } {
  if (raw === undefined) return { value: 'auto', issues: [] };
  const schema = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? ApproverObjectSchema : ApproverNameSchema;
  const result = schema.safeParse(raw);
  if (!result.success) {
    return { value: 'auto', issues: result.error.issues.map((issue) => ({ ...issue, path: ['approver', ...issue.path] })) };
  }
  return { value: typeof result.data === 'string' ? result.data : { command: [...result.data.command] }, issues: [] };
}

interface Position {
  line: number;
  col: number;
}

interface Problem {
  pos: Position;
  key: string;
  problem: string;
}

// Unknown keys point at the key itself; other problems at the offending value (or its parent).
function describeIssue(issue: z.core.$ZodIssue, doc: Document, lc: LineCounter): Problem {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const name = issue.keys[0] ?? '';
    const key = [...path, name].map(String).map(printableKey).join('.');
    return { pos: keyPositionOf(doc, lc, path, name), key, problem: 'unknown key' };
  }
  const key = path.length === 0 ? '(top level)' : path.map(String).map(printableKey).join('.');
  const problem = issue.message;
  return { pos: positionOf(doc, lc, path), key, problem };
}

function positionOf(doc: Document, lc: LineCounter, path: ReadonlyArray<string | number>): Position {
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range !== undefined) return lc.linePos(range[0]);
  }
  return { line: 1, col: 1 };
}

function keyPositionOf(doc: Document, lc: LineCounter, path: ReadonlyArray<string | number>, name: string): Position {
  const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (isMap(parent)) {
    for (const pair of parent.items) {
      if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === name && pair.key.range !== undefined && pair.key.range !== null) {
        return lc.linePos(pair.key.range[0]);
      }
    }
  }
  return positionOf(doc, lc, path);
}

// Key names are shown (they are names, not values), but only as short printable ASCII.
function printableKey(key: string): string {
  const clipped = key.length > 64 ? `${key.slice(0, 64)}…` : key;
  return clipped.replace(/[^\x21-\x7e…]/g, '?');
}

function invalid(path: string, pos: Position, key: string, problem: string): AgentSecretError {
  return new AgentSecretError('user_config.invalid', `${path}:${pos.line}:${pos.col}: ${key}: ${problem}`, {
    // policy.yml has its own checker and page; config.yml the approvers section.
    hint: basename(path) === 'policy.yml' ? 'fix it: agent-secret policy check lists every problem; docs/policy.md describes the rules' : HINT,
    details: { file: path, line: pos.line, col: pos.col, key },
  });
}

// Reads the file only if it is safe to trust: no symlink, a regular file of this user (or
// root), at most 64 KiB, not group/world-writable, in a directory others cannot write.
// Opened with O_NOFOLLOW|O_NONBLOCK and re-checked on the descriptor, so a swap is caught.
export async function readTrustedFile(path: string): Promise<string | null> {
  let before: Stats;
  try {
    before = await lstat(path);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return null;
    throw refused(path, 'cannot be read', 'check the permissions of the file and its directories');
  }
  checkStats(path, before);
  await checkDirectory(path);

  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errnoOf(error) === 'ELOOP') throw refused(path, 'is a symlink', 'replace the symlink with the file itself');
    throw refused(path, 'cannot be read', 'check the permissions of the file and its directories');
  }
  try {
    const stats = await handle.stat();
    checkStats(path, stats);
    if (stats.dev !== before.dev || stats.ino !== before.ino) throw refused(path, 'changed while it was being read', 'run the command again');
    const buffer = Buffer.alloc(MAX_USER_CONFIG_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_USER_CONFIG_BYTES) throw refused(path, `is larger than ${MAX_USER_CONFIG_BYTES / 1024} KiB`, 'keep only version, approver, op_path, touch_id, trusted_dirs, daemon_idle_timeout and providers in it');
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function checkStats(path: string, stats: Stats): void {
  if (stats.isSymbolicLink()) throw refused(path, 'is a symlink', 'replace the symlink with the file itself');
  if (!stats.isFile()) throw refused(path, 'is not a regular file', 'make it a plain file');
  if (stats.size > MAX_USER_CONFIG_BYTES) throw refused(path, `is larger than ${MAX_USER_CONFIG_BYTES / 1024} KiB`, 'keep only version, approver, op_path, touch_id, trusted_dirs, daemon_idle_timeout and providers in it');
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid && stats.uid !== 0) throw refused(path, 'is owned by another user', `make it yours: ${chownCommand(shellQuote(path), uid)}`);
  if ((stats.mode & 0o022) !== 0) throw refused(path, 'is writable by group or others', `chmod go-w ${shellQuote(path)}`);
}

// The agent-secret directory itself must not let others replace the file (sticky dirs excepted).
async function checkDirectory(path: string): Promise<void> {
  const dir = dirname(path);
  let stats: Stats;
  try {
    stats = await lstat(dir);
  } catch {
    return;
  }
  if ((stats.mode & 0o022) !== 0 && (stats.mode & 0o1000) === 0) throw refused(path, 'is in a directory writable by group or others', `chmod go-w ${shellQuote(dir)}`);
}

function refused(path: string, problem: string, fix: string): AgentSecretError {
  // What the file decides, so the refusal says why its trust matters.
  const name = basename(path);
  const decides = name === 'policy.yml' ? 'it decides which requests run without asking' : name === 'agents.json' ? 'it says which agents the policy trusts' : 'it chooses who approves secret access';
  return new AgentSecretError('user_config.invalid', `${path} ${problem}; ${decides}, so it is not trusted`, {
    hint: fix,
    details: { file: path },
  });
}

