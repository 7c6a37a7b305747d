// The guard's decision for one Claude Code PreToolUse call: a Bash command that would put a
// secret where the agent can read it (op read/run/inject/signin/item get, cat/grep/source of a
// file holding op:// references or values) is denied with the agent-secret command to use
// instead; everything else is allowed. Input: untrusted hook JSON and file heads from the host.
// Invariant: never throws (any internal failure allows), never returns file content.

import { opSecretVerb } from './op-verbs.js';
import { holdsSecrets, secretFileKind, type SecretFileKind } from './secret-files.js';
import { parseShell, type ShellWord, type SimpleCommand } from './shell-words.js';
import { effectiveCommand, programName } from './wrappers.js';

/** What the guard may learn about files: only through these, so tests can fake a file system. */
export interface GuardHost {
  /** The first bytes of a file (a path as the agent wrote it, `~/` allowed), or null. */
  readFileHead(path: string): string | null;
  /** Entry names of a directory, for glob words like `.env*`; without it globs are not checked. */
  listDir?(path: string): readonly string[] | null;
}

export type GuardRule = 'op-secret-verb' | 'secret-file-read';

export type GuardDecision =
  | { readonly decision: 'allow' }
  | {
      readonly decision: 'deny';
      readonly rule: GuardRule;
      /** What was blocked, e.g. "op item get" or "cat .env". */
      readonly blocked: string;
      /** The command to use instead (placeholders in <>). */
      readonly suggestion: string;
      /** The full message for the agent. */
      readonly reason: string;
    };

/** The PreToolUse fields the guard reads; everything is optional and checked. */
export interface GuardInput {
  readonly hook_event_name?: unknown;
  readonly tool_name?: unknown;
  readonly tool_input?: unknown;
}

const ALLOW: GuardDecision = { decision: 'allow' };
const MAX_SCRIPT_DEPTH = 4;
const MAX_COMMAND_CHARS = 256 * 1024;
const MAX_GLOB_MATCHES = 64;

/** Decides one hook call. Anything unexpected (other tools, odd shapes, internal errors) allows. */
export function decideGuard(raw: unknown, host: GuardHost): GuardDecision {
  try {
    if (raw === null || typeof raw !== 'object') return ALLOW;
    const input = raw as GuardInput;
    if (input.hook_event_name !== undefined && input.hook_event_name !== 'PreToolUse') return ALLOW;
    const toolInput = input.tool_input;
    if (toolInput === null || typeof toolInput !== 'object') return ALLOW;
    if (input.tool_name === 'Bash') {
      const command = (toolInput as { command?: unknown }).command;
      return typeof command === 'string' ? decideCommand(command, host) : ALLOW;
    }
    if (input.tool_name === 'Read') {
      const path = (toolInput as { file_path?: unknown }).file_path;
      return typeof path === 'string' ? decideRead(path, host) : ALLOW;
    }
    return ALLOW;
  } catch {
    return ALLOW;
  }
}

/** Decides a Bash command line. */
export function decideCommand(command: string, host: GuardHost, depth = 0): GuardDecision {
  if (command.length > MAX_COMMAND_CHARS || depth > MAX_SCRIPT_DEPTH) return ALLOW;
  // `cd backend && cat .env` reads backend/.env: relative paths after a cd are taken from there.
  let dir = '';
  for (const simple of parseShell(command).commands) {
    const moved = cdTarget(simple);
    if (moved !== null) {
      dir = moved.startsWith('/') ? moved : joinDir(dir, moved);
      continue;
    }
    const decision = decideSimple(simple, host, depth, dir);
    if (decision.decision === 'deny') return decision;
  }
  return ALLOW;
}

// The literal directory of a `cd DIR` or `pushd DIR`; null for anything else (or a DIR the guard cannot know).
function cdTarget(simple: SimpleCommand): string | null {
  const [name, target, ...rest] = simple.words;
  if (name === undefined || (name.text !== 'cd' && name.text !== 'pushd') || target === undefined || rest.length > 0) return null;
  if (target.expanded || target.glob || target.text === '' || target.text === '-' || target.text.startsWith('~')) return null;
  return target.text;
}

