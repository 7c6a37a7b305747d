// Secrets as files, end to end with the built binary: `--file`, `files:` and templates reach the
// child as paths of private files holding the exact bytes (a multiline PEM, a binary document, a
// rendered template), on a RAM-backed filesystem, and are gone once the child exits, once
// agent-secret is told to stop by a signal, and (after SIGKILL) at the next run. A FIFO honours
// its read limit; an edited template is a new request. Every run is scanned for canary values,
// and nothing of them is left under $TMPDIR or $HOME.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CANARIES } from '../helpers/canaries.js';
import { expectNoLeak, runClean, runCli } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { bytesOf } from '../helpers/vault.js';

const PROGRAMS = join(REPO_ROOT, 'test', 'fixtures', 'programs');

const CONFIG = `version: 1
default_profile: cluster
profiles:
  cluster:
    reason: Deploy to the cluster
    ttl: 30s
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
    files:
      KUBECONFIG: op://Infra/prod-cluster/kubeconfig
      TLS_KEY: { ref: "op://Infra/TLS/private key", name: tls.key }
      KEYSTORE: op://Infra/Signing Keystore/keystore.p12
    templates:
      NPM_CONFIG_USERCONFIG: npmrc.tmpl
  piped:
    reason: Read the key through a pipe
    files:
      TLS_KEY: { ref: "op://Infra/TLS/private key", mode: fifo }
  piped-twice:
    reason: Read the key through a pipe twice
    files:
      TLS_KEY: { ref: "op://Infra/TLS/private key", mode: fifo, max_reads: 2 }
`;
const TEMPLATE = '//registry.npmjs.org/:_authToken={{ op://Infra/npm/token }}\nemail=deploy@example.com\n';

let sb: Sandbox;
let report: string;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
  sb.write('npmrc.tmpl', TEMPLATE);
  report = join(sb.root, 'report.json');
});
afterEach(() => sb.cleanup());

interface FileReport {
  path: string;
  kind: string;
  mode: string;
  dir_mode: string;
  size: number;
  sha256: string;
  second_read: string;
}
const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const filesArgs = (...names: string[]) => ['--', 'node', join(PROGRAMS, 'report-files.mjs'), report, ...names];
const readReport = () => JSON.parse(readFileSync(report, 'utf8')) as Record<string, FileReport> & { pid: number };
const events = () => sb.auditEvents().map((e) => e.event);

// Every path under dir (recursively), and whether any file there holds a canary value.
function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? [path, ...walk(path)] : [path];
  });
}
function expectNothingLeftBehind(): void {
  for (const base of [sb.env.TMPDIR as string, sb.home, sb.env.XDG_RUNTIME_DIR as string]) {
    for (const path of walk(base)) {
      expect(path).not.toMatch(/agent-secret-files\./);
      if (!statSync(path).isFile()) continue;
      const text = readFileSync(path).toString('latin1');
      for (const canary of CANARIES) if (text.includes(canary)) expect.fail(`a secret value was left in ${path}`);
    }
  }
}
async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

