// Reading a policy: the rules of `policy.yml` (or the `policy:` section of config.yml) checked as
// strictly as a project config. Unknown keys are refused, every problem carries its key path for
// a line and column, and rules that can never decide anything (shadowed by an earlier rule, an
// empty time window) are reported. Messages are our own words and never repeat a value of the
// file. Pure: the caller parses the YAML and passes a way to locate a key path.

import { z } from 'zod';
import type { HoursWindow, Policy, PolicyDecisionKind, PolicyRule, RateLimit, ReuseBound, RuleMatchers, SecretPattern, TemplatePattern } from './types.js';
import { globMatch } from './glob.js';
import { unwrapOnce } from '../core/command-line.js';

export type KeyPath = ReadonlyArray<string | number>;

/** One problem of a policy: the key path it is at, and what is wrong, in words. */
export interface PolicyProblem {
  path: KeyPath;
  problem: string;
}

export interface ParsedPolicy {
  policy: Policy;
  problems: PolicyProblem[];
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HOURS = /^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$/;
const DURATION = /^([1-9][0-9]{0,5})(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
export const MAX_RULES = 256;
/** A reuse window is bounded as a human's "allow again" is: 10 s .. 10 min, at most 20 uses. */
export const POLICY_REUSE_LIMITS = { minTtlSeconds: 10, maxTtlSeconds: 600, maxUses: 20 } as const;

/** Parses `30s`, `10m`, `2h`, `1d` into seconds; null otherwise. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  return match === null ? null : Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}

// Nothing a matcher holds may carry a control character: it would show up in `policy explain`.
const printable = (t: string) => ![...t].some((c) => (c.codePointAt(0) ?? 0) < 0x20 || c === '\u007f');
const Text = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(512, { error: 'must be at most 512 characters' })
  .refine(printable, { error: 'must not contain control characters' });
const AbsPath = Text.refine((t) => t.startsWith('/'), { error: 'must be an absolute path (globs allowed: /home/me/src/*)' });
const listOf = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? [v] : v),
    z.array(item, { error: 'must be a string or a list of strings' }).min(1, { error: 'an empty list matches nothing; remove the key to match everything' }).max(64, { error: 'at most 64 entries' }),
  );

const SecretObject = z
  .strictObject({ alias: Text.optional(), ref: Text.optional(), account: Text.optional(), provider: Text.optional(), name: Text.optional() }, { error: 'must be a reference, an alias, or a mapping such as {alias: NAME}' })
  .refine((o) => Object.values(o).some((v) => v !== undefined), { error: 'must name at least one of alias, ref, account, provider, name' });
// A bare string is a reference when it has a scheme (op://…), otherwise an alias.
const SecretEntry = z.preprocess((v) => (typeof v === 'string' ? (v.includes('://') ? { ref: v } : { alias: v }) : v), SecretObject);
const TemplatePath = Text.refine((t) => !t.split('/').includes('..'), { error: 'must not contain ".." (a glob relative to the project, or absolute)' });
const TemplateObject = z
  .strictObject(
    { path: TemplatePath.optional(), sha256: z.string({ error: 'must be a string' }).regex(/^[0-9a-fA-F]{64}$/, { error: 'must be 64 hex digits (sha256sum FILE)' }).optional() },
    { error: 'must be a path glob or a mapping such as {path: deploy/kubeconfig.tpl, sha256: HEX}' },
  )
  .refine((o) => o.path !== undefined || o.sha256 !== undefined, { error: 'must name at least one of path, sha256' });
// A bare string is a path glob.
const TemplateEntry = z.preprocess((v) => (typeof v === 'string' ? { path: v } : v), TemplateObject);
const ArgvPrefix = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(/\s+/).filter((w) => w.length > 0) : v),
  z.array(Text, { error: 'must be a list of words such as [npm, run, "deploy*"], or one string of words' }).min(1, { error: 'must have at least one word' }).max(64, { error: 'at most 64 words' }),
);
const Duration = (low: number, high: number, example: string) =>
  z.string({ error: `must be a duration such as ${example}` }).refine((t) => {
    const s = parseDuration(t);
    return s !== null && s >= low && s <= high;
  }, { error: `must be a duration between ${low}s and ${high >= 86400 ? `${high / 86400}d` : `${high / 60}m`}, such as ${example}` });

const RuleSchema = z.strictObject(
  {
    id: z.string({ error: 'is required: a short name such as ci-deploy' }).refine((t) => ID.test(t), { error: 'must be letters, digits, ".", "_" or "-" (at most 64), starting with a letter or digit' }),
    decision: z.enum(['allow', 'deny', 'ask'], { error: (issue) => (issue.input === undefined ? 'is required: allow, deny or ask' : 'must be allow, deny or ask') }),
    description: Text.optional(),
    agent: listOf(Text).optional(),
    requester: listOf(Text).optional(),
    profile: listOf(Text).optional(),
    project: listOf(AbsPath).optional(),
    secrets: z
      .array(SecretEntry, { error: 'must be a list of references, aliases or {alias, ref, account, provider, name} mappings' })
      .min(1, { error: 'an empty list matches nothing; remove the key to match every secret' })
      .max(64, { error: 'at most 64 entries' })
      .optional(),
    templates: z
      .array(TemplateEntry, { error: 'must be a list of template path globs or {path, sha256} mappings' })
      .min(1, { error: 'an empty list matches nothing; remove the key (an allow rule then allows no template)' })
      .max(64, { error: 'at most 64 entries' })
      .optional(),
    executable: listOf(Text).optional(),
    argv: z.array(ArgvPrefix, { error: 'must be a list of argv prefixes' }).min(1, { error: 'an empty list matches nothing; remove the key to match every command' }).max(64, { error: 'at most 64 entries' }).optional(),
    cwd: listOf(AbsPath).optional(),
    hours: z.string({ error: 'must be a window such as "09:00-18:00"' }).refine((t) => HOURS.test(t), { error: 'must be a window such as "09:00-18:00" (24-hour local time; 22:00-06:00 wraps past midnight)' }).optional(),
    days: listOf(z.enum(DAY_NAMES, { error: `must be one of ${DAY_NAMES.join(', ')}` })).optional(),
    rate: z.strictObject({ max: z.int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }).max(100000, { error: 'must be at most 100000' }), per: Duration(1, 7 * 86400, '1h') }, { error: 'must be a mapping such as {max: 20, per: 1h}' }).optional(),
    reuse: z
      .strictObject(
        {
          ttl: Duration(POLICY_REUSE_LIMITS.minTtlSeconds, POLICY_REUSE_LIMITS.maxTtlSeconds, '5m'),
          max_uses: z.int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }).max(POLICY_REUSE_LIMITS.maxUses, { error: `must be at most ${POLICY_REUSE_LIMITS.maxUses}` }),
        },
        { error: 'must be a mapping such as {ttl: 5m, max_uses: 20}' },
      )
      .optional(),
  },
  { error: 'must be a mapping with at least id and decision' },
);

const PolicySchema = z.strictObject(
  {
    version: z.literal(1, { error: 'must be 1' }).optional(),
    rules: z.array(z.unknown(), { error: (issue) => (issue.input === undefined ? 'is required: a list of rules' : 'must be a list of rules') }).max(MAX_RULES, { error: `at most ${MAX_RULES} rules` }),
  },
  { error: 'must be a mapping with a rules list' },
);

type RuleData = z.infer<typeof RuleSchema>;

/**
 * Checks a policy document (already parsed from YAML). `prefix` is where the document sits in
 * its file ([] for policy.yml, ['policy'] for config.yml), `lineOf` finds a key path's line.
 * Rules with problems are left out of the returned policy.
 */
export function parsePolicy(data: unknown, path: string, prefix: KeyPath, lineOf: (path: KeyPath) => number): ParsedPolicy {
  const problems: PolicyProblem[] = [];
  const top = PolicySchema.safeParse(data ?? {});
  if (!top.success) return { policy: { path, rules: [] }, problems: top.error.issues.map((i) => problemOf(prefix, i)) };
  const rules: PolicyRule[] = [];
  const where: KeyPath[] = [];
  const ids = new Map<string, number>();
  top.data.rules.forEach((raw, index) => {
    const at = [...prefix, 'rules', index];
    const parsed = RuleSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((i) => problemOf(at, i)));
      return;
    }
    const rule = toRule(parsed.data, lineOf(at));
    const seen = ids.get(rule.id);
    if (seen !== undefined) problems.push({ path: [...at, 'id'], problem: `duplicate rule id: the rule at line ${seen} has it too; ids name rules in the audit, so each must be unique` });
    ids.set(rule.id, rule.line);
    problems.push(...ruleProblems(rule, at));
    rules.push(rule);
    where.push(at);
  });
  problems.push(...unreachable(rules, where));
  return { policy: { path, rules }, problems };
}

