// Which words of a command name files whose content it prints: the plain printers (cat, head,
// base64, …), scripted editors (sed, awk), cut, jq, git (diff --no-index, show REV:path,
// blame, log -p), cp and install to the terminal (/dev/stdout, /dev/fd/1, …), and dd if=.
// Searchers live in search.ts, inline interpreter code in inline-code.ts. Input: untrusted
// words. Invariant: pure; returns words (paths as written), never reads anything.

import type { ShellWord } from './shell-words.js';

// Programs that print (or source) the files named as their operands.
const PRINTERS = new Set([
  'cat', 'tac', 'less', 'more', 'most', 'head', 'tail', 'bat', 'batcat', 'nl', 'od', 'xxd', 'hexdump', 'hd', 'strings', 'base64', 'base32', 'basenc',
  'sort', 'uniq', 'diff', 'sdiff', 'colordiff', 'icdiff', 'delta', 'difft', 'comm', 'join', 'paste', 'fold', 'fmt', 'pr', 'rev', 'column', 'expand',
  'unexpand', 'iconv', 'zcat', 'zless', 'zmore', 'bzcat', 'xzcat', 'zstdcat', 'source', '.',
]);
const SCRIPTED = new Set(['sed', 'awk', 'gawk', 'mawk', 'nawk']);
const JQ = new Set(['jq', 'gojq', 'jaq', 'yq']);
const TERMINALS = /^\/(dev\/(stdout|stderr|tty|fd\/[12])|proc\/(self|\$\$|\d+)\/fd\/[12])$/;

/** The words a program takes as files it prints; [] when it prints no file content. */
export function printedFiles(name: string, args: readonly ShellWord[]): ShellWord[] {
  if (PRINTERS.has(name)) return operands(args);
  if (SCRIPTED.has(name)) {
    const texts = args.map((word) => word.text);
    if (name === 'sed' && texts.some((text) => /^-[A-Za-z]*i/.test(text) || text.startsWith('--in-place'))) return [];
    const explicitScript = texts.some((text) => /^-[A-Za-z]*[ef]$/.test(text) || /^--(expression|file)(=|$)/.test(text));
    const rest = operands(args.filter((word, i) => i === 0 || !/^-[vF]$/.test(args[i - 1]!.text)));
    return explicitScript ? rest : rest.slice(1);
  }
  if (name === 'cut') return cutPrintsValues(args) ? operands(args) : [];
  if (JQ.has(name)) return jqFiles(args);
  if (name === 'cp' || name === 'install' || name === 'rsync') {
    const rest = operands(args);
    const target = rest.at(-1);
    return target !== undefined && TERMINALS.test(target.text) ? rest.slice(0, -1) : [];
  }
  if (name === 'dd') {
    const output = args.find((word) => word.text.startsWith('of='));
    if (output !== undefined && !TERMINALS.test(output.text.slice(3))) return [];
    return args.filter((word) => word.text.startsWith('if=')).map((word) => ({ ...word, text: word.text.slice(3) }));
  }
  if (name === 'git') return gitFiles(args);
  return [];
}

/** Operands after the options (and a `--`); `-` (stdin) excluded later by the caller's path check. */
export function operands(args: readonly ShellWord[]): ShellWord[] {
  const found: ShellWord[] = [];
  let options = true;
  for (const word of args) {
    if (options && word.text === '--') options = false;
    else if (options && word.text.startsWith('-') && word.text !== '-') continue;
    else found.push(word);
  }
  return found;
}

// `cut -d= -f1 .env` prints only the names; any other field or a character range prints values.
function cutPrintsValues(args: readonly ShellWord[]): boolean {
  const texts = args.map((word) => word.text);
  const value = (short: string, long: string): string | undefined => {
    for (let i = 0; i < texts.length; i += 1) {
      const text = texts[i]!;
      if (text === short || text === long) return texts[i + 1];
      if (text.startsWith(short) && text.length > short.length) return text.slice(short.length);
      if (text.startsWith(`${long}=`)) return text.slice(long.length + 1);
    }
    return undefined;
  };
  const delimiter = value('-d', '--delimiter');
  const fields = value('-f', '--fields');
  return !(delimiter === '=' && fields === '1' && !texts.includes('--complement'));
}

