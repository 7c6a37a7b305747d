// The policy in the user's own config: the policy: section of config.yml and policy.yml beside
// it, positioned problems, the two refused together, the same file checks, and the daemon's
// loader noticing a changed policy.yml.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkUserPolicy, createUserConfigLoader, loadUserConfig, parsePolicyFile, parseUserConfig } from '../../../src/config/user-config.js';
import { AgentSecretError } from '../../../src/core/errors.js';

const FILE = '/home/u/.config/agent-secret/config.yml';
const POLICY = '/home/u/.config/agent-secret/policy.yml';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AgentSecretError);
    expect((error as AgentSecretError).code).toBe('user_config.invalid');
    return (error as AgentSecretError).message;
  }
  throw new Error('expected a refusal');
}

describe('parsing', () => {
  it('reads the policy: section of config.yml', () => {
    const config = parseUserConfig('version: 1\napprover: none\npolicy:\n  rules:\n    - id: ci\n      decision: allow\n      profile: smoke\n', FILE);
    expect(config.approver).toBe('none');
    expect(config.policy?.rules.map((r) => [r.id, r.decision, r.line])).toEqual([['ci', 'allow', 5]]);
  });

  it.each([
    ['version: 1\npolicy:\n  rules:\n    - id: ci\n      decision: allow\n      colour: red\n', `${FILE}:6:7: policy.rules.0.colour: unknown key`],
    ['version: 1\npolicy:\n  rules:\n    - id: ci\n      decision: perhaps\n', `${FILE}:5:17: policy.rules.0.decision: must be allow, deny or ask`],
    ['version: 1\npolicy:\n  rulez: []\n', `${FILE}:3:3: policy.rules: is required: a list of rules (and 1 more problem)`],
  ])('positions a problem of the section: %j', (text, want) => {
    expect(message(() => parseUserConfig(text, FILE))).toBe(want);
  });

  it('policy.yml needs version: 1 and positions its problems', () => {
    expect(message(() => parsePolicyFile('rules: []\n', POLICY))).toBe(`${POLICY}:1:1: version: is required: the file starts with "version: 1"`);
    expect(message(() => parsePolicyFile('version: 1\nrules:\n  - id: a\n    decision: allow\n    cwd: relative/dir\n', POLICY))).toBe(
      `${POLICY}:5:10: rules.0.cwd.0: must be an absolute path (globs allowed: /home/me/src/*)`,
    );
  });
});

describe('loading', () => {
  let root: string;
  let dir: string;
  const input = () => ({ env: { XDG_CONFIG_HOME: root }, platform: 'linux' as const, homedir: '/nonexistent' });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'agent-secret-user-policy-'));
    dir = join(root, 'agent-secret');
    mkdirSync(dir, { mode: 0o700 });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads policy.yml beside config.yml, even with no config.yml', async () => {
    writeFileSync(join(dir, 'policy.yml'), 'version: 1\nrules:\n  - id: a\n    decision: deny\n', { mode: 0o600 });
    const config = await loadUserConfig(input());
    expect(config.exists).toBe(false);
    expect(config.policy?.rules.map((r) => r.id)).toEqual(['a']);
  });

  it('a policy.yml that is not YAML points at policy check, not at the approvers', async () => {
    const path = join(dir, 'policy.yml');
    writeFileSync(path, 'version: 1\nrules: [\n', { mode: 0o600 });
    const error = await loadUserConfig(input()).then(
      () => null,
      (e: unknown) => e as AgentSecretError,
    );
    expect(error?.message).toContain(`${path}:`);
    expect(error?.message).toContain('not valid YAML');
    expect(error?.hint).toBe('fix it: agent-secret policy check lists every problem; docs/policy.md describes the rules');
  });

  it('a policy.yml others can write is refused, saying what the file decides', async () => {
    const path = join(dir, 'policy.yml');
    writeFileSync(path, 'version: 1\nrules: []\n');
    chmodSync(path, 0o666);
    await expect(loadUserConfig(input())).rejects.toThrow(`${path} is writable by group or others; it decides which requests run without asking, so it is not trusted`);
  });

  it('refuses a policy in both places', async () => {
    writeFileSync(join(dir, 'config.yml'), 'version: 1\npolicy:\n  rules: []\n', { mode: 0o600 });
    writeFileSync(join(dir, 'policy.yml'), 'version: 1\nrules: []\n', { mode: 0o600 });
    await expect(loadUserConfig(input())).rejects.toThrow('keep one of them');
    const report = await checkUserPolicy(input());
    expect(report.sources).toHaveLength(2);
    expect(report.problems.map((p) => p.problem).join('\n')).toContain('keep one of them');
  });

  it('refuses a policy.yml others can write', async () => {
    const path = join(dir, 'policy.yml');
    writeFileSync(path, 'version: 1\nrules: []\n', { mode: 0o600 });
    chmodSync(path, 0o666);
    await expect(loadUserConfig(input())).rejects.toThrow('is writable by group or others');
  });

  it("the daemon's loader sees a changed policy.yml", async () => {
    const load = createUserConfigLoader();
    writeFileSync(join(dir, 'config.yml'), 'version: 1\n', { mode: 0o600 });
    expect((await load(input())).policy).toBeNull();
    writeFileSync(join(dir, 'policy.yml'), 'version: 1\nrules:\n  - id: a\n    decision: deny\n', { mode: 0o600 });
    expect((await load(input())).policy?.rules).toHaveLength(1);
  });
});
