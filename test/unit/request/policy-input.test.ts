// The request as the policy sees it: every reference the child could get, a template's included,
// so that a rule allowing a subset of secrets never lets a template's reference through.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { evaluatePolicy } from '../../../src/policy/evaluate.js';
import { parsePolicy } from '../../../src/policy/parse.js';
import { missingRuleOf, policyInputOf } from '../../../src/request/policy-input.js';
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
