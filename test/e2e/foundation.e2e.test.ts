// The CLI surface that needs no approval: version, help, agent-context, profiles, and
// `exec --dry-run`, run as a real process against real files. Every malformed input must
// give a positioned one- or two-line error, a documented exit code and no stack trace.

import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { runClean, type CliResult } from '../helpers/run-cli.js';

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
});
afterEach(() => sb.cleanup());

const CONFIG = `version: 1
default_profile: deploy
profiles:
  base:
    account: my.1password.com
    secrets:
      SHARED_TOKEN: op://Infra/Shared/token
  deploy:
    include: [base]
    reason: Deploy the web app
    ttl: 90s
    secrets:
      API_TOKEN: op://Infra/Deploy/api token
      OTP_CODE: op://Infra/Deploy/one-time password?attribute=otp
`;

function expectCleanFailure(result: CliResult, exitCode: number, ...fragments: string[]) {
  expect(result.code).toBe(exitCode);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines.length).toBeGreaterThanOrEqual(1);
  expect(lines.length).toBeLessThanOrEqual(2);
  expect(lines[0]).toMatch(/^agent-secret: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  for (const fragment of fragments) expect(result.stderr).toContain(fragment);
}

describe('version and help', () => {
  it('--version prints the package version', async () => {
    const result = await runClean(sb, ['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('version --json carries schema_version', async () => {
    const result = await runClean(sb, ['version', '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({ schema_version: '1', cli: 'agent-secret' });
  });

  it('no arguments prints help and exits 0', async () => {
    const result = await runClean(sb, []);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: agent-secret');
  });

  it('every command has --help with examples', async () => {
    const doc = JSON.parse((await runClean(sb, ['agent-context', '--json'])).stdout) as { commands: Record<string, unknown> };
    const commands = Object.keys(doc.commands);
    expect(commands.length).toBeGreaterThan(15);
    for (const command of commands) {
      const result = await runClean(sb, [...command.split(' '), '--help']);
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toContain(`Usage: agent-secret ${command}`);
      expect(result.stdout, command).toMatch(/Examples?:/);
    }
  });

  it('an unknown command is a usage error', async () => {
    expectCleanFailure(await runClean(sb, ['frobnicate']), 2, 'unknown command');
  });

  it('run as a command, an env file cannot put NODE_OPTIONS into agent-secret itself (Node 20 reads --env-file in script arguments)', () => {
    const marker = join(sb.root, 'required-code-ran');
    const hook = join(sb.root, 'hook.cjs');
    writeFileSync(hook, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')\n`);
    const envFile = join(sb.root, 'evil.env');
    writeFileSync(envFile, `NODE_OPTIONS=--require=${hook}\nTOKEN=op://Infra/Cloudflare/token\n`);
    // The bin as the shell runs it (its shebang), the way an installed agent-secret command is run.
    const result = spawnSync(BIN, ['exec', '--dry-run', '--reason', 'Inspect an env file', '--env-file', envFile, '--', 'true'], {
      env: { ...sb.env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
      cwd: sb.project,
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('dry run: ok');
    expect(existsSync(marker)).toBe(false);
  });

  it('a deleted working directory is reported as such (exit 2), not as a broken build', () => {
    for (const args of [['version'], ['exec', '--reason', 'x', '--secret', 'A=op://Infra/Cloudflare/token', '--', 'true']]) {
      const gone = join(sb.root, 'gone');
      mkdirSync(gone);
      const result = spawnSync('/bin/sh', ['-c', 'cd "$0" && rmdir "$0" && exec "$@"', gone, process.execPath, BIN, ...args], { env: sb.env, encoding: 'utf8' });
      expect(result.stderr).toBe('agent-secret: the current directory no longer exists\nhint: cd to an existing directory and rerun\n');
      expect(result.status).toBe(2);
    }
  });

  // /dev/full (every write fails with ENOSPC) exists on Linux only.
  it.runIf(existsSync('/dev/full'))('output that cannot be written (a full disk) is an error (exit 1), never a silent success', () => {
    for (const args of [['--version'], ['agent-context', '--json'], ['version', '--json']]) {
      const full = openSync('/dev/full', 'w');
      try {
        const result = spawnSync(process.execPath, [BIN, ...args], { env: sb.env, encoding: 'utf8', stdio: ['ignore', full, 'pipe'] });
        expect(result.status, args.join(' ')).toBe(1);
        expect(result.stderr).toMatch(/^agent-secret: could not write (the version|the output) to stdout \(ENOSPC\)/);
        expect(result.stderr).not.toMatch(/node:events|Unhandled/);
      } finally {
        closeSync(full);
      }
    }
  });

  it('a reader that went away (| head) ends the output quietly, with the exit code of the command', async () => {
    for (const args of [['--help'], ['agent-context', '--json'], ['frobnicate']]) {
      const result = await runClean(sb, args, { closeStdoutAfter: 0 });
      expect(result.stderr).not.toMatch(/EPIPE|Unhandled|node:events/);
      expect(result.code).toBe(args[0] === 'frobnicate' ? 2 : 0);
    }
  });
});

describe('agent-context --json', () => {
  it('lists commands, flags, exit codes and the discovered profiles', async () => {
    sb.write('agent-secret.yml', CONFIG);
    const result = await runClean(sb, ['agent-context', '--json']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.schema_version).toBe('1');
    expect(Object.keys(doc.commands)).toEqual(expect.arrayContaining(['exec', 'profile list', 'profile show', 'doctor', 'agent-context', 'version']));
    const execFlags = doc.commands.exec.flags.map((f: { name: string }) => f.name);
    expect(execFlags).toEqual(
      expect.arrayContaining(['--profile', '--secret', '--env-file', '--only', '--reason', '--account', '--config', '--cwd', '--ttl', '--override-env', '--dry-run', '--json']),
    );
    const noMask = doc.commands.exec.flags.find((f: { name: string }) => f.name === '--no-mask');
    expect(noMask).toMatchObject({ type: 'boolean' });
    expect(doc.exit_codes).toEqual(expect.arrayContaining([expect.objectContaining({ code: 2, kind: 'usage' }), expect.objectContaining({ code: 10, kind: 'denied' })]));
    expect(doc.available.profile_config).toMatchObject({ default_profile: 'deploy', profiles: [{ name: 'base', default: false }, { name: 'deploy', default: true }] });
  });
});

describe('profile list / show', () => {
  beforeEach(() => {
    sb.write('agent-secret.yml', CONFIG);
  });

  it('lists profiles with the default marked', async () => {
    const result = await runClean(sb, ['profile', 'list']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('deploy (default)');
  });

  it('finds the config from a subdirectory', async () => {
    mkdirSync(join(sb.project, 'src', 'deep'), { recursive: true });
    const result = await runClean(sb, ['profile', 'list', '--json'], { cwd: join(sb.project, 'src', 'deep') });
    expect(JSON.parse(result.stdout).source_path).toBe(join(sb.project, 'agent-secret.yml'));
  });

  it('shows the resolved profile with includes and accounts', async () => {
    const result = await runClean(sb, ['profile', 'show', '--json']);
    expect(JSON.parse(result.stdout).profile).toMatchObject({
      name: 'deploy',
      default: true,
      reason: 'Deploy the web app',
      ttl_seconds: 90,
      include: ['base'],
      secrets: [
        { alias: 'API_TOKEN', ref: 'op://Infra/Deploy/api token', account: null },
        { alias: 'OTP_CODE', ref: 'op://Infra/Deploy/one-time password?attribute=otp', account: null },
        { alias: 'SHARED_TOKEN', ref: 'op://Infra/Shared/token', account: 'my.1password.com' },
      ],
    });
  });

  it('an unknown profile names the valid ones', async () => {
    expectCleanFailure(await runClean(sb, ['profile', 'show', 'nope']), 2, 'nope', 'deploy');
  });

  it('no config at all is a clear error', async () => {
    const elsewhere = join(sb.root, 'tmp');
    expectCleanFailure(await runClean(sb, ['profile', 'list'], { cwd: elsewhere }), 2, 'agent-secret.yml');
  });
});

describe('exec --dry-run', () => {
  it('prints the request for profiles.example.yaml', async () => {
    copyFileSync(join(REPO_ROOT, 'profiles.example.yaml'), join(sb.project, 'agent-secret.yml'));
    // Its cluster profile renders the template its comment shows, committed next to the config.
    sb.write('.npmrc.tmpl', '//registry.npmjs.org/:_authToken={{ op://Infrastructure/npm/token }}\n');
    // Its mixed profile uses pass://, which needs the pass provider program in the user config.
    // Its evals profile asks for the logical name openai_key, which names: in the user config defines.
    sb.useApprover('approve', { providers: { pass: { command: [join(REPO_ROOT, 'examples', 'providers', 'pass-provider.mjs')] } }, names: { openai_key: 'op://AI/OpenAI/credential' } });
    const list = JSON.parse((await runClean(sb, ['profile', 'list', '--json'])).stdout) as { profiles: Array<{ name: string }> };
    for (const { name } of list.profiles) {
      const result = await runClean(sb, ['exec', '--dry-run', '--profile', name, '--reason', 'dry run of the example', '--', 'node', '--version']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('dry run: ok');
    }
    expect(sb.opCalls()).toEqual([]);
    expect(sb.prompts()).toEqual([]);
  });

  it('--json uses the approver protocol field names', async () => {
    sb.write('agent-secret.yml', CONFIG);
    const result = await runClean(sb, ['exec', '--dry-run', '--json', '--', 'node', '-p', '1']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ schema_version: '1', ok: true, would_prompt: true, would_spawn: false });
    expect(Object.keys(doc.request).sort()).toEqual(
      ['allow_mutable_executable', 'command', 'config_path', 'cwd', 'executable', 'mask', 'override_env', 'overridden_aliases', 'plain_env', 'pristine', 'profile', 'reason', 'requester', 'scripts', 'secrets', 'templates', 'ttl_seconds', 'warnings'].sort(),
    );
    expect(doc.request).toMatchObject({
      reason: 'Deploy the web app',
      command: ['node', '-p', '1'],
      executable: process.execPath,
      cwd: sb.project,
      ttl_seconds: 90,
      override_env: false,
      profile: 'deploy',
    });
    expect(doc.request.warnings.join(' ')).toContain('inline code');
    expect(doc.request.requester.pid).toBeGreaterThan(0);
    expect(doc.request.requester.chain.length).toBeGreaterThan(0);
  });

  it('--secret and --env-file work without a profile, in the documented order', async () => {
    sb.write('.env.op', 'export DB_URL="op://Data/Postgres/url"\nLOG_LEVEL=debug # plain\n');
    const result = await runClean(sb, [
      'exec', '--dry-run', '--json', '--reason', 'migrate', '--account', 'work.1password.com',
      '--secret', 'ONE=op://A/B/c', '--env-file', '.env.op', '--', 'node', '--version',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).request.secrets).toEqual([
      { alias: 'ONE', ref: 'op://A/B/c', provider: 'op', account: 'work.1password.com', delivery: 'env', file: null },
      { alias: 'DB_URL', ref: 'op://Data/Postgres/url', provider: 'op', account: 'work.1password.com', delivery: 'env', file: null },
    ]);
  });

  it('--cwd is resolved and shown', async () => {
    sb.write('agent-secret.yml', CONFIG);
    mkdirSync(join(sb.project, 'infra'));
    const result = await runClean(sb, ['exec', '--dry-run', '--json', '--cwd', 'infra', '--', 'node', '--version']);
    expect(JSON.parse(result.stdout).request.cwd).toBe(join(sb.project, 'infra'));
  });
});

describe('exec refuses malformed input before any prompt', () => {
  const cases: Array<[string, string[], number, string[]]> = [
    ['no -- separator', ['exec', '--profile', 'deploy'], 2, ['after --']],
    ['nothing after --', ['exec', '--profile', 'deploy', '--'], 2, ['after --']],
    // The words before -- move after it, and the rest is kept as typed (a `--` meant for the command stays).
    ['positional before --', ['exec', 'terraform', '--', 'plan'], 2, ['after --', 'agent-secret exec -- terraform -- plan']],
    ['--json without --dry-run', ['exec', '--json', '--', 'node'], 2, ['--json only with --dry-run']],
    ['--reuse', ['exec', '--reuse', '--', 'node'], 2, ['approver']],
    ['unknown flag', ['exec', '--bogus', '--', 'node'], 2, ['--bogus']],
    ['bad --ttl', ['exec', '--ttl', '11m', '--', 'node'], 2, ['between 10s and 10m']],
    ['bad --secret', ['exec', '--reason', 'x', '--secret', 'NOPE', '--', 'node'], 2, ['ALIAS=REF']],
    ['denied alias', ['exec', '--reason', 'x', '--secret', 'NODE_OPTIONS=op://a/b/c', '--', 'node'], 2, ['NODE_OPTIONS']],
    ['bad reference', ['exec', '--reason', 'x', '--secret', 'TOKEN=op://a/b', '--', 'node'], 2, ["too few '/'"]],
    ['missing executable', ['exec', '--dry-run', '--', 'definitely-not-a-command-xyz'], 2, ['definitely-not-a-command-xyz', 'not found']],
    ['missing cwd', ['exec', '--cwd', 'nowhere', '--', 'node'], 2, ['nowhere']],
    ['empty cwd', ['exec', '--cwd', '', '--', 'node'], 2, ['--cwd is empty']],
    ['unknown profile', ['exec', '--profile', 'nope', '--', 'node'], 2, ['nope']],
    ['-- for another command', ['profile', 'list', '--', 'x'], 2, ['only used by exec']],
    ['long reason', ['exec', '--reason', 'x'.repeat(241), '--', 'node'], 2, ['240']],
  ];
  for (const [name, args, code, fragments] of cases) {
    it(name, async () => {
      sb.write('agent-secret.yml', CONFIG);
      sb.useApprover('approve');
      expectCleanFailure(await runClean(sb, args), code, ...fragments);
      expect(sb.prompts()).toEqual([]);
      expect(sb.opCalls()).toEqual([]);
    });
  }

  it('an existing variable is a collision unless --override-env', async () => {
    sb.write('agent-secret.yml', CONFIG);
    const args = ['exec', '--dry-run', '--', 'node', '--version'];
    expectCleanFailure(await runClean(sb, args, { env: { API_TOKEN: 'set' } }), 2, 'API_TOKEN', '--override-env');
    const ok = await runClean(sb, ['exec', '--dry-run', '--json', '--override-env', '--', 'node', '--version'], { env: { API_TOKEN: 'set' } });
    expect(JSON.parse(ok.stdout).request.overridden_aliases).toEqual(['API_TOKEN']);
  });

  it('--json errors are JSON on stdout too', async () => {
    const result = await runClean(sb, ['exec', '--dry-run', '--json', '--ttl', '5s', '--reason', 'r', '--secret', 'A=op://a/b/c', '--', 'node']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: 'ttl.invalid', exit_code: 2 } });
  });
});

describe('config errors are positioned and never echo the file', () => {
  const CANARY = 'CANARY-pasted-into-config-5e8a';
  const cases: Array<[string, string, string[]]> = [
    ['unknown top-level key', `version: 1\nprofiles:\n  a:\n    secrets:\n      A: op://v/i/f\nsecrets_typo: ${CANARY}\n`, ['agent-secret.yml:6:1', 'unknown key']],
    ['unknown profile key', `version: 1\nprofiles:\n  a:\n    reasn: ${CANARY}\n    secrets:\n      A: op://v/i/f\n`, ['agent-secret.yml:4:5', 'unknown key', 'did you mean reason']],
    ['bad reference', `version: 1\nprofiles:\n  a:\n    secrets:\n      A: ${CANARY}\n`, ['agent-secret.yml:5:10', 'profiles.a.secrets.A']],
    ['lower-case alias', `version: 1\nprofiles:\n  a:\n    secrets:\n      api_token: op://v/i/f\n`, ['agent-secret.yml:5:7', 'api_token']],
    ['denied alias', `version: 1\nprofiles:\n  a:\n    secrets:\n      LD_PRELOAD: op://v/i/f\n`, ['agent-secret.yml:5:7', 'LD_']],
    ['ttl out of range', `version: 1\nprofiles:\n  a:\n    ttl: 11m\n    secrets:\n      A: op://v/i/f\n`, ['agent-secret.yml:4:10', 'ttl']],
    ['include cycle', `version: 1\nprofiles:\n  a:\n    include: [b]\n    secrets:\n      A: op://v/i/f\n  b:\n    include: [a]\n    secrets:\n      B: op://v/i/f\n`, ['agent-secret.yml:', 'cycle']],
    ['unknown include', `version: 1\nprofiles:\n  a:\n    include: [ghost]\n    secrets:\n      A: op://v/i/f\n`, ['agent-secret.yml:4:15', 'names no profile']],
    ['wrong version', `version: 2\nprofiles:\n  a:\n    secrets:\n      A: op://v/i/f\n`, ['agent-secret.yml:1:10', 'version']],
    ['YAML syntax error', `version: 1\nprofiles:\n  a:\n    secrets:\n      A: "${CANARY}\n`, ['agent-secret.yml:']],
  ];
  for (const [name, text, fragments] of cases) {
    it(name, async () => {
      sb.write('agent-secret.yml', text);
      const result = await runClean(sb, ['profile', 'list']);
      expectCleanFailure(result, 2, ...fragments);
      expect(result.stderr + result.stdout).not.toContain(CANARY);
    });
  }

  it('refuses an oversized config', async () => {
    sb.write('agent-secret.yml', `version: 1\n# ${'x'.repeat(1024 * 1024)}\n`);
    expectCleanFailure(await runClean(sb, ['profile', 'list']), 2, '1 MiB');
  });

  it('refuses a --config that is a directory', async () => {
    mkdirSync(join(sb.project, 'dir.yml'));
    expectCleanFailure(await runClean(sb, ['profile', 'list', '--config', 'dir.yml']), 2, 'dir.yml');
  });

  it('env-file errors give file:line and never echo the line', async () => {
    sb.write('agent-secret.yml', CONFIG);
    sb.write('bad.env', `OK=1\nTOKEN="${CANARY}\n`);
    const result = await runClean(sb, ['exec', '--dry-run', '--reason', 'r', '--env-file', 'bad.env', '--', 'node']);
    expectCleanFailure(result, 2, 'bad.env:2');
    expect(result.stderr).not.toContain(CANARY);
  });
});
