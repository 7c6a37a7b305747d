// Agent guardrails end to end: `agent-secret guard` answering Claude Code PreToolUse calls on
// stdin, `skill-install` and `hook-install` writing into a sandbox HOME (twice: idempotent), and
// the hook command that hook-install writes actually running the guard. Every run is scanned for
// the fake vault's canaries; the sandbox .env holds one of them as a value.

import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CANARIES, CANARY_VALUES } from '../helpers/canaries.js';
import { expectNoLeak, runClean } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
});
afterEach(() => sb.cleanup());

const SECRET = CANARY_VALUES.find((value) => !/\s/.test(value) && CANARIES.some((canary) => value.includes(canary)))!;

function hookCall(tool: 'Bash' | 'Read' | 'Grep' | 'Glob', toolInput: Record<string, unknown>, cwd: string): string {
  return JSON.stringify({ session_id: 's1', transcript_path: '/tmp/t.jsonl', cwd, hook_event_name: 'PreToolUse', tool_name: tool, tool_input: toolInput, tool_use_id: 'toolu_1' });
}

function denyReason(stdout: string): string {
  const lines = stdout.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  const parsed = JSON.parse(lines[0]!) as { hookSpecificOutput: { hookEventName: string; permissionDecision: string; permissionDecisionReason: string } };
  expect(parsed.hookSpecificOutput.hookEventName).toBe('PreToolUse');
  expect(parsed.hookSpecificOutput.permissionDecision).toBe('deny');
  return parsed.hookSpecificOutput.permissionDecisionReason;
}

