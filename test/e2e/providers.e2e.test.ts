// More than one store, end to end with the built binary: a profile mixing 1Password (fake op),
// Bitwarden Secrets Manager (fake bws) and a provider program is shown with each secret's
// provider (dry run, profile show, the approver's request, the audit log) and delivered;
// a failure in one provider delivers nothing from any; provider programs that hang, exit 1,
// answer garbage or answer for a ref they were not asked fail closed; a project file cannot
// declare a provider. Every run is scanned for the canaries of all three fake stores.

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_BWS_VAULT_PATH, FAKE_PROGRAM_VAULT_PATH } from '../helpers/canaries.js';
import { runClean } from '../helpers/run-cli.js';
import { execa } from 'execa';
import { BIN, createSandbox, FIXTURE_BIN, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { digest, valueOf } from '../helpers/vault.js';

const PROGRAMS = join(REPO_ROOT, 'test', 'fixtures', 'programs');
const BWS = JSON.parse(readFileSync(FAKE_BWS_VAULT_PATH, 'utf8')) as { access_tokens: Array<{ value: string }>; secrets: Array<{ id: string; value: string }> };
const PROGRAM = JSON.parse(readFileSync(FAKE_PROGRAM_VAULT_PATH, 'utf8')) as { secrets: Array<{ ref: string; value: string }> };
const STRIPE = BWS.secrets[0]!;
const DB = BWS.secrets[1]!;
const APP = PROGRAM.secrets[0]!;

const CONFIG = `version: 1
profiles:
  mixed:
    reason: Deploy with every store
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
      STRIPE_KEY: bws://${STRIPE.id}
      DB_URL: bws://${DB.id}
      APP_TOKEN: ${APP.ref}
  broken-bws:
    reason: One bws secret is not readable
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
      TEAM_TOKEN: bws://${BWS.secrets[2]!.id}
  program-only:
    reason: Only the provider program
    secrets:
      APP_TOKEN: ${APP.ref}
      DB_PASSWORD: vault://kv/db#password
`;
const ALIASES = ['CF_TOKEN', 'STRIPE_KEY', 'DB_URL', 'APP_TOKEN'];
const BWS_BIN = join(FIXTURE_BIN, 'bws');

let sb: Sandbox;
let report: string;
let programLog: string;
let bwsLog: string;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
  report = join(sb.root, 'report.json');
  programLog = join(sb.root, 'program.log');
  bwsLog = join(sb.root, 'bws.log');
  sb.env.FAKE_BWS_LOG = bwsLog;
});
afterEach(() => sb.cleanup());

/** The user config: the fake approver, the fake op, bws (the fake, on PATH) and the fake provider program in `mode`. */
function configure(programMode = 'values', approver = 'approve'): void {
  sb.useApprover(approver, { providers: { bws: { path: BWS_BIN }, vault: { command: [join(FIXTURE_BIN, 'provider-program'), programMode, programLog], timeout: '3s' } } });
  const tokens = join(sb.root, 'config', 'agent-secret', 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  writeFileSync(join(tokens, 'bws.default'), `${BWS.access_tokens[0]!.value}\n`, { mode: 0o600 });
}

const reportArgs = (...aliases: string[]) => ['--', 'node', join(PROGRAMS, 'report-env.mjs'), report, ...aliases];
const readReport = () => JSON.parse(readFileSync(report, 'utf8')) as Record<string, unknown>;
const jsonLines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) : []);

