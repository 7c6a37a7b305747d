// `--env-file` (migration from `op run --env-file`): dotenv lines; a value that is a reference
// (op://, bws://, or the scheme of a provider program the user config declares) becomes a secret,
// anything else (https:// URLs included) a plain child env entry. The file is untrusted and may hold real
// values, so errors give file:line and the problem only. Quotes must close on their own line (no
// multi-line values: a lost quote cannot swallow later lines) and $X is never expanded.

import { resolve } from 'node:path';
import { validateAlias } from '../core/alias.js';
import { AgentSecretError } from '../core/errors.js';
import { BUILTIN_SCHEMES, looksLikeRef, parseSecretRef } from '../core/ref.js';
import { withoutEcho } from './echo-guard.js';
import { byAlias } from './name-list.js';
import { readSmallTextFile } from './read-file.js';
import type { EnvFilePlain, EnvFileResult, EnvFileSecret } from './types.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EXPORT = /^export[ \t]+/;
const ESCAPES = new Map([['n', '\n'], ['r', '\r'], ['t', '\t'], ['\\', '\\'], ['"', '"'], ['$', '$']]);
const ESCAPE_CODES = new Set([...ESCAPES.keys()].map((key) => key.charCodeAt(0)));
/** Lines an env file may have (real ones have well under 200); every step below is linear in the text. */
export const MAX_ENV_FILE_LINES = 5_000;

type LineResult = { ok: true; value: string } | { ok: false; problem: string; hint?: string };
type LineEntry = { kind: 'secret' | 'plain'; key: string; value: string };
type LineError = { kind: 'error'; problem: string; hint: string | undefined; key: string | undefined };

/** Parses one env file's text (later lines win per key); never throws, returns the first problem as an AgentSecretError. */
export function parseEnvFileText(
  text: string,
  file: string,
  schemes: readonly string[] = BUILTIN_SCHEMES,
): { ok: true; result: EnvFileResult } | { ok: false; error: AgentSecretError } {
  const secrets = new Map<string, EnvFileSecret>();
  const plain = new Map<string, EnvFilePlain>();
  const lines = splitLines(text, MAX_ENV_FILE_LINES);
  if (lines === null) {
    return {
      ok: false,
      error: new AgentSecretError('env_file.invalid', `${file}:${MAX_ENV_FILE_LINES + 1}: the env file has more than ${MAX_ENV_FILE_LINES} lines`, {
        hint: 'agent-secret refuses larger env files before reading their entries; split the file or keep only what the command needs',
        details: { file, line: MAX_ENV_FILE_LINES + 1 },
      }),
    };
  }
  for (const [index, source] of lines.entries()) {
    const line = index + 1;
    const entry = parseLine(source, schemes);
    if (entry === null) continue;
    if (entry.kind === 'error') {
      return {
        ok: false,
        error: new AgentSecretError('env_file.invalid', `${file}:${line}: ${entry.problem}`, {
          ...(entry.hint === undefined ? {} : { hint: entry.hint }),
          details: { file, line, ...(entry.key === undefined ? {} : { key: entry.key }) },
        }),
      };
    }
    if (entry.kind === 'secret') {
      plain.delete(entry.key);
      secrets.set(entry.key, { alias: entry.key, ref: entry.value, file, line });
    } else {
      secrets.delete(entry.key);
      plain.set(entry.key, { key: entry.key, value: entry.value, file, line });
    }
  }
  return { ok: true, result: { secrets: [...secrets.values()].sort(byAlias), plain: [...plain.values()].sort(byKey) } };
}

/** Reads env files (paths relative to cwd) and merges them in order, the later file winning per key; throws AgentSecretError('env_file.invalid'). */
export async function loadEnvFiles(paths: readonly string[], cwd: string, schemes: readonly string[] = BUILTIN_SCHEMES): Promise<EnvFileResult> {
  const secrets = new Map<string, EnvFileSecret>();
  const plain = new Map<string, EnvFilePlain>();
  for (const path of paths) {
    const file = resolve(cwd, path);
    const parsed = parseEnvFileText(await readSmallTextFile(file, 'env_file'), file, schemes);
    if (!parsed.ok) throw parsed.error;
    for (const secret of parsed.result.secrets) {
      plain.delete(secret.alias);
      secrets.set(secret.alias, secret);
    }
    for (const entry of parsed.result.plain) {
      secrets.delete(entry.key);
      plain.set(entry.key, entry);
    }
  }
  return { secrets: [...secrets.values()].sort(byAlias), plain: [...plain.values()].sort(byKey) };
}