describe('agent-secret guard', () => {
  beforeEach(() => {
    sb.write('.env', `API_TOKEN=op://Engineering/Deploy/token\nSTRIPE_SECRET_KEY=${SECRET}\n`);
    sb.write('.env.example', 'API_TOKEN=\nSTRIPE_SECRET_KEY=<your key>\n');
    sb.write('README.md', '# app\n');
  });

  it('denies op read with the agent-secret exec command to use, exit 0', async () => {
    const result = await runClean(sb, ['guard'], { input: hookCall('Bash', { command: 'export T=$(op read op://Engineering/Deploy/token) && ./deploy.sh' }, sb.project) });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(denyReason(result.stdout)).toContain('agent-secret exec --secret NAME=op://Engineering/Deploy/token');
  });

  it('denies op run through sudo and bash -c, suggesting the same command under agent-secret exec', async () => {
    const result = await runClean(sb, ['guard'], { input: hookCall('Bash', { command: "sudo bash -c 'op run --env-file .env -- npm run migrate'" }, sb.project) });
    expect(denyReason(result.stdout)).toContain('agent-secret exec --env-file .env --reason "<why>" -- npm run migrate');
  });

  it('denies cat of an env file holding values, relative to the hook cwd, without quoting the file', async () => {
    const result = await runClean(sb, ['guard'], { input: hookCall('Bash', { command: 'cat .env | grep STRIPE' }, sb.project), cwd: sb.root });
    const reason = denyReason(result.stdout);
    expect(reason).toContain('agent-secret exec --dry-run --env-file .env');
    expect(reason).not.toContain(SECRET);
    expect(reason).not.toContain('op://Engineering');
  });

  it('denies the Read tool on the env file (absolute path)', async () => {
    const result = await runClean(sb, ['guard'], { input: hookCall('Read', { file_path: join(sb.project, '.env') }, sb.project) });
    expect(denyReason(result.stdout)).toContain(`--env-file ${join(sb.project, '.env')}`);
  });

  it('denies a Grep tool call printing lines of the project (output_mode content) that reach the env file, without quoting it', async () => {
    const result = await runClean(sb, ['guard'], { input: hookCall('Grep', { pattern: 'STRIPE', path: sb.project, output_mode: 'content', '-n': true }, sb.project) });
    expect(result.code).toBe(0);
    const reason = denyReason(result.stdout);
    expect(reason).toContain(`--env-file ${join(sb.project, '.env')}`);
    expect(reason).toContain('To search code only');
    expect(reason).not.toContain(SECRET);
  });

  it('denies a Grep tool call on the env file itself and a recursive grep in Bash', async () => {
    const single = await runClean(sb, ['guard'], { input: hookCall('Grep', { pattern: 'x', path: join(sb.project, '.env'), output_mode: 'content' }, sb.project) });
    expect(denyReason(single.stdout)).toContain('agent-secret exec --dry-run --env-file');
    const recursive = await runClean(sb, ['guard'], { input: hookCall('Bash', { command: 'grep -rn STRIPE_SECRET .' }, sb.project) });
    expect(denyReason(recursive.stdout)).toContain('--env-file .env');
  });

  const allowed: Array<[string, 'Bash' | 'Read' | 'Grep' | 'Glob', Record<string, unknown>]> = [
    ['Grep listing file names (its default output)', 'Grep', { pattern: 'STRIPE', path: '.' }],
    ['Grep content for a pattern no secret line has', 'Grep', { pattern: '^# app', output_mode: 'content' }],
    ['Grep content restricted to markdown', 'Grep', { pattern: 'STRIPE', glob: '*.md', output_mode: 'content' }],
    ['Glob for env files (names only)', 'Glob', { pattern: '**/.env*' }],
    ['rg for code', 'Bash', { command: 'rg -n useState src' }],
    ['op whoami', 'Bash', { command: 'op whoami' }],
    ['agent-secret exec', 'Bash', { command: 'agent-secret exec --env-file .env -- npm run migrate' }],
    ['quoted text', 'Bash', { command: 'git commit -m "block op read and cat .env"' }],
    ['cat README.md', 'Bash', { command: 'cat README.md' }],
    ['a template with placeholders', 'Bash', { command: 'cat .env.example' }],
    ['Read of an ordinary file', 'Read', { file_path: 'README.md' }],
  ];
  for (const [name, tool, input] of allowed) {
    it(`allows ${name}: no output, exit 0`, async () => {
      const result = await runClean(sb, ['guard'], { input: hookCall(tool, input, sb.project) });
      expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    });
  }

  const malformed: Array<[string, string]> = [
    ['empty stdin', ''],
    ['not JSON', 'op read op://a/b/c'],
    ['a JSON array', '[1,2]'],
    ['no tool_input', '{"tool_name":"Bash"}'],
    ['another event', JSON.stringify({ hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'op read op://a/b/c' } })],
  ];
  for (const [name, input] of malformed) {
    it(`allows malformed or foreign input silently (${name})`, async () => {
      const result = await runClean(sb, ['guard'], { input });
      expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    });
  }
});

