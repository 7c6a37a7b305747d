// What a command line really runs: the wrapper programs that only start another program
// (timeout, nice, env, sudo, xargs, nohup, stdbuf, …) with the options that take a value, how
// to step past one of them, and whether an interpreter is given its code on the command line
// (python -c, node -e, perl -e, awk 'program', deno eval …). Shared by the guard (shell words)
// and the prompt's warnings (an argv). Input: untrusted words. Invariant: pure; an option it
// does not know is taken as a flag, never as a value, and code is read as text, never run.

/** Wrapper → its options that take a separate value (a value never starts the wrapped command). */
export const WRAPPER_VALUE_OPTIONS: Readonly<Record<string, ReadonlySet<string>>> = {
  sudo: new Set(['-u', '-g', '-h', '-p', '-C', '-D', '-r', '-t', '-U', '-T', '--user', '--group', '--host', '--prompt', '--close-from', '--chdir', '--role', '--type', '--other-user', '--command-timeout']),
  doas: new Set(['-u', '-C']),
  env: new Set(['-u', '--unset', '-C', '--chdir']),
  command: new Set(),
  exec: new Set(['-a']),
  builtin: new Set(),
  nohup: new Set(),
  setsid: new Set(),
  noglob: new Set(),
  unbuffer: new Set(),
  chronic: new Set(),
  caffeinate: new Set(['-t', '-w']),
  nice: new Set(['-n', '--adjustment']),
  ionice: new Set(['-c', '-n', '-p', '-P', '-u', '--class', '--classdata']),
  stdbuf: new Set(['-i', '-o', '-e', '--input', '--output', '--error']),
  timeout: new Set(['-s', '-k', '--signal', '--kill-after']),
  xargs: new Set(['-a', '-d', '-E', '-e', '-I', '-L', '-l', '-n', '-P', '-s', '--arg-file', '--delimiter', '--eof', '--replace', '--max-lines', '--max-args', '--max-procs', '--max-chars', '--process-slot-var']),
  time: new Set(['-f', '-o', '--format', '--output']),
};

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*\+?=/;