describe('a profile mixing op, bws and a provider program', () => {
  it('shows each secret with its provider in the dry run and profile show, resolving nothing', async () => {
    configure();
    const dry = await runClean(sb, ['exec', '--profile', 'mixed', '--dry-run', '--', 'true']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`STRIPE_KEY = bws://${STRIPE.id}  provider=bws source=(default)`);
    expect(dry.stdout).toContain('CF_TOKEN   = op://Infra/Cloudflare/token  provider=op account=(op default)');
    expect(dry.stdout).toContain(`APP_TOKEN  = ${APP.ref}  provider=vault account=(none)`);
    const json = await runClean(sb, ['exec', '--profile', 'mixed', '--dry-run', '--json', '--', 'true']);
    const secrets = (JSON.parse(json.stdout) as { request: { secrets: Array<{ alias: string; provider: string }> } }).request.secrets;
    expect(Object.fromEntries(secrets.map((s) => [s.alias, s.provider]))).toEqual({ APP_TOKEN: 'vault', CF_TOKEN: 'op', DB_URL: 'bws', STRIPE_KEY: 'bws' });
    const show = await runClean(sb, ['profile', 'show', 'mixed', '--json']);
    const shown = (JSON.parse(show.stdout) as { profile: { secrets: Array<{ alias: string; provider: string }> } }).profile.secrets;
    expect(Object.fromEntries(shown.map((s) => [s.alias, s.provider]))).toEqual({ APP_TOKEN: 'vault', CF_TOKEN: 'op', DB_URL: 'bws', STRIPE_KEY: 'bws' });
    expect(sb.opCalls()).toEqual([]);
    expect(jsonLines(bwsLog)).toEqual([]);
    expect(jsonLines(programLog)).toEqual([]);
  });

  it('is approved once and delivers every value; the prompt and the audit name each provider; no token reaches the child', async () => {
    configure();
    const result = await runClean(sb, ['exec', '--profile', 'mixed', ...reportArgs(...ALIASES, 'BWS_ACCESS_TOKEN', 'OP_SERVICE_ACCOUNT_TOKEN')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const got = readReport();
    expect(got.CF_TOKEN).toEqual(digest(valueOf('op://Infra/Cloudflare/token')));
    expect(got.STRIPE_KEY).toEqual(digest(STRIPE.value));
    expect(got.DB_URL).toEqual(digest(DB.value));
    expect(got.APP_TOKEN).toEqual(digest(APP.value));
    expect(got.BWS_ACCESS_TOKEN).toEqual({ set: false });
    expect(got.OP_SERVICE_ACCOUNT_TOKEN).toEqual({ set: false });

    const prompts = sb.prompts();
    expect(prompts).toHaveLength(1);
    const asked = (prompts[0] as { secrets: Array<{ alias: string; ref: string; provider: string; account: string | null }> }).secrets;
    expect(asked).toContainEqual({ alias: 'STRIPE_KEY', ref: `bws://${STRIPE.id}`, provider: 'bws', account: null, delivery: 'env', file: null });
    expect(asked).toContainEqual({ alias: 'APP_TOKEN', ref: APP.ref, provider: 'vault', account: null, delivery: 'env', file: null });
    expect(asked).toContainEqual({ alias: 'CF_TOKEN', ref: 'op://Infra/Cloudflare/token', provider: 'op', account: null, delivery: 'env', file: null });
    const received = sb.auditEvents().find((e) => e.event === 'request_received') as { secrets: Array<{ provider: string }> };
    expect(received.secrets.map((s) => s.provider).sort()).toEqual(['bws', 'bws', 'op', 'vault']);

    // One op call, one bws call per secret (each with the token, given by agent-secret), one program call without it.
    expect(sb.opCalls()).toHaveLength(1);
    const bws = jsonLines(bwsLog) as Array<{ argv: string[]; token_given: boolean; env_names: string[] }>;
    expect(bws).toHaveLength(2);
    expect(bws.every((c) => c.token_given && c.argv.includes('--output'))).toBe(true);
    const program = jsonLines(programLog) as Array<{ env_names: string[]; request: { refs: Array<{ ref: string }> } }>;
    expect(program).toHaveLength(1);
    expect(program[0]!.request.refs).toEqual([{ ref: APP.ref, identity: null }]);
    expect(program[0]!.env_names).not.toContain('BWS_ACCESS_TOKEN');
  });

  it("the caller's provider tokens and registered-agent token reach neither the child nor any helper, nor the daemon it starts", async () => {
    configure();
    const added = await runClean(sb, ['agent', 'add', 'tester', '--json']);
    expect(added.code).toBe(0);
    const { token } = JSON.parse(added.stdout) as { token: string };
    const callerTokens = { AGENT_SECRET_AGENT_TOKEN: token, BWS_ACCESS_TOKEN: 'caller-bws-token-Y', OP_CONNECT_HOST: 'https://connect.invalid', OP_CONNECT_TOKEN: 'caller-connect-token' };
    const names = Object.keys(callerTokens);
    // This exec starts the daemon, with the caller's environment.
    const result = await runClean(sb, ['exec', '--profile', 'mixed', ...reportArgs(...ALIASES, ...names)], { env: callerTokens });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const got = readReport();
    for (const name of names) expect(got[name], name).toEqual({ set: false });
    expect(got.STRIPE_KEY).toEqual(digest(STRIPE.value));

    const op = sb.opCalls() as Array<{ argv: string[]; env_names: string[] }>;
    expect(op).toHaveLength(1);
    expect(op[0]!.env_names).not.toContain('AGENT_SECRET_AGENT_TOKEN');
    const bws = jsonLines(bwsLog) as Array<{ env_names: string[] }>;
    expect(bws).toHaveLength(2);
    for (const call of bws) expect(call.env_names).not.toContain('AGENT_SECRET_AGENT_TOKEN');
    const program = jsonLines(programLog) as Array<{ env_names: string[] }>;
    expect(program).toHaveLength(1);
    for (const name of ['AGENT_SECRET_AGENT_TOKEN', 'BWS_ACCESS_TOKEN', 'OP_CONNECT_TOKEN']) expect(program[0]!.env_names).not.toContain(name);

    // The daemon this caller started does not hold the agent's token.
    const pid = (JSON.parse(readFileSync(sb.daemonPidFile, 'utf8')) as { pid: number }).pid;
    if (existsSync(`/proc/${pid}/environ`)) expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).not.toContainEqual(expect.stringMatching(/^AGENT_SECRET_AGENT_TOKEN=/));
    for (const text of [result.stdout, result.stderr, readFileSync(sb.auditPath, 'utf8')]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain('caller-bws-token-Y');
    }
  });

  it('an op service-account token in the caller environment reaches op but not the child', async () => {
    const OP_VAULT = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'op-vault.json'), 'utf8')) as { service_accounts: Array<{ account: string; token: { value: string } }> };
    const SA = OP_VAULT.service_accounts[0]!;
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', '--reason', 't', '--secret', 'S=op://Infra/Cloudflare/token', ...reportArgs('S', 'OP_SERVICE_ACCOUNT_TOKEN')], { env: { OP_SERVICE_ACCOUNT_TOKEN: SA.token.value } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readReport()).toMatchObject({ S: { set: true }, OP_SERVICE_ACCOUNT_TOKEN: { set: false } });
    for (const text of [result.stdout, result.stderr, readFileSync(sb.auditPath, 'utf8')]) expect(text).not.toContain(SA.token.value);
  });

  it('Bitwarden rate-limiting bws says so plainly, naming the source and what it was needed for', async () => {
    configure();
    sb.env.FAKE_BWS_STATE = 'rate_limited';
    const result = await runClean(sb, ['exec', '--profile', 'mixed', ...reportArgs('STRIPE_KEY')]);
    expect(result.code).toBe(13);
    expect(result.stderr).toContain('Bitwarden turned bws away in bws source');
    expect(result.stderr).toContain('too many requests (needed for');
    expect(result.stderr).not.toContain('for now');
    expect(result.stderr).not.toContain('Slow down');
    expect(existsSync(report)).toBe(false);
  });

  it('one provider failing delivers nothing from any, naming the alias and the reference', async () => {
    configure();
    const result = await runClean(sb, ['exec', '--profile', 'broken-bws', ...reportArgs('CF_TOKEN', 'TEAM_TOKEN')]);
    expect(result.code).toBe(13);
    expect(result.stderr).toContain(`TEAM_TOKEN (bws://${BWS.secrets[2]!.id})`);
    expect(result.stderr).toContain('nothing was delivered');
    expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(existsSync(report)).toBe(false);
    expect(sb.auditEvents().map((e) => e.event)).toContain('resolution_failed');
  });
});