function mkfifo(path: string): string {
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo ${path} failed`);
  return path;
}

describe('agent-secret skill-install', () => {
  const skill = readFileSync(join(REPO_ROOT, 'skills', 'agent-secret', 'SKILL.md'), 'utf8');
  const targets = () => [join(sb.home, '.agents', 'skills', 'agent-secret', 'SKILL.md'), join(sb.home, '.claude', 'skills', 'agent-secret', 'SKILL.md')];

  it('installs into both skill directories, then reports unchanged (JSON)', async () => {
    const first = await runClean(sb, ['skill-install', '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      schema_version: '1',
      agent: null,
      scope: 'user',
      changed: true,
      skills: targets().map((path) => ({ path, outcome: 'installed' })),
    });
    for (const path of targets()) expect(readFileSync(path, 'utf8')).toBe(skill);
    const second = await runClean(sb, ['skill-install', '--json']);
    expect(JSON.parse(second.stdout)).toMatchObject({ changed: false, skills: targets().map((path) => ({ path, outcome: 'unchanged' })) });
  });

  it('refuses to overwrite an edited skill without --force (touching neither file), replaces it with --force', async () => {
    await runClean(sb, ['skill-install']);
    const [agents, claude] = targets() as [string, string];
    writeFileSync(claude, 'my local edits\n');
    const refused = await runClean(sb, ['skill-install']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`agent-secret: ${claude} differs from this version's skill; nothing was changed`);
    expect(refused.stderr).toContain('hint: rerun with --force');
    expect(readFileSync(claude, 'utf8')).toBe('my local edits\n');
    const forced = await runClean(sb, ['skill-install', '--force']);
    expect(forced.code).toBe(0);
    const [unchangedLine, replacedLine] = forced.stdout.trimEnd().split('\n') as [string, string];
    expect(unchangedLine).toBe(`unchanged: ${agents}`);
    const backup = /^replaced: (.+) \(backup: (.+)\)$/.exec(replacedLine);
    expect(backup?.[1]).toBe(claude);
    // The edited skill is kept next to it.
    expect(backup![2]!.startsWith(`${claude}.agent-secret-backup-`)).toBe(true);
    expect(readFileSync(backup![2]!, 'utf8')).toBe('my local edits\n');
    expect(readFileSync(claude, 'utf8')).toBe(skill);
  });

  it('refuses a FIFO where a skill file goes, without blocking on it, even with --force', async () => {
    const [agents, claude] = targets() as [string, string];
    mkdirSync(join(claude, '..'), { recursive: true });
    mkfifo(claude);
    const result = await runClean(sb, ['skill-install', '--force'], { timeoutMs: 10_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`agent-secret: ${claude} is not a regular file; nothing was changed`);
    expect(lstatSync(claude).isFIFO()).toBe(true);
    expect(() => lstatSync(agents)).toThrow();
  });
});

