// Session binding, pure: which process a session token is tied to, and whether a caller runs
// inside that process's tree. The policy comes from the session-create flags or the profile;
// the anchor is chosen from the ancestry of the `session create` process (depth 0 = itself)
// and recognised later by pid, uid, gid, start time and executable path together.

import { basename } from 'node:path';
import { AgentSecretError } from '../core/errors.js';
import { checkBindNames, parseBindDepth, type BindingPolicy } from '../core/session-bind.js';
import { cleanChars, cleanName, type AncestryEntry } from '../platform/process-tree.js';

export type { BindingPolicy };

/** The binding flags of `session create`, as commander hands them over. */
export interface BindingFlags {
  bindParent?: boolean | undefined;
  /** `--bind-ancestor N`, as typed. */
  bindAncestor?: string | undefined;
  /** `--bind-ancestor-name NAME`, every occurrence in order. */
  bindAncestorName?: readonly string[] | undefined;
}

/** The chosen anchor: the ancestry entry, its depth above the creator, and for ancestor_name the name that matched. */
export interface Anchor {
  anchor: AncestryEntry;
  depth: number;
  matchedName?: string;
}

const FLAG_HINT = 'choose the process with --bind-parent, --bind-ancestor N (1-3) or --bind-ancestor-name NAME, or set session.bind in the profile';
const LISTED_ANCESTORS = 4;

/**
 * The binding policy: from the flags when one kind is given, else the profile's `session.bind`,
 * else auto. More than one kind of flag, a bad depth or a bad name is a usage error. Pure.
 */
export function parseBindingFlags(flags: BindingFlags, profileBind?: BindingPolicy): BindingPolicy {
  const names = flags.bindAncestorName ?? [];
  const kinds = [flags.bindParent === true, flags.bindAncestor !== undefined, names.length > 0].filter(Boolean).length;
  if (kinds > 1) {
    throw new AgentSecretError('usage.invalid', 'use only one session binding flag: --bind-parent, --bind-ancestor or --bind-ancestor-name', {
      hint: '--bind-ancestor-name may be repeated; the other two stand alone',
    });
  }
  if (flags.bindParent === true) return { mode: 'ancestor', depth: 1 };
  if (flags.bindAncestor !== undefined) {
    const depth = parseBindDepth(flags.bindAncestor);
    if (!depth.ok) throw new AgentSecretError('usage.invalid', `--bind-ancestor: ${depth.message}`, { details: { flag: '--bind-ancestor' } });
    return { mode: 'ancestor', depth: depth.value };
  }
  if (names.length > 0) {
    const checked = checkBindNames(names);
    if (!checked.ok) {
      throw new AgentSecretError('usage.invalid', `--bind-ancestor-name: ${checked.message}`, {
        hint: 'give the basename of an executable above this one, such as --bind-ancestor-name zsh',
        details: { flag: '--bind-ancestor-name' },
      });
    }
    return { mode: 'ancestor_name', names: checked.value };
  }
  return profileBind ?? { mode: 'auto' };
}

/** Why an ancestry entry cannot anchor a session for `self`, or null when it can. Pure. */
export function ineligibility(entry: AncestryEntry, self: { uid: number; gid: number }): string | null {
  if (entry.pid <= 1) return 'the init process';
  if (entry.uid !== self.uid || entry.gid !== self.gid) return 'another user or group';
  if (entry.startTime === '') return 'start time unknown';
  if (entry.name === 'launchd' || (entry.path !== null && basename(entry.path) === 'launchd')) return 'launchd';
  return null;
}

/**
 * Chooses the process a session is bound to from the ancestry of the `session create` process
 * (depth 0 = itself). Eligible: pid > 1, the same effective uid and gid as `self`, a known start
 * time, not launchd.
 *  - auto: the nearest eligible ancestor; then, while its direct parent is eligible and runs the
 *    same executable path (nested zsh), that parent instead.
 *  - ancestor N: exactly depth N, which must be eligible.
 *  - ancestor_name: the nearest eligible ancestor whose executable basename is one of the names
 *    (a login shell `-zsh` counts as `zsh`).
 * Throws check.failed naming the nearest processes when nothing fits. Pure.
 */