function joinDir(dir: string, relative: string): string {
  return dir === '' ? relative : `${dir.replace(/\/+$/, '')}/${relative}`;
}

/** Decides a Read tool call on one file. */
export function decideRead(path: string, host: GuardHost): GuardDecision {
  const kind = secretKindOf(path, host);
  return kind === null ? ALLOW : fileDenial(`Read ${path}`, path, kind, 'read');
}

function decideSimple(simple: SimpleCommand, host: GuardHost, depth: number, dir: string): GuardDecision {
  const { words, scripts } = effectiveCommand(simple.words);
  for (const script of scripts) {
    const decision = decideCommand(script, host, depth + 1);
    if (decision.decision === 'deny') return decision;
  }
  for (const redirect of simple.redirects) {
    if (redirect.op !== '<' && redirect.op !== '<>') continue;
    for (const path of candidatePaths(redirect.target, host, dir)) {
      const kind = secretKindOf(path, host);
      if (kind !== null) return fileDenial(`< ${path}`, path, kind, 'read');
    }
  }
  if (words.length === 0) return ALLOW;
  const name = programName(words[0]!);
  const args = words.slice(1);
  if (name === 'op' || name === 'op.exe') return decideOp(args);
  const files = readOperands(name, args);
  for (const word of files) {
    for (const path of candidatePaths(word, host, dir)) {
      const kind = secretKindOf(path, host);
      if (kind !== null) return fileDenial(`${name} ${path}`, path, kind, name === 'source' || name === '.' ? 'source' : 'read');
    }
  }
  return ALLOW;
}

// ---- op ----------------------------------------------------------------------------------

const CMD = '<command that needs it>';

function decideOp(args: readonly ShellWord[]): GuardDecision {
  const texts = args.map((word) => word.text);
  if (texts.some((text) => text === '--help' || text === '-h') && !texts.includes('--')) return ALLOW;
  const verb = opSecretVerb(texts);
  if (verb === null) return ALLOW;
  const after = texts.slice(texts.indexOf(verb.split(' ').at(-1)!) + 1);
  const { suggestion, why } = opSuggestion(verb, after);
  const how = verb === 'signin' ? '' : ' — the human approves that exact command and only it receives the value';
  const reason = `agent-secret guard blocked \`op ${verb}\`: ${why} Use instead: ${suggestion}${how}. Profiles and flags: \`agent-secret agent-context --json\`.`;
  return { decision: 'deny', rule: 'op-secret-verb', blocked: `op ${verb}`, suggestion, reason };
}

function opSuggestion(verb: string, after: readonly string[]): { suggestion: string; why: string } {
  const reveals = 'it would put a 1Password secret where you (and this conversation) can read it.';
  switch (verb) {
    case 'read': {
      const ref = after.find((text) => text.startsWith('op://'));
      const secret = ref === undefined ? '--profile <profile>' : `--secret NAME=${quote(ref)} --reason "<why>"`;
      return { suggestion: `agent-secret exec ${secret} -- ${CMD}`, why: reveals };
    }
    case 'run':
    case 'plugin run': {
      const envFiles = optionValues(after, '--env-file');
      const separator = after.indexOf('--');
      const child = separator >= 0 && separator < after.length - 1 ? after.slice(separator + 1).map(quote).join(' ') : CMD;
      const source = envFiles.length > 0 ? envFiles.map((file) => `--env-file ${quote(file)}`).join(' ') : '--profile <profile>';
      return { suggestion: clip(`agent-secret exec ${source} -- ${child}`), why: 'op run hands secrets to a command nobody approved.' };
    }
    case 'inject':
      return {
        suggestion: `agent-secret exec --env-file <file with op:// references> -- ${CMD}`,
        why: 'op inject writes resolved secrets to a file or to output you can read.',
      };
    case 'signin':
      return {
        suggestion: 'agent-secret doctor (then ask the human to sign in to 1Password if it says so)',
        why: 'signing in is for the human; agent-secret calls op itself after approval.',
      };
    case 'item get':
    case 'items get':
    case 'get item': {
      const ref = itemReference(after);
      if (ref !== null) {
        return {
          suggestion: `agent-secret exec --secret NAME=${quote(ref)} --reason "<why>" -- ${CMD} (references in this project: agent-secret profile show)`,
          why: reveals,
        };
      }
      // Looking at an item: its field names and references, never the values.
      const item = itemOnlyReference(after);
      return {
        suggestion: `agent-secret item describe ${item === null ? 'op://<vault>/<item>' : quote(item)} (field names and op:// references, never values), then agent-secret exec --secret NAME=op://… -- ${CMD}`,
        why: reveals,
      };
    }
    default:
      return { suggestion: `agent-secret exec --profile <profile> -- ${CMD}`, why: reveals };
  }
}