describe('env files', () => {
  it('take bws:// and the schemes the user config declares as references, and leave URLs plain', async () => {
    configure();
    sb.write('.env.refs', `STRIPE_KEY=bws://${STRIPE.id}\nAPP_TOKEN=${APP.ref}\nSITE=https://example.com/x\nOTHER=aws://not/declared\n`);
    const dry = await runClean(sb, ['exec', '--env-file', '.env.refs', '--reason', 'env refs', '--dry-run', '--json', '--', 'true']);
    expect(dry.code).toBe(0);
    const body = JSON.parse(dry.stdout) as { request: { secrets: Array<{ alias: string; provider: string }>; plain_env_names?: string[] } };
    expect(body.request.secrets.map((s) => [s.alias, s.provider])).toEqual([
      ['APP_TOKEN', 'vault'],
      ['STRIPE_KEY', 'bws'],
    ]);
    expect(dry.stdout).not.toContain('https://example.com/x');
  });
});

describe('a provider program fails closed', () => {
  it.each([
    ['hang', 'did not finish within 3s'],
    ['exit1', 'exited with code 1'],
    ['garbage', 'did not answer with one JSON object'],
    ['extra-ref', 'answered for a reference it was not asked for'],
  ])('%s: exit 13, the ref named, no value, no stderr of the program', async (mode, words) => {
    configure(mode);
    const result = await runClean(sb, ['exec', '--profile', 'program-only', ...reportArgs('APP_TOKEN', 'DB_PASSWORD')], { timeoutMs: 25_000 });
    expect(result.code).toBe(13);
    expect(result.stderr).toContain(words);
    expect(result.stderr).toContain('APP_TOKEN (vault://kv/app#token)');
    expect(result.stderr).not.toContain('fake provider debug');
    // Every hint sends the agent to the human, never to running the program itself.
    expect(result.stderr).not.toMatch(/run (it|the program) by hand/);
    if (mode === 'hang' || mode === 'exit1') expect(result.stderr).toContain('agents must not run the program themselves');
    expect(existsSync(report)).toBe(false);
  }, 30_000);
});

