// `agent-secret completion bash|zsh|fish` through the built binary: the script is loaded into a
// real shell and asked for completions of a few command lines (commands, subcommands, flags,
// fixed values, the command after --), profile names come from the nearest agent-secret.yml,
// and `session destroy` / `approvals revoke` ids from a running daemon only: with none running,
// TAB completes nothing and starts nothing. zsh and fish run when installed (CI's Linux and
// macOS runners: zsh on macOS); elsewhere those two cases are skipped and say so.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { BIN, createSandbox, type Sandbox } from '../helpers/sandbox.js';

const CONFIG = `version: 1
default_profile: cf
profiles:
  cf:
    reason: Run the CDN smoke tests
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
  deploy-prod:
    reason: Deploy
    secrets:
      API_TOKEN: op://Infra/Deploy/api token
`;

const has = (shell: string): boolean => spawnSync(shell, ['-c', 'exit 0'], { stdio: 'ignore' }).status === 0;
const HAS_ZSH = has('zsh');
const HAS_FISH = has('fish');
if (!HAS_ZSH) console.log('completion e2e: zsh is not installed here, so the zsh case is skipped');
if (!HAS_FISH) console.log('completion e2e: fish is not installed here, so the fish case is skipped');

let sb: Sandbox;
let env: Record<string, string>;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
  sb.useApprover('approve');
  // The scripts call `agent-secret` by name, as in a user's shell.
  const bin = join(sb.root, 'bin');
  mkdirSync(bin);
  symlinkSync(BIN, join(bin, 'agent-secret'));
  // A command name no system has, for the command after --.
  writeFileSync(join(bin, 'zz-agent-secret-child'), '#!/bin/sh\n', { mode: 0o755 });
  env = { ...sb.env, PATH: `${bin}:${sb.env.PATH}` };
});
afterEach(() => sb.cleanup());

async function script(shell: 'bash' | 'zsh' | 'fish'): Promise<string> {
  const result = await runClean(sb, ['completion', shell]);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const path = join(sb.root, `completion.${shell}`);
  writeFileSync(path, result.stdout);
  return path;
}

