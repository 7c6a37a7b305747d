import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SYSTEM_PROGRAM_DIRS } from '../../../src/core/program-dirs.js';
import { evaluatePolicy, matchExecutable } from '../../../src/policy/evaluate.js';
import { globEscape, globMatch, pathWithin } from '../../../src/policy/glob.js';
import { parseDuration, parsePolicy, policyWarnings } from '../../../src/policy/parse.js';
import { createRateLimiter, formatDuration } from '../../../src/policy/rate.js';
import type { Policy, PolicyDecision, PolicyInput, PolicyRule, PolicySecret } from '../../../src/policy/types.js';
import { policyInputOf } from '../../../src/request/policy-input.js';
import { injectsCode } from '../../../src/core/env-risk.js';
import type { ApprovalRequest } from '../../../src/request/types.js';
import { sampleRequest } from '../audit/sample-request.js';

const FILE = '/home/u/.config/agent-secret/policy.yml';

function policyOf(rules: unknown[]): Policy {
  const { policy, problems } = parsePolicy({ version: 1, rules }, FILE, [], () => 1);
  expect(problems).toEqual([]);
  return policy;
}

function problemsOf(rules: unknown): string[] {
  return parsePolicy({ version: 1, rules }, FILE, [], () => 1).problems.map((p) => `${p.path.join('.')}: ${p.problem}`);
}

const secret = (alias: string, ref = `op://Dev/${alias}/credential`): PolicySecret => ({ alias, ref, account: null, provider: 'op', name: null });

function input(over: Partial<PolicyInput> = {}): PolicyInput {
  return {
    agent: null,
    requester: ['node', 'claude', 'zsh'],
    profile: 'deploy',
    configPath: '/home/u/src/app/agent-secret.yml',
    secrets: [secret('API_TOKEN')],
    templates: [],
    executable: '/usr/bin/npm',
    command: ['npm', 'run', 'deploy'],
    cwd: '/home/u/src/app',
    minuteOfDay: 10 * 60,
    weekday: 2,
    ...over,
  };
}

describe('globMatch and pathWithin', () => {
  it.each([
    ['op://Dev/*', 'op://Dev/API', true],
    ['op://Dev/*', 'op://Dev/API/credential', false],
    ['op://Dev/**', 'op://Dev/API/credential', true],
    ['API_?', 'API_1', true],
    ['a.b', 'axb', false],
    ['deploy*', 'deploy:prod', true],
    ['kv/a\\*b', 'kv/a*b', true],
    ['kv/a\\*b', 'kv/axb', false],
    ['kv/a\\?', 'kv/a?', true],
    ['kv/a\\?', 'kv/ab', false],
    ['kv/a\\\\b', 'kv/a\\b', true],
    ['kv/\\**', 'kv/*tail', true],
  ])('%s ~ %s is %s', (pattern, text, want) => {
    expect(globMatch(pattern, text)).toBe(want);
  });
  it('an escaped text matches exactly itself', () => {
    const text = fc.stringMatching(/^[a-c*?\\/.]{0,10}$/);
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(globMatch(globEscape(a), a)).toBe(true);
        expect(globMatch(globEscape(a), b)).toBe(a === b);
      }),
    );
  });
  it.each([
    ['/home/u/src', '/home/u/src/app', true],
    ['/home/u/src/', '/home/u/src', true],
    ['/home/u/src', '/home/u/srcx', false],
    ['/home/*/src', '/home/v/src/app/x', true],
    ['/', '/anything', true],
  ])('%s covers %s: %s', (prefix, path, want) => {
    expect(pathWithin(prefix, path)).toBe(want);
  });
});