export function chooseAnchor(policy: BindingPolicy, ancestry: readonly AncestryEntry[], self: { uid: number; gid: number }): Anchor {
  const eligible = (index: number): boolean => {
    const entry = ancestry[index];
    return entry !== undefined && ineligibility(entry, self) === null;
  };
  switch (policy.mode) {
    case 'auto': {
      let index = 1;
      while (index < ancestry.length && !eligible(index)) index += 1;
      if (index >= ancestry.length) {
        throw new AgentSecretError('check.failed', `session create found no stable parent process to bind the session to; ${nearest(ancestry, self)}`, { hint: FLAG_HINT });
      }
      while (eligible(index + 1) && sameExecutable(ancestry[index], ancestry[index + 1])) index += 1;
      return { anchor: ancestry[index] as AncestryEntry, depth: index };
    }
    case 'ancestor': {
      const entry = ancestry[policy.depth];
      if (entry === undefined) {
        throw new AgentSecretError('check.failed', `no process at ancestor depth ${policy.depth} to bind the session to; ${nearest(ancestry, self)}`, { hint: FLAG_HINT });
      }
      const why = ineligibility(entry, self);
      if (why !== null) {
        throw new AgentSecretError('check.failed', `the process at ancestor depth ${policy.depth}, ${describeProcess(entry)}, cannot anchor a session: ${why}; ${nearest(ancestry, self)}`, {
          hint: FLAG_HINT,
        });
      }
      return { anchor: entry, depth: policy.depth };
    }
    case 'ancestor_name': {
      let ineligibleMatch: { entry: AncestryEntry; why: string } | undefined;
      for (let index = 1; index < ancestry.length; index += 1) {
        const entry = ancestry[index] as AncestryEntry;
        const matchedName = matchName(entry, policy.names);
        if (matchedName === undefined) continue;
        const why = ineligibility(entry, self);
        if (why === null) return { anchor: entry, depth: index, matchedName };
        ineligibleMatch ??= { entry, why };
      }
      const accepted = policy.names.map((name) => cleanName(name)).join(', ');
      const message =
        ineligibleMatch === undefined
          ? `no ancestor process is named ${accepted}; ${nearest(ancestry, self)}`
          : `no eligible ancestor process is named ${accepted} (${describeProcess(ineligibleMatch.entry)}: ${ineligibleMatch.why}); ${nearest(ancestry, self)}`;
      throw new AgentSecretError('check.failed', message, { hint: FLAG_HINT });
    }
  }
}

/** True when some process of the caller's ancestry is the anchor: the same pid, uid, gid, start time and executable path. Pure. */
export function isBoundCaller(anchor: AncestryEntry, callerAncestry: readonly AncestryEntry[]): boolean {
  if (anchor.startTime === '') return false;
  return callerAncestry.some(
    (entry) => entry.pid === anchor.pid && entry.uid === anchor.uid && entry.gid === anchor.gid && entry.startTime === anchor.startTime && entry.path === anchor.path,
  );
}

/** `zsh (pid 4821, /bin/zsh)`: a process named safely for a message. Pure. */
export function describeProcess(entry: AncestryEntry): string {
  return entry.path === null ? `${cleanName(entry.name)} (pid ${entry.pid})` : `${cleanName(entry.name)} (pid ${entry.pid}, ${displayPath(entry.path)})`;
}

// Unknown paths never count as the same executable.
function sameExecutable(a: AncestryEntry | undefined, b: AncestryEntry | undefined): boolean {
  return a !== undefined && b !== undefined && a.path !== null && a.path === b.path;
}

function matchName(entry: AncestryEntry, names: readonly string[]): string | undefined {
  const candidates = new Set([entry.name]);
  if (entry.path !== null) candidates.add(basename(entry.path));
  if (entry.name.startsWith('-')) candidates.add(entry.name.slice(1));
  return names.find((name) => candidates.has(name));
}

// The nearest ancestors with their depth, so the human can pick a flag.
function nearest(ancestry: readonly AncestryEntry[], self: { uid: number; gid: number }): string {
  const listed = ancestry.slice(1, 1 + LISTED_ANCESTORS).map((entry, index) => {
    const why = ineligibility(entry, self);
    return `${index + 1}: ${cleanName(entry.name)} (pid ${entry.pid}${why === null ? '' : `, ${why}`})`;
  });
  return listed.length === 0 ? 'no ancestor could be read' : `nearest ancestors: ${listed.join(', ')}`;
}

const MAX_PATH_SHOWN = 96;

// Paths are chosen by whoever installed the program: cleaned, and long ones keep their end.
function displayPath(path: string): string {
  const chars = [...cleanChars(path.length > 4 * MAX_PATH_SHOWN ? path.slice(-4 * MAX_PATH_SHOWN) : path)];
  return chars.length > MAX_PATH_SHOWN ? `…${chars.slice(-MAX_PATH_SHOWN + 1).join('')}` : chars.join('');
}
