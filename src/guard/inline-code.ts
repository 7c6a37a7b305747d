// Code passed to an interpreter on its command line (python -c, node -e/-p, perl -e, ruby -e,
// deno eval, bun -e, php -r, awk programs, …): found here, then searched for what the guard
// cares about — the name of a file that holds secrets (`open(".env")`, a dotenv loader) and an
// `op` call with a revealing verb (`subprocess.run(["op", "read", …])`). Input: untrusted
// words. Invariant: pure; it reads code as text (never runs it) and returns names, not content.

import type { ShellWord } from './shell-words.js';

export interface InlineCode {
  /** The code strings (several for `perl -e a -e b`). */
  readonly code: readonly string[];
  /** Words after the code: the script's arguments, often files it reads (`perl -ne … .env`). */
  readonly rest: readonly ShellWord[];
}

// Interpreter → the short options whose value is code, and long ones.
const CODE_OPTIONS: Record<string, { short: string; long: readonly string[] }> = {
  python: { short: 'c', long: [] },
  node: { short: 'ep', long: ['--eval', '--print'] },
  bun: { short: 'ep', long: ['--eval', '--print'] },
  perl: { short: 'eE', long: [] },
  ruby: { short: 'e', long: [] },
  php: { short: 'r', long: [] },
  lua: { short: 'e', long: [] },
  Rscript: { short: 'e', long: [] },
};

function family(name: string): string {
  if (/^(python[0-9.]*|pypy[0-9.]*)$/.test(name)) return 'python';
  if (name === 'nodejs') return 'node';
  if (/^(perl[0-9.]*)$/.test(name)) return 'perl';
  if (/^(ruby[0-9.]*|jruby)$/.test(name)) return 'ruby';
  if (/^php[0-9.]*$/.test(name)) return 'php';
  if (name === 'luajit' || /^lua[0-9.]*$/.test(name)) return 'lua';
  return name;
}

/** The inline code of an interpreter call, or null when the program runs none (a script file, no code). */
export function inlineCode(name: string, args: readonly ShellWord[]): InlineCode | null {
  const kind = family(name);
  if (kind === 'deno' && args[0]?.text === 'eval') {
    const index = args.findIndex((word, i) => i > 0 && !word.text.startsWith('-'));
    return index < 0 ? null : { code: [args[index]!.text], rest: args.slice(index + 1) };
  }
  if (kind === 'awk' || kind === 'gawk' || kind === 'mawk' || kind === 'nawk') return awkProgram(args);
  const options = CODE_OPTIONS[kind];
  if (options === undefined) return null;
  const code: string[] = [];
  let last = -1;
  for (let i = 0; i < args.length; i += 1) {
    const text = args[i]!.text;
    if (text === '--' || !text.startsWith('-') || text === '-') break;
    const long = options.long.find((option) => text === option || text.startsWith(`${option}=`));
    if (long !== undefined) {
      if (text === long) {
        if (args[i + 1] !== undefined) code.push(args[(i += 1)]!.text);
      } else code.push(text.slice(long.length + 1));
      last = i;
      continue;
    }
    if (text.startsWith('--')) continue;
    // A cluster such as -ne, -lne, -pe: the code is the rest of the word or the next word.
    const at = [...text.slice(1)].findIndex((letter) => options.short.includes(letter));
    if (at < 0) continue;
    const rest = text.slice(at + 2);
    if (rest !== '') code.push(rest);
    else if (args[i + 1] !== undefined) code.push(args[(i += 1)]!.text);
    last = i;
    // python stops reading options at -c; perl and ruby may take several -e.
    if (kind === 'python') break;
  }
  return code.length === 0 ? null : { code, rest: args.slice(last + 1) };
}

// awk [options] 'program' [file…]; with -f the program is in a file (not inline).
function awkProgram(args: readonly ShellWord[]): InlineCode | null {
  for (let i = 0; i < args.length; i += 1) {
    const text = args[i]!.text;
    if (text === '-f' || text.startsWith('--file')) return null;
    if (text === '-v' || text === '-F') {
      i += 1;
      continue;
    }
    if (text.startsWith('-') && text !== '-' && text !== '--') continue;
    const program = text === '--' ? args[i + 1] : args[i];
    if (program === undefined) return null;
    const index = args.indexOf(program);
    return { code: [program.text], rest: args.slice(index + 1) };
  }
  return null;
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
