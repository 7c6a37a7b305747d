// Searchers: grep (recursive with -r/-R), rg, ag, ack and git grep in a Bash command, and Claude
// Code's Grep tool. A file named outright is a read like `cat` (the guard denies a search of a
// secret file whatever the pattern); a directory is walked (bounded, see files.ts) and a secret
// file under it counts only when the search would print one of its secret lines (patterns.ts),
// so `rg useState` in a project with a .env passes and `grep -rn TOKEN .` does not. Searches
// that print only names or counts (-l, -c, -q, the Grep tool's default) pass, as `grep -c` does.
// Input: untrusted words or tool input. Invariant: pure apart from host calls; never throws on
// odd input (decide.ts also catches); never returns file content.

import { ALLOW, fileDenial, quote, type GuardDecision } from './denial.js';
import { candidatePaths, globFilter, secretFileAt, secretFilesUnder, type GuardHost } from './files.js';
import { printsSecretLines, type PatternSyntax, type SearchSpec } from './patterns.js';
import type { ShellWord } from './shell-words.js';

interface Dialect {
  readonly recursive: boolean;
  readonly hidden: boolean;
  readonly syntax: PatternSyntax;
  /** Short options that take a value (the rest of the cluster, or the next word). */
  readonly valueShort: string;
  readonly valueLong: readonly string[];
  /** Short options after which only names or counts are printed. */
  readonly quietShort: string;
}

const QUIET_LONG = new Set(['--quiet', '--silent', '--count', '--files-with-matches', '--files-without-match', '--files-without-matches', '--files', '--count-matches', '--name-only', '--list-file-types', '--type-list']);
const CONTEXT_LONG = new Set(['--context', '--after-context', '--before-context', '--after', '--before']);

const DIALECTS: Record<string, Dialect> = {
  grep: {
    recursive: false, hidden: true, syntax: 'bre', valueShort: 'ABCDdefm', quietShort: 'qlLc',
    valueLong: ['--regexp', '--file', '--after-context', '--before-context', '--context', '--max-count', '--include', '--exclude', '--exclude-dir', '--exclude-from', '--label', '--binary-files', '--devices', '--directories', '--group-separator'],
  },
  rg: {
    recursive: true, hidden: false, syntax: 'regex', valueShort: 'ABCdeEfgjmMrtT', quietShort: 'qlc',
    valueLong: ['--regexp', '--file', '--glob', '--iglob', '--type', '--type-not', '--type-add', '--type-clear', '--max-count', '--max-depth', '--max-columns', '--threads', '--replace', '--encoding', '--pre', '--pre-glob', '--sort', '--sortr', '--colors', '--context-separator', '--path-separator', '--field-match-separator', '--field-context-separator', '--max-filesize', '--ignore-file', '--engine', '--after-context', '--before-context', '--context', '--dfa-size-limit', '--regex-size-limit'],
  },
  ag: {
    recursive: true, hidden: false, syntax: 'regex', valueShort: 'ABCGgmp', quietShort: 'lLcg',
    valueLong: ['--ignore', '--ignore-dir', '--depth', '--file-search-regex', '--path-to-ignore', '--pager', '--max-count', '--context', '--after', '--before'],
  },
  ack: {
    recursive: true, hidden: true, syntax: 'regex', valueShort: 'ABCm', quietShort: 'lLcfg',
    valueLong: ['--type', '--ignore-dir', '--ignore-file', '--match', '--output', '--max-count', '--context', '--after-context', '--before-context', '--type-add', '--type-set'],
  },
  'git grep': {
    recursive: true, hidden: true, syntax: 'bre', valueShort: 'ABCefmO', quietShort: 'lLcq',
    valueLong: ['--max-depth', '--context', '--after-context', '--before-context', '--max-count', '--threads', '--open-files-in-pager'],
  },
};
DIALECTS.egrep = { ...DIALECTS.grep!, syntax: 'ere' };
DIALECTS.fgrep = { ...DIALECTS.grep!, syntax: 'fixed' };