function toRule(d: RuleData, line: number): PolicyRule {
  const match: { -readonly [K in keyof RuleMatchers]: RuleMatchers[K] } = {};
  if (d.agent !== undefined) match.agent = d.agent;
  if (d.requester !== undefined) match.requester = d.requester;
  if (d.profile !== undefined) match.profile = d.profile;
  if (d.project !== undefined) match.project = d.project;
  if (d.secrets !== undefined) match.secrets = d.secrets.map(cleanSecret);
  if (d.templates !== undefined) match.templates = d.templates.map(cleanTemplate);
  if (d.executable !== undefined) match.executable = d.executable;
  if (d.argv !== undefined) match.argv = d.argv;
  if (d.cwd !== undefined) match.cwd = d.cwd;
  if (d.hours !== undefined) match.hours = hoursOf(d.hours);
  if (d.days !== undefined) match.days = [...new Set(d.days.map((day) => DAY_NAMES.indexOf(day)))].sort();
  const rate: RateLimit | null = d.rate === undefined ? null : { max: d.rate.max, perSeconds: parseDuration(d.rate.per) ?? 0 };
  const reuse: ReuseBound | null = d.reuse === undefined ? null : { ttlSeconds: parseDuration(d.reuse.ttl) ?? 0, maxUses: d.reuse.max_uses };
  return Object.freeze({ id: d.id, decision: d.decision as PolicyDecisionKind, description: d.description ?? null, match: Object.freeze(match), rate, reuse, line });
}

