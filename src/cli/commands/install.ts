// `agent-secret skill-install` and `agent-secret hook-install`: put the agent skill where a
// coding agent looks for it, and register `agent-secret guard --agent …` where that agent reads
// hooks (Claude Code and Gemini CLI settings.json, Codex CLI and Cursor hooks.json), in the
// user's files or, with --project, the repository's, without clobbering anything else in them.
// Both are idempotent (a second run reports "unchanged" and writes nothing), keep a backup of a
// file they change, replace files atomically (temp + rename), and undo with --remove.

import { chmod, mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AgentSecretError, isAgentSecretError } from '../../core/errors.js';
import { AGENT_TITLES, type GuardAgent } from '../../guard/agents.js';
import type { CliContext } from '../context.js';
import { VERSION } from '../../version.js';
import { shellQuote, writeJson, writeLines } from '../render/output.js';
import { BIN, hookSettingsPath, PACKAGE_ROOT, readExisting, SKILL_SOURCE, skillFiles, type Scope } from './agent-files.js';

/** What hook-install says after adding or changing the Codex hook (doctor says the same). */
export const CODEX_TRUST_WARNING = 'Codex skips a new or changed hook until you trust it: start codex, open /hooks, review the agent-secret guard hook and trust it';

type SkillOutcome = 'installed' | 'unchanged' | 'replaced' | 'removed' | 'absent';

interface InstallOptions {
  agent?: GuardAgent;
  project?: boolean;
  remove?: boolean;
  json?: boolean;
}

/** Copies SKILL.md where the agent reads skills (no --agent: ~/.agents/skills and ~/.claude/skills), or removes it. */
export async function runSkillInstall(ctx: CliContext, options: InstallOptions & { force?: boolean }): Promise<number> {
  const skill = await readFile(SKILL_SOURCE, 'utf8').catch(() => {
    throw new AgentSecretError('install.failed', `the bundled skill ${SKILL_SOURCE} is missing`, { hint: 'reinstall agent-secret' });
  });
  const scope: Scope = options.project === true ? 'project' : 'user';
  const targets = skillFiles(ctx, options.agent, scope);
  // Plan every target first, so a refusal leaves all of them untouched.
  const plan: Array<{ path: string; outcome: SkillOutcome; text: string | null }> = [];
  for (const path of targets) {
    const existing = await readExisting(path, `skill-install${options.agent === undefined ? '' : ` --agent ${options.agent}`}${scope === 'project' ? ' --project' : ''}`);
    const outcome: SkillOutcome =
      options.remove === true
        ? existing.text === null ? 'absent' : 'removed'
        : existing.text === null ? 'installed' : existing.text === skill ? 'unchanged' : 'replaced';
    plan.push({ path, outcome, text: existing.text });
  }
  const differing = plan.filter((entry) => entry.text !== null && entry.text !== skill && (entry.outcome === 'replaced' || entry.outcome === 'removed')).map((entry) => entry.path);
  if (differing.length > 0 && options.force !== true) {
    const what = options.remove === true ? 'remove' : 'replace';
    throw new AgentSecretError('usage.invalid', `${differing.join(' and ')} ${differing.length > 1 ? 'differ' : 'differs'} from this version's skill; nothing was changed`, {
      hint: `rerun with --force to ${what} it (a backup of the edited file is kept next to it)`,
    });
  }
  const report: Array<{ path: string; outcome: SkillOutcome; backup_path?: string }> = [];
  for (const entry of plan) {
    const backup = entry.text !== null && entry.text !== skill && entry.outcome !== 'unchanged' ? await writeBackup(entry.path, entry.text, 0o644) : null;
    if (entry.outcome === 'installed' || entry.outcome === 'replaced') await writeAtomically(entry.path, skill, 0o644);
    if (entry.outcome === 'removed') {
      await rm(entry.path, { force: true }).catch(() => undefined);
      // The skill's own folder goes when it is left empty.
      await rmdir(dirname(entry.path)).catch(() => undefined);
    }
    report.push(backup === null ? { path: entry.path, outcome: entry.outcome } : { path: entry.path, outcome: entry.outcome, backup_path: backup });
  }
  const changed = report.some((entry) => entry.outcome !== 'unchanged' && entry.outcome !== 'absent');
  if (options.json === true) writeJson(ctx.stdout, { agent: options.agent ?? null, scope, changed, skills: report });
  else writeLines(ctx.stdout, report.map((entry) => `${entry.outcome}: ${entry.path}${entry.backup_path === undefined ? '' : ` (backup: ${entry.backup_path})`}`));
  return 0;
}

