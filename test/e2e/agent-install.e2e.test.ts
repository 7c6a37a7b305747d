// hook-install and skill-install for every agent, through the built binary in a sandbox HOME:
// each writes where that agent reads (user scope, or the repository with --project), keeps
// everything else in the file, backs the old file up, changes nothing the second time, undoes
// itself with --remove, refuses what is not a regular file, and the hook command it writes
// really runs the guard in that agent's contract. doctor then lists what each agent has.

// Settings files are read as loose JSON here: the test walks into whatever each agent's format holds.
/* eslint-disable @typescript-eslint/no-explicit-any */

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';

const AGENTS = ['claude', 'codex', 'cursor', 'gemini'] as const;
type Agent = (typeof AGENTS)[number];

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.write('.env', 'API_TOKEN=op://Engineering/Deploy/token\n');
});
afterEach(() => sb.cleanup());

const settingsOf = (agent: Agent, root = sb.home): string =>
  ({ claude: join(root, '.claude', 'settings.json'), codex: join(root, '.codex', 'hooks.json'), cursor: join(root, '.cursor', 'hooks.json'), gemini: join(root, '.gemini', 'settings.json') })[agent];

// Another tool's hooks and settings, in each agent's own format, that an install must keep.
const OTHERS: Record<Agent, Record<string, unknown>> = {
  claude: { model: 'opus', hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: '~/bin/no-force-push.sh', timeout: 5 }] }] } },
  codex: { hooks: { PreToolUse: [{ matcher: 'apply_patch', hooks: [{ type: 'command', command: 'lint-patch', timeout: 30 }] }], Stop: [{ hooks: [{ type: 'command', command: 'notify done' }] }] } },
  cursor: { version: 1, hooks: { beforeShellExecution: [{ command: './hooks/audit.sh', timeout: 5 }], afterFileEdit: [{ command: 'prettier --write' }] } },
  gemini: { theme: 'GitHub', hooks: { BeforeTool: [{ matcher: 'write_file', hooks: [{ type: 'command', command: 'check-write' }] }] }, security: { auth: { selectedType: 'oauth-personal' } } },
};

// The guard hook command an agent's file holds.
function hookCommand(agent: Agent, settings: Record<string, any>): string {
  if (agent === 'cursor') return settings.hooks.beforeShellExecution.find((entry: { command: string }) => / guard --agent cursor$/.test(entry.command)).command;
  const event = agent === 'gemini' ? 'BeforeTool' : 'PreToolUse';
  const group = settings.hooks[event].find((g: { hooks: Array<{ command: string }> }) => g.hooks.some((h) => / guard( --agent \w+)?$/.test(h.command)));
  return group.hooks[0].command;
}

// A deny case of the agent's recorded payloads, with this sandbox's paths.
function denyPayload(agent: Agent): string {
  const file = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'hooks', `${agent}.json`), 'utf8')) as { cases: Array<{ expect: string; payload: unknown }> };
  const text = JSON.stringify(file.cases.find((c) => c.expect === 'deny')!.payload);
  return text.replaceAll('{{PROJECT}}', sb.project).replaceAll('{{HOME}}', sb.home);
}

function backups(path: string): string[] {
  const prefix = `${basename(path)}.agent-secret-backup-`;
  return readdirSync(dirname(path))
    .filter((name) => name.startsWith(prefix))
    .map((name) => join(dirname(path), name))
    .sort();
}