function cleanSecret(s: z.infer<typeof SecretObject>): SecretPattern {
  const out: { -readonly [K in keyof SecretPattern]: SecretPattern[K] } = {};
  for (const key of ['alias', 'ref', 'account', 'provider', 'name'] as const) if (s[key] !== undefined) out[key] = s[key];
  return out;
}

function cleanTemplate(t: z.infer<typeof TemplateObject>): TemplatePattern {
  return { ...(t.path === undefined ? {} : { path: t.path }), ...(t.sha256 === undefined ? {} : { sha256: t.sha256.toLowerCase() }) };
}

function hoursOf(text: string): HoursWindow {
  const m = HOURS.exec(text) as RegExpExecArray;
  return { start: Number(m[1]) * 60 + Number(m[2]), end: Math.min(1440, Number(m[3]) * 60 + Number(m[4])) };
}

function ruleProblems(rule: PolicyRule, at: KeyPath): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  if (rule.decision !== 'allow' && rule.rate !== null) out.push({ path: [...at, 'rate'], problem: `only an allow rule can have a rate limit (this one is ${rule.decision})` });
  if (rule.decision !== 'allow' && rule.reuse !== null) out.push({ path: [...at, 'reuse'], problem: `only an allow rule can bound reuse (this one is ${rule.decision})` });
  // The project file (which the agent can edit) chooses what an alias stands for: an allow by
  // alias alone would let the agent point that alias at any reference.
  const aliasOnly = rule.decision === 'allow' ? (rule.match.secrets ?? []).findIndex((s) => Object.keys(s).length === 1 && s.alias !== undefined) : -1;
  if (aliasOnly >= 0) {
    const alias = rule.match.secrets?.[aliasOnly]?.alias ?? 'NAME';
    out.push({
      path: [...at, 'secrets', aliasOnly],
      problem: `an allow by alias alone lets the project file point ${alias} at any secret; add ref: (such as {alias: ${alias}, ref: "op://vault/item/field"}) or name: from names: in config.yml`,
    });
  }
  const hours = rule.match.hours;
  if (hours !== undefined && (hours.start === hours.end || (hours.start === 0 && hours.end === 0))) out.push({ path: [...at, 'hours'], problem: 'the window is empty, so the rule can never match' });
  return out;
}

