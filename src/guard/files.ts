// How the guard finds the files a command would read: the paths a shell word names (`$HOME/…`,
// `$PWD/…`, relative to a `cd`, simple globs), whether one holds secrets, and a bounded walk
// for recursive readers (grep -r, rg, the Grep tool, find -exec). Input: untrusted words and
// whatever the host lets it see. Invariant: pure apart from the host calls; only ever returns
// paths and kinds, never file content; the walk is capped so the guard stays fast.

import { holdsSecrets, isAgentSecretStore, secretFileKind, type SecretFileKind } from './secret-files.js';
import type { ShellWord } from './shell-words.js';

/** One entry of a directory listing. */
export interface DirEntry {
  readonly name: string;
  /** A real directory (a symlink to one is not: the walk does not follow links). */
  readonly dir: boolean;
}

/** What the guard may learn about files: only through these, so tests can fake a file system. */
export interface GuardHost {
  /** The first bytes of a file (a path as the agent wrote it, `~/` allowed), or null. */
  readFileHead(path: string): string | null;
  /** Entry names of a directory, for glob words like `.env*`; without it globs are not checked. */
  listDir?(path: string): readonly string[] | null;
  /** Entries of a directory with their type, for recursive searches; without it nothing is walked. */
  readDir?(path: string): readonly DirEntry[] | null;
}

export interface SecretFile {
  readonly path: string;
  readonly kind: SecretFileKind;
  /** The file's first bytes; only ever tested (search patterns), never returned to the agent. */
  readonly head: string;
}

const MAX_GLOB_MATCHES = 64;
/** Walk bounds: a project's secret files sit near its root; a bigger tree is only partly seen. */
export const WALK_LIMITS = { depth: 8, entries: 5000, secrets: 32 } as const;
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.hg', '.svn']);

export function joinDir(dir: string, relative: string): string {
  if (dir === '' || dir === '.') return relative;
  if (relative === '.' || relative === './') return dir;
  if (relative.startsWith('./')) relative = relative.slice(2);
  return `${dir.replace(/\/+$/, '')}/${relative}`;
}

export function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** The secret kind of the file at `path` when its name and first bytes say it holds secrets. */
export function secretKindOf(path: string, host: GuardHost): SecretFileKind | null {
  return secretFileAt(path, host)?.kind ?? null;
}

export function secretFileAt(path: string, host: GuardHost): SecretFile | null {
  if (isAgentSecretStore(path)) return { path, kind: 'agent-secret', head: '' };
  const kind = secretFileKind(baseName(path));
  if (kind === null) return null;
  const head = host.readFileHead(path);
  if (head === null || !holdsSecrets(kind, head)) return null;
  return { path, kind, head };
}

// `$PWD/x`, `${PWD}/x`, `$(pwd)/x` and `` `pwd`/x ``: x, relative to where the command runs.
const PWD_PREFIX = /^(\$PWD|\$\{PWD\}|\$\(pwd\)|`pwd`)(\/|$)/;
const HOME_PREFIX = /^(\$HOME|\$\{HOME\})\//;

