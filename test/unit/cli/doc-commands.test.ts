// Every `agent-secret …` command line the project prints or documents parses with the real
// command table: README.md, docs/*.md, the skill, profiles.example.yaml comments, and every
// string literal in src/ (help texts, error hints, guard denials). A line is cut where the
// prose around it starts again; placeholders (PROFILE, <why>, op://VAULT/ITEM, …) are fine.
// Checked: no unknown option, no missing option value, no stray argument, `--` only where a
// command takes one, and an exec that names its own secrets (--secret, --env-file) without a
// profile carries --reason (nothing else supplies one: the request would fail).

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { CommanderError, type Command } from 'commander';
import { buildProgram } from '../../../src/cli/program.js';
import type { CliContext } from '../../../src/cli/context.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const COMMANDS = new Set(['exec', 'profile', 'doctor', 'item', 'session', 'with-session', 'approvals', 'audit', 'daemon', 'guard', 'skill-install', 'hook-install', 'agent-context', 'version', 'completion', 'approver', '--help', '--version']);
// Words that end a command line inside a sentence ("run agent-secret doctor again").
const PROSE = new Set(['and', 'or', 'then', 'to', 'again', 'will', 'shows', 'in', 'if', 'is', 'for', 'from', 'can', 'does', 'first', 'instead', 'once', 'when', 'with', 'prints', 'says', 'as', 'on', 'reads', 'runs', 'takes', 'names']);

interface Found { where: string; line: string }

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

