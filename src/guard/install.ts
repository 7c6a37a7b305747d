// Adds the agent-secret guard to Claude Code's settings (`hooks.PreToolUse`) without touching
// anything else: other keys keep their values and order, other hooks and matchers stay as they
// are, and a guard entry from an earlier install (another path, the old `Bash|Read` matcher)
// is updated in place, keeping its other fields, instead of added twice.
// Input: the parsed, untrusted settings.json. Invariant: pure, never mutates its input, and its
// errors name keys only, never a value from the file.

import { AgentSecretError } from '../core/errors.js';

/** The tools the guard looks at (a regex, as Claude Code matches tool names): Bash commands, Read, Grep and Glob. */
export const GUARD_MATCHER = 'Bash|Read|Grep|Glob';

export interface MergeResult {
  /** The settings to write (the input itself when nothing changed). */
  readonly settings: unknown;
  readonly changed: boolean;
  /** added: no guard was there; updated: an earlier guard entry was replaced; unchanged. */
  readonly action: 'added' | 'updated' | 'unchanged';
}

type Json = Record<string, unknown>;

const FIX_HINT = 'fix ~/.claude/settings.json by hand (see Claude Code\'s hooks documentation), then rerun agent-secret hook-install';

/** Whether a hook command runs `agent-secret guard` (any install path, quoted or not, via node or npx). */
export function isGuardCommand(command: unknown): boolean {
  return typeof command === 'string' && /(^|[\s/'"])agent-secret(\.js)?['"]?\s+guard\s*$/.test(command);
}

/** Settings with exactly one guard hook running `command`; refuses a shape it cannot extend. */
export function mergeClaudeSettings(existing: unknown, command: string): MergeResult {
  const root = expectObject(existing, 'the top level');
  const hooks = root.hooks === undefined ? {} : expectObject(root.hooks, '"hooks"');
  const groups = hooks.PreToolUse === undefined ? [] : expectArray(hooks.PreToolUse, '"hooks.PreToolUse"');

  const found: Array<{ group: number; hook: number }> = [];
  groups.forEach((group, groupIndex) => {
    guardHookIndexes(group).forEach((hookIndex) => found.push({ group: groupIndex, hook: hookIndex }));
  });
  if (found.length === 1) {
    const at = found[0]!.group;
    const group = groups[at] as Json;
    const hook = (group.hooks as unknown[])[found[0]!.hook] as Json;
    if ((group.hooks as unknown[]).length === 1) {
      const matcher = mergeMatcher(group.matcher);
      if (matcher === group.matcher && hook.command === command) return { settings: existing, changed: false, action: 'unchanged' };
      // An earlier install (`Bash|Read`, another path): updated where it is, keeping its other fields (a timeout).
      const updated = { ...group, matcher, hooks: [{ ...hook, type: 'command', command }] };
      const next = groups.map((other, index) => (index === at ? updated : other));
      return { settings: { ...root, hooks: { ...hooks, PreToolUse: next } }, changed: true, action: 'updated' };
    }
  }

  const ours = { matcher: GUARD_MATCHER, hooks: [{ type: 'command', command }] };
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
    settings: { ...root, hooks: { ...hooks, PreToolUse: next } },
    changed: true,
    action: found.length > 0 ? 'updated' : 'added',
  };
}

// The matcher for the guard's own group: ours, plus the tools a hand-edited list adds
// (`Bash|Read|Write` → `Bash|Read|Grep|Glob|Write`); `*` and '' (every tool) stay as they are.
function mergeMatcher(current: unknown): string {
  if (current === '*' || current === '') return current;
  if (typeof current !== 'string' || !/^[A-Za-z0-9_]+(\|[A-Za-z0-9_]+)*$/.test(current)) return GUARD_MATCHER;
  const ours = GUARD_MATCHER.split('|');
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
  throw new AgentSecretError('usage.invalid', `Claude Code settings: ${where} is not a JSON object; nothing was changed`, { hint: FIX_HINT });
}

function expectArray(value: unknown, where: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new AgentSecretError('usage.invalid', `Claude Code settings: ${where} is not a JSON array; nothing was changed`, { hint: FIX_HINT });
}
