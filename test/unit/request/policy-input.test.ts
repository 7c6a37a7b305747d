// The request as the policy sees it: every reference the child could get, a template's included,
// so that a rule allowing a subset of secrets never lets a template's reference through.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { parsePolicy } from '../../../src/policy/parse.js';
import { missingRuleNote, missingRuleOf, policyInputOf } from '../../../src/request/policy-input.js';
import { sampleRequest } from '../audit/sample-request.js';

const FILE = '/home/u/.config/agent-secret/policy.yml';
const template = {
  alias: 'NPMRC',
  path: '/work/project/.npmrc.tpl',
  sha256: 'a'.repeat(64),
  text: '//registry.npmjs.org/:_authToken={{ op://Prod/npm/token }}\n',
  refs: ['op://Prod/npm/token'],
  account: null,
  source: 'profile' as const,
  file: { mode: 'file' as const, name: null, maxReads: null },
};

describe('policyInputOf', () => {
  it("lists each template reference under the template's alias", () => {
    const input = policyInputOf(sampleRequest({ templates: [template] as never }), null, 0);
    expect(input.secrets.map((s) => [s.alias, s.ref, s.provider])).toEqual([
      ['AWS_SECRET_ACCESS_KEY', 'op://Infra/aws/secret', 'op'],
      ['TF_TOKEN', 'op://Infra/terraform cloud/token', 'op'],
      ['NPMRC', 'op://Prod/npm/token', 'op'],
    ]);
    const hint = missingRuleOf(sampleRequest({ templates: [template] as never }));
    // The hint names references (an alias alone would let the project repoint it) and the template.
    expect(hint).toContain('secrets: [{alias: AWS_SECRET_ACCESS_KEY, ref: op://Infra/aws/secret, account: team.1password.com}, {alias: TF_TOKEN, ref: "op://Infra/terraform cloud/token"}, {alias: NPMRC, ref: op://Prod/npm/token}]');
    expect(hint).toContain(`templates: [{path: /work/project/.npmrc.tpl, sha256: ${'a'.repeat(64)}}]`);
    expect(input.templates).toEqual([{ path: '/work/project/.npmrc.tpl', sha256: 'a'.repeat(64) }]);
  });

  it('the missing rule, pasted as it is, allows exactly that request and not the same paths in another account', () => {
    for (const request of [sampleRequest(), sampleRequest({ templates: [template] as never }), sampleRequest({ profile: null })]) {
      const rule = parse(missingRuleOf(request)) as Record<string, unknown>;
      expect(rule.id).toBe(request.profile === null ? `allow-${request.executable.slice(request.executable.lastIndexOf('/') + 1)}` : `allow-${request.profile}`);
      const { policy, problems } = parsePolicy({ version: 1, rules: [rule] }, FILE, [], () => 1);
      expect(problems).toEqual([]);
      expect(evaluatePolicy(policy, policyInputOf(request, null, 0), { headless: true }).decision).toBe('allow');
      const elsewhere = { ...request, secrets: request.secrets.map((s) => (s.account === null ? s : { ...s, account: 'other.1password.com' })) };
      expect(evaluatePolicy(policy, policyInputOf(elsewhere, null, 0), { headless: true }).decision).toBe('deny');
    }
  });

  it('a rule allowing only the env secrets does not allow a request whose template reaches further', () => {
    const { policy, problems } = parsePolicy(
      { version: 1, rules: [{ id: 'tf', decision: 'allow', secrets: ['op://Infra/aws/secret', 'op://Infra/terraform cloud/token'] }] },
      FILE,
      [],
      () => 1,
    );
    expect(problems).toEqual([]);
    const plain = evaluatePolicy(policy, policyInputOf(sampleRequest(), null, 0), { headless: false });
    expect(plain.decision).toBe('allow');
    const withTemplate = evaluatePolicy(policy, policyInputOf(sampleRequest({ templates: [template] as never }), null, 0), { headless: false });
    expect(withTemplate.decision).toBe('ask');
    expect(evaluatePolicy(policy, policyInputOf(sampleRequest({ templates: [template] as never }), null, 0), { headless: true }).decision).toBe('deny');
  });
});