describe('evaluatePolicy', () => {
  const rules = [
    { id: 'no-prod', decision: 'deny', secrets: ['op://Prod/**'] },
    { id: 'deploy', decision: 'allow', profile: 'deploy', requester: 'claude', argv: ['npm run deploy*'], secrets: [{ alias: 'API_TOKEN', ref: 'op://Dev/API_TOKEN/credential' }], reuse: { ttl: '5m', max_uses: 10 } },
    { id: 'tests', decision: 'allow', executable: ['/usr/bin/npm'], argv: [['npm', 'test']], cwd: '/home/u/src', hours: '08:00-20:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] },
    { id: 'ci', decision: 'allow', agent: 'ci-*', rate: { max: 2, per: '1h' } },
    { id: 'ask-ssh', decision: 'ask', secrets: [{ alias: 'SSH_*' }] },
  ];
  const policy = policyOf(rules);
  it.each<[string, Partial<PolicyInput>, boolean, string, string | null]>([
    ['a matching allow', {}, false, 'allow', 'deploy'],
    ['a secret outside the allow', { secrets: [secret('API_TOKEN'), secret('OTHER')] }, false, 'ask', null],
    ['the same, headless', { secrets: [secret('API_TOKEN'), secret('OTHER')] }, true, 'deny', null],
    ['a denied reference among allowed ones', { secrets: [secret('API_TOKEN'), secret('DB', 'op://Prod/DB/url')] }, false, 'deny', 'no-prod'],
    ['another requester', { requester: ['bash'] }, false, 'ask', null],
    ['tests in hours', { profile: null, command: ['npm', 'test'] }, false, 'allow', 'tests'],
    ['tests at night', { profile: null, command: ['npm', 'test'], minuteOfDay: 21 * 60 }, false, 'ask', null],
    ['tests on Sunday', { profile: null, command: ['npm', 'test'], weekday: 0 }, false, 'ask', null],
    ['tests elsewhere', { profile: null, command: ['npm', 'test'], cwd: '/tmp/x' }, false, 'ask', null],
    ['a registered agent', { agent: 'ci-runner', profile: null }, false, 'allow', 'ci'],
    ['an ask rule', { profile: null, secrets: [secret('SSH_KEY')] }, false, 'ask', 'ask-ssh'],
    ['an ask rule headless', { profile: null, secrets: [secret('SSH_KEY')] }, true, 'deny', 'ask-ssh'],
  ])('%s', (_name, over, headless, decision, rule) => {
    const got = evaluatePolicy(policy, input(over), { headless });
    expect([got.decision, got.rule]).toEqual([decision, rule]);
  });
  it('carries the allow rule bounds', () => {
    expect(evaluatePolicy(policy, input(), { headless: false }).reuse).toEqual({ ttlSeconds: 300, maxUses: 10 });
  });
  it('no policy: ask, or deny when headless', () => {
    expect(evaluatePolicy(null, input(), { headless: false }).decision).toBe('ask');
    expect(evaluatePolicy(null, input(), { headless: true }).why).toContain('there is no policy');
  });
});

describe('parsePolicy', () => {
  it.each<[unknown, string]>([
    [[{ id: 'a', decision: 'allow', colour: 'x' }], 'rules.0.colour: unknown key'],
    [[{ id: 'a', decision: 'maybe' }], 'rules.0.decision: must be allow, deny or ask'],
    [[{ decision: 'allow' }], 'rules.0.id: is required: a short name such as ci-deploy'],
    [[{ id: 'a', decision: 'allow', cwd: 'src' }], 'rules.0.cwd.0: must be an absolute path (globs allowed: /home/me/src/*)'],
    [[{ id: 'a', decision: 'allow', secrets: [] }], 'rules.0.secrets: an empty list matches nothing; remove the key to match every secret'],
    [[{ id: 'a', decision: 'allow', hours: '25:00-26:00' }], 'rules.0.hours: must be a window such as "09:00-18:00" (24-hour local time; 22:00-06:00 wraps past midnight)'],
    [[{ id: 'a', decision: 'allow', hours: '09:00-09:00' }], 'rules.0.hours: the window is empty, so the rule can never match'],
    [[{ id: 'a', decision: 'deny', rate: { max: 1, per: '1h' } }], 'rules.0.rate: only an allow rule can have a rate limit (this one is deny)'],
    [[{ id: 'a', decision: 'allow', reuse: { ttl: '1h', max_uses: 3 } }], 'rules.0.reuse.ttl: must be a duration between 10s and 10m, such as 5m'],
    [[{ id: 'a', decision: 'allow', profile: 'x' }, { id: 'a', decision: 'ask', profile: 'y' }], 'rules.1.id: duplicate rule id: the rule at line 1 has it too; ids name rules in the audit, so each must be unique'],
    [[{ id: 'all', decision: 'ask' }, { id: 'b', decision: 'allow', profile: 'y' }], 'rules.1: can never match: rule all before it matches every request this one does'],
    [[{ id: 'a', decision: 'allow', profile: 'p' }, { id: 'b', decision: 'ask', profile: 'p' }], 'rules.1: can never match: rule a before it matches every request this one does'],
    [[{ id: 'a', decision: 'allow', profile: 'p' }, { id: 'none', decision: 'deny' }], 'rules.0: can never match: deny rule none matches every request, and deny rules decide first'],
    ['x', 'rules: must be a list of rules'],
  ])('%j', (rules, problem) => {
    expect(problemsOf(rules)).toContain(problem);
  });
  it('an allow then an ask with the same secrets is not shadowing', () => {
    const a = { alias: 'A', ref: 'op://Dev/A/credential' };
    expect(problemsOf([{ id: 'a', decision: 'allow', secrets: [a] }, { id: 'b', decision: 'ask', secrets: [a] }])).toEqual([]);
  });
  it('refuses an allow by alias alone: the project file, which the agent can edit, chooses what an alias stands for', () => {
    const problem = 'rules.0.secrets.1: an allow by alias alone lets the project file point CF_TOKEN at any secret; add ref: (such as {alias: CF_TOKEN, ref: "op://vault/item/field"}) or name: from names: in config.yml';
    expect(problemsOf([{ id: 'a', decision: 'allow', secrets: [{ alias: 'A', ref: 'op://Dev/A/credential' }, 'CF_TOKEN'] }])).toContain(problem);
    expect(problemsOf([{ id: 'a', decision: 'allow', secrets: [{ alias: 'CF_TOKEN' }] }])).toContain(problem.replace('secrets.1', 'secrets.0'));
    // A name, a reference, a provider or an account bounds what the alias may point at; deny and ask by alias only add friction.
    for (const entry of [{ alias: 'A', name: 'openai_key' }, { alias: 'A', ref: 'op://Dev/**' }, { alias: 'A', provider: 'bws' }, { alias: 'A', account: 'work' }]) {
      expect(problemsOf([{ id: 'a', decision: 'allow', secrets: [entry] }])).toEqual([]);
    }
    expect(problemsOf([{ id: 'a', decision: 'deny', secrets: ['A'] }, { id: 'b', decision: 'ask', secrets: ['B'] }])).toEqual([]);
  });
  it('never repeats a value of the file in a message', () => {
    const canary = 'CANARY-value-4711';
    const problems = problemsOf([{ id: 'a', decision: canary, cwd: canary, hours: canary, secrets: [{ bogus: canary }], reuse: { ttl: canary, max_uses: canary } }]);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).not.toContain(canary);
  });
});