// The text after each `agent-secret ` that starts with a command, up to the end of its line
// (a trailing backslash joins the next one) or a backtick.
function candidates(text: string, where: string): Found[] {
  const joined = text.replace(/\\\n\s*/g, ' ');
  const found: Found[] = [];
  for (const match of joined.matchAll(/(?<![\w./-])agent-secret (?=([^\n`]*))/g)) {
    const rest = match[1] ?? '';
    if (COMMANDS.has(rest.split(' ')[0] ?? '')) found.push({ where, line: rest });
  }
  return found;
}

// String literals of a TypeScript file, `${…}` shown as PLACEHOLDER.
function tsStrings(path: string): string[] {
  const source = ts.createSourceFile(path, readFileSync(join(ROOT, path), 'utf8'), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) out.push(node.text);
    else if (ts.isTemplateExpression(node)) out.push([node.head.text, ...node.templateSpans.map((s) => `PLACEHOLDER${s.literal.text}`)].join(''));
    node.forEachChild(visit);
  };
  visit(source);
  return out;
}

// Shell words, quotes honoured; stops at a pipe, redirection, comment or the prose after it.
export function words(line: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(<[^>\n]*>)|(\S+))/gy;
  for (let m = re.exec(line); m !== null && m[0].trim() !== ''; m = re.exec(line)) {
    if (m[4] === undefined) {
      out.push(m[1] ?? m[2] ?? m[3] ?? '');
      continue;
    }
    const word = m[4];
    if (/^(\||>>?|&&|;|#|\(|=>|→)/.test(word) || PROSE.has(word) || /^[A-Z][a-z]/.test(word)) break;
    const bare = word.replace(/[,.;:)]+$/, '');
    if (bare !== '') out.push(bare);
    if (bare !== word) break;
  }
  return out.filter((w) => w !== '…' && w !== '...' && !/^\[.*\]$/.test(w));
}

function allCommandLines(): Found[] {
  const found: Found[] = [];
  for (const file of ['README.md', 'skills/agent-secret/SKILL.md', ...filesUnder('docs', '.md')]) {
    found.push(...candidates(readFileSync(join(ROOT, file), 'utf8'), file));
  }
  const example = readFileSync(join(ROOT, 'profiles.example.yaml'), 'utf8');
  found.push(...candidates(example.split('\n').filter((l) => l.trimStart().startsWith('#')).map((l) => l.replace(/^\s*#/, '')).join('\n'), 'profiles.example.yaml'));
  for (const file of filesUnder('src', '.ts')) {
    for (const text of tsStrings(file)) found.push(...candidates(text, file));
  }
  return found;
}

function stubbedProgram(args: string[], childArgv: string[] | null): Command {
  const quiet = { write: () => true };
  const ctx = { args, childArgv, env: {}, cwd: '/', stdout: quiet, stderr: quiet } as unknown as CliContext;
  const program = buildProgram(ctx, () => undefined);
  const stub = (command: Command): void => {
    command.action(() => undefined);
    command.configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined });
    command.commands.forEach(stub);
  };
  program.commands.forEach(stub);
  return program;
}

// Commands whose next word must be a subcommand (or, for audit, `verify`): any other word there
// means the line is prose about the thing ("the agent-secret daemon stopped", "agent-secret
// guard blocked"), not a command.
const NEXT_WORD: Record<string, readonly string[]> = {
  profile: ['list', 'show'],
  item: ['describe'],
  session: ['create', 'list', 'destroy'],
  approvals: ['list', 'revoke'],
  daemon: ['start', 'stop', 'status', 'serve'],
  audit: ['verify'],
  exec: [],
  guard: [],
};

/** Why a command line would not run as written; null when it parses or is prose. */
export function problemOf(line: string): string | null {
  // Help texts align a description after two spaces; `${…}` in a message stands for flags or words.
  // Right after `exec` it stands for source flags (dropped), anywhere else for a word.
  // After `--agent` it stands for an agent's name.
  const all = words(line.split(/ {2,}/)[0] ?? '')
    .filter((w, i, list) => w !== 'PLACEHOLDER' || list[i - 1] !== 'exec')
    .map((w, i, list) => (/^(PLACEHOLDER)+$/.test(w) && list[i - 1] === '--agent' ? 'claude' : w));
  const allowed = NEXT_WORD[all[0] ?? ''];
  const next = all[1];
  if (allowed !== undefined && next !== undefined && !next.startsWith('-') && !allowed.includes(next)) return null;
  // A bare mention of a command that needs an argument (`agent-secret item describe`).
  if (all.length <= 2 && (all[0] === 'item' || all[0] === 'with-session') && !all.some((w) => w.startsWith('-'))) return null;
  const separator = all.indexOf('--');
  const args = separator === -1 ? all : all.slice(0, separator);
  if (separator !== -1 && args[0] !== 'exec' && args[0] !== 'with-session') return '"--" after a command that takes none';
  try {
    stubbedProgram(args, separator === -1 ? null : all.slice(separator + 1)).parse(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && /^commander\.(help|helpDisplayed|version)$/.test(error.code)) return null;
    return error instanceof Error ? error.message : String(error);
  }
  const names = args.map((a) => a.split('=', 1)[0]);
  if (args[0] === 'exec' && !names.includes('--profile') && (names.includes('--secret') || names.includes('--env-file')) && !names.includes('--reason')) {
    return 'exec names its own secrets without --reason (no profile supplies one)';
  }
  return null;
}

describe('every documented agent-secret command line parses', () => {
  const lines = allCommandLines();

  it('finds the examples (the extractor is not silently empty)', () => {
    expect(lines.length).toBeGreaterThan(150);
    expect(lines.some((l) => l.where === 'src/guard/denial.ts')).toBe(true);
    expect(lines.some((l) => l.where === 'skills/agent-secret/SKILL.md' && l.line.includes('--env-file'))).toBe(true);
  });

  it('has no line that would fail to parse', () => {
    const problems = lines.map((l) => ({ ...l, problem: problemOf(l.line) })).filter((l) => l.problem !== null);
    expect(problems.map((p) => `${p.where}: agent-secret ${p.line}  => ${p.problem}`)).toEqual([]);
  });

  it.each([
    ['exec --profile deploy npm test', /exec takes the command/],
    ['exec --nope -- ls', /unknown option/],
    ['exec --env-file .env -- npm run migrate', /without --reason/],
    ['doctor -- ls', /takes none/],
    ['item describe --format json', /missing required argument/],
    ['daemon start now', /too many arguments/],
  ])('catches %s', (line, problem) => {
    expect(problemOf(line)).toMatch(problem);
  });

  it.each(['exec --env-file .env --reason "Run the migration" -- npm run migrate', 'doctor again to see it', 'audit verify; then move it', 'daemon stopped before the request was answered', 'doctor                      check op'])('passes %s', (line) => {
    expect(problemOf(line)).toBeNull();
  });
});