// jq [options] FILTER [FILE…]; --rawfile/--slurpfile NAME FILE read a file too.
function jqFiles(args: readonly ShellWord[]): ShellWord[] {
  const files: ShellWord[] = [];
  const positionals: ShellWord[] = [];
  let filterFromFile = false;
  for (let i = 0; i < args.length; i += 1) {
    const text = args[i]!.text;
    if (text === '--rawfile' || text === '--slurpfile') {
      if (args[i + 2] !== undefined) files.push(args[i + 2]!);
      i += 2;
    } else if (text === '--arg' || text === '--argjson') i += 2;
    else if (text === '-f' || text === '--from-file') filterFromFile = true;
    else if (text === '--indent' || text === '--tab-width') i += 1;
    else if (text.startsWith('-') && text !== '-') continue;
    else positionals.push(args[i]!);
  }
  return [...files, ...(filterFromFile ? positionals : positionals.slice(1))];
}

const GIT_VALUE_OPTIONS = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--exec-path']);

// git diff --no-index A B, git diff/show/blame/annotate/cat-file/log -p with paths or REV:path.
function gitFiles(args: readonly ShellWord[]): ShellWord[] {
  let i = 0;
  while (i < args.length && args[i]!.text.startsWith('-')) i += GIT_VALUE_OPTIONS.has(args[i]!.text) ? 2 : 1;
  const sub = args[i]?.text;
  const rest = args.slice(i + 1);
  const texts = rest.map((word) => word.text);
  const shows = sub === 'diff' || sub === 'show' || sub === 'blame' || sub === 'annotate' || sub === 'cat-file' || sub === 'difftool' ||
    (sub === 'log' && texts.some((text) => /^(-p|-u|--patch|-[A-Za-z]*p)$/.test(text)));
  if (!shows) return [];
  return operands(rest).map((word) => {
    const colon = word.text.indexOf(':');
    return colon >= 0 && !word.text.includes('://') ? { ...word, text: word.text.slice(colon + 1) } : word;
  });
}

// Programs that turn text into other text a shell could then run (not tr: `tr -d '\r' | bash` is a common line-ending fix).
const DECODERS: Record<string, RegExp | null> = {
  base64: /^(-d|-D|--decode|-[a-zA-Z]*d)$/, base32: /^(-d|--decode)$/, basenc: /^(-d|--decode)$/, xxd: /^(-r|-[a-zA-Z]*r)$/,
  openssl: /^(-d|-base64|-a)$/, gzip: /^-[a-zA-Z]*d/, uudecode: null, gunzip: null, zcat: null, rev: null, printf: /\\x|\\[0-7]{3}/,
};

/** Whether the command decodes text (base64 -d, xxd -r, openssl enc -d, rev, tr, printf '\x..'). */
export function isDecoder(name: string, args: readonly ShellWord[]): boolean {
  if (!Object.hasOwn(DECODERS, name)) return false;
  const flag = DECODERS[name]!;
  if (flag === null) return true;
  return args.some((word) => flag.test(word.text));
}

const STDIN_SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'fish']);
const STDIN_INTERPRETERS = /^(python[0-9.]*|node|nodejs|perl|ruby|php|bun|deno|lua)$/;

/** Whether the command runs code it reads from stdin or from an unseen file (`sh`, `bash -s`, `python3 -`, `bash <(…)`). */
export function runsUnseenCode(name: string, args: readonly ShellWord[]): boolean {
  if (!STDIN_SHELLS.has(name) && !STDIN_INTERPRETERS.test(name) && name !== 'source' && name !== '.') return false;
  if (name === 'deno' && args[0]?.text !== 'run') return false;
  const texts = args.map((word) => word.text);
  if ((STDIN_SHELLS.has(name) && texts.some((text) => /^-[A-Za-z]*c[A-Za-z]*$/.test(text))) || texts.some((text) => /^-[A-Za-z]*[ep]$/.test(text) && !STDIN_SHELLS.has(name))) return false;
  const first = operands(name === 'deno' ? args.slice(1) : args)[0];
  return first === undefined || first.text === '-' || first.text === '/dev/stdin' || first.expanded || texts.includes('-s');
}
