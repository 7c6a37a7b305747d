// Finds the program a simple command really runs: skips assignments, reserved words and wrapper
// programs (sudo, env, command, timeout, xargs, busybox, agent-secret with-session, …) with their options, and returns shell code
// passed on as a string (bash -c, eval, su -c, ssh host cmd, env -S, watch). Input: words of an
// untrusted command. Invariant: pure; an option it does not know is taken as a flag, not a value.

import { skipOptions, WRAPPER_VALUE_OPTIONS } from '../core/command-line.js';
import type { ShellWord } from './shell-words.js';

export interface EffectiveCommand {
  /** The program's words (program first), after every wrapper; empty when there is none. */
  readonly words: readonly ShellWord[];
  /** Shell code the command runs from a string; to be checked as a command line of its own. */
  readonly scripts: readonly string[];
}

const RESERVED = new Set(['!', '{', '}', 'if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', 'coproc', 'case', 'esac', 'in', 'select', 'function']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;
const SHELLS = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh', 'mksh', 'fish', 'ash']);

// The wrapper table is shared with the prompt's warnings (core/command-line.ts).
const WRAPPERS = WRAPPER_VALUE_OPTIONS;
const SSH_VALUE_OPTIONS = new Set(['-b', '-c', '-D', '-E', '-e', '-F', '-I', '-i', '-J', '-L', '-l', '-m', '-O', '-o', '-p', '-Q', '-R', '-S', '-W', '-w', '-B']);

/** The program name of a command word: its last path segment (`/usr/local/bin/op` → `op`). */
export function programName(word: ShellWord): string {
  const text = word.text;
  return text.slice(text.lastIndexOf('/') + 1);
}

/** Unwraps a simple command's words to the program it runs and the shell strings it evaluates. */
export function effectiveCommand(input: readonly ShellWord[]): EffectiveCommand {
  const scripts: string[] = [];
  let words = [...input];
  for (let guard = 0; guard < 32 && words.length > 0; guard += 1) {
    const first = words[0]!;
    // `function name { body` (the ksh form): the body's first command follows the name.
    if (first.text === 'function' && words.length > 2) {
      words = words.slice(2);
      continue;
    }
    if (RESERVED.has(first.text) || ASSIGNMENT.test(first.text)) {
      words = words.slice(1);
      continue;
    }
    const name = programName(first);
    const rest = words.slice(1);
    if (name === 'command' && rest.some((word) => /^-[a-zA-Z]*[vV]/.test(word.text))) return { words: [], scripts };
    if (name === 'env') {
      const split = splitEnv(rest);
      scripts.push(...split.scripts);
      words = split.words;
      continue;
    }
    // `agent-secret with-session TOKEN -- CMD` runs CMD with nobody asked (unlike exec, whose
    // exact command the human approves), so CMD is checked like any other command.
    if ((name === 'agent-secret' || name === 'agent-secret.js') && rest[0]?.text === 'with-session') {
      const separator = rest.findIndex((word) => word.text === '--');
      if (separator === -1) return { words: [], scripts };
      words = rest.slice(separator + 1);
      continue;
    }
    if (name === 'watch') {
      scripts.push(afterOptions(rest, new Set(['-n', '--interval', '-d'])).map((word) => word.text).join(' '));
      return { words: [], scripts };
    }
    const valueOptions = Object.hasOwn(WRAPPERS, name) ? WRAPPERS[name] : undefined;
    if (valueOptions !== undefined) {
      const after = afterOptions(rest, valueOptions);
      words = name === 'timeout' ? after.slice(1) : after;
      continue;
    }
    // `busybox cat .env`, `toybox sh -c …`: the applet is the program.
    if (name === 'busybox' || name === 'toybox') {
      words = rest;
      continue;
    }
    if (SHELLS.has(name)) {
      const script = shellScript(rest);
      if (script !== null) scripts.push(script);
      return { words, scripts };
    }
    if (name === 'eval') return { words, scripts: [...scripts, rest.map((word) => word.text).join(' ')] };
    if (name === 'su') {
      const script = optionValue(rest, ['-c', '--command']);
      if (script !== null) scripts.push(script);
      return { words, scripts };
    }
    if (name === 'ssh') {
      const remote = afterOptions(rest, SSH_VALUE_OPTIONS).slice(1);
      if (remote.length > 0) scripts.push(remote.map((word) => word.text).join(' '));
      return { words, scripts };
    }
    return { words, scripts };
  }
  return { words, scripts };
}

// Words after the leading options (and a `--`); options in `valueOptions` consume the next word.
function afterOptions(words: readonly ShellWord[], valueOptions: ReadonlySet<string>): ShellWord[] {
  return skipOptions(words, valueOptions, (word) => word.text);
}

// env [-i] [-u NAME] [-C DIR] [-S 'string'] [NAME=VALUE]… [command]: -S splits a string into a command line.
function splitEnv(words: readonly ShellWord[]): { words: ShellWord[]; scripts: string[] } {
  const scripts: string[] = [];
  let i = 0;
  while (i < words.length) {
    const text = words[i]!.text;
    if (text === '--') {
      i += 1;
      break;
    }
    if (text === '-S' || text === '--split-string') {
      const script = words[i + 1]?.text;
      if (script !== undefined) scripts.push([script, ...words.slice(i + 2).map((word) => word.text)].join(' '));
      return { words: [], scripts };
    }
    if (text.startsWith('--split-string=') || (text.startsWith('-S') && text.length > 2)) {
      const script = text.startsWith('-S') ? text.slice(2) : text.slice('--split-string='.length);
      scripts.push([script, ...words.slice(i + 1).map((word) => word.text)].join(' '));
      return { words: [], scripts };
    }
    if (text.startsWith('-') && text !== '-') i += WRAPPERS.env!.has(text) ? 2 : 1;
    else if (ASSIGNMENT.test(text)) i += 1;
    else break;
  }
  return { words: words.slice(i), scripts };
}

// bash -c 'code' (also -lc, -ec, -xc …): the first operand after an option cluster holding c.
function shellScript(words: readonly ShellWord[]): string | null {
  let wantsScript = false;
  for (let i = 0; i < words.length; i += 1) {
    const text = words[i]!.text;
    if (text === '--' || text.startsWith('--')) continue;
    if (/^[-+]O?o$/.test(text)) {
      i += 1;
      continue;
    }
    if (/^[-+][A-Za-z]+$/.test(text)) {
      if (text.startsWith('-') && text.includes('c')) wantsScript = true;
      continue;
    }
    return wantsScript ? text : null;
  }
  return null;
}

function optionValue(words: readonly ShellWord[], names: readonly string[]): string | null {
  for (let i = 0; i < words.length; i += 1) {
    const text = words[i]!.text;
    if (names.includes(text)) return words[i + 1]?.text ?? null;
    for (const name of names) {
      if (name.startsWith('--') && text.startsWith(`${name}=`)) return text.slice(name.length + 1);
    }
  }
  return null;
}