/** A search command line, read. */
export interface ParsedSearch {
  readonly spec: SearchSpec;
  /** Prints only names, counts or an exit status. */
  readonly quiet: boolean;
  readonly recursive: boolean;
  readonly hidden: boolean;
  /** The files and directories searched (stdin or `.` when empty, by program). */
  readonly operands: readonly ShellWord[];
  readonly includes: readonly string[];
  readonly excludes: readonly string[];
}

/** Whether `name` is a searcher this module reads (`git grep` spelled with its space). */
export function isSearcher(name: string): boolean {
  return Object.hasOwn(DIALECTS, name);
}

/** Reads a searcher's arguments; null for a program it does not know. */
export function parseSearch(name: string, args: readonly ShellWord[]): ParsedSearch | null {
  const dialect = Object.hasOwn(DIALECTS, name) ? DIALECTS[name] : undefined;
  if (dialect === undefined) return null;
  const state = { syntax: dialect.syntax, recursive: dialect.recursive, hidden: dialect.hidden, quiet: false, ignoreCase: false, smartCase: false, word: false, wholeLine: false, invert: false, context: false, multiline: false, unrestricted: 0 };
  const patterns: string[] = [];
  let patternsKnown = true;
  let explicitPattern = false;
  const includes: string[] = [];
  const excludes: string[] = [];
  const positionals: ShellWord[] = [];
  const takeValue = (option: string, value: ShellWord | undefined) => {
    if (value === undefined) return;
    const text = value.text;
    if (option === 'e' || option === '--regexp') {
      explicitPattern = true;
      if (value.expanded) patternsKnown = false;
      patterns.push(text);
    } else if (option === 'f' || option === '--file') {
      explicitPattern = true;
      patternsKnown = false;
    } else if (CONTEXT_LONG.has(option) || 'ABC'.includes(option)) {
      if (text !== '0') state.context = true;
    } else if (option === '--include' || (name === 'rg' && (option === 'g' || option === '--glob' || option === '--iglob'))) {
      if (text.startsWith('!')) excludes.push(text.slice(1));
      else includes.push(text);
    } else if (option === '--exclude' || option === '--ignore') excludes.push(text);
    else if (name === 'rg' && (option === 't' || option === '--type')) includes.push(...typeGlobs(text));
  };
  let options = true;
  for (let i = 0; i < args.length; i += 1) {
    const word = args[i]!;
    const text = word.text;
    if (!options || text === '-' || !text.startsWith('-')) {
      positionals.push(word);
      continue;
    }
    if (text === '--') {
      options = false;
      continue;
    }
    if (text.startsWith('--')) {
      const eq = text.indexOf('=');
      const option = eq < 0 ? text : text.slice(0, eq);
      if (eq >= 0) takeValue(option, { ...word, text: text.slice(eq + 1) });
      else if (dialect.valueLong.includes(option)) takeValue(option, args[(i += 1)]);
      else longFlag(option, state);
      continue;
    }
    if (/^-\d+$/.test(text)) {
      state.context = true;
      continue;
    }
    for (let j = 1; j < text.length; j += 1) {
      const letter = text[j]!;
      if (dialect.valueShort.includes(letter)) {
        const rest = text.slice(j + 1);
        takeValue(letter, rest === '' ? args[(i += 1)] : { ...word, text: rest });
        break;
      }
      if (dialect.quietShort.includes(letter)) state.quiet = true;
      shortFlag(name, letter, state);
    }
  }
  if (state.unrestricted >= 2) state.hidden = true;
  const operands = explicitPattern ? positionals : positionals.slice(1);
  if (!explicitPattern) {
    const pattern = positionals[0];
    if (pattern === undefined || pattern.expanded) patternsKnown = false;
    else patterns.push(pattern.text);
  }
  const spec: SearchSpec = {
    patterns: patternsKnown ? patterns : null,
    syntax: state.syntax, ignoreCase: state.ignoreCase, smartCase: state.smartCase, word: state.word,
    wholeLine: state.wholeLine, invert: state.invert, context: state.context, multiline: state.multiline,
  };
  return { spec, quiet: state.quiet, recursive: state.recursive, hidden: state.hidden, operands, includes, excludes };
}