describe('files from a profile and the command line', () => {
  it('hands the child the exact bytes in 0600 files of a private directory on tmpfs, and removes them at its exit', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', ...filesArgs('KUBECONFIG', 'TLS_KEY', 'KEYSTORE', 'NPM_CONFIG_USERCONFIG')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);

    const got = readReport();
    expect(got.KUBECONFIG).toMatchObject({ kind: 'file', mode: '600', dir_mode: '700', sha256: sha(bytesOf('op://Infra/prod-cluster/kubeconfig')) });
    // A multiline PEM, byte for byte (no newline added or lost).
    const pem = bytesOf('op://Infra/TLS/private key');
    expect(pem.toString('utf8').split('\n').length).toBeGreaterThan(3);
    expect(got.TLS_KEY).toMatchObject({ kind: 'file', size: pem.length, sha256: sha(pem) });
    expect(got.TLS_KEY?.path.endsWith('/TLS_KEY/tls.key')).toBe(true);
    // A binary document: every byte value, NUL and invalid UTF-8 included.
    const keystore = bytesOf('op://Infra/Signing Keystore/keystore.p12');
    expect(keystore.includes(0)).toBe(true);
    expect(got.KEYSTORE).toMatchObject({ kind: 'file', size: keystore.length, sha256: sha(keystore) });
    // The rendered template, named after the template without .tmpl.
    const rendered = TEMPLATE.replace('{{ op://Infra/npm/token }}', bytesOf('op://Infra/npm/token').toString('utf8'));
    expect(got.NPM_CONFIG_USERCONFIG).toMatchObject({ kind: 'file', mode: '600', sha256: sha(rendered) });
    expect(got.NPM_CONFIG_USERCONFIG?.path.endsWith('/NPM_CONFIG_USERCONFIG/npmrc')).toBe(true);

    // On a RAM-backed filesystem (the sandbox's XDG_RUNTIME_DIR is on disk, so /dev/shm), in one private directory.
    const dirs = new Set(Object.values(got).flatMap((f) => (typeof f === 'object' ? [f.path.split('/').slice(0, 4).join('/')] : [])));
    expect(dirs.size).toBe(1);
    const [dir] = [...dirs] as [string];
    expect(dir).toMatch(/^\/dev\/shm\/agent-secret-files\.\d+\.[A-Za-z0-9]+$/);
    // Gone once the child exited.
    expect(existsSync(dir)).toBe(false);
    for (const f of ['KUBECONFIG', 'TLS_KEY', 'KEYSTORE', 'NPM_CONFIG_USERCONFIG']) expect(existsSync(got[f]?.path as string)).toBe(false);

    // Audited without values: the delivery kind, the template's hash and references, the removal.
    expect(events()).toEqual(['request_received', 'approval_granted', 'resolution_started', 'resolution_succeeded', 'child_started', 'child_exited', 'files_removed']);
    const removed = sb.auditEvents().at(-1) as Record<string, unknown>;
    expect(removed).toMatchObject({ event: 'files_removed', files_removed: 4, removed_on: 'child_exit' });
    expect(removed.removed_after_exit_ms).toBeTypeOf('number');
    expect(removed.secrets).toContainEqual({ alias: 'KUBECONFIG', ref: 'op://Infra/prod-cluster/kubeconfig', provider: 'op', account: null, delivery: 'file' });
    expect(removed.secrets).toContainEqual({ alias: 'CF_TOKEN', ref: 'op://Infra/Cloudflare/token', provider: 'op', account: null });
    expect(removed.templates).toEqual([{ alias: 'NPM_CONFIG_USERCONFIG', path: join(sb.project, 'npmrc.tmpl'), sha256: sha(TEMPLATE), refs: ['op://Infra/npm/token'], account: null }]);
    expectNothingLeftBehind();
  });

  it('shows the human every file, how it is delivered and every reference a template uses', async () => {
    sb.useApprover('approve');
    expect((await runClean(sb, ['exec', ...filesArgs('KUBECONFIG')])).code).toBe(0);
    const [prompt] = sb.prompts();
    expect(prompt?.secrets).toContainEqual({ alias: 'TLS_KEY', ref: 'op://Infra/TLS/private key', provider: 'op', account: null, delivery: 'file', file: { name: 'tls.key', mode: 'file', max_reads: null } });
    expect(prompt?.secrets).toContainEqual({ alias: 'CF_TOKEN', ref: 'op://Infra/Cloudflare/token', provider: 'op', account: null, delivery: 'env', file: null });
    expect(prompt?.templates).toEqual([
      { alias: 'NPM_CONFIG_USERCONFIG', path: join(sb.project, 'npmrc.tmpl'), sha256: sha(TEMPLATE), refs: ['op://Infra/npm/token'], account: null, file: { name: 'npmrc', mode: 'file', max_reads: null } },
    ]);

    const dry = await runClean(sb, ['exec', '--dry-run', ...filesArgs('KUBECONFIG')]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('KUBECONFIG = op://Infra/prod-cluster/kubeconfig  provider=op account=(op default)  from=profile  as a file: name=KUBECONFIG mode=file');
    expect(dry.stdout).toContain(`NPM_CONFIG_USERCONFIG = ${join(sb.project, 'npmrc.tmpl')}  sha256=${sha(TEMPLATE)}`);
    expect(dry.stdout).toContain('    uses op://Infra/npm/token');
    const json = JSON.parse((await runClean(sb, ['exec', '--dry-run', '--json', ...filesArgs('KUBECONFIG')])).stdout) as { request: Record<string, unknown> };
    expect(json.request.templates).toEqual(prompt?.templates);
  });

  it('--file and --template on the command line, masked in the captured output like any value', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, [
      'exec',
      '--reason',
      'Read the kubeconfig',
      '--file',
      'KUBECONFIG=op://Infra/prod-cluster/kubeconfig',
      '--template',
      'NPMRC=npmrc.tmpl',
      '--',
      'sh',
      '-c',
      'cat "$KUBECONFIG" "$NPMRC"',
    ]);
    expect(result.code).toBe(0);
    // The child printed both files into a captured stream: every value is concealed.
    expect(result.stdout).toContain('<concealed by agent-secret>');
    expect(result.stdout).toContain('email=deploy@example.com');
    expect(result.stdout).not.toContain('apiVersion');
    expect(sb.prompts()[0]?.secrets).toEqual([{ alias: 'KUBECONFIG', ref: 'op://Infra/prod-cluster/kubeconfig', provider: 'op', account: null, delivery: 'file', file: { name: 'KUBECONFIG', mode: 'file', max_reads: null } }]);
    expectNothingLeftBehind();
  });

  it('--pristine keeps the files', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', '--pristine', '--only', 'KUBECONFIG', ...filesArgs('KUBECONFIG')]);
    expect(result.code).toBe(0);
    expect(readReport().KUBECONFIG).toMatchObject({ kind: 'file', sha256: sha(bytesOf('op://Infra/prod-cluster/kubeconfig')) });
  });
});