describe('hook-install --agent', () => {
  for (const agent of AGENTS) {
    it(`${agent}: adds the guard next to other hooks, backs the file up, then changes nothing; the command it wrote denies in ${agent}'s contract`, async () => {
      const path = settingsOf(agent);
      mkdirSync(dirname(path), { recursive: true });
      const original = `${JSON.stringify(OTHERS[agent], null, 2)}\n`;
      writeFileSync(path, original);

      const first = await runClean(sb, ['hook-install', '--agent', agent, '--json']);
      expect(first.code).toBe(0);
      const report = JSON.parse(first.stdout) as Record<string, any>;
      expect(report).toMatchObject({ schema_version: '1', agent, scope: 'user', settings_path: path, changed: true, action: 'added' });
      // Codex skips a new or changed hook until the user trusts it in /hooks: said on every change, and only for Codex.
      if (agent === 'codex') expect(report.warnings).toEqual([expect.stringMatching(/^Codex skips a new or changed hook until you trust it: start codex, open \/hooks/)]);
      else expect(report.warnings).toEqual([]);
      expect(readFileSync(report.backup_path, 'utf8')).toBe(original);
      const written = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
      const command = hookCommand(agent, written);
      expect(command).toBe(report.hook_command);

      // Everything that was there is still there.
      for (const [key, value] of Object.entries(OTHERS[agent])) {
        if (key !== 'hooks') expect(written[key]).toEqual(value);
      }
      for (const [event, list] of Object.entries(OTHERS[agent].hooks as Record<string, unknown[]>)) {
        for (const entry of list) expect(written.hooks[event]).toContainEqual(entry);
      }
      if (agent === 'cursor') expect(written.hooks.beforeReadFile).toEqual([{ command }]);

      const again = await runClean(sb, ['hook-install', '--agent', agent]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`the agent-secret guard hook is already in ${path}`);
      expect(again.stdout).not.toContain('warning:');
      expect(backups(path)).toHaveLength(1);

      // The hook command runs the guard as the agent would (sh -c, JSON on stdin).
      const hook = spawnSync('/bin/sh', ['-c', command], { input: denyPayload(agent), cwd: sb.project, env: sb.env, encoding: 'utf8' });
      if (agent === 'codex') {
        expect(hook.status).toBe(2);
        expect(hook.stderr).toContain('agent-secret guard blocked');
      } else {
        expect(hook.status).toBe(0);
        const out = JSON.parse(hook.stdout) as Record<string, any>;
        const denied = agent === 'claude' ? out.hookSpecificOutput.permissionDecision : agent === 'cursor' ? out.permission : out.decision;
        expect(denied).toBe('deny');
      }
    });

    it(`${agent}: --remove takes out only the guard (a backup first), and a second --remove changes nothing`, async () => {
      const path = settingsOf(agent);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${JSON.stringify(OTHERS[agent], null, 2)}\n`);
      await runClean(sb, ['hook-install', '--agent', agent]);
      const installed = readFileSync(path, 'utf8');

      const removed = await runClean(sb, ['hook-install', '--agent', agent, '--remove', '--json']);
      expect(removed.code).toBe(0);
      const report = JSON.parse(removed.stdout) as Record<string, any>;
      expect(report).toMatchObject({ action: 'removed', changed: true });
      expect(readFileSync(report.backup_path, 'utf8')).toBe(installed);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(OTHERS[agent]);

      const twice = await runClean(sb, ['hook-install', '--agent', agent, '--remove']);
      expect(twice.stdout).toBe(`no agent-secret guard hook in ${path}\n`);
    });
  }

  it('--project writes the repository file (nearest .git above) with a command run from PATH, and says so', async () => {
    mkdirSync(join(sb.project, '.git'));
    const cwd = join(sb.project, 'src', 'deep');
    mkdirSync(cwd, { recursive: true });
    const result = await runClean(sb, ['hook-install', '--agent', 'cursor', '--project', '--json'], { cwd });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, any>;
    expect(report).toMatchObject({ scope: 'project', settings_path: settingsOf('cursor', sb.project), hook_command: 'agent-secret guard --agent cursor', backup_path: null });
    expect(report.warnings[0]).toContain('needs agent-secret installed');
    // The registry has no agent-secret yet: the warning names the install that works.
    expect(report.warnings[0]).toMatch(/from a clone: npm pack, then npm install -g \.\/agent-secret-\d+\.\d+\.\d+\S*\.tgz\)$/);
    expect(report.warnings[0]).not.toContain('npm install -g agent-secret');
    expect(JSON.parse(readFileSync(settingsOf('cursor', sb.project), 'utf8'))).toEqual({
      version: 1,
      hooks: { beforeShellExecution: [{ command: 'agent-secret guard --agent cursor' }], beforeReadFile: [{ command: 'agent-secret guard --agent cursor' }] },
    });
    expect(existsSync(settingsOf('cursor'))).toBe(false);
  });

  it('Codex: CODEX_HOME moves the user file', async () => {
    const codexHome = join(sb.root, 'codex-home');
    const result = await runClean(sb, ['hook-install', '--agent', 'codex', '--json'], { env: { CODEX_HOME: codexHome } });
    expect(JSON.parse(result.stdout)).toMatchObject({ settings_path: join(codexHome, 'hooks.json'), matcher: 'Bash', events: ['PreToolUse'] });
    expect(existsSync(join(codexHome, 'hooks.json'))).toBe(true);
  });

  it('Codex: the text output says the new hook runs only once trusted in /hooks', async () => {
    const result = await runClean(sb, ['hook-install', '--agent', 'codex']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('warning: Codex skips a new or changed hook until you trust it: start codex, open /hooks, review the agent-secret guard hook and trust it');
  });

  it('refuses a hooks.json that is a FIFO, without blocking on it', async () => {
    const path = settingsOf('codex');
    mkdirSync(dirname(path), { recursive: true });
    execFileSync('mkfifo', [path]);
    const result = await runClean(sb, ['hook-install', '--agent', 'codex']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`agent-secret: ${path} is not a regular file; nothing was changed`);
    // The rerun hint names the agent, or it would install Claude Code's hook.
    expect(result.stderr).toContain('rerun agent-secret hook-install --agent codex');
  });

  it('refuses a Gemini settings.json whose BeforeTool is not a list, naming the file (exit 2, untouched)', async () => {
    const path = settingsOf('gemini');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '{"hooks": {"BeforeTool": {"matcher": "x"}}}');
    const result = await runClean(sb, ['hook-install', '--agent', 'gemini']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`agent-secret: ${path}: "hooks.BeforeTool" is not a JSON array; nothing was changed`);
    expect(result.stderr).toContain('rerun agent-secret hook-install --agent gemini');
    expect(readFileSync(path, 'utf8')).toBe('{"hooks": {"BeforeTool": {"matcher": "x"}}}');
  });

  it('accepts a Gemini settings.json with comments (as Gemini CLI reads it), says the comments were dropped and keeps them in the backup', async () => {
    const path = settingsOf('gemini');
    mkdirSync(dirname(path), { recursive: true });
    const original = '{\n  // my theme\n  "theme": "GitHub", /* "url": "http://x" */\n  "note": "a // b"\n}\n';
    writeFileSync(path, original);
    const result = await runClean(sb, ['hook-install', '--agent', 'gemini', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, any>;
    expect(readFileSync(report.backup_path, 'utf8')).toBe(original);
    expect(report.warnings).toEqual([`the comments in ${path} were dropped when it was rewritten; the backup ${report.backup_path} keeps them`]);
    const written = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
    expect(written).toMatchObject({ theme: 'GitHub', note: 'a // b' });
    expect(written.hooks.BeforeTool).toHaveLength(1);
  });

  it('an unknown agent is a usage error', async () => {
    const result = await runClean(sb, ['hook-install', '--agent', 'copilot']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Allowed choices are claude, codex, cursor, gemini');
  });
});

describe('skill-install --agent', () => {
  const skill = readFileSync(join(REPO_ROOT, 'skills', 'agent-secret', 'SKILL.md'), 'utf8');
  const dirs: Record<Agent, string> = { claude: '.claude', codex: '.agents', cursor: '.cursor', gemini: '.gemini' };

  for (const agent of AGENTS) {
    it(`${agent}: installs into ${dirs[agent]}/skills (user, then --project), removes with --remove`, async () => {
      const user = join(sb.home, dirs[agent], 'skills', 'agent-secret', 'SKILL.md');
      const first = await runClean(sb, ['skill-install', '--agent', agent, '--json']);
      expect(JSON.parse(first.stdout)).toEqual({ schema_version: '1', agent, scope: 'user', changed: true, skills: [{ path: user, outcome: 'installed' }] });
      expect(readFileSync(user, 'utf8')).toBe(skill);

      mkdirSync(join(sb.project, '.git'), { recursive: true });
      const project = join(sb.project, dirs[agent], 'skills', 'agent-secret', 'SKILL.md');
      const inRepo = await runClean(sb, ['skill-install', '--agent', agent, '--project']);
      expect(inRepo.stdout).toBe(`installed: ${project}\n`);

      const removed = await runClean(sb, ['skill-install', '--agent', agent, '--remove']);
      expect(removed.stdout).toBe(`removed: ${user}\n`);
      expect(existsSync(dirname(user))).toBe(false);
      expect(existsSync(project)).toBe(true);
    });
  }

  it('--remove refuses an edited skill without --force, and keeps a backup with it', async () => {
    await runClean(sb, ['skill-install', '--agent', 'gemini']);
    const path = join(sb.home, '.gemini', 'skills', 'agent-secret', 'SKILL.md');
    writeFileSync(path, 'my notes\n');
    const refused = await runClean(sb, ['skill-install', '--agent', 'gemini', '--remove']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('differs from this version');
    expect(readFileSync(path, 'utf8')).toBe('my notes\n');
    const forced = await runClean(sb, ['skill-install', '--agent', 'gemini', '--remove', '--force', '--json']);
    const report = JSON.parse(forced.stdout) as { skills: Array<{ outcome: string; backup_path: string }> };
    expect(report.skills[0]!.outcome).toBe('removed');
    expect(readFileSync(report.skills[0]!.backup_path, 'utf8')).toBe('my notes\n');
    expect(existsSync(path)).toBe(false);
  });
});

describe('doctor lists the agents', () => {
  it('says an installed guard is broken when its matcher leaves tools out or its command names a missing file, with the fix', async () => {
    await runClean(sb, ['hook-install', '--agent', 'claude']);
    await runClean(sb, ['hook-install', '--agent', 'gemini']);
    // Claude: narrowed by hand to Bash. Gemini: the command points at an agent-secret that was moved away.
    const claude = JSON.parse(readFileSync(settingsOf('claude'), 'utf8')) as Record<string, any>;
    claude.hooks.PreToolUse[0].matcher = 'Bash';
    writeFileSync(settingsOf('claude'), JSON.stringify(claude));
    const gemini = JSON.parse(readFileSync(settingsOf('gemini'), 'utf8')) as Record<string, any>;
    const moved = join(sb.root, 'gone', 'bin', 'agent-secret.js');
    gemini.hooks.BeforeTool[0].hooks[0].command = `'${process.execPath}' '${moved}' guard --agent gemini`;
    writeFileSync(settingsOf('gemini'), JSON.stringify(gemini));

    const json = await runClean(sb, ['doctor', '--json']);
    const by = Object.fromEntries((JSON.parse(json.stdout) as { agents: Array<Record<string, any>> }).agents.map((a) => [a.agent, a]));
    expect(by.claude).toMatchObject({ guard: ['user'], guard_broken: [{ scope: 'user', problems: ['its matcher leaves out Read, Grep, Glob'] }] });
    expect(by.gemini).toMatchObject({ guard: ['user'], guard_broken: [{ scope: 'user', problems: [`${moved} does not exist`] }] });
    expect(by.codex).toMatchObject({ guard: [], guard_broken: [] });

    const text = await runClean(sb, ['doctor']);
    expect(text.stdout).toMatch(/Claude Code\s+guard: user \(broken: its matcher leaves out Read, Grep, Glob\).*\(to fix: agent-secret hook-install --agent claude/);
    expect(text.stdout).toContain(`guard: user (broken: ${moved} does not exist)`);

    // hook-install repairs both, and doctor agrees.
    await runClean(sb, ['hook-install', '--agent', 'claude']);
    await runClean(sb, ['hook-install', '--agent', 'gemini']);
    const fixed = (JSON.parse((await runClean(sb, ['doctor', '--json'])).stdout) as { agents: Array<Record<string, any>> }).agents;
    expect(fixed.every((a) => a.guard_broken.length === 0)).toBe(true);
  });

  it('which have the guard and the skill, user and repository', async () => {
    mkdirSync(join(sb.project, '.git'));
    await runClean(sb, ['hook-install', '--agent', 'codex']);
    await runClean(sb, ['hook-install', '--agent', 'cursor', '--project']);
    await runClean(sb, ['skill-install', '--agent', 'gemini']);
    writeFileSync(join(sb.home, '.gemini', 'skills', 'agent-secret', 'SKILL.md'), 'older\n');
    await runClean(sb, ['skill-install', '--agent', 'claude', '--project']);

    const json = await runClean(sb, ['doctor', '--json']);
    const agents = (JSON.parse(json.stdout) as { agents: Array<{ agent: string; guard: string[]; skill: Array<{ scope: string; current: boolean }> }> }).agents;
    expect(agents.map((a) => a.agent)).toEqual(['claude', 'codex', 'cursor', 'gemini']);
    const by = Object.fromEntries(agents.map((a) => [a.agent, a]));
    expect(by.claude).toMatchObject({ guard: [], skill: [{ scope: 'project', current: true }] });
    expect(by.codex).toMatchObject({ guard: ['user'], skill: [] });
    expect(by.cursor).toMatchObject({ guard: ['project'], skill: [] });
    expect(by.gemini).toMatchObject({ guard: [], skill: [{ scope: 'user', current: false }] });

    const text = await runClean(sb, ['doctor']);
    expect(text.stdout).toContain('coding agents (guard hook, skill):');
    expect(text.stdout).toMatch(/Codex CLI\s+guard: user\s+skill: -\s+\(to add: agent-secret skill-install --agent codex\)/);
    expect(text.stdout).toContain('Codex runs its hooks only once trusted: open /hooks in codex');
    expect(text.stdout).toMatch(/Gemini CLI\s+guard: -\s+skill: user \(older version\)\s+\(to add: agent-secret hook-install --agent gemini; agent-secret skill-install --agent gemini --force\)/);
  });
});