/** Adds the guard hook to the agent's hook settings (or removes it), keeping every other setting. */
export async function runHookInstall(ctx: CliContext, options: InstallOptions): Promise<number> {
  const { HOOK_SPECS, mergeGuardHooks, removeGuardHooks, SETTINGS_LABEL } = await import('../../guard/install.js');
  const agent: GuardAgent = options.agent ?? 'claude';
  const scope: Scope = options.project === true ? 'project' : 'user';
  const path = hookSettingsPath(ctx, agent, scope);
  const spec = HOOK_SPECS[agent];
  const rerun = `agent-secret hook-install --agent ${agent}${scope === 'project' ? ' --project' : ''}`;
  // A symlinked settings file (dotfiles) is updated where it points, and stays a symlink.
  const { target, text } = await readExisting(path, rerun.replace(/^agent-secret /, ''));
  let existing: unknown = {};
  let droppedComments = false;
  if (text !== null && text.trim() !== '') {
    try {
      existing = JSON.parse(text);
    } catch {
      // Gemini CLI reads its settings.json with comments allowed (strip-json-comments).
      const stripped = agent === 'gemini' ? stripJsonComments(text) : null;
      if (stripped === null) throw new AgentSecretError('usage.invalid', `${path} is not valid JSON; nothing was changed`, { hint: `fix the file (or move it away), then rerun ${rerun}` });
      try {
        existing = JSON.parse(stripped);
        droppedComments = true;
      } catch {
        throw new AgentSecretError('usage.invalid', `${path} is not valid JSON; nothing was changed`, { hint: `fix the file (or move it away), then rerun ${rerun}` });
      }
    }
  }
  // User scope: absolute node and script paths (hooks run with the agent's PATH, which may not
  // have ours). Project scope: the files are shared, so the command every clone can run.
  const agentFlag = agent === 'claude' ? '' : ` --agent ${agent}`;
  const command = scope === 'user' ? `${shellQuote(process.execPath)} ${shellQuote(BIN)} guard${agentFlag}` : `agent-secret guard${agentFlag}`;
  let merged;
  let rendered: string;
  try {
    merged = options.remove === true ? removeGuardHooks(agent, existing) : mergeGuardHooks(agent, existing, command);
    rendered = `${JSON.stringify(merged.settings, null, indentOf(text))}\n`;
  } catch (error) {
    if (isAgentSecretError(error)) throw new AgentSecretError(error.code, error.message.replace(SETTINGS_LABEL, path), { hint: `fix the file by hand (see the ${AGENT_TITLES[agent]} hooks documentation), then rerun ${rerun}`, details: { file: path } });
    // JSON.stringify gives up on nesting deeper than its stack (RangeError).
    throw new AgentSecretError('usage.invalid', `${path} is nested too deeply to rewrite; nothing was changed`, {
      hint: `fix the file (or move it away), then rerun ${rerun}`,
      details: { file: path },
    });
  }
  let backup: string | null = null;
  if (merged.changed) {
    const mode = await stat(target).then((info) => info.mode & 0o777, () => 0o600);
    if (text !== null) backup = await writeBackup(target, text, mode);
    await writeAtomically(target, rendered, mode);
  }
  const warnings: string[] = [];
  if (droppedComments && merged.changed && backup !== null) warnings.push(`the comments in ${path} were dropped when it was rewritten; the backup ${backup} keeps them`);
  if (scope === 'user' && options.remove !== true && /[/\\]_npx[/\\]/.test(BIN)) {
    warnings.push(`the hook runs agent-secret from npx's temporary cache (${PACKAGE_ROOT}); install agent-secret globally and rerun hook-install, or the hook stops working when that cache is cleaned`);
  }
  if (scope === 'project' && options.remove !== true) warnings.push(`the hook runs \`agent-secret\` from PATH: everyone using ${AGENT_TITLES[agent]} in this repository needs agent-secret installed on PATH (from a clone: npm pack, then npm install -g ./agent-secret-${VERSION}.tgz)`);
  // Codex runs a non-managed hook only after the user trusted its exact definition (trust is
  // kept by the hook's hash): a new or changed hook is skipped, without a word, until then.
  if (agent === 'codex' && options.remove !== true && merged.changed) warnings.push(CODEX_TRUST_WARNING);
  const what = spec.matcher ?? spec.events.join(', ');
  if (options.json === true) {
    writeJson(ctx.stdout, {
      agent,
      scope,
      settings_path: path,
      events: spec.events,
      matcher: spec.matcher,
      hook_command: command,
      changed: merged.changed,
      action: merged.action,
      backup_path: backup,
      warnings,
    });
  } else {
    const line =
      merged.action === 'added'
        ? `added the agent-secret guard hook (${what}) to ${path}`
        : merged.action === 'updated'
          ? `updated the agent-secret guard hook (${what}) in ${path}`
          : merged.action === 'removed'
            ? `removed the agent-secret guard hook from ${path}`
            : options.remove === true
              ? `no agent-secret guard hook in ${path}`
              : `the agent-secret guard hook is already in ${path}`;
    writeLines(ctx.stdout, [
      line,
      ...(options.remove === true ? [] : [`hook command: ${command}`]),
      ...(backup === null ? [] : [`backup of the previous file: ${backup}`]),
      ...warnings.map((warning) => `warning: ${warning}`),
    ]);
  }
  return 0;
}

// A copy of a file about to be replaced, next to it, named with the time (never overwriting an older backup).
async function writeBackup(path: string, text: string, mode: number): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const backup = `${path}.agent-secret-backup-${stamp}${attempt === 0 ? '' : `-${attempt}`}`;
    try {
      await writeFile(backup, text, { mode: mode & 0o666, flag: 'wx' });
      return backup;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new AgentSecretError('install.failed', `cannot write a backup next to ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); nothing was changed`, { hint: 'check the permissions of that directory, then rerun' });
    }
  }
  throw new AgentSecretError('install.failed', `cannot write a backup next to ${path}; nothing was changed`, { hint: 'rerun in a moment' });
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

/**
 * The text with // and /* *\/ comments outside strings blanked (newlines kept), as Gemini CLI
 * reads its settings; null for an unterminated comment or string.
 */
export function stripJsonComments(text: string): string | null {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) return null;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return null;
      out += text.slice(i, end + 2).replace(/[^\n]/g, ' ');
      i = end + 2;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}