describe('removal when agent-secret is stopped', () => {
  it('SIGTERM to agent-secret: passed to the child, and the files go when it exits', async () => {
    sb.useApprover('approve');
    let pid = 0;
    const running = runCli(sb, ['exec', '--only', 'KUBECONFIG', ...filesArgs('KUBECONFIG')], { env: { WAIT: '1' }, onSpawn: (p) => (pid = p) });
    await waitFor(() => existsSync(report));
    const path = readReport().KUBECONFIG?.path as string;
    expect(existsSync(path)).toBe(true);
    process.kill(pid, 'SIGTERM');
    const result = await running;
    expectNoLeak(sb, result);
    expect(result.code).toBe(143);
    expect(existsSync(path)).toBe(false);
    expect(sb.auditEvents().at(-1)).toMatchObject({ event: 'files_removed', files_removed: 1 });
    expectNothingLeftBehind();
  });

  it('SIGKILL to agent-secret: the files outlive it, and the next run sweeps them', async () => {
    sb.useApprover('approve');
    let pid = 0;
    const running = runCli(sb, ['exec', '--only', 'KUBECONFIG', ...filesArgs('KUBECONFIG')], { env: { WAIT: '1' }, onSpawn: (p) => (pid = p) });
    await waitFor(() => existsSync(report));
    const { KUBECONFIG: first, pid: childPid } = readReport();
    const dir = (first?.path as string).split('/').slice(0, 4).join('/');
    expect(dir).toContain(`agent-secret-files.${pid}.`);
    process.kill(pid, 'SIGKILL');
    await running;
    process.kill(childPid, 'SIGKILL');
    expect(existsSync(dir)).toBe(true);

    const next = await runClean(sb, ['exec', '--only', 'KUBECONFIG', ...filesArgs('KUBECONFIG')]);
    expect(next.code).toBe(0);
    expect(existsSync(dir)).toBe(false);
    expectNothingLeftBehind();
  });
});

describe('FIFOs', () => {
  it('serves the value once by default: a second read finds nothing', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', '--profile', 'piped', ...filesArgs('TLS_KEY')]);
    expect(result.code).toBe(0);
    const got = readReport().TLS_KEY;
    expect(got).toMatchObject({ kind: 'fifo', mode: '600', sha256: sha(bytesOf('op://Infra/TLS/private key')) });
    // Removed after its one read (ENOENT), or, had the reader been waiting already, an empty read.
    expect([got?.second_read === 'ENOENT', got?.second_read === sha('')]).toContain(true);
    expect(sb.prompts()[0]?.secrets).toEqual([{ alias: 'TLS_KEY', ref: 'op://Infra/TLS/private key', provider: 'op', account: null, delivery: 'file', file: { name: 'TLS_KEY', mode: 'fifo', max_reads: 1 } }]);
  });

  it('max_reads: 2 serves it twice, each reader the whole value once', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['exec', '--profile', 'piped-twice', ...filesArgs('TLS_KEY')]);
    expect(result.code).toBe(0);
    const value = sha(bytesOf('op://Infra/TLS/private key'));
    expect(readReport().TLS_KEY).toMatchObject({ kind: 'fifo', sha256: value, second_read: value });
  });
});