interface FlagState {
  syntax: PatternSyntax;
  recursive: boolean;
  hidden: boolean;
  quiet: boolean;
  ignoreCase: boolean;
  smartCase: boolean;
  word: boolean;
  wholeLine: boolean;
  invert: boolean;
  multiline: boolean;
  unrestricted: number;
}

function longFlag(option: string, state: FlagState): void {
  if (QUIET_LONG.has(option)) state.quiet = true;
  else if (option === '--recursive' || option === '--dereference-recursive') state.recursive = true;
  else if (option === '--extended-regexp') state.syntax = 'ere';
  else if (option === '--fixed-strings' || option === '--literal') state.syntax = 'fixed';
  else if (option === '--basic-regexp') state.syntax = 'bre';
  else if (option === '--perl-regexp' || option === '--pcre2') state.syntax = 'regex';
  else if (option === '--ignore-case') state.ignoreCase = true;
  else if (option === '--smart-case') state.smartCase = true;
  else if (option === '--word-regexp') state.word = true;
  else if (option === '--line-regexp') state.wholeLine = true;
  else if (option === '--invert-match') state.invert = true;
  else if (option === '--multiline') state.multiline = true;
  else if (option === '--hidden' || option === '--unrestricted') state.hidden = true;
}

function shortFlag(name: string, letter: string, state: FlagState): void {
  const grepLike = name === 'grep' || name === 'egrep' || name === 'fgrep' || name === 'git grep';
  if ((letter === 'r' || letter === 'R') && grepLike) state.recursive = true;
  else if (letter === 'E' && grepLike) state.syntax = 'ere';
  else if (letter === 'G' && grepLike) state.syntax = 'bre';
  else if (letter === 'F' || (letter === 'Q' && (name === 'ag' || name === 'ack'))) state.syntax = 'fixed';
  else if (letter === 'P') state.syntax = 'regex';
  else if (letter === 'i' || (letter === 'y' && grepLike)) state.ignoreCase = true;
  else if (letter === 'S' && (name === 'rg' || name === 'ag')) state.smartCase = true;
  else if (letter === 'w') state.word = true;
  else if (letter === 'x' && name !== 'ag') state.wholeLine = true;
  else if (letter === 'v') state.invert = true;
  else if (letter === 'U' && name === 'rg') state.multiline = true;
  else if (letter === '.' && name === 'rg') state.hidden = true;
  else if (letter === 'u' && name === 'rg') state.unrestricted += 1;
  else if (letter === 'u' && name === 'ag') state.hidden = true;
}

// rg's file types the guard knows, as name globs; an unknown type filters nothing (searching
// too much is the safe mistake). None of these names a secret file except json's credentials.json.
const TYPE_GLOBS: Record<string, readonly string[]> = {
  js: ['*.js', '*.jsx', '*.mjs', '*.cjs', '*.vue'], ts: ['*.ts', '*.tsx', '*.cts', '*.mts'], py: ['*.py', '*.pyi'], rust: ['*.rs'], go: ['*.go'],
  java: ['*.java', '*.jsp'], c: ['*.c', '*.h'], cpp: ['*.cpp', '*.cc', '*.cxx', '*.hpp', '*.hh', '*.h'], ruby: ['*.rb', '*.gemspec', 'Gemfile', 'Rakefile'],
  md: ['*.md', '*.markdown', '*.mdx'], markdown: ['*.md', '*.markdown', '*.mdx'], json: ['*.json', '*.jsonl'], yaml: ['*.yaml', '*.yml'], toml: ['*.toml'],
  css: ['*.css', '*.scss', '*.sass', '*.less'], html: ['*.html', '*.htm'], sql: ['*.sql'], php: ['*.php'], swift: ['*.swift'], kotlin: ['*.kt', '*.kts'],
  cs: ['*.cs'], lua: ['*.lua'], txt: ['*.txt'], make: ['Makefile', '*.mk', 'makefile', 'GNUmakefile'], docker: ['Dockerfile', '*.dockerfile'],
};

function typeGlobs(type: string): readonly string[] {
  return TYPE_GLOBS[type] ?? ['*'];
}

/**
 * Decides a search a Bash command runs: a secret file named outright is denied; a directory is
 * walked when the search is recursive. `dir` is the directory a preceding `cd` moved to.
 */
