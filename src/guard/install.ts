// Adds the agent-secret guard to an agent's hook settings (or removes it) without touching
// anything else: other keys keep their values and order, other hooks and matchers stay as they
// are, and a guard entry from an earlier install (another path, an older matcher) is updated in
// place, keeping its other fields, instead of added twice.
// - Claude Code (settings.json), Codex CLI (hooks.json) and Gemini CLI (settings.json) share one
//   shape: `hooks.<Event>: [{matcher, hooks: [{type: "command", command}]}]`.
// - Cursor (hooks.json): `{version: 1, hooks: {<event>: [{command}]}}`, one entry per event.
// Input: the parsed, untrusted file. Invariant: pure, never mutates its input, and its errors
// name keys only, never a value from the file.

import { AgentSecretError } from '../core/errors.js';
import type { GuardAgent } from './agents.js';

/** The tools the guard looks at in Claude Code (a regex, as Claude Code matches tool names): Bash commands, Read, Grep and Glob. */
export const GUARD_MATCHER = 'Bash|Read|Grep|Glob';

/** Where and how each agent runs the guard: the hook event(s) and, for matcher-group files, the tool matcher. */
export const HOOK_SPECS: Readonly<Record<GuardAgent, { readonly events: readonly string[]; readonly matcher: string | null }>> = {
  claude: { events: ['PreToolUse'], matcher: GUARD_MATCHER },
  // Codex reaches hooks with every shell tool as "Bash"; it has no file-read tool.
  codex: { events: ['PreToolUse'], matcher: 'Bash' },
  // Cursor's file and shell gates; its entries have no matcher.
  cursor: { events: ['beforeShellExecution', 'beforeReadFile'], matcher: null },
  // Gemini CLI's shell, file-read and search tools (search_file_content is grep_search's older name).
  gemini: { events: ['BeforeTool'], matcher: 'run_shell_command|read_file|read_many_files|grep_search|search_file_content' },
};

export interface MergeResult {
  /** The settings to write (the input itself when nothing changed). */
  readonly settings: unknown;
  readonly changed: boolean;
  /** added: no guard was there; updated: an earlier guard entry was replaced; removed; unchanged. */
  readonly action: 'added' | 'updated' | 'removed' | 'unchanged';
}

type Json = Record<string, unknown>;

/** The settings file's name in errors; the command replaces it with the path. */
export const SETTINGS_LABEL = 'the hook settings';

const FIX_HINT = "fix the file by hand (see the agent's hooks documentation), then rerun agent-secret hook-install";

