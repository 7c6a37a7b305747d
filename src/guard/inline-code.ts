// Code passed to an interpreter on its command line (python -c, node -e/-p, perl -e, ruby -e,
// deno eval, bun -e, php -r, awk programs, …): found here, then searched for what the guard
// cares about — the name of a file that holds secrets (`open(".env")`, a dotenv loader) and an
// `op` call with a revealing verb (`subprocess.run(["op", "read", …])`). Which words are code
// is read by core/command-line.ts, as for the prompt's warnings. Input: untrusted words.
// Invariant: pure; it reads code as text (never runs it) and returns names, not content.

import { inlineCodeAt } from '../core/command-line.js';
import type { ShellWord } from './shell-words.js';

export interface InlineCode {
  /** The code strings (several for `perl -e a -e b`). */
  readonly code: readonly string[];
  /** Words after the code: the script's arguments, often files it reads (`perl -ne … .env`). */
  readonly rest: readonly ShellWord[];
}

/** The inline code of an interpreter call, or null when the program runs none (a script file, no code). */
export function inlineCode(name: string, args: readonly ShellWord[]): InlineCode | null {
  const found = inlineCodeAt(name, args.map((word) => word.text));
  return found === null ? null : { code: found.code, rest: args.slice(found.rest) };
}

// Words in code that run a program: without one, `op` followed by `read` is just text.
const SPAWNS = /\b(system|popen|subprocess|spawn|spawnSync|exec|execSync|execFile|execFileSync|check_output|check_call|call|run|Popen|Command|shell_exec|passthru|proc_open|qx|Open3|capture2|getoutput|getstatusoutput)\b|`|\$\(/;

/** The op arguments of an `op` call the code makes (`op`, `read`, `op://…` as separate words), or null. */
export function opCallInCode(code: string): string[] | null {
  if (!SPAWNS.test(code)) return null;
  const words = code.split(/[\s"'`,;()[\]{}+<>|&]+/).filter((word) => word !== '');
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i]!;
    if (word === 'op' || word.endsWith('/op')) return words.slice(i + 1, i + 12);
  }
  return null;
}

// Loaders that read ./.env by default.
const DOTENV = /\b(dotenv|load_dotenv|dotenv_values|Dotenv|godotenv)\b/;

/** Strings in code that could name a secret file: quoted strings and bare path-like words; `.env` for a dotenv loader. */
export function pathsInCode(code: string): string[] {
  const found = new Set<string>();
  for (const match of code.matchAll(/(["'`])([^"'`\n]{1,512})\1/g)) found.add(match[2]!.trim());
  for (const match of code.matchAll(/[\w.~/@+-]{2,512}/g)) found.add(match[0]);
  if (DOTENV.test(code)) found.add('.env');
  return [...found].filter((path) => path !== '').slice(0, 256);
}