describe('only the user config declares providers', () => {
  it('a project file that declares a provider is refused, and nothing runs', async () => {
    configure();
    sb.write('agent-secret.yml', `version: 1\nproviders:\n  vault:\n    command: ["/bin/sh", "-c", "echo pwned"]\nprofiles:\n  p:\n    reason: r\n    secrets:\n      A: vault://kv/app#token\n`);
    const result = await runClean(sb, ['exec', '--profile', 'p', ...reportArgs('A')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('providers are declared only in your user config');
    expect(sb.prompts()).toEqual([]);
    expect(jsonLines(programLog)).toEqual([]);
  });

  it('a reference with a scheme the user config does not declare is refused before anyone is asked', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', '--reason', 'try a vault ref', '--secret', 'A=vault://kv/app#token', ...reportArgs('A')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('no provider for vault://');
    expect(sb.prompts()).toEqual([]);
  });
});

describe('which bws runs', () => {
  it('never the first bws on the PATH the daemon inherited: without providers.bws.path only system directories are searched', async () => {
    configure();
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', '--reason', 'bws from PATH', '--secret', `STRIPE_KEY=bws://${STRIPE.id}`, ...reportArgs('STRIPE_KEY')]);
    expect(result.code).toBe(13);
    expect(result.stderr).toContain('bws) was not found');
    expect(result.stderr).toContain('providers.bws.path');
    expect(jsonLines(bwsLog)).toEqual([]);
    expect(sb.prompts()).toEqual([]);
  });
});

describe('provider token set, status, remove', () => {
  it('stores the bws token from stdin in a 0600 file, never prints it, and exec then uses it', async () => {
    sb.useApprover('approve', { providers: { bws: { path: BWS_BIN, sources: { main: {}, team: {} }, default_source: 'main' } } });
    const token = BWS.access_tokens[0]!.value;
    const before = await runClean(sb, ['provider', 'token', 'status', 'bws']);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain('bws/main: no token');
    expect(before.stdout).toContain('agent-secret provider token set bws/main');

    const set = await runClean(sb, ['provider', 'token', 'set', 'bws'], { input: `${token}\n` });
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('stored the access token of bws source main in file ');
    const file = join(sb.root, 'config', 'agent-secret', 'tokens', 'bws.main');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(token);

    const status = await runClean(sb, ['provider', 'token', 'status', 'bws/main', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ target: 'bws/main', state: 'present' });

    const run = await runClean(sb, ['exec', '--reason', 'use the stored token', '--secret', `STRIPE_KEY=bws://${STRIPE.id}`, ...reportArgs('STRIPE_KEY', 'BWS_ACCESS_TOKEN')]);
    expect(run.code).toBe(0);
    expect(readReport()).toMatchObject({ STRIPE_KEY: digest(STRIPE.value), BWS_ACCESS_TOKEN: { set: false } });
    // A source without a token fails before bws runs for it, naming the command that stores one.
    const team = await runClean(sb, ['exec', '--reason', 'team source', '--secret', `TEAM=bws://team/${BWS.secrets[2]!.id}`, ...reportArgs('TEAM')]);
    expect(team.code).toBe(13);
    expect(team.stderr).toContain('agent-secret provider token set bws/team');

    const removed = await runClean(sb, ['provider', 'token', 'remove', 'bws/main']);
    expect(removed.code).toBe(0);
    expect(existsSync(file)).toBe(false);
    const unknown = await runClean(sb, ['provider', 'token', 'set', 'bws/nowhere'], { input: `${token}\n` });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('bws source nowhere is not declared');
  });

  it('refuses a token file others can read, naming the file and the fix, and delivers nothing', async () => {
    configure();
    chmodSync(join(sb.root, 'config', 'agent-secret', 'tokens', 'bws.default'), 0o644);
    const result = await runClean(sb, ['exec', '--reason', 'bad mode', '--secret', `STRIPE_KEY=bws://${STRIPE.id}`, ...reportArgs('STRIPE_KEY')]);
    expect(result.code).toBe(13);
    expect(result.stderr).toContain('is readable or writable by group or others');
    expect(result.stderr).toContain('chmod 600');
    expect(existsSync(report)).toBe(false);
    expect(jsonLines(bwsLog)).toEqual([]);
  });
});

describe('1Password service accounts', () => {
  const OP_VAULT = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'op-vault.json'), 'utf8')) as { service_accounts: Array<{ account: string; token: { value: string } }> };
  const SA = OP_VAULT.service_accounts[0]!;

  it('an account with a service-account token resolves without the desktop app; the token reaches op alone; doctor names each mode', async () => {
    sb.env.FAKE_OP_STATE = 'signed_out';
    sb.useApprover('approve', { providers: { op: { service_accounts: { [SA.account]: {} } } } });
    const set = await runClean(sb, ['provider', 'token', 'set', `op/${SA.account}`], { input: SA.token.value });
    expect(set.code).toBe(0);

    const ok = await runClean(sb, ['exec', '--reason', 'ci deploy', '--account', SA.account, '--secret', 'CF=op://Infra/Cloudflare/token', ...reportArgs('CF', 'OP_SERVICE_ACCOUNT_TOKEN')]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(readReport()).toMatchObject({ CF: digest(valueOf('op://Infra/Cloudflare/token', SA.account)), OP_SERVICE_ACCOUNT_TOKEN: { set: false } });
    const calls = sb.opCalls() as Array<{ argv: string[]; env_names: string[] }>;
    expect(calls).toHaveLength(1);
    expect(calls[0]!.env_names).toContain('OP_SERVICE_ACCOUNT_TOKEN');
    expect(calls[0]!.argv).not.toContain('--account');

    // The desktop-app account in the same state fails, and nothing is delivered.
    const desktop = await runClean(sb, ['exec', '--reason', 'laptop', '--secret', 'CF=op://Infra/Cloudflare/token', ...reportArgs('CF')]);
    expect(desktop.code).toBe(13);
    expect(desktop.stderr).toContain('not signed in');

    const doctor = await runClean(sb, ['doctor', '--json']);
    const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks;
    expect(checks.find((c) => c.name === `op_account ${SA.account}`)).toMatchObject({ status: 'ok' });
    expect(checks.find((c) => c.name === 'op_accounts')?.detail).toContain(`${SA.account}: service account; every other account: the 1Password desktop app`);
    expect(checks.find((c) => c.name === 'op_signed_in')).toMatchObject({ status: 'warn' });
  });

  it('a service-account token is never given to an op found on PATH: without op_path it is refused before anyone is asked', async () => {
    sb.useApprover('approve', { op_path: undefined, providers: { op: { service_accounts: { [SA.account]: {} } } } });
    await runClean(sb, ['provider', 'token', 'set', `op/${SA.account}`], { input: SA.token.value });
    const result = await runClean(sb, ['exec', '--reason', 'ci deploy', '--account', SA.account, '--secret', 'CF=op://Infra/Cloudflare/token', ...reportArgs('CF')]);
    expect(result.code).toBe(13);
    expect(result.stderr).toContain('op_path is not set');
    expect(sb.prompts()).toEqual([]);
    expect(sb.opCalls()).toEqual([]);
  });

  it('a refused service-account token fails closed with the token commands as the fix', async () => {
    sb.useApprover('approve', { providers: { op: { service_accounts: { [SA.account]: {} } } } });
    await runClean(sb, ['provider', 'token', 'set', `op/${SA.account}`], { input: 'ops_not-a-real-token' });
    const result = await runClean(sb, ['exec', '--reason', 'ci deploy', '--account', SA.account, '--secret', 'CF=op://Infra/Cloudflare/token', ...reportArgs('CF')]);
    expect(result.code).toBe(13);
    expect(result.stderr).toContain(`service-account token of account ${SA.account}`);
    expect(result.stderr).toContain(`agent-secret provider token set op/${SA.account}`);
    expect(result.stderr).not.toContain('ops_not-a-real-token');
    expect(existsSync(report)).toBe(false);
  });
});