/** The program name of a path: its last segment (`/usr/bin/python3` → `python3`). Pure. */
export function programBase(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Words after the leading options (and a `--`); options in `valueOptions` consume the next word. Pure. */
export function skipOptions<W>(words: readonly W[], valueOptions: ReadonlySet<string>, text: (word: W) => string): W[] {
  let i = 0;
  while (i < words.length) {
    const word = text(words[i]!);
    if (word === '--') return words.slice(i + 1);
    if (!word.startsWith('-') || word === '-') break;
    i += valueOptions.has(word) ? 2 : 1;
  }
  return words.slice(i);
}

/**
 * The argv a wrapper runs (`timeout 5 sh -c x` → `sh -c x`), `[]` when it runs nothing
 * (`env` alone prints, `command -v` looks up), or null when argv[0] is no wrapper. Pure.
 */
export function unwrapOnce(argv: readonly string[]): string[] | null {
  const name = programBase(argv[0] ?? '');
  const rest = argv.slice(1);
  if (name === 'env') return envCommand(rest);
  if (name === 'busybox' || name === 'toybox') return rest.length > 0 ? rest : null;
  // Own keys only: a program named `toString` or `constructor` is no wrapper.
  const valueOptions = Object.hasOwn(WRAPPER_VALUE_OPTIONS, name) ? WRAPPER_VALUE_OPTIONS[name] : undefined;
  if (valueOptions === undefined) return null;
  if (name === 'command' && rest.some((word) => /^-[a-zA-Z]*[vV]/.test(word))) return [];
  const after = skipOptions(rest, valueOptions, (word) => word);
  // timeout DURATION CMD; sudo and doas also take NAME=VALUE before the command.
  if (name === 'timeout') return after.slice(1);
  if (name === 'sudo' || name === 'doas') return dropAssignments(after);
  return after;
}

/** Every wrapper unwrapped, at most 32 deep: the argv of the program that really runs (may be empty). Pure. */
export function unwrapAll(argv: readonly string[]): string[] {
  let current = [...argv];
  for (let depth = 0; depth < 32; depth += 1) {
    const inner = unwrapOnce(current);
    if (inner === null) return current;
    current = inner;
  }
  return current;
}

/** True when sudo or doas is asked for a shell (`sudo -s`, `sudo -i`, `doas -s`). Pure. */
export function asksForShell(argv: readonly string[]): boolean {
  const name = programBase(argv[0] ?? '');
  if (name !== 'sudo' && name !== 'doas') return false;
  const options = argv.slice(1, argv.length - skipOptions(argv.slice(1), WRAPPER_VALUE_OPTIONS[name]!, (w) => w).length);
  return options.some((word) => word === '--shell' || word === '--login' || /^-[A-Za-z]*[si]/.test(word));
}

// Interpreter family → short option letters whose value is code, long options, and options that take a separate value.
const CODE_OPTIONS: Record<string, { short: string; long: readonly string[]; values: readonly string[] }> = {
  python: { short: 'c', long: [], values: ['-W', '-X', '-Q'] },
  node: { short: 'ep', long: ['--eval', '--print'], values: ['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--input-type', '--title'] },
  bun: { short: 'ep', long: ['--eval', '--print'], values: ['-r', '--preload', '--cwd', '--config', '-c'] },
  perl: { short: 'eE', long: [], values: ['-I', '-M', '-m'] },
  ruby: { short: 'e', long: [], values: ['-I', '-r', '-C', '-E'] },
  php: { short: 'r', long: [], values: ['-d', '-c', '-z'] },
  lua: { short: 'e', long: [], values: ['-l'] },
  Rscript: { short: 'e', long: [], values: [] },
};

/** The interpreter family of a program name (`python3.12` → `python`, `nodejs` → `node`, `gawk` → `awk`). Pure. */
export function interpreterFamily(name: string): string {
  if (/^(python[0-9.]*|pypy[0-9.]*)$/.test(name)) return 'python';
  if (name === 'nodejs' || /^node[0-9.]*$/.test(name)) return 'node';
  if (/^perl[0-9.]*$/.test(name)) return 'perl';
  if (/^(ruby[0-9.]*|jruby)$/.test(name)) return 'ruby';
  if (/^php[0-9.]*$/.test(name)) return 'php';
  if (name === 'luajit' || /^lua[0-9.]*$/.test(name)) return 'lua';
  if (/^(awk|gawk|mawk|nawk)$/.test(name)) return 'awk';
  return name;
}

/** The code an interpreter is given on its command line (several for `perl -e a -e b`), or null when none. Pure. */
export function inlineCodeOf(argv: readonly string[]): string[] | null {
  return inlineCodeAt(programBase(argv[0] ?? ''), argv.slice(1))?.code ?? null;
}

/** Inline code and where the words after it (the script's own arguments, often files it reads) start. */
export interface InlineCodeAt {
  readonly code: string[];
  /** Index in `args` of the first word after the code. */
  readonly rest: number;
}

/**
 * The inline code of program `name` (a base name) run with `args`, or null when it runs none
 * (a script file, or no code). The one reading of interpreter options, for the prompt's
 * warnings and the guard. Pure.
 */
export function inlineCodeAt(name: string, args: readonly string[]): InlineCodeAt | null {
  const family = interpreterFamily(name);
  if (family === 'deno') {
    // deno eval [options] CODE
    if (args[0] !== 'eval') return null;
    const index = args.findIndex((word, i) => i > 0 && !word.startsWith('-'));
    return index < 0 ? null : { code: [args[index]!], rest: index + 1 };
  }
  if (family === 'awk') return awkProgram(args);
  // Own keys only: a program named `toString` or `constructor` is no interpreter.
  const options = Object.hasOwn(CODE_OPTIONS, family) ? CODE_OPTIONS[family] : undefined;
  return options === undefined ? null : optionCode(args, options, family === 'python');
}

// Code given with the family's options, read up to the first operand (the script) or `--`.
// python stops reading its own options at -c; perl and ruby may take several -e.
function optionCode(args: readonly string[], options: (typeof CODE_OPTIONS)[string], stopAtCode: boolean): InlineCodeAt | null {
  const code: string[] = [];
  let rest = 0;
  for (let i = 0; i < args.length; i += 1) {
    const word = args[i]!;
    if (word === '--' || !word.startsWith('-') || word === '-') break;
    const long = options.long.find((option) => word === option || word.startsWith(`${option}=`));
    if (long !== undefined) {
      code.push(word === long ? (args[(i += 1)] ?? '') : word.slice(long.length + 1));
      rest = i + 1;
      continue;
    }
    if (options.values.includes(word)) {
      i += 1;
      continue;
    }
    if (word.startsWith('--')) continue;
    // A cluster such as -c, -Ic, -ne, -lne, -pe: the code is the rest of the word or the next word.
    const at = [...word.slice(1)].findIndex((letter) => options.short.includes(letter));
    if (at < 0) continue;
    const tail = word.slice(at + 2);
    code.push(tail !== '' ? tail : (args[(i += 1)] ?? ''));
    rest = i + 1;
    if (stopAtCode) break;
  }
  return code.length === 0 ? null : { code, rest: Math.min(rest, args.length) };
}

// awk [-F fs] [-v a=b] 'program' [file…], gawk -e/--source 'program'; -f reads the program from a file.
function awkProgram(args: readonly string[]): InlineCodeAt | null {
  const code: string[] = [];
  let rest = 0;
  const found = (): InlineCodeAt | null => (code.length === 0 ? null : { code, rest: Math.min(rest, args.length) });
  for (let i = 0; i < args.length; i += 1) {
    const word = args[i]!;
    if (word === '-e' || word === '--source') {
      code.push(args[(i += 1)] ?? '');
      rest = i + 1;
      continue;
    }
    if (word.startsWith('--source=')) {
      code.push(word.slice('--source='.length));
      rest = i + 1;
      continue;
    }
    if (word === '-f' || word.startsWith('--file')) return found();
    if (word === '-v' || word === '-F') {
      i += 1;
      continue;
    }
    if (word === '--') {
      if (code.length > 0 || args[i + 1] === undefined) return found();
      return { code: [args[i + 1]!], rest: i + 2 };
    }
    if (word.startsWith('-') && word !== '-') continue;
    return code.length > 0 ? found() : { code: [word], rest: i + 1 };
  }
  return found();
}

// env [-i] [-u NAME] [-C DIR] [-S 'string'] [NAME=VALUE]… [command]: -S splits a string into words.
function envCommand(words: readonly string[]): string[] {
  let i = 0;
  while (i < words.length) {
    const word = words[i]!;
    if (word === '--') return dropAssignments(words.slice(i + 1));
    if (word === '-S' || word === '--split-string') return [...splitWords(words[i + 1] ?? ''), ...words.slice(i + 2)];
    if (word.startsWith('--split-string=')) return [...splitWords(word.slice('--split-string='.length)), ...words.slice(i + 1)];
    if (word.startsWith('-S') && word.length > 2) return [...splitWords(word.slice(2)), ...words.slice(i + 1)];
    if (word.startsWith('-') && word !== '-') i += WRAPPER_VALUE_OPTIONS.env!.has(word) ? 2 : 1;
    else if (ASSIGNMENT.test(word)) i += 1;
    else break;
  }
  return words.slice(i);
}

function dropAssignments(words: readonly string[]): string[] {
  const first = words.findIndex((word) => !ASSIGNMENT.test(word));
  return first < 0 ? [] : words.slice(first);
}

// env -S splits on blanks (its quoting rules are not needed to find the program's name).
function splitWords(text: string): string[] {
  return text.split(/[ \t\n]+/).filter((word) => word !== '');
}
