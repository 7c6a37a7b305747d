// A request as the policy engine sees it: names, references, paths and the requester chain of
// the ApprovalRequest, the registered agent that sent it (if any), and the broker's local time.
// Also the one-line description of the rule a denied request is missing. Pure.

import { interpreterFamily, unwrapOnce } from '../core/command-line.js';
import { injectsCode } from '../core/env-risk.js';
import { schemeOf } from '../core/ref.js';
import { inSystemDir } from '../core/program-dirs.js';
import { globEscape } from '../policy/glob.js';
import type { PolicyDecision, PolicyInput } from '../policy/types.js';
import { inheritedEnv } from './build.js';
import { commandRiskWarning } from './warnings.js';
import type { ApprovalRequest } from './types.js';

/** The engine's input for `request`, decided at `now` (local time of this process). */
export function policyInputOf(request: ApprovalRequest, agent: string | null, now: number, host: PolicyHostFacts = {}): PolicyInput {
  const at = new Date(now);
  const systemPaths = host.systemPaths ?? [];
  return {
    unsafe: unsafeFacts(request, host.env),
    agent,
    requester: request.requester.chain.map((p) => p.name),
    profile: request.profile,
    configPath: request.configPath,
    // A template's references are secrets too: each one is matched under the template's alias, so
    // a rule that allows a subset never delivers a reference a template slips in.
    secrets: [
      ...request.secrets.map((s) => ({ alias: s.alias, ref: s.ref, account: s.account, provider: s.provider, name: s.name ?? null })),
      ...request.templates.flatMap((t) => t.refs.map((ref) => ({ alias: t.alias, ref, account: t.account, provider: schemeOf(ref) ?? 'op', name: null }))),
    ],
    templates: request.templates.map((t) => ({ path: t.path, sha256: t.sha256 })),
    executable: request.executable,
    systemPaths,
    command: request.command,
    cwd: request.cwd,
    minuteOfDay: at.getHours() * 60 + at.getMinutes(),
    weekday: at.getDay(),
  };
}

