// Whether a search (grep, rg, the Grep tool…) would print lines of a secret file: its patterns
// are tested against the file's first bytes, so `rg useState` in a project with a .env passes
// and `rg TOKEN` does not. Input: untrusted patterns and file heads. Invariant: pure, answers
// only yes or no (never a line); anything it cannot judge safely (a pattern from a file, an
// inverted match, syntax it does not know, a pattern that could backtrack for long) counts as
// a match, so doubt denies. The yes/no is the same one-bit answer `grep -q` gives, which passes.

import { escapeRegExp } from './files.js';
import { hasSecretAssignments, type SecretFileKind } from './secret-files.js';

export type PatternSyntax = 'regex' | 'ere' | 'bre' | 'fixed';

export interface SearchSpec {
  /** The patterns (any one matching selects a line); null when they are not known (-f FILE, `$VAR`). */
  readonly patterns: readonly string[] | null;
  readonly syntax: PatternSyntax;
  readonly ignoreCase: boolean;
  /** rg -S: case-insensitive when the pattern has no upper-case letter. */
  readonly smartCase?: boolean;
  readonly word: boolean;
  readonly wholeLine: boolean;
  /** -v: prints the lines that do not match, i.e. nearly the whole file. */
  readonly invert: boolean;
  /** -A/-B/-C: lines around a match are printed too. */
  readonly context: boolean;
  /** The Grep tool's `multiline`: a match may span lines. */
  readonly multiline?: boolean;
}

const MAX_PATTERN_CHARS = 512;
const MAX_LINE_CHARS = 1024;
const MAX_LINES = 2000;
/** A pattern with more unbounded repeats than this may backtrack for long on a bad line: not run. */
const MAX_REPEATS = 2;
const TIME_BUDGET_MS = 50;

/** Whether the search would print a line (or a line next to one) of this secret file. */
export function printsSecretLines(spec: SearchSpec, kind: SecretFileKind, head: string): boolean {
  if (spec.patterns === null || spec.invert) return true;
  const regexes: RegExp[] = [];
  for (const pattern of spec.patterns) {
    const regex = toRegExp(pattern, spec);
    if (regex === null) return true;
    regexes.push(regex);
  }
  if (regexes.length === 0) return false;
  if (spec.multiline === true) return regexes.some((regex) => regex.test(head));
  const started = Date.now();
  const lines = head.split(/\r?\n/).slice(0, MAX_LINES);
  for (const line of lines) {
    if (Date.now() - started > TIME_BUDGET_MS) return true;
    // Without context only the matching line is printed: for an env file, it must be one that holds a secret.
    const matters = spec.context || kind !== 'env' || line.includes('op://') || hasSecretAssignments(line);
    if (!matters) continue;
    if (line.length > MAX_LINE_CHARS) return true;
    if (regexes.some((regex) => regex.test(line))) return true;
  }
  return false;
}

/** The pattern as a JavaScript regular expression, or null when it cannot be judged. */
export function toRegExp(pattern: string, spec: SearchSpec): RegExp | null {
  if (pattern.length > MAX_PATTERN_CHARS) return null;
  let source: string | null;
  let ignoreCase = spec.ignoreCase || (spec.smartCase === true && !/[A-Z]/.test(pattern));
  if (spec.syntax === 'fixed') source = escapeRegExp(pattern);
  else {
    let text = pattern;
    // Rust and PCRE allow flags up front: (?i) is common, anything else is not understood.
    const flags = /^\(\?([a-zA-Z]+)\)/.exec(text);
    if (flags !== null && spec.syntax === 'regex') {
      if (/[^ism]/.test(flags[1]!)) return null;
      ignoreCase ||= flags[1]!.includes('i');
      text = text.slice(flags[0].length);
    }
    source = spec.syntax === 'bre' ? fromPosix(text, true) : fromPosix(text, false);
    if (source === null || !safeToRun(source)) return null;
  }
  if (spec.wholeLine) source = `^(?:${source})$`;
  else if (spec.word) source = `(?<![\\w])(?:${source})(?![\\w])`;
  try {
    return new RegExp(source, `${ignoreCase ? 'i' : ''}${/\\[pP]\{/.test(source) ? 'u' : ''}${spec.multiline === true ? 'm' : ''}`);
  } catch {
    return null;
  }
}

// POSIX basic/extended (and the Perl-ish forms rg and PCRE share) to JavaScript: bracket
// classes like [[:alpha:]], word boundaries \< \>, and in basic syntax the meaning of ( ) { } | + ?
// swapped with their backslashed forms. Null for a construct it does not know.
function fromPosix(text: string, basic: boolean): string | null {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === undefined) return null;
      i += 1;
      if (next === '<' || next === '>') out += '\\b';
      else if (basic && '(){}|+?'.includes(next)) out += next;
      else if (/[1-9]/.test(next)) return null;
      else out += `\\${next}`;
    } else if (c === '[') {
      const end = classEnd(text, i);
      if (end < 0) return null;
      const body = convertClass(text.slice(i + 1, end));
      if (body === null) return null;
      out += `[${body}]`;
      i = end;
    } else if (basic && '(){}|+?'.includes(c)) out += `\\${c}`;
    else out += c;
  }
  return out;
}

// Index of the ] closing the class opened at `open` (a ] right after [ or [^ is literal).
function classEnd(text: string, open: number): number {
  let i = open + 1;
  if (text[i] === '^') i += 1;
  if (text[i] === ']') i += 1;
  for (; i < text.length; i += 1) {
    if (text[i] === '[' && text[i + 1] === ':') {
      const close = text.indexOf(':]', i + 2);
      if (close < 0) return -1;
      i = close + 1;
    } else if (text[i] === '\\') i += 1;
    else if (text[i] === ']') return i;
  }
  return -1;
}

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: '\\s', blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', word: '\\w', cntrl: '\\x00-\\x1f\\x7f', print: '\\x20-\\x7e', graph: '\\x21-\\x7e',
};

function convertClass(body: string): string | null {
  let out = '';
  for (let i = 0; i < body.length; i += 1) {
    if (body[i] === '[' && body[i + 1] === ':') {
      const close = body.indexOf(':]', i + 2);
      const name = body.slice(i + 2, close);
      const mapped = Object.hasOwn(POSIX_CLASSES, name) ? POSIX_CLASSES[name] : undefined;
      if (mapped === undefined) return null;
      out += mapped;
      i = close + 1;
    } else if (body[i] === '[') out += '\\[';
    else out += body[i];
  }
  return out;
}

// Patterns a backtracking engine could spend long on are not run: a repeated group, a
// back-reference, look-around, or more than MAX_REPEATS unbounded repeats.
function safeToRun(source: string): boolean {
  if (/\)[*+?{]/.test(source) || /\\[1-9k]/.test(source) || /\(\?<?[=!]/.test(source)) return false;
  const repeats = source.replace(/\\./g, 'x').match(/[*+]|\{\d+,\}/g)?.length ?? 0;
  return repeats <= MAX_REPEATS;
}
