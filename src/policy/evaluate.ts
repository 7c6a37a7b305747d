// The rule engine: one request's facts against the policy. Deny rules decide first, wherever
// they are in the file, so no order of other rules can get around one; then the first matching
// `allow` or `ask` rule in file order decides; no match is `ask`, or `deny` in headless mode
// (`approver: none`), where no human can answer. An allow rule matches only when every secret
// of the request is one it lists (a subset allow never covers a secret outside it); a deny or
// ask rule matches when any secret is. Pure: time comes in with the input.

import { inSystemDir } from '../core/program-dirs.js';
import { baseName, globMatch, pathWithin } from './glob.js';
import type { Policy, PolicyDecision, PolicyInput, PolicyRule, PolicySecret, PolicyTemplate, RuleMatchers, SecretPattern, TemplatePattern } from './types.js';

export interface EvaluateOptions {
  /** `approver: none`: nobody can be asked, so what no rule allows is denied. */
  headless: boolean;
}

/** Which rule decides this request, and how. */
export function evaluatePolicy(policy: Policy | null, input: PolicyInput, opts: EvaluateOptions): PolicyDecision {
  const rules = policy?.rules ?? [];
  const deny = rules.find((rule) => rule.decision === 'deny' && ruleMatches(rule, input));
  if (deny !== undefined) return decided(deny, 'deny', `policy rule ${deny.id} denies it${deny.description === null ? '' : ` (${deny.description})`}`);
  const first = rules.find((rule) => rule.decision !== 'deny' && ruleMatches(rule, input));
  if (first !== undefined) {
    const unsafe = input.unsafe ?? [];
    if (first.decision === 'allow' && unsafe.length > 0) {
      // The rule describes a plain run of the program; this one can run something else.
      const why = `policy rule ${first.id} would allow it, but ${unsafe.join('; ')}, which can change what runs`;
      const decision = opts.headless ? decided(first, 'deny', `${why}; an allow never covers that, and approver is none`) : decided(first, 'ask', `${why}: the human decides`);
      return { ...decision, uncovered: true };
    }
    if (first.decision === 'allow') return decided(first, 'allow', `allowed by policy rule ${first.id}`);
    if (opts.headless) return decided(first, 'deny', `policy rule ${first.id} says ask, and approver is none`);
    return decided(first, 'ask', `policy rule ${first.id} leaves it to the human`);
  }
  const none = policy === null ? 'there is no policy' : `no rule of ${policy.path} matches`;
  if (opts.headless) return { decision: 'deny', rule: null, why: `${none}, and approver is none: nobody can be asked`, reuse: null, rate: null };
  return { decision: 'ask', rule: null, why: `${none}: the human decides`, reuse: null, rate: null };
}

function decided(rule: PolicyRule, decision: PolicyDecision['decision'], why: string): PolicyDecision {
  const allow = decision === 'allow';
  return { decision, rule: rule.id, why, reuse: allow ? rule.reuse : null, rate: allow ? rule.rate : null };
}

/** Whether every matcher of the rule holds for the request. */
export function ruleMatches(rule: PolicyRule, input: PolicyInput): boolean {
  return failedMatcher(rule, input) === null;
}

/** The first matcher of the rule (in the documented order) that does not hold, or null when all do. */
export function failedMatcher(rule: PolicyRule, input: PolicyInput): keyof RuleMatchers | null {
  const m = rule.match;
  const checks: Array<[keyof RuleMatchers, () => boolean]> = [
    ['agent', () => matchAgent(m, input)],
    ['requester', () => matchRequester(m, input)],
    ['profile', () => m.profile === undefined || (input.profile !== null && m.profile.some((p) => globMatch(p, input.profile as string)))],
    ['project', () => matchProject(m, input)],
    ['secrets', () => matchSecrets(m.secrets, input.secrets, rule.decision === 'allow' ? 'every' : 'some')],
    ['templates', () => matchTemplates(m.templates, input, rule.decision === 'allow' ? 'every' : 'some')],
    ['executable', () => m.executable === undefined || (calledByItsName(input) && m.executable.some((e) => matchExecutable(e, input.executable, input.systemPaths)))],
    ['argv', () => m.argv === undefined || m.argv.some((prefix) => argvStartsWith(prefix, input))],
    ['cwd', () => m.cwd === undefined || m.cwd.some((c) => pathWithin(c, input.cwd))],
    ['hours', () => m.hours === undefined || withinHours(m.hours, input.minuteOfDay)],
    ['days', () => m.days === undefined || m.days.includes(input.weekday)],
  ];
  return checks.find(([, holds]) => !holds())?.[0] ?? null;
}