describe('templates', () => {
  it('an edited template is a new request: a reusable approval does not cover it', async () => {
    sb.useApprover('approve-reuse:60:5');
    // The command names no file of its own (a report file argv names would change the request too).
    const args = ['exec', '--reason', 'Publish the package', '--template', 'NPM_CONFIG_USERCONFIG=npmrc.tmpl', '--', 'sh', '-c', 'wc -c < "$NPM_CONFIG_USERCONFIG"'];
    const size = Buffer.byteLength(TEMPLATE.replace('{{ op://Infra/npm/token }}', bytesOf('op://Infra/npm/token').toString('utf8')));
    expect((await runClean(sb, args)).stdout.trim()).toBe(String(size));
    expect((await runClean(sb, args)).stdout.trim()).toBe(String(size));
    expect(sb.prompts()).toHaveLength(1);
    expect(events()).toContain('approval_reused');
    sb.write('npmrc.tmpl', `${TEMPLATE}always-auth=true\n`);
    const edited = await runClean(sb, args);
    expect(edited.stdout.trim()).toBe(String(size + 'always-auth=true\n'.length));
    expect(sb.prompts()).toHaveLength(2);
    expect(sb.prompts()[1]?.templates).toMatchObject([{ sha256: sha(`${TEMPLATE}always-auth=true\n`) }]);
  });

  it.each([
    ['uses no reference', 'registry=https://registry.npmjs.org/\n', 'the template uses no reference'],
    ['holds something other than a reference', 'token={{ NPM_TOKEN }}\n', 'only a reference'],
    ['uses a scheme no provider serves', 'token={{ vault://kv/npm }}\n', 'no provider for vault:// references'],
    ['holds an invalid reference', 'token={{ op://Infra }}\n', 'invalid reference'],
    ['leaves a {{ open', 'token={{ op://Infra/npm/token\n', 'never closed'],
  ])('refuses a template that %s, before any prompt', async (_name, text, message) => {
    sb.useApprover('approve');
    sb.write('bad.tmpl', text);
    const result = await runClean(sb, ['exec', '--reason', 'Publish the package', '--template', 'NPMRC=bad.tmpl', '--', 'true']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('bad.tmpl');
    expect(sb.prompts()).toHaveLength(0);
    expect(sb.opCalls()).toHaveLength(0);
  });
});

describe('sessions', () => {
  it('with-session lays out the session’s files as exec does, --only picks them, and they go at the child’s exit', async () => {
    sb.useApprover('approve');
    const created = await runClean(sb, ['session', 'create', '--profile', 'cluster', '--max-reads', '2', '--json']);
    expect(created.code).toBe(0);
    const session = JSON.parse(created.stdout) as { session_token: string; aliases: string[] };
    expect(session.aliases).toEqual(expect.arrayContaining(['CF_TOKEN', 'KUBECONFIG', 'KEYSTORE', 'NPM_CONFIG_USERCONFIG', 'TLS_KEY']));
    expect(sb.prompts()[0]?.templates).toMatchObject([{ alias: 'NPM_CONFIG_USERCONFIG', refs: ['op://Infra/npm/token'] }]);

    const run = await runClean(sb, ['with-session', session.session_token, ...filesArgs('KEYSTORE', 'NPM_CONFIG_USERCONFIG')]);
    expect(run.code).toBe(0);
    const got = readReport();
    expect(got.KEYSTORE).toMatchObject({ kind: 'file', mode: '600', sha256: sha(bytesOf('op://Infra/Signing Keystore/keystore.p12')) });
    const rendered = TEMPLATE.replace('{{ op://Infra/npm/token }}', bytesOf('op://Infra/npm/token').toString('utf8'));
    expect(got.NPM_CONFIG_USERCONFIG).toMatchObject({ kind: 'file', sha256: sha(rendered) });
    expect(existsSync(got.KEYSTORE?.path as string)).toBe(false);
    expect(sb.auditEvents().at(-1)).toMatchObject({ event: 'files_removed', files_removed: 4 });

    const only = await runClean(sb, ['with-session', session.session_token, '--only', 'KUBECONFIG', ...filesArgs('KUBECONFIG', 'KEYSTORE')]);
    expect(only.code).toBe(0);
    expect(readReport().KUBECONFIG).toMatchObject({ kind: 'file', sha256: sha(bytesOf('op://Infra/prod-cluster/kubeconfig')) });
    expect(readReport().KEYSTORE).toEqual({ set: false });
    expectNothingLeftBehind();
  });
});