// Arbitrary rules over a small vocabulary, so that they often match.
const ALIASES = ['A', 'B', 'C'];
const arbSecretsMatcher = fc.option(fc.uniqueArray(fc.constantFrom(...ALIASES), { minLength: 1 }), { nil: undefined });
const arbRule = fc.record({
  decision: fc.constantFrom('allow', 'ask', 'deny'),
  secrets: arbSecretsMatcher,
  profile: fc.option(fc.constantFrom('p', 'q'), { nil: undefined }),
  requester: fc.option(fc.constantFrom('claude', 'codex'), { nil: undefined }),
});
const arbInput = fc.record({
  aliases: fc.uniqueArray(fc.constantFrom(...ALIASES), { minLength: 1 }),
  profile: fc.constantFrom('p', 'q'),
  requester: fc.constantFrom('claude', 'codex'),
});

type RawRule = { decision: string; secrets?: string[] | undefined; profile?: string | undefined; requester?: string | undefined };

function buildPolicy(raw: RawRule[]): Policy {
  const rules = raw.map((r, i) => {
    const out: Record<string, unknown> = { id: `r${i}`, decision: r.decision };
    if (r.secrets !== undefined) out.secrets = r.secrets;
    if (r.profile !== undefined) out.profile = r.profile;
    if (r.requester !== undefined) out.requester = r.requester;
    return out;
  });
  // Unreachable-rule reports are advice; the engine runs on the rules whatever they say.
  return parsePolicy({ version: 1, rules }, FILE, [], () => 1).policy;
}

const toInput = (i: { aliases: string[]; profile: string; requester: string }) => input({ secrets: i.aliases.map((a) => secret(a)), profile: i.profile, requester: [i.requester] });

describe('properties', () => {
  it('a matching deny rule decides, whatever the order of the other rules', () => {
    fc.assert(
      fc.property(fc.array(arbRule, { maxLength: 8 }), arbInput, fc.nat(), fc.boolean(), (others, req, at, headless) => {
        const deny = { decision: 'deny', secrets: [req.aliases[0] as string] };
        const rules: RawRule[] = [...others];
        rules.splice(at % (rules.length + 1), 0, deny);
        const got = evaluatePolicy(buildPolicy(rules), toInput(req), { headless });
        expect(got.decision).toBe('deny');
      }),
    );
  });
  it('an allow never covers a secret outside the rule that allowed it', () => {
    fc.assert(
      fc.property(fc.array(arbRule, { maxLength: 8 }), arbInput, (raw, req) => {
        const policy = buildPolicy(raw);
        const got = evaluatePolicy(policy, toInput(req), { headless: false });
        if (got.decision !== 'allow') return;
        const rule = policy.rules.find((r) => r.id === got.rule) as PolicyRule;
        expect(rule.decision).toBe('allow');
        if (rule.match.secrets !== undefined) {
          const listed = rule.match.secrets.map((s) => s.alias);
          for (const alias of req.aliases) expect(listed).toContain(alias);
        }
      }),
    );
  });
  it('headless never asks', () => {
    fc.assert(
      fc.property(fc.array(arbRule, { maxLength: 8 }), arbInput, (raw, req) => {
        expect(evaluatePolicy(buildPolicy(raw), toInput(req), { headless: true }).decision).not.toBe('ask');
      }),
    );
  });
  it('a rate limit is never exceeded, however takes, releases and clock steps interleave', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.record({ step: fc.integer({ min: 0, max: 400 }), deliver: fc.boolean(), delay: fc.nat(5) }), { minLength: 1, maxLength: 40 }),
        async (max, ops) => {
          const limit = { max, perSeconds: 1 };
          const limiter = createRateLimiter();
          let now = 0;
          const delivered: number[] = [];
          await Promise.all(
            ops.map(async (op) => {
              now += op.step;
              const at = now;
              const ticket = limiter.take('r', limit, at);
              for (let i = 0; i < op.delay; i += 1) await Promise.resolve();
              if (ticket === null) return;
              if (op.deliver) delivered.push(at);
              else ticket.release();
            }),
          );
          // Within any window of one second ending at a delivery, at most max deliveries.
          for (const at of delivered) expect(delivered.filter((t) => t > at - 1000 && t <= at).length).toBeLessThanOrEqual(max);
        },
      ),
    );
  });
});