// `op item get ITEM --vault V --fields [label=]F` → op://V/ITEM/F when all three are plain text.
function itemReference(after: readonly string[]): string | null {
  const vault = optionValues(after, '--vault')[0];
  const field = optionValues(after, '--fields')[0]?.split(',')[0]?.replace(/^(label|type)=/, '');
  const item = positionals(after, new Set(['--vault', '--fields', '--account', '--format', '--session', '--config', '--otp', '--share-link']))[0];
  if (vault === undefined || field === undefined || item === undefined) return null;
  if ([vault, item, field].some((part) => part === '' || /[/$`]/.test(part))) return null;
  return `op://${vault}/${item}/${field}`;
}

// `op item get ITEM --vault V` → op://V/ITEM when both are plain text.
function itemOnlyReference(after: readonly string[]): string | null {
  const vault = optionValues(after, '--vault')[0];
  const item = positionals(after, new Set(['--vault', '--fields', '--account', '--format', '--session', '--config', '--otp', '--share-link']))[0];
  if (vault === undefined || item === undefined) return null;
  if ([vault, item].some((part) => part === '' || /[/$`]/.test(part))) return null;
  return `op://${vault}/${item}`;
}

function optionValues(args: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < args.length && args[i] !== '--'; i += 1) {
    const arg = args[i]!;
    if (arg === name && i + 1 < args.length) values.push(args[(i += 1)]!);
    else if (arg.startsWith(`${name}=`)) values.push(arg.slice(name.length + 1));
  }
  return values;
}

function positionals(args: readonly string[], valueOptions: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (let i = 0; i < args.length && args[i] !== '--'; i += 1) {
    const arg = args[i]!;
    if (arg.startsWith('-')) {
      if (valueOptions.has(arg)) i += 1;
    } else {
      found.push(arg);
    }
  }
  return found;
}

// ---- files -------------------------------------------------------------------------------

// Programs that print (or source) the files named as their operands, and where those start.
// (`cut -d= -f1 .env` prints only names, so cut is not one of them.)
const PRINTERS = new Set(['cat', 'tac', 'less', 'more', 'most', 'head', 'tail', 'bat', 'batcat', 'nl', 'od', 'xxd', 'hexdump', 'hd', 'strings', 'base64', 'base32', 'sort', 'uniq', 'diff', 'source', '.']);
const SEARCHERS = new Set(['grep', 'egrep', 'fgrep', 'rg', 'ag', 'ack']);
const SCRIPTED = new Set(['sed', 'awk', 'gawk', 'mawk', 'nawk']);

// The words a reader program takes as files; [] when it prints no file content.
function readOperands(name: string, args: readonly ShellWord[]): ShellWord[] {
  if (PRINTERS.has(name)) return operands(args);
  if (SEARCHERS.has(name)) {
    const texts = args.map((word) => word.text);
    if (texts.some((text) => isQuietSearchFlag(name, text))) return [];
    const explicitPattern = texts.some((text) => /^-[A-Za-z]*[ef]$/.test(text) || /^--(regexp|file)(=|$)/.test(text));
    const rest = operands(args);
    return explicitPattern ? rest : rest.slice(1);
  }
  if (SCRIPTED.has(name)) {
    const texts = args.map((word) => word.text);
    if (name === 'sed' && texts.some((text) => /^-[A-Za-z]*i/.test(text) || text.startsWith('--in-place'))) return [];
    const explicitScript = texts.some((text) => /^-[A-Za-z]*[ef]$/.test(text) || /^--(expression|file)(=|$)/.test(text));
    const rest = operands(args);
    return explicitScript ? rest : rest.slice(1);
  }
  return [];
}

// grep/rg options after which only names or counts are printed, never matching lines
// (in rg, -L follows symlinks; in grep it lists files without a match).
function isQuietSearchFlag(program: string, text: string): boolean {
  if (/^--(quiet|silent|count|files-with-matches|files-without-match|files|count-matches)$/.test(text)) return true;
  if (!/^-[A-Za-z]+$/.test(text)) return false;
  const cluster = text.slice(1).split(/[efABCmdgt]/)[0]!;
  return (program === 'rg' ? /[qlc]/ : /[qlLc]/).test(cluster);
}

function operands(args: readonly ShellWord[]): ShellWord[] {
  const found: ShellWord[] = [];
  let options = true;
  for (const word of args) {
    if (options && word.text === '--') options = false;
    else if (options && word.text.startsWith('-') && word.text !== '-') continue;
    else found.push(word);
  }
  return found;
}

// The paths a word names: itself, `$HOME/…` as `~/…`, or the matches of a simple glob.
function candidatePaths(word: ShellWord, host: GuardHost, dir = ''): string[] {
  let text = word.text;
  if (word.expanded) {
    const home = /^(\$HOME|\$\{HOME\})\//.exec(text);
    if (home === null) return [];
    text = `~/${text.slice(home[0].length)}`;
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

// A regular expression for one glob segment (* ? [..] {a,b}); a leading dot must be literal.
function globMatcher(segment: string): RegExp | null {
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
  const hidden = segment.startsWith('.') ? '' : '(?!\\.)';
  try {
    return new RegExp(`^${hidden}${source}$`, 's');
  } catch {
    return null;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function secretKindOf(path: string, host: GuardHost): SecretFileKind | null {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const kind = secretFileKind(name);
  if (kind === null) return null;
  const head = host.readFileHead(path);
  if (head === null) return null;
  return holdsSecrets(kind, head) ? kind : null;
}

function fileDenial(blocked: string, path: string, kind: SecretFileKind, how: 'read' | 'source'): GuardDecision {
  const shown = quote(path);
  let suggestion: string;
  let why: string;
  if (kind === 'env') {
    why = `${shown} holds 1Password references or secret values, and printing it puts them in this conversation.`;
    suggestion =
      how === 'source'
        ? `agent-secret exec --env-file ${shown} -- ${CMD}`
        : `agent-secret exec --dry-run --env-file ${shown} --reason "<why>" -- true (names and references, never values), then agent-secret exec --env-file ${shown} -- ${CMD}`;
  } else {
    why = `${shown} holds ${kind === 'ssh-key' || kind === 'pem' ? 'a private key' : 'credentials'}, and printing it puts them in this conversation.`;
    suggestion = `use the file by its path without printing it (to check it is there: test -s ${shown}); for 1Password secrets, agent-secret exec --profile <profile> -- ${CMD}`;
  }
  const reason = `agent-secret guard blocked \`${clip(blocked)}\`: ${why} Use instead: ${suggestion}.`;
  return { decision: 'deny', rule: 'secret-file-read', blocked: clip(blocked), suggestion, reason };
}

// ---- text --------------------------------------------------------------------------------

// Shell-quotes a word for a suggestion; control characters are shown as '?'.
function quote(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  if (clean === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(clean)) return clean;
  return `'${clean.replaceAll("'", `'\\''`)}'`;
}

function clip(text: string): string {
  return text.length <= 300 ? text : `${text.slice(0, 297)}…`;
}
