// A request as the policy engine sees it: names, references, paths and the requester chain of
// the ApprovalRequest, the registered agent that sent it (if any), and the broker's local time.
// Also the one-line description of the rule a denied request is missing. Pure.

import { injectsCode } from '../core/env-risk.js';
import { schemeOf } from '../core/ref.js';
import { inSystemDir } from '../policy/evaluate.js';
import type { PolicyDecision, PolicyInput } from '../policy/types.js';
import { inheritedEnv } from './build.js';
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
  if (injecting.length > 0) out.push(`the command would start with ${injecting.map((n) => (n.length > 64 ? `${n.slice(0, 64)}…` : n)).join(', ')} set`);
  return out;
}

/**
 * The rule a request denied for want of one would need, in policy.yml's words: names only
 * (profile, program, aliases), never the full command line.
 */
export function missingRuleOf(request: ApprovalRequest): string {
  // A bare name covers only a program in a system directory; anything else by its path.
  const program = inSystemDir(request.executable) ? request.executable.slice(request.executable.lastIndexOf('/') + 1) : quoteRef(request.executable);
  // An id the user can keep or rename: the profile's name, else the program's.
  const id = `allow-${(request.profile ?? baseName(request.executable)).replace(/[^A-Za-z0-9._-]/g, '-')}`.slice(0, 64);
  const parts = [
    `id: ${id}`,
    'decision: allow',
    ...(request.profile === null ? [] : [`profile: ${request.profile}`]),
    `executable: ${program}`,
    `secrets: [${[...request.secrets.map((s) => entry(s.alias, s.ref, s.account)), ...request.templates.flatMap((t) => t.refs.map((ref) => entry(t.alias, ref, t.account)))].join(', ')}]`,
    ...(request.templates.length === 0 ? [] : [`templates: [${request.templates.map((t) => `{path: ${quoteRef(t.path)}, sha256: ${t.sha256}}`).join(', ')}]`]),
  ];
  return `{${parts.join(', ')}}`;
}

// One secret of the missing rule, pinned to the account the request names (a path alone would
// allow it from every account).
const entry = (alias: string, ref: string, account: string | null) => `{alias: ${alias}, ref: ${quoteRef(ref)}${account === null ? '' : `, account: ${quoteRef(account)}`}}`;

// A reference or path in YAML flow style: quoted when it holds a space or a YAML indicator.
const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

const quoteRef = (text: string) => (/^[A-Za-z0-9_./:@+-]+$/.test(text) ? text : JSON.stringify(text));

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