describe('reference spellings (case)', () => {
  const policy = policyOf([
    { id: 'no-prod', decision: 'deny', description: 'Never prod', secrets: ['op://Prod/**'] },
    { id: 'no-bws', decision: 'deny', secrets: ['bws://0b6c2c4e-1111-4222-8333-444455556666'] },
    { id: 'ask-infra', decision: 'ask', secrets: ['op://Infra/**'] },
    { id: 'any-op', decision: 'allow', secrets: ['op://**', 'bws://**'] },
  ]);
  it.each<[string, string, string]>([
    ['op://prod/Stripe/credential', 'deny', 'no-prod'],
    ['op://PROD/stripe/secret key', 'deny', 'no-prod'],
    ['op://pRoD/x/y', 'deny', 'no-prod'],
    ['bws://0B6C2C4E-1111-4222-8333-444455556666', 'deny', 'no-bws'],
    ['op://INFRA/x/y', 'ask', 'ask-infra'],
    ['op://Dev/x/y', 'allow', 'any-op'],
  ])('%s is %s by %s', (ref, decision, rule) => {
    const got = evaluatePolicy(policy, input({ secrets: [secret('S', ref)] }), { headless: false });
    expect([got.decision, got.rule]).toEqual([decision, rule]);
  });
  it('an allow by reference also holds in another case', () => {
    const p = policyOf([{ id: 'a', decision: 'allow', secrets: ['op://Dev/API/credential'] }]);
    expect(evaluatePolicy(p, input({ secrets: [secret('S', 'op://dev/api/CREDENTIAL')] }), { headless: false }).decision).toBe('allow');
  });
  it('a deny by reference holds for every case spelling of what it covers', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), fc.constantFrom('Stripe/credential', 'db/url', 'X Y/z'), (upper, rest) => {
        const ref = [...`op://Prod/${rest}`].map((c, i) => (upper[i % 30] === true ? c.toUpperCase() : c.toLowerCase())).join('');
        const got = evaluatePolicy(policy, input({ secrets: [secret('S', ref)] }), { headless: false });
        expect(got.decision).toBe('deny');
      }),
    );
  });
  it('a provider program\'s references: an allow matches them exactly (its store may tell cases apart), a deny in any case', () => {
    const p = policyOf([
      { id: 'no-prod', decision: 'deny', secrets: ['vault://kv/Prod/**'] },
      { id: 'dev', decision: 'allow', secrets: ['vault://kv/dev/*'] },
    ]);
    const decide = (ref: string) => evaluatePolicy(p, input({ profile: null, secrets: [{ ...secret('S', ref), provider: 'vault' }] }), { headless: true });
    expect(decide('vault://kv/dev/a').decision).toBe('allow');
    expect(decide('vault://kv/DEV/a').decision).toBe('deny');
    expect(decide('vault://kv/DEV/a').rule).toBeNull();
    expect(decide('vault://kv/prod/a').rule).toBe('no-prod');
    expect(decide('VAULT://KV/PROD/a').rule).toBe('no-prod');
  });
  it('says the deny once, with its description', () => {
    const got = evaluatePolicy(policy, input({ secrets: [secret('S', 'op://Prod/a/b')] }), { headless: false });
    expect(got.why).toBe('policy rule no-prod denies it (Never prod)');
  });
});