function parseLine(source: string, schemes: readonly string[]): LineEntry | LineError | null {
  let text = source.trim();
  if (text === '' || text.startsWith('#')) return null;
  text = text.replace(EXPORT, '');
  const eq = text.indexOf('=');
  if (eq === -1) return lineError('expected KEY=VALUE');
  const key = text.slice(0, eq).trim();
  if (key === '') return lineError('expected KEY=VALUE; the key is empty');
  if (!KEY.test(key)) return lineError('the key must be letters, digits and _, and must not start with a digit');

  const value = parseValue(text.slice(eq + 1));
  if (!value.ok) return lineError(`${key}: ${value.problem}`, value.hint, key);
  if (value.value.includes('\0')) return lineError(`${key}: the value contains a NUL character, which an environment cannot hold`, undefined, key);
  if (!looksLikeRef(value.value, schemes)) return { kind: 'plain', key, value: value.value };

  const alias = validateAlias(key);
  if (!alias.ok) return lineError(`${key}: ${alias.message}`, 'a key whose value is a reference (op://, bws://, …) becomes the alias of a secret', key);
  const ref = parseSecretRef(value.value);
  if (!ref.ok) {
    const hint = value.value.includes('$') ? 'variables are not expanded in env files; write the reference out' : undefined;
    return lineError(`${key}: invalid reference: ${withoutEcho(ref.message, value.value)}`, hint, key);
  }
  return { kind: 'secret', key, value: value.value };
}

function lineError(problem: string, hint?: string, key?: string): LineError {
  return { kind: 'error', problem, hint, key };
}

function parseValue(rest: string): LineResult {
  const text = rest.replace(/^[ \t]+/, '');
  const quote = text[0];
  if (quote === "'" || quote === '"') {
    const quoted = quote === "'" ? singleQuoted(text) : doubleQuoted(text);
    if (!quoted.ok) return quoted;
    const after = text.slice(quoted.end).trim();
    if (after !== '' && !after.startsWith('#')) {
      return { ok: false, problem: 'unexpected characters after the closing quote; only a # comment may follow' };
    }
    return { ok: true, value: quoted.value };
  }
  // Unquoted: a # at the start or after a space or tab starts a comment.
  const comment = text.search(/(^|[ \t])#/);
  return { ok: true, value: (comment === -1 ? text : text.slice(0, comment)).trim() };
}

const UNCLOSED = { problem: 'the quoted value is not closed on this line', hint: 'close the quote; multi-line values are not supported' };

function singleQuoted(text: string): { ok: true; value: string; end: number } | { ok: false; problem: string; hint?: string } {
  const close = text.indexOf("'", 1);
  if (close === -1) return { ok: false, ...UNCLOSED };
  return { ok: true, value: text.slice(1, close), end: close + 1 };
}

// One pass finds the closing quote and checks every escape without building anything; the
// value is then decoded by native replaces (a callback or a piece per escape costs ~0.5 µs each).
function doubleQuoted(text: string): { ok: true; value: string; end: number } | { ok: false; problem: string; hint?: string } {
  let escaped = false;
  for (let i = 1; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) return { ok: true, value: escaped ? decodeEscapes(text.slice(1, i)) : text.slice(1, i), end: i + 1 };
    if (ch !== BACKSLASH) continue;
    if (!ESCAPE_CODES.has(text.charCodeAt(i + 1))) {
      return { ok: false, problem: 'unknown escape in a double-quoted value; use \\n \\r \\t \\\\ \\" or \\$', hint: 'use single quotes for text with backslashes' };
    }
    escaped = true;
    i += 1;
  }
  return { ok: false, ...UNCLOSED };
}

// `inner` has only known escapes, and they pair up from the left: each `\\\\` is set aside as
// NUL first (a raw NUL is refused after decoding, so such a value is returned as is), then the
// others are replaced whole-string, kind by kind.
function decodeEscapes(inner: string): string {
  if (inner.includes('\0')) return inner;
  let text = swap(inner, '\\\\', '\0');
  for (const [code, char] of ESCAPES) if (code !== '\\') text = swap(text, `\\${code}`, char);
  return swap(text, '\0', '\\');
}

// split/join: V8's replaceAll takes ~0.3 µs per match, this a tenth of that.
function swap(text: string, from: string, to: string): string {
  return text.includes(from) ? text.split(from).join(to) : text;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LF = 0x0a;
const CR = 0x0d;

// Splits at \r\n, \n or \r in one pass; null when there are more than `max` lines.
function splitLines(text: string, max: number): string[] | null {
  const lines: string[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    if (ch !== LF && ch !== CR) continue;
    if (lines.length === max) return null;
    lines.push(text.slice(from, i));
    if (ch === CR && text.charCodeAt(i + 1) === LF) i += 1;
    from = i + 1;
  }
  // A last line without a line break; a file ending in one has no extra empty line.
  if (from < text.length) {
    if (lines.length === max) return null;
    lines.push(text.slice(from));
  }
  return lines;
}

function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