/** What the daemon (or the CLI, for explain) knows about the host beside the request. */
export interface PolicyHostFacts {
  /** System-directory links argv[0] reaches the executable by (exec/systemPathsOf). */
  systemPaths?: readonly string[];
  /** The caller's environment, which the child inherits (unknown: nothing is checked). */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * What an allow rule never covers, because the request is not the plain run of its program the
 * rule describes: a variable that injects code (core/env-risk.ts CODE_INJECTION_NAMES) from an
 * env file or the caller's environment, or an executable the user can replace. Names only.
 */
function unsafeFacts(request: ApprovalRequest, env: PolicyHostFacts['env']): string[] {
  const out: string[] = [];
  if (request.allowMutableExecutable) out.push(`${request.executable} can be replaced by you or others (--allow-mutable-executable)`);
  const replaced = new Set([...request.secrets.map((s) => s.alias), ...request.templates.map((t) => t.alias)]);
  const inherited = env === undefined ? {} : inheritedEnv(env, request.pristine);
  const names = [...request.plainEnvNames, ...Object.keys(inherited).filter((name) => inherited[name] !== undefined)];
  const injecting = [...new Set(names.filter((name) => !replaced.has(name) && injectsCode(name)))].sort();
  // Names come from the caller: shown clipped and as printable ASCII (`BASH_FUNC_x%%` stays legible).
  const shown = (n: string) => (n.length > 64 ? `${n.slice(0, 64)}…` : n).replace(/[^\x21-\x7e…]/g, '?');
  if (injecting.length > 0) out.push(`the command would start with ${injecting.map(shown).join(', ')} set`);
  return out;
}

/**
 * The rule a request denied for want of one would need, in policy.yml's words: the profile, the
 * program, its command line when short, the secrets with their accounts. Every value is a YAML string that
 * matches exactly itself (glob characters escaped), so pasted as it is the rule allows this
 * request and nothing wider.
 */
export function missingRuleOf(request: ApprovalRequest): string {
  // A bare name covers only a program in a system directory; anything else by its path.
  const program = inSystemDir(request.executable) ? baseName(request.executable) : request.executable;
  // An id the user can keep or rename: the profile's name, else the program's.
  const id = `allow-${(request.profile ?? baseName(request.executable)).replace(/[^A-Za-z0-9._-]/g, '-')}`.slice(0, 64);
  const parts = [
    `id: ${scalar(id)}`,
    'decision: allow',
    ...(request.profile === null ? [] : [`profile: ${pattern(request.profile)}`]),
    `executable: ${pattern(program)}`,
    // The exact command line when it is short: a program alone would allow any arguments.
    ...(argvFits(request.command) ? [`argv: [[${[request.executable, ...request.command.slice(1)].map(pattern).join(', ')}]]`] : []),
    `secrets: [${[...request.secrets.map((s) => entry(s.alias, s.ref, s.account)), ...request.templates.flatMap((t) => t.refs.map((ref) => entry(t.alias, ref, t.account)))].join(', ')}]`,
    ...(request.templates.length === 0 ? [] : [`templates: [${request.templates.map((t) => `{path: ${pattern(t.path)}, sha256: ${t.sha256}}`).join(', ')}]`]),
  ];
  return `{${parts.join(', ')}}`;
}

/**
 * What the human should know before pasting the missing rule: a command line too long to print
 * (the rule then names only the program, with any arguments), or a program that runs whatever
 * code it is given (a shell, an interpreter, a wrapper such as env). Null otherwise.
 */
export function missingRuleNote(request: ApprovalRequest): string | null {
  const name = baseName(request.executable);
  if (!argvFits(request.command)) return `the command line is too long to print as argv:; a rule that names only ${name} allows it with any arguments, so add argv: with the words that matter`;
  const runsAnything = commandRiskWarning(request.command, request.executable) !== null || RUNS_CODE.has(interpreterFamily(name)) || unwrapOnce(request.command) !== null;
  return runsAnything ? `${name} runs whatever code it is given: the argv: above pins how this command line starts (words after it are allowed too); widen it only with care` : null;
}

// How long a command line the missing rule spells out in argv: (longer ones get a note instead).
const argvFits = (command: readonly string[]) => command.length <= 16 && command.reduce((n, w) => n + w.length + 1, 0) <= 1024;

// Interpreter families (core/command-line.ts) whose first operand is the code to run.
const RUNS_CODE: ReadonlySet<string> = new Set(['python', 'node', 'perl', 'ruby', 'php', 'lua', 'awk', 'deno', 'bun', 'Rscript']);

// One secret of the missing rule, pinned to the account the request names (a path alone would
// allow it from every account).
const entry = (alias: string, ref: string, account: string | null) => `{alias: ${pattern(alias)}, ref: ${pattern(ref)}${account === null ? '' : `, account: ${pattern(account)}`}}`;

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

// Plain when YAML reads it back as this very string, double-quoted (JSON) otherwise: `true`,
// `null`, `1e3`, `0x1f`, `[`, a trailing `:` and spaces would otherwise turn into other values or
// break the file.
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./:@+-]*(?<!:)$/;
const KEYWORDS = /^(true|false|null|yes|no|on|off|y|n)$/i;
const scalar = (text: string) => (PLAIN.test(text) && !KEYWORDS.test(text) ? text : JSON.stringify(text));
// A value the policy reads as a pattern: `*`, `?` and `\` escaped so it matches only itself.
const pattern = (text: string) => scalar(globEscape(text));

/** The JSON view of a decision (dry run, explain). */
export function decisionJson(d: PolicyDecision): Record<string, unknown> {
  return {
    decision: d.decision,
    rule: d.rule,
    why: d.why,
    reuse: d.reuse === null ? null : { ttl_seconds: d.reuse.ttlSeconds, max_uses: d.reuse.maxUses },
    rate: d.rate === null ? null : { max: d.rate.max, per_seconds: d.rate.perSeconds },
  };
}