describe('templates', () => {
  const SHA = 'b'.repeat(64);
  const tpl = (path: string, sha256 = SHA) => ({ path, sha256 });
  const withTpl = (templates: Array<{ path: string; sha256: string }>) => input({ secrets: [secret('KUBECONFIG', 'op://Dev/k8s/token')], templates });
  const policy = policyOf([
    { id: 'no-evil', decision: 'deny', templates: ['/tmp/**'] },
    { id: 'kube', decision: 'allow', secrets: ['op://Dev/k8s/token'], templates: ['deploy/*.tpl', { path: 'ci/kube.tpl', sha256: SHA }] },
    { id: 'refs-only', decision: 'allow', secrets: ['op://Dev/**'] },
  ]);
  it.each<[string, Array<{ path: string; sha256: string }>, string, string | null]>([
    ['no template: the refs rule allows', [], 'allow', 'kube'],
    ['a named template', [tpl('/home/u/src/app/deploy/kube.tpl')], 'allow', 'kube'],
    ['an unnamed template: a refs-only rule does not allow it', [tpl('/home/u/src/app/.npmrc.tpl')], 'ask', null],
    ['a named and an unnamed template', [tpl('/home/u/src/app/deploy/kube.tpl'), tpl('/home/u/src/app/x.tpl')], 'ask', null],
    ['a pinned template with its digest', [tpl('/home/u/src/app/ci/kube.tpl')], 'allow', 'kube'],
    ['a pinned template edited', [tpl('/home/u/src/app/ci/kube.tpl', 'c'.repeat(64))], 'ask', null],
    ['outside the project', [tpl('/home/u/src/other/deploy/kube.tpl')], 'ask', null],
    ['a denied template', [tpl('/tmp/x/kube.tpl')], 'deny', 'no-evil'],
  ])('%s', (_name, templates, decision, rule) => {
    const got = evaluatePolicy(policy, withTpl(templates), { headless: false });
    expect([got.decision, got.rule]).toEqual([decision, rule]);
  });
  it('headless: a template no rule names is denied', () => {
    expect(evaluatePolicy(policy, withTpl([tpl('/home/u/src/app/.npmrc.tpl')]), { headless: true }).decision).toBe('deny');
  });
  it('property: an allow never covers a template its rule does not name', () => {
    const allowAll = policyOf([{ id: 'all', decision: 'allow' }]);
    fc.assert(
      fc.property(fc.stringMatching(/^\/[a-z/]{1,20}$/), (path) => {
        expect(evaluatePolicy(allowAll, withTpl([tpl(path)]), { headless: false }).decision).toBe('ask');
      }),
    );
  });
  it.each<[unknown, string]>([
    [[{ id: 'a' }], 'rules.0.decision: is required: allow, deny or ask'],
    [[{ id: 'a', decision: 'maybe' }], 'rules.0.decision: must be allow, deny or ask'],
    [[{ id: 'a', decision: 'allow', templates: [] }], 'rules.0.templates: an empty list matches nothing; remove the key (an allow rule then allows no template)'],
    [[{ id: 'a', decision: 'allow', templates: [{ sha256: 'xyz' }] }], 'rules.0.templates.0.sha256: must be 64 hex digits (sha256sum FILE)'],
    [[{ id: 'a', decision: 'allow', templates: [{ path: 'a', colour: 1 }] }], 'rules.0.templates.0.colour: unknown key'],
    [[{ id: 'a', decision: 'allow', templates: ['../x.tpl'] }], 'rules.0.templates.0.path: must not contain ".." (a glob relative to the project, or absolute)'],
    [[{ id: 'a', decision: 'allow', templates: [{}] }], 'rules.0.templates.0: must name at least one of path, sha256'],
  ])('validation %j', (rules, problem) => {
    expect(problemsOf(rules)).toContain(problem);
  });
});

describe('policy warnings', () => {
  it('warns about alias-only allow entries and deny by name', () => {
    const warnings = policyWarnings(
      policyOf([
        { id: 'no-prod', decision: 'deny', secrets: ['op://Prod/**'] },
        { id: 'cf', decision: 'allow', secrets: [{ alias: 'CF_TOKEN', provider: 'op' }] },
        { id: 'pinned', decision: 'allow', secrets: [{ alias: 'A', ref: 'op://Dev/a/b' }] },
        { id: 'ask-ssh', decision: 'ask', secrets: ['SSH_*'] },
      ]),
    );
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toContain('rule no-prod (line 1): a deny by 1Password vault or item name does not cover the same item addressed by its id');
    expect(warnings[1]).toContain('rule cf (line 1): an entry of secrets: without a ref: (or with a pattern for its provider) or name: allows any secret');
    expect(warnings[2]).toContain('rule pinned (line 1): allows op://Dev/a/b in every 1Password account');
    expect(warnings[3]).toContain('rule ask-ssh (line 1): an ask by alias only is dodged by renaming');
  });

  // An allow by reference or name with no account delivers the same path from any account the
  // request names (--account, OP_ACCOUNT): policy check says so, and an account pins it.
  it.each<[string, unknown, boolean]>([
    ['ref without account', { ref: 'op://AI/OpenAI/credential' }, true],
    ['ref glob without account', 'op://AI/**', true],
    ['ref with account', { ref: 'op://AI/OpenAI/credential', account: 'my.1password.com' }, false],
    ['bws ref (its source is in the reference)', { ref: 'bws://11111111-1111-4111-8111-111111111111' }, false],
    ['name without account in names:', { name: 'openai_key' }, true],
    ['name pattern covering an account-free name', { name: 'openai_*' }, true],
    ['name whose names: entry has an account', { name: 'work_key' }, false],
    ['name with account on the entry', { name: 'openai_key', account: 'my.1password.com' }, false],
  ])('an allow by %s: every-account warning %s', (_label, entry, warned) => {
    const names = new Map([
      ['openai_key', { ref: 'op://AI/OpenAI/credential', account: null }],
      ['work_key', { ref: 'op://Work/Key/credential', account: 'work.1password.com' }],
    ]);
    const allow = policyWarnings(policyOf([{ id: 'r', decision: 'allow', secrets: [entry] }]), names);
    expect(allow.some((w) => w.includes('in every 1Password account'))).toBe(warned);
    if (warned) expect(allow.join('\n')).toContain('add account: to the entry');
    // A deny or ask from any account is the safe direction: no such warning.
    const ask = policyWarnings(policyOf([{ id: 'r', decision: 'ask', secrets: [entry] }]), names);
    expect(ask.some((w) => w.includes('in every 1Password account'))).toBe(false);
  });
});