/** What TAB offers at the end of each line (the last word is the one being completed), one array per line. */
function runShell(file: string, argv: string[], harness: string, cwd: string): string[][] {
  const path = join(sb.root, `harness.${file}`);
  writeFileSync(path, harness);
  const run = spawnSync(file, [...argv, path], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout
    .split('\n')
    .filter((line) => line.startsWith('=>'))
    .map((line) => line.slice(2).split(' ').filter(Boolean).sort());
}

// The line's words as arguments of c (bash and zsh); '' is an empty last word.
const words = (line: string): string => line.split(' ').map((word) => `'${word}'`).join(' ');

async function bash(lines: string[], cwd = sb.project): Promise<string[][]> {
  const path = await script('bash');
  const harness = `source '${path}'
c() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _agent_secret; echo "=> \${COMPREPLY[*]}"; }
${lines.map((line) => `c ${words(line)}`).join('\n')}
`;
  return runShell('bash', ['--norc', '--noprofile'], harness, cwd);
}

// zsh's compgen (bashcompinit) lists every candidate and leaves the prefix match to compadd: done here.
async function zsh(lines: string[]): Promise<string[][]> {
  const path = await script('zsh');
  const harness = `source '${path}'
c() {
  local -a words COMP_WORDS; words=("$@"); COMP_WORDS=("$@")
  local CURRENT=$# COMP_CWORD=$(( $# - 1 ))
  print -r -- "=> \${(j: :)\${(f)"$(compgen -F _agent_secret -- "\${@[-1]}")"}}"
}
${lines.map((line) => `c ${words(line)}`).join('\n')}
`;
  const results = runShell('zsh', ['-f'], harness, sb.project);
  return results.map((found, i) => found.filter((candidate) => candidate.startsWith(lines[i]!.split(' ').at(-1)!)));
}

async function fish(lines: string[]): Promise<string[][]> {
  const path = await script('fish');
  const harness = `source '${path}'
${lines.map((line) => `echo "=> "(complete -C'${line}' | string replace -r '\\t.*' '' | string join ' ')`).join('\n')}
`;
  return runShell('fish', ['--no-config'], harness, sb.project);
}

const COMMON = [
  'agent-secret prof',
  'agent-secret session ',
  'agent-secret hook-install --agent c',
  'agent-secret audit --outcome ',
  'agent-secret profile show ',
  'agent-secret exec --profile ',
  'agent-secret completion ',
];
const COMMON_EXPECTED = [
  ['profile'],
  ['create', 'destroy', 'list'],
  ['claude', 'codex', 'cursor'],
  ['approved', 'denied', 'failed', 'timed_out'],
  ['cf', 'deploy-prod'],
  ['cf', 'deploy-prod'],
  ['bash', 'fish', 'zsh'],
].map((list) => [...list].sort());

describe('completion bash', () => {
  it('completes commands, subcommands, flags, fixed values, profiles and the command after --', async () => {
    const lines = [...COMMON, 'agent-secret exec --pr', 'agent-secret guard --agent ', 'agent-secret item describe --format e', 'agent-secret profile show --', 'agent-secret exec --profile cf -- zz-agent-secret-ch', 'agent-secret exec --profile cf --reason '];
    const got = await bash(lines);
    expect(got.slice(0, COMMON.length)).toEqual(COMMON_EXPECTED);
    expect(got.slice(COMMON.length)).toEqual([
      ['--pristine', '--profile'],
      ['claude', 'codex', 'cursor', 'gemini'],
      ['env-refs'],
      ['--config', '--help', '--json'],
      ['zz-agent-secret-child'],
      // A free value: nothing offered (no profile names, no files).
      [],
    ]);
  }, 60_000);

  it('offers every command of the table, and nothing hidden', async () => {
    const context = await runClean(sb, ['agent-context', '--json']);
    const top = [...new Set(Object.keys((JSON.parse(context.stdout) as { commands: Record<string, unknown> }).commands).map((name) => name.split(' ')[0]!))].sort();
    const [offered] = await bash(['agent-secret ']);
    expect(offered).toEqual(top);
    expect(offered).not.toContain('__complete');
  }, 60_000);

  it('finds profiles in the nearest agent-secret.yml above the directory, and none where there is none', async () => {
    const nested = join(sb.project, 'src', 'deep');
    mkdirSync(nested, { recursive: true });
    expect(await bash(['agent-secret profile show d'], nested)).toEqual([['deploy-prod']]);
    const elsewhere = join(sb.root, 'elsewhere');
    mkdirSync(elsewhere);
    expect(await bash(['agent-secret profile show ', 'agent-secret exec --profile '], elsewhere)).toEqual([[], []]);
  }, 60_000);

  it('ids come from a running daemon only: none running, TAB offers nothing and starts none', async () => {
    expect(await bash(['agent-secret session destroy ', 'agent-secret approvals revoke '])).toEqual([[], []]);
    expect(existsSync(sb.daemonPidFile)).toBe(false);

    // A session and a reusable approval in a running daemon.
    const session = await runClean(sb, ['session', 'create', '--profile', 'cf', '--json']);
    expect(session.code).toBe(0);
    const sessionId = (JSON.parse(session.stdout) as { session_id: string }).session_id;
    sb.useApprover('approve-reuse:60:3');
    expect((await runClean(sb, ['exec', '--profile', 'deploy-prod', '--', 'node', '-e', '0'])).code).toBe(0);
    const listed = JSON.parse((await runClean(sb, ['approvals', 'list', '--json'])).stdout) as { approvals: Array<{ id: string }> };
    expect(listed.approvals).toHaveLength(1);

    expect(await bash(['agent-secret session destroy ', 'agent-secret approvals revoke ', 'agent-secret session destroy --json '])).toEqual([[sessionId], [listed.approvals[0]!.id], []]);
  }, 90_000);
});

describe('completion zsh and fish', () => {
  it.skipIf(!HAS_ZSH)('zsh (through bashcompinit) completes as bash does', async () => {
    expect(await zsh([...COMMON, 'agent-secret exec -- zz-agent-secret-ch'])).toEqual([...COMMON_EXPECTED, ['zz-agent-secret-child']]);
  }, 60_000);

  it.skipIf(!HAS_FISH)('fish completes as bash does', async () => {
    expect(await fish([...COMMON, 'agent-secret exec -- zz-agent-secret-ch'])).toEqual([...COMMON_EXPECTED, ['zz-agent-secret-child']]);
  }, 60_000);
});

describe('completion, refused', () => {
  it('an unknown shell: exit 2, one line naming the three', async () => {
    const result = await runClean(sb, ['completion', 'tcsh']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(result.stderr).toMatch(/bash, zsh or fish/);
  });

  it('__complete prints nothing for an unknown kind or a broken config', async () => {
    sb.write('agent-secret.yml', 'version: 1\nprofiles: [\n');
    for (const kind of ['profiles', 'nonsense']) {
      const result = await runClean(sb, ['__complete', kind]);
      expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    }
  });
});