export function decideSearch(name: string, args: readonly ShellWord[], host: GuardHost, dir: string): GuardDecision {
  const parsed = parseSearch(name, args);
  if (parsed === null || parsed.quiet) return ALLOW;
  const words = parsed.operands;
  for (const word of words) {
    for (const path of candidatePaths(word, host, dir)) {
      const secret = secretFileAt(path, host);
      if (secret !== null) return fileDenial(`${name} ${path}`, path, secret.kind, 'read');
    }
  }
  if (!parsed.recursive) return ALLOW;
  const roots = words.flatMap((word) => candidatePaths(word, host, dir)).filter((path) => host.readDir?.(path) != null);
  if (roots.length === 0 && (words.length === 0 || name === 'git grep')) roots.push(dir === '' ? '.' : dir);
  const accepts = globFilter(parsed.includes, parsed.excludes);
  for (const root of roots) {
    for (const secret of secretFilesUnder(root, host, { hidden: parsed.hidden, accepts })) {
      if (printsSecretLines(parsed.spec, secret.kind, secret.head)) {
        const pattern = parsed.spec.patterns?.[0];
        const shown = `${name}${pattern === undefined ? '' : ` ${quote(pattern)}`} ${root}`;
        return fileDenial(`${shown} (reaches ${secret.path})`, secret.path, secret.kind, 'read', searchHint(name, secret.path));
      }
    }
  }
  return ALLOW;
}

function searchHint(name: string, path: string): string {
  const file = quote(path.slice(path.lastIndexOf('/') + 1));
  if (name === 'rg') return `rg -g '!${file.replace(/^'|'$/g, '')}' … or a path without it`;
  if (name === 'Grep') return "a glob such as '*.ts', or a path without it";
  if (name.endsWith('grep') && name !== 'git grep') return `--exclude=${file} … or a path without it`;
  return 'a path without it';
}

/** The Grep tool's input (Claude Code runs ripgrep with it, hidden files included). */
interface GrepToolInput {
  readonly pattern?: unknown;
  readonly path?: unknown;
  readonly glob?: unknown;
  readonly type?: unknown;
  readonly output_mode?: unknown;
  readonly multiline?: unknown;
  readonly '-i'?: unknown;
  readonly '-A'?: unknown;
  readonly '-B'?: unknown;
  readonly '-C'?: unknown;
}

/**
 * Decides a Grep tool call. Only output_mode "content" prints lines; the default
 * ("files_with_matches") and "count" print names and numbers, which pass like `grep -l`.
 */
export function decideGrepTool(input: GrepToolInput, host: GuardHost): GuardDecision {
  if (typeof input.pattern !== 'string' || input.output_mode !== 'content') return ALLOW;
  const path = typeof input.path === 'string' && input.path !== '' ? input.path : '.';
  const secret = secretFileAt(path, host);
  const pattern = input.pattern;
  if (secret !== null) return fileDenial(`Grep ${quote(pattern)} in ${path}`, path, secret.kind, 'read');
  const context = ['-A', '-B', '-C'].some((key) => typeof input[key as '-A'] === 'number' && (input[key as '-A'] as number) > 0);
  const spec: SearchSpec = {
    patterns: [pattern], syntax: 'regex', ignoreCase: input['-i'] === true, word: false, wholeLine: false, invert: false, context,
    multiline: input.multiline === true,
  };
  const includes = [typeof input.glob === 'string' ? input.glob : '', ...(typeof input.type === 'string' ? typeGlobs(input.type) : [])].filter((glob) => glob !== '');
  const accepts = globFilter(includes.filter((glob) => !glob.startsWith('!')), includes.filter((glob) => glob.startsWith('!')).map((glob) => glob.slice(1)));
  for (const found of secretFilesUnder(path, host, { hidden: true, accepts })) {
    if (printsSecretLines(spec, found.kind, found.head)) {
      return fileDenial(`Grep ${quote(pattern)} in ${path} (reaches ${found.path})`, found.path, found.kind, 'read', searchHint('Grep', found.path));
    }
  }
  return ALLOW;
}