describe('policy warnings about wide allows', () => {
  it.each<[string, unknown, string | null]>([
    ['a provider alone', { id: 'r', decision: 'allow', secrets: [{ provider: 'op' }] }, 'an entry of secrets: without a ref:'],
    ['any account', { id: 'r', decision: 'allow', secrets: [{ account: '*' }] }, 'an entry of secrets: without a ref:'],
    ['a pattern for the scheme', { id: 'r', decision: 'allow', secrets: ['**://**'] }, 'with a pattern for its provider'],
    ['o? for op', { id: 'r', decision: 'allow', secrets: [{ ref: 'o?://Infra/**', account: 'a.1password.com' }] }, 'with a pattern for its provider'],
    ['a template by path alone', { id: 'r', decision: 'allow', secrets: [{ ref: 'op://I/k/t', account: 'a' }], templates: ['deploy/*.tpl'] }, 'templates: deploy/*.tpl without sha256'],
    ['a wrapper before a bare program', { id: 'r', decision: 'allow', argv: ['timeout 60 node test.mjs'], secrets: [{ ref: 'op://I/k/t', account: 'a' }] }, 'argv: timeout … node: the wrapper finds the program after it on the caller\'s PATH'],
    ['a wrapper before an absolute program', { id: 'r', decision: 'allow', argv: ['timeout 60 /usr/bin/node test.mjs'], secrets: [{ ref: 'op://I/k/t', account: 'a' }] }, null],
    ['a pinned entry', { id: 'r', decision: 'allow', secrets: [{ ref: 'op://I/k/t', account: 'a' }] }, null],
  ])('%s', (_name, rule, warning) => {
    const warnings = policyWarnings(policyOf([rule]));
    if (warning === null) expect(warnings).toEqual([]);
    else expect(warnings.join('\n')).toContain(warning);
  });
  it('a deny by 1Password name is reminded about ids in any case spelling', () => {
    expect(policyWarnings(policyOf([{ id: 'd', decision: 'deny', secrets: ['OP://Prod/**'] }])).join('\n')).toContain('does not cover the same item addressed by its id');
  });
});

describe('policy warnings about agents', () => {
  it('warns about an agent: name no registered agent has; a pattern that covers one is fine', () => {
    const policy = policyOf([
      { id: 'ghosts', decision: 'allow', agent: 'ghost', secrets: ['op://Dev/**'] },
      { id: 'some', decision: 'deny', agent: ['builder', 'bulider'], secrets: ['op://Prod/**'] },
      { id: 'testers', decision: 'ask', agent: 'tester-*' },
    ]);
    const warnings = policyWarnings(policy, null, ['builder', 'tester-api']).filter((w) => w.includes('registered agent'));
    expect(warnings).toEqual([
      'rule ghosts (line 1): no registered agent is called ghost (agent-secret agent list), so the rule matches nothing until one is added',
      'rule some (line 1): no registered agent is called bulider (agent-secret agent list)',
    ]);
    // Unknown (agents.json unreadable): no such warning.
    expect(policyWarnings(policy, null, null).filter((w) => w.includes('registered agent'))).toEqual([]);
  });
});

describe('policy warnings about names', () => {
  it('warns about a name names: does not define; a pattern that covers one is fine', () => {
    const policy = policyOf([
      { id: 'evals', decision: 'allow', secrets: [{ name: 'openai_key' }, { name: 'typo_key' }] },
      { id: 'all-ai', decision: 'allow', secrets: [{ name: 'openai_*' }] },
    ]);
    expect(policyWarnings(policy, new Map([['openai_key', { ref: 'op://AI/OpenAI/credential', account: 'my.1password.com' }]]))).toEqual([
      'rule evals (line 1): names: in config.yml defines no typo_key, so that entry never matches',
    ]);
    expect(policyWarnings(policy, null)).toEqual([]);
  });
});