function matchAgent(m: RuleMatchers, input: PolicyInput): boolean {
  return m.agent === undefined || (input.agent !== null && m.agent.some((a) => globMatch(a, input.agent as string)));
}

// A bare name matches an ancestor's process name; an absolute pattern its executable path.
function matchRequester(m: RuleMatchers, input: PolicyInput): boolean {
  return m.requester === undefined || m.requester.some((pattern) => input.requester.some((r) => matchProgram(pattern, r)));
}

// `project` is the config file the profile came from, or a directory holding it (the repo root).
function matchProject(m: RuleMatchers, input: PolicyInput): boolean {
  return m.project === undefined || (input.configPath !== null && m.project.some((p) => pathWithin(p, input.configPath as string)));
}

/** An absolute pattern matches the whole path; a bare one the program's name. */
export function matchProgram(pattern: string, program: string): boolean {
  return pattern.startsWith('/') ? globMatch(pattern, program) : globMatch(pattern, baseName(program));
}

/**
 * `executable:`: an absolute pattern matches the resolved path; a bare name a system program of
 * that name, found directly or through a system directory's link to it (`/usr/bin/npm`).
 */
export function matchExecutable(pattern: string, executable: string, systemPaths: readonly string[] = []): boolean {
  if (pattern.startsWith('/')) return globMatch(pattern, executable) || systemPaths.some((p) => globMatch(pattern, p));
  return (globMatch(pattern, baseName(executable)) && inSystemDir(executable)) || systemPaths.some((p) => globMatch(pattern, baseName(p)));
}

function argvStartsWith(prefix: readonly string[], input: PolicyInput): boolean {
  const command = input.command;
  if (prefix.length > command.length) return false;
  return prefix.every((pattern, i) => {
    const word = command[i] as string;
    if (i > 0) return globMatch(pattern, word);
    // argv[0] is the agent's text (a link of its own, `/usr/lib/../../tmp/x`): what it names is
    // the program that runs, so it follows the rule of `executable`, and a bare name must also
    // be the name argv[0] gives (programs that read their own name behave by it).
    if (!calledByItsName(input)) return false;
    if (pattern.startsWith('/')) return matchExecutable(pattern, input.executable, input.systemPaths);
    return globMatch(pattern, baseName(word)) && matchExecutable(pattern, input.executable, input.systemPaths);
  });
}

/**
 * Whether argv[0] calls the program by its own name, or by the name of a system link to it:
 * multi-call programs act on the name they are called by (`git-difftool` is git running
 * difftool, busybox is every tool), so a link of the agent's with another name is another program.
 */
function calledByItsName(input: PolicyInput): boolean {
  const name = baseName(input.command[0] ?? '');
  return name === baseName(input.executable) || (input.systemPaths ?? []).some((p) => baseName(p) === name);
}

/** Why a bare name in the rule's `executable`/`argv` does not match this program, when that is the reason. */
export function bareNameOutsideSystem(rule: PolicyRule, input: PolicyInput): boolean {
  const name = baseName(input.executable);
  const bare = [...(rule.match.executable ?? []), ...(rule.match.argv ?? []).map((p) => p[0] as string)].filter((p) => !p.startsWith('/'));
  return !inSystemDir(input.executable) && (input.systemPaths?.length ?? 0) === 0 && bare.some((p) => globMatch(p, name));
}