describe('doctor reports every configured provider', () => {
  it('bws and its sources, each provider program, with a fix for each failing check', async () => {
    sb.useApprover('approve', {
      providers: {
        bws: { path: BWS_BIN, sources: { main: {}, team: {} }, default_source: 'main' },
        vault: { command: [join(FIXTURE_BIN, 'provider-program'), 'values'] },
        gone: { command: ['/nonexistent/provider'] },
      },
    });
    await runClean(sb, ['provider', 'token', 'set', 'bws/main'], { input: BWS.access_tokens[0]!.value });
    const doctor = await runClean(sb, ['doctor', '--json']);
    expect(doctor.code).toBe(1);
    const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string; hint: string | null }> }).checks;
    const byName = (name: string) => checks.find((c) => c.name === name);
    expect(byName('bws')).toMatchObject({ status: 'ok' });
    expect(byName('bws_source main (default)')).toMatchObject({ status: 'ok', detail: expect.stringContaining('Bitwarden accepts it') });
    expect(byName('bws_source team')).toMatchObject({ status: 'fail', hint: expect.stringContaining('agent-secret provider token set bws/team') });
    expect(byName('provider vault')).toMatchObject({ status: 'ok' });
    expect(byName('provider gone')).toMatchObject({ status: 'fail', hint: expect.stringContaining('providers.gone') });
    const text = await runClean(sb, ['doctor']);
    expect(text.stdout).toContain('bws_source team');
  });
});