describe('bare program names', () => {
  const policy = policyOf([
    { id: 'purge', decision: 'allow', argv: ['node purge.mjs'] },
    { id: 'npm', decision: 'allow', executable: 'npm' },
    { id: 'by-path', decision: 'allow', executable: '/home/u/.nvm/versions/node/*/bin/deno' },
  ]);
  it.each<[string, Partial<PolicyInput>, string | null]>([
    ['node from /usr/bin', { executable: '/usr/bin/node', command: ['node', 'purge.mjs'] }, 'purge'],
    ['node given by system path', { executable: '/usr/local/Cellar/node/20/bin/node', command: ['/usr/local/bin/node', 'purge.mjs'], systemPaths: ['/usr/local/bin/node'] }, 'purge'],
    ['a node in /tmp, given by path', { executable: '/tmp/x/node', command: ['/tmp/x/node', 'purge.mjs'] }, null],
    ['a node in /tmp, found on PATH', { executable: '/tmp/x/node', command: ['node', 'purge.mjs'] }, null],
    ['npm in /opt/homebrew/bin', { executable: '/opt/homebrew/bin/npm', command: ['npm', 'x'] }, 'npm'],
    ['npm in the project', { executable: '/home/u/src/app/npm', command: ['./npm', 'x'] }, null],
    ['npm in a subdirectory of /usr/bin', { executable: '/usr/bin/x/npm', command: ['npm', 'x'] }, null],
    ['an absolute glob', { executable: '/home/u/.nvm/versions/node/20/bin/deno', command: ['deno'] }, 'by-path'],
    // /usr/bin/npm is a link to /usr/lib/node_modules/npm/bin/npm-cli.js: the system's npm.
    ['npm through its /usr/bin link', { executable: '/usr/lib/node_modules/npm/bin/npm-cli.js', command: ['npm', 'x'], systemPaths: ['/usr/bin/npm'] }, 'npm'],
    ['the same file with no system link to it', { executable: '/usr/lib/node_modules/npm/bin/npm-cli.js', command: ['npm', 'x'] }, null],
    ['node through a system link (argv rule)', { executable: '/usr/local/Cellar/node/20/bin/node', command: ['node', 'purge.mjs'], systemPaths: ['/usr/local/bin/node'] }, 'purge'],
    // argv[0] is the agent's text: a link of its own named `node` to a system shell is not node.
    ['a link named node to a system shell', { executable: '/usr/bin/dash', command: ['node', 'purge.mjs'] }, null],
    ['a system node called by another name', { executable: '/usr/bin/node', command: ['nodejs-alias', 'purge.mjs'] }, null],
    ['a path through .. out of the system directory', { executable: '/tmp/evil/node', command: ['/usr/bin/../../tmp/evil/node', 'purge.mjs'] }, null],
    // Multi-call programs act on the name they are called by: git-difftool is git running difftool.
    ['npm called through a link of another name', { executable: '/opt/homebrew/bin/npm', command: ['/tmp/x/npm-evil', 'x'] }, null],
    ['deno by path, called by another name', { executable: '/home/u/.nvm/versions/node/20/bin/deno', command: ['/tmp/x/deno-run'] }, null],
  ])('%s', (_name, over, rule) => {
    const got = evaluatePolicy(policy, input({ profile: null, ...over }), { headless: false });
    expect(got.rule).toBe(rule);
  });
  it('every system directory is absolute and a bare name matches only there', () => {
    for (const dir of SYSTEM_PROGRAM_DIRS) expect(dir.startsWith('/') && !dir.endsWith('/')).toBe(true);
    fc.assert(
      fc.property(fc.stringMatching(/^\/[a-z]{1,6}(\/[a-z]{1,6}){0,3}$/), (dir) => {
        const got = matchExecutable('node', `${dir}/node`);
        expect(got).toBe(SYSTEM_PROGRAM_DIRS.includes(dir));
      }),
    );
  });
  it('a system link matches the bare name it is called, never another', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z]{1,8}$/), fc.constantFrom(...SYSTEM_PROGRAM_DIRS), (pattern, linkName, dir) => {
        expect(matchExecutable(pattern, '/opt/tool/libexec/real-binary', [`${dir}/${linkName}`])).toBe(pattern === linkName);
      }),
    );
  });
});

describe('rate limiter seeded from earlier deliveries', () => {
  it('counts seeded deliveries inside the window only', () => {
    const limiter = createRateLimiter();
    const limit = { max: 2, perSeconds: 60 };
    limiter.seed('r', 1_000);
    limiter.seed('r', 50_000);
    expect(limiter.take('r', limit, 55_000)).toBeNull();
    expect(limiter.used('r', limit, 55_000)).toBe(2);
    // 61 s after the first: one slot free again.
    expect(limiter.take('r', limit, 62_000)).not.toBeNull();
    expect(limiter.take('r', limit, 62_001)).toBeNull();
  });
});

describe('formatDuration', () => {
  it.each([
    [3600, '1h'],
    [600, '10m'],
    [90, '90s'],
    [86_400, '1d'],
    [5400, '90m'],
  ])('%i seconds reads %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
  it('reads back as the seconds it shows (what the user wrote as per:)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999 }), fc.constantFrom('s', 'm', 'h', 'd'), (n, unit) => {
        const seconds = parseDuration(`${n}${unit}`) as number;
        expect(parseDuration(formatDuration(seconds))).toBe(seconds);
      }),
    );
  });
});