/** Whether a hook command runs `agent-secret guard` (any install path, quoted or not, via node or npx, with or without --agent). */
export function isGuardCommand(command: unknown): boolean {
  return typeof command === 'string' && /(^|[\s/'"])agent-secret(\.js)?['"]?\s+guard(\s+--agent(\s+|=)['"]?[a-z]+['"]?)?\s*$/.test(command);
}

/** Settings with exactly one guard hook running `command` for `agent`; refuses a shape it cannot extend. */
export function mergeGuardHooks(agent: GuardAgent, existing: unknown, command: string): MergeResult {
  if (agent === 'cursor') return mergeCursor(existing, command);
  const spec = HOOK_SPECS[agent];
  return mergeGroups(existing, spec.events[0]!, spec.matcher!, command, agent === 'gemini' ? { name: 'agent-secret-guard' } : {});
}

/** Settings without any guard hook for `agent` (other hooks and keys kept); unchanged when there was none. */
export function removeGuardHooks(agent: GuardAgent, existing: unknown): MergeResult {
  const root = expectObject(existing, 'the top level');
  if (root.hooks === undefined) return { settings: existing, changed: false, action: 'unchanged' };
  const hooks = expectObject(root.hooks, '"hooks"');
  let next: Json = hooks;
  for (const event of HOOK_SPECS[agent].events) {
    if (next[event] === undefined) continue;
    const list = expectArray(next[event], `"hooks.${event}"`);
    const kept = agent === 'cursor' ? list.filter((entry) => !(isObject(entry) && isGuardCommand(entry.command))) : withoutGuardHooks(list);
    if (kept.length === list.length && kept.every((entry, index) => entry === list[index])) continue;
    const { [event]: _dropped, ...rest } = next;
    next = kept.length > 0 ? { ...next, [event]: kept } : rest;
  }
  if (next === hooks) return { settings: existing, changed: false, action: 'unchanged' };
  return { settings: { ...root, hooks: next }, changed: true, action: 'removed' };
}

/** Whether the settings hold a guard hook for `agent` (false for any shape it cannot read). */
export function hasGuardHook(agent: GuardAgent, existing: unknown): boolean {
  if (!isObject(existing) || !isObject(existing.hooks)) return false;
  const hooks = existing.hooks;
  return HOOK_SPECS[agent].events.every((event) => {
    const list = hooks[event];
    if (!Array.isArray(list)) return false;
    if (agent === 'cursor') return list.some((entry) => isObject(entry) && isGuardCommand(entry.command));
    return list.some((group) => guardHookIndexes(group).length > 0);
  });
}

/**
 * What keeps an installed guard hook from seeing the calls it should: the tools its matcher
 * leaves out, an event without it (Cursor). Null when the settings hold no guard for `agent`;
 * `commands` are the guard commands found (the caller checks that the files they name exist).
 */
export function inspectGuardHook(agent: GuardAgent, existing: unknown): { commands: string[]; problems: string[] } | null {
  if (!isObject(existing) || !isObject(existing.hooks)) return null;
  const hooks = existing.hooks;
  const spec = HOOK_SPECS[agent];
  const commands: string[] = [];
  const problems: string[] = [];
  for (const event of spec.events) {
    const list = Array.isArray(hooks[event]) ? (hooks[event] as unknown[]) : [];
    if (agent === 'cursor') {
      const ours = list.filter((entry): entry is Json => isObject(entry) && isGuardCommand(entry.command));
      if (ours.length === 0) problems.push(`no guard in hooks.${event}`);
      commands.push(...ours.map((entry) => entry.command as string));
      continue;
    }
    const covered = new Set<string>();
    for (const group of list) {
      const indexes = guardHookIndexes(group);
      if (indexes.length === 0) continue;
      const { matcher, hooks: groupHooks } = group as Json;
      for (const index of indexes) commands.push(((groupHooks as unknown[])[index] as Json).command as string);
      for (const tool of spec.matcher!.split('|')) if (matcherCovers(matcher, tool)) covered.add(tool);
    }
    if (commands.length === 0) return null;
    const missing = spec.matcher!.split('|').filter((tool) => !covered.has(tool) && !(agent === 'gemini' && tool === 'search_file_content'));
    if (missing.length > 0) problems.push(`its matcher leaves out ${missing.join(', ')}`);
  }
  return commands.length === 0 ? null : { commands, problems };
}

// Whether a matcher group's matcher reaches `tool`: none, '' and '*' reach every tool; else a
// regular expression on the whole tool name (as Claude Code, Codex and Gemini CLI match).
function matcherCovers(matcher: unknown, tool: string): boolean {
  if (matcher === undefined || matcher === '' || matcher === '*') return true;
  if (typeof matcher !== 'string') return false;
  try {
    return new RegExp(`^(?:${matcher})$`).test(tool);
  } catch {
    return false;
  }
}

/** Claude Code: the guard in hooks.PreToolUse (kept for callers of the first version). */
export function mergeClaudeSettings(existing: unknown, command: string): MergeResult {
  return mergeGuardHooks('claude', existing, command);
}

function mergeGroups(existing: unknown, event: string, guardMatcher: string, command: string, extra: Json): MergeResult {
  const root = expectObject(existing, 'the top level');
  const hooks = root.hooks === undefined ? {} : expectObject(root.hooks, '"hooks"');
  const groups = hooks[event] === undefined ? [] : expectArray(hooks[event], `"hooks.${event}"`);

  const found: Array<{ group: number; hook: number }> = [];
  groups.forEach((group, groupIndex) => {
    guardHookIndexes(group).forEach((hookIndex) => found.push({ group: groupIndex, hook: hookIndex }));
  });
  if (found.length === 1) {
    const at = found[0]!.group;
    const group = groups[at] as Json;
    const hook = (group.hooks as unknown[])[found[0]!.hook] as Json;
    if ((group.hooks as unknown[]).length === 1) {
      const matcher = mergeMatcher(group.matcher, guardMatcher);
      const same = Object.entries(extra).every(([key, value]) => hook[key] === value);
      if (matcher === group.matcher && hook.command === command && same) return { settings: existing, changed: false, action: 'unchanged' };
      // An earlier install (`Bash|Read`, another path): updated where it is, keeping its other fields (a timeout).
      const updated = { ...group, matcher, hooks: [{ ...hook, type: 'command', command, ...extra }] };
      const next = groups.map((other, index) => (index === at ? updated : other));
      return { settings: { ...root, hooks: { ...hooks, [event]: next } }, changed: true, action: 'updated' };
    }
  }

  const ours = { matcher: guardMatcher, hooks: [{ type: 'command', command, ...extra }] };
  const next: unknown[] = [];
  let inserted = false;
  groups.forEach((group, groupIndex) => {
    const drop = new Set(found.filter((f) => f.group === groupIndex).map((f) => f.hook));
    if (drop.size === 0) {
      next.push(group);
      return;
    }
    const kept = ((group as Json).hooks as unknown[]).filter((_, hookIndex) => !drop.has(hookIndex));
    if (kept.length > 0) next.push({ ...(group as Json), hooks: kept });
    if (!inserted) {
      next.push(ours);
      inserted = true;
    }
  });
  if (!inserted) next.push(ours);
  return {
    settings: { ...root, hooks: { ...hooks, [event]: next } },
    changed: true,
    action: found.length > 0 ? 'updated' : 'added',
  };
}

// Matcher groups with the guard's command hooks taken out (a group left empty goes too).
function withoutGuardHooks(groups: readonly unknown[]): unknown[] {
  const next: unknown[] = [];
  for (const group of groups) {
    const drop = new Set(guardHookIndexes(group));
    if (drop.size === 0) {
      next.push(group);
      continue;
    }
    const kept = ((group as Json).hooks as unknown[]).filter((_, index) => !drop.has(index));
    if (kept.length > 0) next.push({ ...(group as Json), hooks: kept });
  }
  return next;
}

// Cursor: one `{command}` entry per gate event, updated in place when an earlier one is there
// (keeping its timeout or failClosed), duplicates dropped; `version: 1` added when missing.
function mergeCursor(existing: unknown, command: string): MergeResult {
  const root = expectObject(existing, 'the top level');
  const hooks = root.hooks === undefined ? {} : expectObject(root.hooks, '"hooks"');
  let next: Json = hooks;
  let found = false;
  let changed = false;
  for (const event of HOOK_SPECS.cursor.events) {
    const list = next[event] === undefined ? [] : expectArray(next[event], `"hooks.${event}"`);
    const ours = list.map((entry, index) => (isObject(entry) && isGuardCommand(entry.command) ? index : -1)).filter((index) => index >= 0);
    if (ours.length > 0) found = true;
    if (ours.length === 1 && (list[ours[0]!] as Json).command === command) continue;
    const first = ours.length > 0 ? (list[ours[0]!] as Json) : null;
    const entry = first === null ? { command } : { ...first, command };
    const kept = list.filter((_, index) => !ours.includes(index));
    const at = ours.length > 0 ? ours[0]! : kept.length;
    next = { ...next, [event]: [...kept.slice(0, at), entry, ...kept.slice(at)] };
    changed = true;
  }
  const versioned = root.version === undefined;
  if (!changed && !versioned) return { settings: existing, changed: false, action: 'unchanged' };
  const settings = versioned ? { version: 1, ...root, hooks: next } : { ...root, hooks: next };
  return { settings, changed: true, action: found ? 'updated' : 'added' };
}

// The matcher for the guard's own group: ours, plus the tools a hand-edited list adds
// (`Bash|Read|Write` → `Bash|Read|Grep|Glob|Write`); `*` and '' (every tool) stay as they are.
function mergeMatcher(current: unknown, guardMatcher: string): string {
  if (current === '*' || current === '') return current;
  if (typeof current !== 'string' || !/^[A-Za-z0-9_]+(\|[A-Za-z0-9_]+)*$/.test(current)) return guardMatcher;
  const ours = guardMatcher.split('|');
  const extra = current.split('|').filter((tool) => !ours.includes(tool));
  const merged = [...ours, ...extra].join('|');
  return current.split('|').length === ours.length + extra.length && ours.every((tool) => current.split('|').includes(tool)) ? current : merged;
}

// Indexes of the guard's command hooks inside one matcher group; none for a group of another shape.
function guardHookIndexes(group: unknown): number[] {
  if (!isObject(group) || !Array.isArray(group.hooks)) return [];
  const indexes: number[] = [];
  group.hooks.forEach((hook: unknown, index: number) => {
    if (isObject(hook) && hook.type === 'command' && isGuardCommand(hook.command)) indexes.push(index);
  });
  return indexes;
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function expectObject(value: unknown, where: string): Json {
  if (isObject(value)) return value;
  throw new AgentSecretError('usage.invalid', `${SETTINGS_LABEL}: ${where} is not a JSON object; nothing was changed`, { hint: FIX_HINT });
}

function expectArray(value: unknown, where: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new AgentSecretError('usage.invalid', `${SETTINGS_LABEL}: ${where} is not a JSON array; nothing was changed`, { hint: FIX_HINT });
}