/** The paths a word names: itself, `$HOME/…` as `~/…`, `$PWD/…` as relative, or the matches of a simple glob. */
export function candidatePaths(word: ShellWord, host: GuardHost, dir = ''): string[] {
  let text = word.text;
  if (word.expanded) {
    const home = HOME_PREFIX.exec(text);
    const pwd = PWD_PREFIX.exec(text);
    if (home !== null) text = `~/${text.slice(home[0].length)}`;
    else if (pwd !== null) text = text.slice(pwd[0].length) || '.';
    else return [];
    if (/[$`]/.test(text)) return [];
  }
  if (text === '' || text === '-') return [];
  // After a cd the path is read from both places: a cd inside a subshell, `(cd sub); cat .env`,
  // does not move the commands after it, and the guard does not track subshells.
  const places = dir === '' || text.startsWith('/') || text.startsWith('~') ? [text] : [joinDir(dir, text), text];
  return places.flatMap((placed) => (word.glob ? expandGlob(placed, host) : [placed]));
}

function expandGlob(pattern: string, host: GuardHost): string[] {
  if (host.listDir === undefined) return [];
  const slash = pattern.lastIndexOf('/');
  const dir = slash < 0 ? '' : pattern.slice(0, slash + 1);
  if (/[*?[{]/.test(dir)) return [];
  const matcher = globMatcher(pattern.slice(slash + 1));
  if (matcher === null) return [];
  const names = host.listDir(dir === '' ? '.' : dir) ?? [];
  return names.filter((name) => matcher.test(name) && secretFileKind(name) !== null).slice(0, MAX_GLOB_MATCHES).map((name) => `${dir}${name}`);
}

/** A regular expression for one glob segment (* ? [..] {a,b}); a leading dot must be literal unless `dotMatches`. */
export function globMatcher(segment: string, dotMatches = false): RegExp | null {
  if (segment.length > 256) return null;
  let source = '';
  for (let i = 0; i < segment.length; i += 1) {
    const c = segment[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) return null;
      const body = segment.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
      source += `[${body}]`;
      i = close;
    } else if (c === '{') {
      const close = segment.indexOf('}', i);
      if (close < 0) return null;
      source += `(?:${segment.slice(i + 1, close).split(',').map(escapeRegExp).join('|')})`;
      i = close;
    } else source += escapeRegExp(c);
  }
  const hidden = segment.startsWith('.') || dotMatches ? '' : '(?!\\.)';
  try {
    return new RegExp(`^${hidden}${source}$`, 's');
  } catch {
    return null;
  }
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export interface WalkOptions {
  /** Whether names starting with a dot are searched (rg and ag skip them unless told). */
  readonly hidden: boolean;
  /** Whether a file found at `path` (relative to the walk's root, as `a/b/.env`) is searched. */
  readonly accepts?: ((path: string) => boolean) | undefined;
}

/**
 * The files holding secrets under `root`, breadth first (a project's `.env` sits near the top),
 * skipping node_modules and VCS directories, within WALK_LIMITS. A `root` that is a file is
 * not walked (the caller checks it as a file).
 */
export function secretFilesUnder(root: string, host: GuardHost, options: WalkOptions): SecretFile[] {
  if (host.readDir === undefined) return [];
  const found: SecretFile[] = [];
  let queue: Array<{ path: string; relative: string }> = [{ path: root, relative: '' }];
  let seen = 0;
  for (let depth = 0; depth <= WALK_LIMITS.depth && queue.length > 0; depth += 1) {
    const next: typeof queue = [];
    for (const { path, relative } of queue) {
      const entries = host.readDir(path);
      if (entries === null) continue;
      for (const entry of entries) {
        if ((seen += 1) > WALK_LIMITS.entries) return found;
        if (!options.hidden && entry.name.startsWith('.')) continue;
        const childPath = path === '.' || path === '' ? entry.name : joinDir(path, entry.name);
        const childRelative = joinDir(relative, entry.name);
        if (entry.dir) {
          if (!SKIPPED_DIRS.has(entry.name)) next.push({ path: childPath, relative: childRelative });
          continue;
        }
        if (secretFileKind(entry.name) === null || (options.accepts !== undefined && !options.accepts(childRelative))) continue;
        const secret = secretFileAt(childPath, host);
        if (secret !== null && found.push(secret) >= WALK_LIMITS.secrets) return found;
      }
    }
    queue = next;
  }
  return found;
}

/** Whether `path` (relative to a search root) is kept by include/exclude globs on its name (grep --include, rg -g). */
export function globFilter(includes: readonly string[], excludes: readonly string[]): ((path: string) => boolean) | undefined {
  if (includes.length === 0 && excludes.length === 0) return undefined;
  const compile = (globs: readonly string[]) => globs.map((glob) => globMatcher(baseName(glob.replace(/^\*\*\//, '')), true));
  const include = compile(includes);
  // An exclude the guard cannot read (or one on a path, `a/**/x`) excludes nothing: safer to search too much.
  const exclude = compile(excludes.filter((glob) => !glob.replace(/^\*\*\//, '').includes('/')));
  return (path) => {
    const name = baseName(path);
    if (exclude.some((matcher) => matcher !== null && matcher.test(name))) return false;
    return include.length === 0 || include.some((matcher) => matcher === null || matcher.test(name));
  };
}

/**
 * Whether `path` (relative to the walk's root, as `a/b/.env`) matches `glob` as a whole path, the
 * way a path-glob reader (Gemini CLI's read_many_files) matches: `**` spans any number of
 * directories, other segments match one name each, and a leading dot needs no literal dot.
 * A glob the guard cannot read matches everything (safer to look at too much).
 */
export function pathGlobFilter(glob: string): (path: string) => boolean {
  const segments = glob.replace(/^(\.\/)+/, '').replace(/\/+$/, '').split('/').filter((segment) => segment !== '' && segment !== '.');
  let source = '';
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    if (segment === '**') {
      source += last ? '.*' : '(?:[^/]*/)*';
      continue;
    }
    const matcher = globMatcher(segment, true);
    if (matcher === null) return () => true;
    source += matcher.source.slice(1, -1) + (last ? '' : '/');
  }
  // A glob naming a directory (`src`, `src/*`) also reads what is below it.
  const whole = new RegExp(`^${source}(?:/.*)?$`, 's');
  return (path) => whole.test(path);
}
