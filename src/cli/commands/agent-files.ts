// Where each coding agent reads hooks and skills, for hook-install, skill-install and doctor:
// the user's own files (under HOME, or CODEX_HOME for Codex) or the repository's (`--project`:
// the nearest directory above the current one holding `.git`, else the current directory).
// Only regular files are read (a symlink to one is followed; a FIFO, device or directory is
// refused), at most 1 MiB, so nothing blocks and nothing but a settings or skill file is ever
// replaced.

import { existsSync, lstatSync } from 'node:fs';
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentSecretError } from '../../core/errors.js';
import type { GuardAgent } from '../../guard/agents.js';
import type { CliContext } from '../context.js';

export type Scope = 'user' | 'project';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SKILL_SOURCE = join(PACKAGE_ROOT, 'skills', 'agent-secret', 'SKILL.md');
export const BIN = join(PACKAGE_ROOT, 'bin', 'agent-secret.js');

const MAX_SETTINGS_BYTES = 1024 * 1024;

export function homeOf(ctx: CliContext): string {
  const value = ctx.env.HOME;
  return value !== undefined && value.startsWith('/') ? value : ctx.homedir;
}

/** The repository the current directory is in (nearest `.git` above), else the current directory. */
export function projectRoot(ctx: CliContext): string {
  let dir = ctx.cwd;
  for (;;) {
    try {
      lstatSync(join(dir, '.git'));
      return dir;
    } catch {
      // not here
    }
    const parent = dirname(dir);
    if (parent === dir) return ctx.cwd;
    dir = parent;
  }
}

function base(ctx: CliContext, scope: Scope): string {
  return scope === 'user' ? homeOf(ctx) : projectRoot(ctx);
}

/** The hook settings file an agent reads in this scope. */
export function hookSettingsPath(ctx: CliContext, agent: GuardAgent, scope: Scope): string {
  const root = base(ctx, scope);
  switch (agent) {
    case 'claude':
      return join(root, '.claude', 'settings.json');
    case 'codex': {
      const codexHome = ctx.env.CODEX_HOME;
      return scope === 'user' && codexHome !== undefined && codexHome.startsWith('/') ? join(codexHome, 'hooks.json') : join(root, '.codex', 'hooks.json');
    }
    case 'cursor':
      return join(root, '.cursor', 'hooks.json');
    case 'gemini':
      return join(root, '.gemini', 'settings.json');
  }
}

/** The skills directory an agent reads in this scope (Codex: the shared `.agents/skills`). */
export function skillDir(ctx: CliContext, agent: GuardAgent | 'agents', scope: Scope): string {
  const root = base(ctx, scope);
  const folder = agent === 'claude' ? '.claude' : agent === 'cursor' ? '.cursor' : agent === 'gemini' ? '.gemini' : '.agents';
  return join(root, folder, 'skills');
}

/** The SKILL.md paths skill-install writes: the agent's own, or (no --agent) the shared `.agents/skills` and Claude Code's. */
export function skillFiles(ctx: CliContext, agent: GuardAgent | undefined, scope: Scope): string[] {
  const dirs = agent === undefined ? [skillDir(ctx, 'agents', scope), skillDir(ctx, 'claude', scope)] : [skillDir(ctx, agent, scope)];
  return dirs.map((dir) => join(dir, 'agent-secret', 'SKILL.md'));
}

/**
 * The file to update and its text (null when there is none yet). A symlink is followed to a
 * regular file (dotfiles) and refused when it dangles or points elsewhere; anything else at the
 * path that is not a regular file is refused.
 */
export async function readExisting(path: string, command: string): Promise<{ target: string; text: string | null }> {
  const refuse = (what: string) =>
    new AgentSecretError('install.failed', `${path} ${what}; nothing was changed`, { hint: `move it away or fix it, then rerun agent-secret ${command}`, details: { file: path } });
  const link = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw refuse(`cannot be read (${error.code ?? 'error'})`);
  });
  if (link === null) return { target: path, text: null };
  let target = path;
  if (link.isSymbolicLink()) {
    target = await realpath(path).catch(() => {
      throw refuse('is a symlink to nothing');
    });
  }
  const info = link.isSymbolicLink() ? await stat(target).catch(() => null) : link;
  if (info === null || !info.isFile()) throw refuse(link.isSymbolicLink() ? `is a symlink to ${target}, which is not a regular file` : 'is not a regular file');
  if (info.size > MAX_SETTINGS_BYTES) throw refuse('is larger than 1 MiB');
  const text = await readFile(target, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw refuse(`cannot be read (${error.code ?? 'error'})`);
  });
  return { target, text };
}

/** Reads a settings file for a look (doctor): its parsed JSON, or null for none, not regular, too big or not JSON. */
export async function peekJson(path: string): Promise<unknown> {
  try {
    const { text } = await readExisting(path, 'doctor');
    return text === null || text.trim() === '' ? null : (JSON.parse(text) as unknown);
  } catch {
    return null;
  }
}

export interface AgentStatus {
  agent: GuardAgent;
  /** The scopes whose hook file runs the guard for this agent. */
  guard: Scope[];
  /** Installed guards that cannot work as they are (a matcher leaving tools out, a command naming a missing file). */
  guard_broken: Array<{ scope: Scope; problems: string[] }>;
  /** The scopes with the skill where this agent reads it, and whether it is this version's. */
  skill: Array<{ scope: Scope; path: string; current: boolean }>;
}

/** Which agents have the guard hook and the skill installed, in the user's files and this repository's (read only). */
export async function agentInstallStatus(ctx: CliContext): Promise<AgentStatus[]> {
  const { GUARD_AGENTS } = await import('../../guard/agents.js');
  const { inspectGuardHook } = await import('../../guard/install.js');
  const bundled = await readFile(SKILL_SOURCE, 'utf8').catch(() => null);
  const scopes: Scope[] = projectRoot(ctx) === homeOf(ctx) ? ['user'] : ['user', 'project'];
  const status: AgentStatus[] = [];
  for (const agent of GUARD_AGENTS) {
    const guard: Scope[] = [];
    const broken: AgentStatus['guard_broken'] = [];
    const skill: AgentStatus['skill'] = [];
    for (const scope of scopes) {
      const hook = inspectGuardHook(agent, await peekJson(hookSettingsPath(ctx, agent, scope)));
      if (hook !== null) {
        guard.push(scope);
        const problems = [...hook.problems, ...[...new Set(hook.commands.flatMap(absolutePaths))].filter((path) => !existsSync(path)).map((path) => `${path} does not exist`)];
        if (problems.length > 0) broken.push({ scope, problems });
      }
      // Codex, Gemini and Cursor also read the shared .agents/skills.
      const places = agent === 'claude' ? [skillDir(ctx, 'claude', scope)] : [...new Set([skillDir(ctx, agent, scope), skillDir(ctx, 'agents', scope)])];
      for (const dir of places) {
        const path = join(dir, 'agent-secret', 'SKILL.md');
        const text = await readExisting(path, 'doctor').then((found) => found.text, () => null);
        if (text !== null) {
          skill.push({ scope, path, current: text === bundled });
          break;
        }
      }
    }
    status.push({ agent, guard, guard_broken: broken, skill });
  }
  return status;
}

// The absolute paths a hook command names (node and the agent-secret script, quoted or not).
function absolutePaths(command: string): string[] {
  return [...command.matchAll(/'(\/[^']*)'|"(\/[^"]*)"|(?:^|\s)(\/[^\s'"]+)/g)].map((match) => match[1] ?? match[2] ?? match[3]!);
}