describe('the GitHub Actions example of docs/policy.md', () => {
  it('works as written, and npm run smoke never holds the service-account token', async () => {
    const OP_VAULT = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'op-vault.json'), 'utf8')) as { service_accounts: Array<{ account: string; token: { value: string } }> };
    const SA = OP_VAULT.service_accounts[0]!;
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'policy.md'), 'utf8');
    const yaml = doc.slice(doc.indexOf('# .github/workflows/deploy.yml'));
    const lines = yaml.slice(0, yaml.indexOf('```')).split('\n');
    // The config step's script: the indented lines after its `run: |`.
    const start = lines.findIndex((l) => l.includes('name: agent-secret config (headless) and policy')) + 2;
    const end = lines.findIndex((l, i) => i > start && l.trimStart().startsWith('- name:'));
    const configScript = lines.slice(start, end).map((l) => l.slice(10)).join('\n');
    const tokenLine = lines.find((l) => l.includes('provider token set'))!.replace(/^\s*run: /, '');
    const execLine = lines.find((l) => l.includes('agent-secret exec'))!.replace(/^\s*run: /, '');
    // The runner's setup-node npm lives under /opt/hostedtoolcache/node; here, wherever this machine's npm is.
    const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
    const npmTree = dirname(dirname(dirname(npmCli)));
    const adapt = (text: string) => text.replaceAll('ci.1password.com', SA.account).replaceAll('op://CI/**', 'op://Infra/**').replaceAll('/opt/hostedtoolcache/node/**', `${npmTree}/**`);

    const shim = join(sb.root, 'shim');
    mkdirSync(shim);
    writeFileSync(join(shim, 'agent-secret'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
    sb.write('agent-secret.yml', `version: 1\nprofiles:\n  smoke:\n    reason: CI smoke\n    account: ${SA.account}\n    secrets:\n      CF_TOKEN: op://Infra/Cloudflare/token\n`);
    sb.write('package.json', JSON.stringify({ name: 'smoke', private: true, scripts: { smoke: `node ${join(PROGRAMS, 'report-env.mjs')} ${report} CF_TOKEN OP_SERVICE_ACCOUNT_TOKEN OP_TOKEN` } }));
    const env = { ...sb.env, PATH: `${shim}:${sb.env.PATH}`, XDG_CONFIG_HOME: join(sb.env.HOME!, '.config'), FAKE_OP_STATE: 'signed_out' };
    const step = (script: string, extra: Record<string, string> = {}) => execa('bash', ['-e', '-c', script], { cwd: sb.project, env: { ...env, ...extra }, extendEnv: false, reject: false, all: true });

    const config = await step(adapt(configScript));
    expect(config.exitCode, config.all).toBe(0);
    const token = await step(adapt(tokenLine), { OP_TOKEN: SA.token.value });
    expect(token.exitCode, token.all).toBe(0);
    const smoke = await step(adapt(execLine));
    expect(smoke.exitCode, smoke.all).toBe(0);
    expect(readReport()).toMatchObject({ CF_TOKEN: digest(valueOf('op://Infra/Cloudflare/token', SA.account)), OP_SERVICE_ACCOUNT_TOKEN: { set: false }, OP_TOKEN: { set: false } });
    for (const text of [config.all, token.all, smoke.all]) expect(text).not.toContain(SA.token.value);
  });
});