describe('the missing rule, pasted as it is', () => {
  // Text the agent controls (a provider program's reference, a program's path) may hold glob
  // characters and YAML indicators: the printed rule must still allow exactly this request.
  const hostile = fc.stringMatching(/^[a-z*?\\[\]{},#:'" !&|>%@`-]{1,12}$/);
  it('allows the request it was printed for and nothing wider (fast-check)', () => {
    fc.assert(
      fc.property(hostile, hostile, fc.constantFrom(null, 'deploy', 'true', 'null'), (path, key, profile) => {
        const request = sampleRequest({
          executable: `/opt/${path}/tool`,
          command: ['tool'],
          profile,
          templates: [],
          secrets: [{ alias: 'T', ref: `vault://kv/${key}`, provider: 'vault', account: null, source: 'flag', delivery: 'env', file: null }] as never,
        });
        const text = missingRuleOf(request);
        const { policy, problems } = parsePolicy({ version: 1, rules: [parse(text) as unknown] }, FILE, [], () => 1);
        expect(problems).toEqual([]);
        expect(evaluatePolicy(policy, policyInputOf(request, null, 0), { headless: true }).decision).toBe('allow');
        const wider = { ...request, secrets: [{ ...request.secrets[0], ref: `vault://kv/${key}x` }] } as never;
        expect(evaluatePolicy(policy, policyInputOf(wider, null, 0), { headless: true }).decision).toBe('deny');
        const elsewhere = { ...request, executable: `/opt/${path}x/tool` };
        expect(evaluatePolicy(policy, policyInputOf(elsewhere, null, 0), { headless: true }).decision).toBe('deny');
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['/usr/bin/true', 'executable: "true"'],
    ['/usr/bin/[', 'executable: "["'],
    ['/opt/tools/**/lint', 'executable: "/opt/tools/\\\\*\\\\*/lint"'],
  ])('%s is written so YAML and the policy read it back as that program', (executable, fragment) => {
    expect(missingRuleOf(sampleRequest({ executable, command: ['x'] }))).toContain(fragment);
  });

  it.each<[string[], string, boolean]>([
    [['node', 'purge.mjs'], '/usr/bin/node', true],
    [['sh', '-c', 'x'], '/usr/bin/dash', true],
    [['env', 'FOO=1', 'terraform', 'plan'], '/usr/bin/env', true],
    [['terraform', 'plan'], '/usr/local/bin/terraform', false],
  ])('%j: a note that the program runs whatever it is given: %s', (command, executable, noted) => {
    const request = sampleRequest({ command, executable });
    const note = missingRuleNote(request);
    expect(note !== null).toBe(noted);
    if (noted) expect(note).toContain('runs whatever code it is given: the argv: above pins how this command line starts');
    // The rule pins the command line: the same program with other arguments is not allowed.
    const rule = parse(missingRuleOf(request)) as Record<string, unknown>;
    const { policy } = parsePolicy({ version: 1, rules: [rule] }, FILE, [], () => 1);
    // sh is /usr/bin/sh, a system link to dash (what systemPathsOf finds on the host).
    const host = { systemPaths: command[0] === 'sh' ? ['/usr/bin/sh'] : [] };
    expect(evaluatePolicy(policy, policyInputOf(request, null, 0, host), { headless: true }).decision).toBe('allow');
    // argv is a prefix: trailing words are allowed, a changed one is not.
    const other = { ...request, command: [...request.command, '--and-more'] };
    expect(evaluatePolicy(policy, policyInputOf(other, null, 0, host), { headless: true }).decision).toBe('allow');
    const changed = { ...request, command: [request.command[0] as string, 'other', ...request.command.slice(2)] };
    expect(evaluatePolicy(policy, policyInputOf(changed, null, 0, host), { headless: true }).decision).toBe('deny');
  });

  it('a command line too long to print leaves argv: out and says so', () => {
    const request = sampleRequest({ command: ['terraform', ...Array.from({ length: 20 }, (_, i) => `-var=x${i}`)], executable: '/usr/local/bin/terraform' });
    expect(missingRuleOf(request)).not.toContain('argv:');
    expect(missingRuleNote(request)).toContain('too long to print as argv:');
  });
});