describe('agent-secret hook-install', () => {
  const settingsPath = () => join(sb.home, '.claude', 'settings.json');
  const OTHER = {
    model: 'opus',
    permissions: { allow: ['Bash(npm test)'] },
    hooks: {
      PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: '/home/me/bin/no-force-push.sh' }] }],
      Stop: [{ hooks: [{ type: 'command', command: 'notify-send done' }] }],
    },
  };

  it('adds the guard, keeps every other setting, and a second run changes nothing', async () => {
    mkdirSync(join(sb.home, '.claude'), { recursive: true });
    writeFileSync(settingsPath(), `${JSON.stringify(OTHER, null, 4)}\n`);
    const first = await runClean(sb, ['hook-install', '--json']);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as { hook_command: string };
    expect(report).toMatchObject({ schema_version: '1', settings_path: settingsPath(), matcher: 'Bash|Read|Grep|Glob', changed: true, action: 'added', warnings: [] });
    expect(report.hook_command).toMatch(/agent-secret\.js guard$/);
    const written = readFileSync(settingsPath(), 'utf8');
    expect(written).toContain('\n    "model"');
    expect(JSON.parse(written)).toEqual({
      ...OTHER,
      hooks: { ...OTHER.hooks, PreToolUse: [...OTHER.hooks.PreToolUse, { matcher: 'Bash|Read|Grep|Glob', hooks: [{ type: 'command', command: report.hook_command }] }] },
    });
    const second = await runClean(sb, ['hook-install']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`the agent-secret guard hook is already in ${settingsPath()}`);
    expect(readFileSync(settingsPath(), 'utf8')).toBe(written);
  });

  it('creates settings.json when there is none, and the command it writes runs the guard', async () => {
    const result = await runClean(sb, ['hook-install']);
    expect(result.stdout).toContain(`added the agent-secret guard hook (Bash|Read|Grep|Glob) to ${settingsPath()}`);
    const settings = JSON.parse(readFileSync(settingsPath(), 'utf8')) as { hooks: { PreToolUse: Array<{ hooks: Array<{ command: string }> }> } };
    const command = settings.hooks.PreToolUse[0]!.hooks[0]!.command;
    // As Claude Code runs it: through a shell, with a PATH that knows neither node nor agent-secret.
    const hook = spawnSync('/bin/sh', ['-c', command], {
      input: JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'op item get Deploy' }, cwd: sb.project }),
      env: { HOME: sb.home, PATH: '/nonexistent' },
      encoding: 'utf8',
    });
    expect(hook.status).toBe(0);
    const reason = denyReason(hook.stdout);
    expect(reason).toContain('agent-secret item describe op://<vault>/<item>');
    expectNoLeak(sb, { code: hook.status, signal: null, stdout: hook.stdout, stderr: hook.stderr, pid: hook.pid });
  });

  it('updates a guard entry from an earlier install instead of adding a second one', async () => {
    mkdirSync(join(sb.home, '.claude'), { recursive: true });
    writeFileSync(settingsPath(), JSON.stringify({ hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'agent-secret guard' }] }] } }));
    const result = await runClean(sb, ['hook-install', '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({ changed: true, action: 'updated' });
    const settings = JSON.parse(readFileSync(settingsPath(), 'utf8')) as { hooks: { PreToolUse: unknown[] } };
    expect(settings.hooks.PreToolUse).toHaveLength(1);
  });

  it('upgrades an install with the old Bash|Read matcher in place (other hooks, fields and order kept), then changes nothing', async () => {
    mkdirSync(join(sb.home, '.claude'), { recursive: true });
    const first = await runClean(sb, ['hook-install', '--json']);
    const command = (JSON.parse(first.stdout) as { hook_command: string }).hook_command;
    const old = {
      model: 'opus',
      hooks: {
        PreToolUse: [
          { matcher: 'Bash|Read', hooks: [{ type: 'command', command, timeout: 10 }] },
          { matcher: 'Bash', hooks: [{ type: 'command', command: '/home/me/bin/no-force-push.sh' }] },
        ],
      },
    };
    writeFileSync(settingsPath(), `${JSON.stringify(old, null, 2)}\n`);
    const upgraded = await runClean(sb, ['hook-install', '--json']);
    expect(upgraded.code).toBe(0);
    expect(JSON.parse(upgraded.stdout)).toMatchObject({ matcher: 'Bash|Read|Grep|Glob', changed: true, action: 'updated' });
    const written = readFileSync(settingsPath(), 'utf8');
    expect(JSON.parse(written)).toEqual({
      model: 'opus',
      hooks: { PreToolUse: [{ matcher: 'Bash|Read|Grep|Glob', hooks: [{ type: 'command', command, timeout: 10 }] }, old.hooks.PreToolUse[1]] },
    });
    const again = await runClean(sb, ['hook-install', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ changed: false, action: 'unchanged' });
    expect(readFileSync(settingsPath(), 'utf8')).toBe(written);
    // The upgraded hook answers a Grep call.
    sb.write('.env', `STRIPE_SECRET_KEY=${SECRET}\n`);
    const hook = spawnSync('/bin/sh', ['-c', command], {
      input: hookCall('Grep', { pattern: 'STRIPE', output_mode: 'content' }, sb.project),
      env: { HOME: sb.home, PATH: '/nonexistent' },
      encoding: 'utf8',
    });
    expect(hook.status).toBe(0);
    expect(denyReason(hook.stdout)).toContain('--env-file .env');
    expectNoLeak(sb, { code: hook.status, signal: null, stdout: hook.stdout, stderr: hook.stderr, pid: hook.pid });
  });

  it('writes through a symlinked settings.json, which stays a symlink', async () => {
    const dotfiles = join(sb.root, 'dotfiles');
    mkdirSync(dotfiles);
    writeFileSync(join(dotfiles, 'claude-settings.json'), '{"model":"opus"}\n');
    mkdirSync(join(sb.home, '.claude'), { recursive: true });
    symlinkSync(join(dotfiles, 'claude-settings.json'), settingsPath());
    expect((await runClean(sb, ['hook-install'])).code).toBe(0);
    expect(lstatSync(settingsPath()).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(dotfiles, 'claude-settings.json'), 'utf8'))).toMatchObject({ model: 'opus', hooks: { PreToolUse: [{ matcher: 'Bash|Read|Grep|Glob' }] } });
  });

  // Only targets inside the sandbox: a regression must never be able to replace a system file.
  const oddTargets: Array<[string, (dir: string) => string, RegExp]> = [
    ['a FIFO', (dir) => mkfifo(join(dir, 'fifo')), /is not a regular file; nothing was changed/],
    ['a symlink to a directory', (dir) => dir, /is a symlink to .*, which is not a regular file; nothing was changed/],
    ['a symlink to a FIFO', (dir) => mkfifo(join(dir, 'linked-fifo')), /which is not a regular file; nothing was changed/],
    ['a dangling symlink', (dir) => join(dir, 'missing.json'), /is a symlink to nothing; nothing was changed/],
  ];
  for (const [name, make, message] of oddTargets) {
    it(`refuses a settings.json that is ${name}, without blocking or replacing anything`, async () => {
      const claude = join(sb.home, '.claude');
      const elsewhere = join(sb.root, 'elsewhere');
      mkdirSync(claude, { recursive: true });
      mkdirSync(elsewhere, { recursive: true });
      const made = make(elsewhere);
      if (name === 'a FIFO') renameSync(made, settingsPath());
      else symlinkSync(made, settingsPath());
      const before = lstatSync(settingsPath());
      const result = await runClean(sb, ['hook-install'], { timeoutMs: 10_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain('hint: move it away or fix it, then rerun agent-secret hook-install');
      const after = lstatSync(settingsPath());
      expect([after.ino, after.mode]).toEqual([before.ino, before.mode]);
      if (name !== 'a dangling symlink' && name !== 'a FIFO') expect(lstatSync(made).isFile()).toBe(false);
    });
  }

  it('refuses a settings.json nested too deeply to rewrite (exit 2, file untouched)', async () => {
    mkdirSync(join(sb.home, '.claude'), { recursive: true });
    const content = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    writeFileSync(settingsPath(), content);
    const result = await runClean(sb, ['hook-install']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is nested too deeply to rewrite; nothing was changed');
    expect(result.stderr).not.toContain('internal error');
    expect(readFileSync(settingsPath(), 'utf8')).toBe(content);
  });

  const invalid: Array<[string, string, string]> = [
    ['not valid JSON', '{"model": "opus",', 'is not valid JSON; nothing was changed'],
    ['hooks of the wrong shape', '{"hooks": {"PreToolUse": {"matcher": "Bash"}}}', '"hooks.PreToolUse" is not a JSON array; nothing was changed'],
  ];
  for (const [name, content, message] of invalid) {
    it(`refuses settings.json that is ${name} (exit 2, file untouched)`, async () => {
      mkdirSync(join(sb.home, '.claude'), { recursive: true });
      writeFileSync(settingsPath(), content);
      const result = await runClean(sb, ['hook-install', '--json']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`agent-secret: ${settingsPath()}`);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toMatch(/hint: .*rerun agent-secret hook-install/);
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: 'usage.invalid', exit_code: 2 } });
      expect(readFileSync(settingsPath(), 'utf8')).toBe(content);
    });
  }
});

describe('the command table', () => {
  it('agent-context --json lists guard, skill-install and hook-install with their flags', async () => {
    const result = await runClean(sb, ['agent-context', '--json']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { commands: Record<string, { flags: Array<{ name: string }> }> };
    expect(doc.commands.guard).toBeDefined();
    expect(doc.commands.guard!.flags.map((flag) => flag.name)).toEqual(['--agent']);
    expect(doc.commands['skill-install']!.flags.map((flag) => flag.name)).toEqual(['--agent', '--project', '--remove', '--force', '--json']);
    expect(doc.commands['hook-install']!.flags.map((flag) => flag.name)).toEqual(['--agent', '--project', '--remove', '--json']);
  });
  for (const command of ['guard', 'skill-install', 'hook-install']) {
    it(`${command} --help shows usage with examples`, async () => {
      const result = await runClean(sb, [command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: agent-secret ${command}`);
      expect(result.stdout).toMatch(/Examples:/);
    });
  }
});