/** A rule with no matcher and no rate limit: it matches every request. */
export function matchesEverything(rule: PolicyRule): boolean {
  return Object.keys(rule.match).length === 0 && rule.rate === null;
}

// Rules that can never decide: after a catch-all deny (deny rules decide first), after an earlier
// allow/ask that matches everything, or with the very matchers of an earlier unlimited allow/ask.
function unreachable(rules: readonly PolicyRule[], where: readonly KeyPath[]): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const denyAll = rules.find((r) => r.decision === 'deny' && matchesEverything(r));
  rules.forEach((rule, i) => {
    const at = where[i] ?? [];
    if (denyAll !== undefined && denyAll !== rule && (rule.decision !== 'deny' || rules.indexOf(denyAll) < i)) {
      out.push({ path: at, problem: `can never match: deny rule ${denyAll.id} matches every request, and deny rules decide first` });
      return;
    }
    if (rule.decision === 'deny') return;
    const earlier = rules.slice(0, i).find((r) => r.decision !== 'deny' && r.rate === null && (matchesEverything(r) || shadows(r, rule)));
    if (earlier !== undefined) out.push({ path: at, problem: `can never match: rule ${earlier.id} before it matches every request this one does` });
  });
  return out;
}

// Same matchers decide the same requests, except that an allow's secrets must all be listed
// while an ask's need only one: an earlier allow does not cover every request a later ask does.
function shadows(earlier: PolicyRule, later: PolicyRule): boolean {
  if (JSON.stringify(earlier.match) !== JSON.stringify(later.match)) return false;
  return earlier.decision === 'ask' || later.decision === 'allow' || earlier.match.secrets === undefined;
}