describe('an allow never covers a request that can run something else', () => {
  const policy = policyOf([{ id: 'cf', decision: 'allow', secrets: ['op://Dev/**'] }]);
  it.each<[string, boolean, PolicyDecision['decision']]>([
    ['interactive', false, 'ask'],
    ['headless', true, 'deny'],
  ])('%s: the rule is named, the human decides (or nobody)', (_mode, headless, decision) => {
    const got = evaluatePolicy(policy, input({ profile: null, secrets: [secret('A')], unsafe: ['the command would start with NODE_OPTIONS set'] }), { headless });
    expect(got.decision).toBe(decision);
    expect(got.rule).toBe('cf');
    expect(got.why).toContain('policy rule cf would allow it, but the command would start with NODE_OPTIONS set');
    expect(got.uncovered).toBe(true);
    expect(got.reuse).toBeNull();
  });
  it('whatever the rules, a request with an unsafe fact is never allowed; a deny still denies', () => {
    const decisions = fc.constantFrom('allow', 'deny', 'ask');
    fc.assert(
      fc.property(fc.array(decisions, { minLength: 1, maxLength: 6 }), fc.boolean(), (kinds, headless) => {
        // Rules one by one: policy check would call all but the first unreachable.
        const rules = kinds.map((decision, i) => policyOf([{ id: `r${i}`, decision, secrets: ['op://Dev/**'] }]).rules[0] as PolicyRule);
        const got = evaluatePolicy({ path: FILE, rules }, input({ profile: null, secrets: [secret('A')], unsafe: ['x'] }), { headless });
        expect(got.decision).not.toBe('allow');
        if (kinds.includes('deny')) expect(got.why).toContain('denies it');
      }),
    );
  });
});

describe('a program called by another name', () => {
  it('an absolute argv[0] pattern needs the program called by its own name (or a system link\'s)', () => {
    const policy = policyOf([{ id: 'fetch', decision: 'allow', argv: [['/usr/bin/git', 'fetch']] }]);
    const decide = (command: string[], systemPaths: string[] = []) => evaluatePolicy(policy, input({ profile: null, executable: '/usr/bin/git', command, systemPaths }), { headless: true }).decision;
    expect(decide(['/usr/bin/git', 'fetch'])).toBe('allow');
    expect(decide(['git', 'fetch'], ['/usr/bin/git'])).toBe('allow');
    expect(decide(['/tmp/x/git-difftool', 'fetch'])).toBe('deny');
    expect(decide(['/tmp/x/git', 'fetch'])).toBe('allow');
  });
});

describe('code-injecting variables', () => {
  it.each<[string, boolean]>([
    ['LD_PRELOAD', true],
    ['ld_library_path', true],
    ['DYLD_INSERT_LIBRARIES', true],
    ['BASH_FUNC_curl%%', true],
    ['npm_config_node_options', true],
    ['npm_config_script_shell', true],
    ['GIT_CONFIG_GLOBAL', true],
    ['CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER', true],
    ['PYTHONUSERBASE', true],
    // Common in CI and containers: the prompt warns, the policy does not stop on them.
    ['npm_config_cache', false],
    ['npm_config_userconfig', false],
    ['PYTHONUNBUFFERED', false],
    ['SSL_CERT_FILE', false],
    ['CARGO_HOME', false],
    ['CARGO_TARGET_DIR', false],
    ['GIT_ASKPASS', false],
    ['PATH', false],
  ])('%s injects code: %s', (name, want) => {
    expect(injectsCode(name)).toBe(want);
  });
});

describe('what a request would start with', () => {
  const request = (over: Partial<ApprovalRequest> = {}) => sampleRequest({ command: ['node', 'x.mjs'], executable: '/usr/bin/node', ...over });
  it.each<[string, Record<string, string>, Partial<ApprovalRequest>, string[]]>([
    ['NODE_OPTIONS from the caller', { NODE_OPTIONS: '--require /tmp/x.js', PATH: '/usr/bin' }, {}, ['the command would start with NODE_OPTIONS set']],
    ['any letter case', { ld_preload: '/tmp/x.so' }, {}, ['the command would start with ld_preload set']],
    ['a name with a terminal escape is shown printable', { 'BASH_FUNC_x\u001b[31m%%': '() { :; }' }, {}, ['the command would start with BASH_FUNC_x?[31m%% set']],
    ['ambient and common variables are fine', { PATH: '/x', HOME: '/h', PYTHONUNBUFFERED: '1', SSL_CERT_FILE: '/c', HTTPS_PROXY: 'h' }, {}, []],
    ['--pristine drops the caller\'s', { NODE_OPTIONS: '-r x' }, { pristine: true }, []],
    ['an env file that sets one', {}, { plainEnvNames: ['BASH_ENV'] }, ['the command would start with BASH_ENV set']],
    ['a secret alias replaces the variable', { GIT_SSH_COMMAND: 'x' }, { secrets: [{ ...sampleRequest().secrets[0], alias: 'GIT_SSH_COMMAND' } as never] }, []],
    ['a replaceable executable', {}, { allowMutableExecutable: true }, ['/usr/bin/node can be replaced by you or others (--allow-mutable-executable)']],
  ])('%s', (_name, env, over, unsafe) => {
    expect(policyInputOf(request(over), null, 0, { env }).unsafe).toEqual(unsafe);
  });
});