function withinHours(hours: { start: number; end: number }, minute: number): boolean {
  return hours.start < hours.end ? minute >= hours.start && minute < hours.end : minute >= hours.start || minute < hours.end;
}

/**
 * Templates are written by the agent (a kubeconfig with its own server, an .npmrc): an allow
 * rule covers a request with templates only when it names every one of them; a rule without
 * `templates:` allows none. A deny or ask rule without the key matches as before; with it, when
 * any template of the request is one it names.
 */
export function matchTemplates(patterns: readonly TemplatePattern[] | undefined, input: PolicyInput, mode: 'every' | 'some'): boolean {
  if (patterns === undefined) return mode === 'some' || input.templates.length === 0;
  const base = input.configPath === null ? input.cwd : input.configPath.slice(0, Math.max(1, input.configPath.lastIndexOf('/')));
  const listed = (t: PolicyTemplate) => patterns.some((p) => templateMatches(p, t, base));
  return mode === 'every' ? input.templates.every(listed) : input.templates.some(listed);
}

function templateMatches(p: TemplatePattern, t: PolicyTemplate, base: string): boolean {
  const pattern = p.path === undefined ? undefined : p.path.startsWith('/') ? p.path : `${base === '/' ? '' : base}/${p.path.replace(/^\.\//, '')}`;
  return (pattern === undefined || globMatch(pattern, t.path)) && (p.sha256 === undefined || p.sha256.toLowerCase() === t.sha256.toLowerCase());
}

/** `every`: each requested secret is one the list names (allow); `some`: at least one is (deny, ask). */
export function matchSecrets(patterns: readonly SecretPattern[] | undefined, secrets: readonly PolicySecret[], mode: 'every' | 'some'): boolean {
  if (patterns === undefined) return true;
  const listed = (secret: PolicySecret) => patterns.some((p) => secretMatches(p, secret, mode === 'some'));
  return mode === 'every' ? secrets.every(listed) : secrets.some(listed);
}

/**
 * For explain: the first secret of the request an allow rule's list does not cover, and whether an
 * entry would cover it but for the account (a request naming no account, or another one).
 */
export function firstUnlisted(patterns: readonly SecretPattern[], secrets: readonly PolicySecret[]): { secret: PolicySecret; accounts: string[] } | null {
  const secret = secrets.find((s) => !patterns.some((p) => secretMatches(p, s)));
  if (secret === undefined) return null;
  const anyAccount = (p: SecretPattern): SecretPattern => Object.fromEntries(Object.entries(p).filter(([key]) => key !== 'account'));
  const accounts = patterns.filter((p) => p.account !== undefined && secretMatches(anyAccount(p), secret)).map((p) => p.account as string);
  return { secret, accounts };
}

/**
 * References match case-insensitively: 1Password resolves vault and item names and ids in any
 * case, and bws ids are UUIDs, so `op://prod/…` or an upper-case bws id must not dodge a rule
 * written in another case. A name never covers the same item addressed by its id (docs/policy.md).
 */
export function refMatches(pattern: string, ref: string, foldAnyScheme = false): boolean {
  // A provider program's store may tell `kv/Prod` from `kv/prod`: an allow matches its references
  // exactly; a deny or ask (`foldAnyScheme`) folds every scheme, the wider, safer reading.
  const scheme = ref.slice(0, Math.max(0, ref.indexOf('://'))).toLowerCase();
  if (!foldAnyScheme && scheme !== 'op' && scheme !== 'bws') return globMatch(pattern, ref);
  return globMatch(pattern.toLowerCase(), ref.toLowerCase());
}

export function secretMatches(p: SecretPattern, s: PolicySecret, foldAnyScheme = false): boolean {
  return (
    (p.alias === undefined || globMatch(p.alias, s.alias)) &&
    (p.ref === undefined || refMatches(p.ref, s.ref, foldAnyScheme)) &&
    (p.account === undefined || (s.account !== null && globMatch(p.account, s.account))) &&
    (p.provider === undefined || globMatch(p.provider, s.provider)) &&
    (p.name === undefined || (s.name !== null && globMatch(p.name, s.name)))
  );
}