function problemOf(at: KeyPath, issue: z.core.$ZodIssue): PolicyProblem {
  const path = [...at, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
  if (issue.code === 'unrecognized_keys') return { path: [...path, issue.keys[0] ?? ''], problem: 'unknown key' };
  return { path, problem: issue.message };
}

/**
 * Advice on a sound policy (not problems: the daemon runs it): a deny by reference covers the
 * names it spells, not the same item addressed by its id; an allow whose secrets entry names an
 * alias only lets the project (which the agent can edit) point that alias at any reference.
 */
export function policyWarnings(
  policy: Policy,
  names: ReadonlyMap<string, { readonly ref: string; readonly account: string | null }> | null = null,
  agents: readonly string[] | null = null,
): string[] {
  const out: string[] = [];
  for (const rule of policy.rules) {
    // An agent: name no registered agent has (a typo, or not added yet): the rule waits for it.
    const unregistered = agents === null ? [] : (rule.match.agent ?? []).filter((pattern) => !agents.some((a) => globMatch(pattern, a)));
    if (unregistered.length > 0 && unregistered.length === rule.match.agent?.length) {
      out.push(`rule ${rule.id} (line ${rule.line}): no registered agent is called ${unregistered.join(', ')} (agent-secret agent list), so the rule matches nothing until one is added`);
    } else if (unregistered.length > 0) {
      out.push(`rule ${rule.id} (line ${rule.line}): no registered agent is called ${unregistered.join(', ')} (agent-secret agent list)`);
    }
    const secrets = rule.match.secrets ?? [];
    // A name no entry of names: can match (a pattern may still match one): the entry never matches.
    const unknown = names === null ? [] : secrets.filter((s) => s.name !== undefined && ![...names.keys()].some((n) => globMatch(s.name as string, n)));
    if (unknown.length > 0) out.push(`rule ${rule.id} (line ${rule.line}): names: in config.yml defines no ${unknown.map((s) => s.name).join(', ')}, so ${unknown.length === 1 ? 'that entry never matches' : 'those entries never match'}`);
    if (rule.decision === 'allow') out.push(...everyAccount(rule, secrets, names));
    if (rule.decision === 'deny' && secrets.some((s) => s.ref?.toLowerCase().startsWith('op://') === true)) {
      out.push(`rule ${rule.id} (line ${rule.line}): a deny by 1Password vault or item name does not cover the same item addressed by its id; add the ids too (op item get NAME --format json shows them)`);
    }
    const aliasOnly = secrets.filter((s) => s.alias !== undefined && s.ref === undefined && s.name === undefined);
    // Entries an allow cannot pin to a secret: no ref or name (`{provider: op}`, `{account: "*"}`),
    // or a ref whose scheme is a pattern (`"**://**"`, `"o?://Infra/**"`).
    const unpinned = secrets.filter((s) => (s.ref === undefined && s.name === undefined) || (s.ref !== undefined && /[*?\\]/.test(s.ref.slice(0, Math.max(0, s.ref.indexOf('://'))))));
    if (unpinned.length > 0 && rule.decision === 'allow') {
      out.push(`rule ${rule.id} (line ${rule.line}): ${unpinned.length === 1 ? 'an entry' : `${unpinned.length} entries`} of secrets: without a ref: (or with a pattern for its provider) or name: allow${unpinned.length === 1 ? 's' : ''} any secret of any provider or account they do not name, wherever the project file points an alias; pin each with ref: or name:`);
    }
    if (rule.decision === 'allow') out.push(...wideArgv(rule), ...unpinnedTemplates(rule));
    if (aliasOnly.length > 0 && rule.decision !== 'allow') {
      out.push(`rule ${rule.id} (line ${rule.line}): an ${rule.decision} by alias only is dodged by renaming the alias in the project file; match by ref to make it hold`);
    }
  }
  return out;
}

/**
 * An allow rule whose argv starts with a wrapper (`timeout 60 node x`, `env node x`): the wrapper
 * finds a bare program after it on the caller's PATH, which the rule does not check.
 */
function wideArgv(rule: PolicyRule): string[] {
  const bare = (rule.match.argv ?? []).flatMap((prefix) => {
    const inner = unwrapOnce(prefix.map((word) => word.replace(/\\(.)/g, '$1')));
    const program = inner?.[0];
    return program !== undefined && !program.startsWith('/') ? [`${prefix[0] as string} … ${program}`] : [];
  });
  return bare.length === 0
    ? []
    : [`rule ${rule.id} (line ${rule.line}): argv: ${bare.join(', ')}: the wrapper finds the program after it on the caller's PATH, which the rule does not check; name that program by its absolute path`];
}

/** An allow rule's templates: entries by path alone: the agent can rewrite the file between runs. */
function unpinnedTemplates(rule: PolicyRule): string[] {
  const byPath = (rule.match.templates ?? []).filter((t) => t.sha256 === undefined);
  return byPath.length === 0
    ? []
    : [`rule ${rule.id} (line ${rule.line}): templates: ${byPath.map((t) => t.path).join(', ')} without sha256: the agent can rewrite such a template (a kubeconfig exec: plugin, an .npmrc registry) and still be allowed; add sha256: (sha256sum FILE)`];
}

/**
 * An allow entry that pins a 1Password reference (by ref:, or by a name whose names: entry has no
 * account) but no account allows that path in every account the broker's op can sign in to: the
 * request's --account or OP_ACCOUNT picks which. Said once per rule, naming the fix.
 */
function everyAccount(rule: PolicyRule, secrets: readonly SecretPattern[], names: ReadonlyMap<string, { readonly ref: string; readonly account: string | null }> | null): string[] {
  const open = secrets.filter((s) => {
    if (s.account !== undefined) return false;
    if (s.ref !== undefined) return s.ref.toLowerCase().startsWith('op://');
    if (s.name === undefined || names === null) return false;
    return [...names].some(([n, named]) => globMatch(s.name as string, n) && named.account === null && named.ref.toLowerCase().startsWith('op://'));
  });
  if (open.length === 0) return [];
  const what = open.map((s) => s.ref ?? `name ${s.name as string}`).join(', ');
  return [
    `rule ${rule.id} (line ${rule.line}): allows ${what} in every 1Password account (a request's --account or OP_ACCOUNT picks one); add account: to the entry${open.some((s) => s.ref === undefined) ? ', or to the name in names:,' : ''} to pin it (requests must then name that account: the profile's account:, --account or OP_ACCOUNT)`,
  ];
}
