// `agent-secret skill-install` and `agent-secret hook-install`: put the agent skill where coding
// agents look for it, and register `agent-secret guard` as a Claude Code PreToolUse hook,
// without clobbering anything else in ~/.claude/settings.json. Both are idempotent: a second
// run reports "unchanged" and writes nothing. Files are replaced atomically (temp + rename).

import { chmod, lstat, mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentSecretError, isAgentSecretError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { shellQuote, writeJson, writeLines } from '../render/output.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SKILL_SOURCE = join(PACKAGE_ROOT, 'skills', 'agent-secret', 'SKILL.md');
const BIN = join(PACKAGE_ROOT, 'bin', 'agent-secret.js');

type SkillOutcome = 'installed' | 'unchanged' | 'replaced';

function home(ctx: CliContext): string {
  const value = ctx.env.HOME;
  return value !== undefined && value.startsWith('/') ? value : ctx.homedir;
}

/** Copies SKILL.md into ~/.agents/skills/agent-secret and ~/.claude/skills/agent-secret. */
export async function runSkillInstall(ctx: CliContext, options: { force?: boolean; json?: boolean }): Promise<number> {
  const skill = await readFile(SKILL_SOURCE, 'utf8').catch(() => {
    throw new AgentSecretError('install.failed', `the bundled skill ${SKILL_SOURCE} is missing`, { hint: 'reinstall agent-secret' });
  });
  const targets = [join(home(ctx), '.agents', 'skills', 'agent-secret', 'SKILL.md'), join(home(ctx), '.claude', 'skills', 'agent-secret', 'SKILL.md')];
  // Plan every target first, so a refusal leaves both untouched.
  const plan: Array<{ path: string; outcome: SkillOutcome }> = [];
  for (const path of targets) {
    const existing = await readExisting(path, 'skill-install');
    plan.push({ path, outcome: existing.text === null ? 'installed' : existing.text === skill ? 'unchanged' : 'replaced' });
  }
  const differing = plan.filter((entry) => entry.outcome === 'replaced').map((entry) => entry.path);
  if (differing.length > 0 && options.force !== true) {
    throw new AgentSecretError('usage.invalid', `${differing.join(' and ')} ${differing.length > 1 ? 'differ' : 'differs'} from this version's skill; nothing was changed`, {
      hint: 'rerun with --force to replace it (local edits to the skill are lost)',
    });
  }
  for (const entry of plan) {
    if (entry.outcome === 'unchanged') continue;
    await writeAtomically(entry.path, skill, 0o644);
  }
  if (options.json === true) writeJson(ctx.stdout, { changed: plan.some((entry) => entry.outcome !== 'unchanged'), skills: plan });
  else writeLines(ctx.stdout, plan.map((entry) => `${entry.outcome}: ${entry.path}`));
  return 0;
}

/** Adds the guard hook to ~/.claude/settings.json, keeping every other setting. */
export async function runHookInstall(ctx: CliContext, options: { json?: boolean }): Promise<number> {
  const { GUARD_MATCHER, mergeClaudeSettings } = await import('../../guard/install.js');
  const path = join(home(ctx), '.claude', 'settings.json');
  // A symlinked settings.json (dotfiles) is updated where it points, and stays a symlink.
  const { target, text } = await readExisting(path, 'hook-install');
  let existing: unknown = {};
  if (text !== null && text.trim() !== '') {
    try {
      existing = JSON.parse(text);
    } catch {
      throw new AgentSecretError('usage.invalid', `${path} is not valid JSON; nothing was changed`, { hint: 'fix the file (or move it away), then rerun agent-secret hook-install' });
    }
  }
  // Absolute node and script paths: hooks run with Claude Code's PATH, which may not have ours.
  const command = `${shellQuote(process.execPath)} ${shellQuote(BIN)} guard`;
  let merged;
  let rendered: string;
  try {
    merged = mergeClaudeSettings(existing, command);
    rendered = `${JSON.stringify(merged.settings, null, indentOf(text))}\n`;
  } catch (error) {
    if (isAgentSecretError(error)) throw new AgentSecretError(error.code, error.message.replace('Claude Code settings', path), { ...(error.hint === undefined ? {} : { hint: error.hint }), details: { file: path } });
    // JSON.stringify gives up on nesting deeper than its stack (RangeError).
    throw new AgentSecretError('usage.invalid', `${path} is nested too deeply to rewrite; nothing was changed`, {
      hint: 'fix the file (or move it away), then rerun agent-secret hook-install',
      details: { file: path },
    });
  }
  if (merged.changed) {
    const mode = await stat(target).then((info) => info.mode & 0o777, () => 0o600);
    await writeAtomically(target, rendered, mode);
  }
  const warnings = /[/\\]_npx[/\\]/.test(BIN) ? [`the hook runs agent-secret from npx's temporary cache (${PACKAGE_ROOT}); install agent-secret globally and rerun hook-install, or the hook stops working when that cache is cleaned`] : [];
  if (options.json === true) {
    writeJson(ctx.stdout, { settings_path: path, matcher: GUARD_MATCHER, hook_command: command, changed: merged.changed, action: merged.action, warnings });
  } else {
    const line =
      merged.action === 'added'
        ? `added the agent-secret guard hook (${GUARD_MATCHER}) to ${path}`
        : merged.action === 'updated'
          ? `updated the agent-secret guard hook (${GUARD_MATCHER}) in ${path}`
          : `the agent-secret guard hook is already in ${path}`;
    writeLines(ctx.stdout, [line, `hook command: ${command}`, ...warnings.map((warning) => `warning: ${warning}`)]);
  }
  return 0;
}

/**
 * The file to update and its text (null when there is none yet). Only a regular file is read or
 * replaced: a symlink is followed to a regular file (dotfiles) and refused when it dangles or
 * points elsewhere, and anything else at the path (a FIFO, a device, a directory) is refused, so
 * that nothing blocks on it and nothing but a settings or skill file is ever replaced.
 */
async function readExisting(path: string, command: string): Promise<{ target: string; text: string | null }> {
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
  const text = await readFile(target, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw refuse(`cannot be read (${error.code ?? 'error'})`);
  });
  return { target, text };
}

// The indentation the file already uses (two spaces for a new file).
function indentOf(text: string | null): string | number {
  const indent = text === null ? null : /\n([ \t]+)\S/.exec(text);
  return indent === null ? 2 : indent[1]!;
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.agent-secret-${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temporary, content, { mode, flag: 'wx' });
    await chmod(temporary, mode);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new AgentSecretError('install.failed', `cannot write ${path} (${code}); nothing was changed there`, { hint: 'check the permissions of that directory, then rerun' });
  }
}
