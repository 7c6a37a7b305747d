// The hook contracts of the coding agents the guard serves: how each one hands a tool call to a
// hook (Claude Code and Codex CLI `PreToolUse`, Cursor `beforeShellExecution` and
// `beforeReadFile`, Gemini CLI `BeforeTool`), which of its tools run shell commands, read a
// file or print matching lines, and how it wants a deny (with the message the model reads) and
// an allow. Every call is turned into the Claude Code-shaped calls `decide.ts` reads, so all
// agents share one decision core. Input: untrusted hook JSON. Invariant: pure; never throws
// (anything unexpected reads as "nothing to check"); answers carry names and paths only.

import { ALLOW, fileDenial, quote, type GuardDecision } from './denial.js';
import { decideGuard, type GuardHost, type GuardInput } from './decide.js';
import { pathGlobFilter, secretFilesUnder } from './files.js';

export const GUARD_AGENTS = ['claude', 'codex', 'cursor', 'gemini'] as const;
export type GuardAgent = (typeof GUARD_AGENTS)[number];

export function isGuardAgent(value: unknown): value is GuardAgent {
  return typeof value === 'string' && (GUARD_AGENTS as readonly string[]).includes(value);
}

/** The agent's own name for people (help, doctor, errors). */
export const AGENT_TITLES: Readonly<Record<GuardAgent, string>> = {
  claude: 'Claude Code',
  codex: 'Codex CLI',
  cursor: 'Cursor',
  gemini: 'Gemini CLI',
};

/** One hook call in the decision core's terms: the calls to decide (first deny wins) and the directory paths are taken from. */
export interface HookCall {
  readonly calls: readonly GuardInput[];
  /** Extra read requests (Gemini's read_many_files): literal paths and globs, relative to `cwd`. */
  readonly reads: readonly string[];
  /** The directory the tool runs in, as the agent reported it (absolute), or null. */
  readonly cwd: string | null;
}

const NOTHING: HookCall = { calls: [], reads: [], cwd: null };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function absolute(value: unknown): string | null {
  return typeof value === 'string' && value.startsWith('/') ? value : null;
}

const bash = (command: string): GuardInput => ({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command } });
const read = (path: string): GuardInput => ({ hook_event_name: 'PreToolUse', tool_name: 'Read', tool_input: { file_path: path } });

/** Reads one hook call of `agent`; a shape the guard does not check reads as no calls. */
export function readHookCall(agent: GuardAgent, raw: unknown): HookCall {
  try {
    if (!isObject(raw)) return NOTHING;
    switch (agent) {
      case 'claude':
        return { calls: [raw as GuardInput], reads: [], cwd: absolute(raw.cwd) };
      case 'codex':
        return readCodex(raw);
      case 'cursor':
        return readCursor(raw);
      case 'gemini':
        return readGemini(raw);
    }
  } catch {
    return NOTHING;
  }
}

// Codex CLI: Claude-style PreToolUse. Its shell tools (shell, exec_command, unified exec) all
// reach hooks as tool_name "Bash" with tool_input.command; apply_patch and MCP tools are not
// reads. There is no file-read tool: Codex reads files through the shell.
function readCodex(raw: Json): HookCall {
  if (raw.hook_event_name !== undefined && raw.hook_event_name !== 'PreToolUse') return NOTHING;
  if (raw.tool_name !== 'Bash' || !isObject(raw.tool_input)) return NOTHING;
  const command = commandText(raw.tool_input.command);
  return command === null ? NOTHING : { calls: [bash(command)], reads: [], cwd: absolute(raw.cwd) };
}

// A command as a string, or as argv (`["bash", "-lc", "cat .env"]`: the script; else the words quoted).
function commandText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value) || value.length === 0 || !value.every((word) => typeof word === 'string')) return null;
  const words = value as string[];
  if (words.length === 3 && /(^|\/)(ba|z|da|k)?sh$/.test(words[0]!) && /^-l?c$/.test(words[1]!)) return words[2]!;
  return words.map(quote).join(' ');
}

// Cursor: beforeShellExecution carries `command` and `cwd` at the top level; beforeReadFile
// carries `file_path` (and the file's `content`, which the guard never looks at).
function readCursor(raw: Json): HookCall {
  const roots = Array.isArray(raw.workspace_roots) ? raw.workspace_roots : [];
  const cwd = absolute(raw.cwd) ?? absolute(roots[0]);
  switch (raw.hook_event_name) {
    case 'beforeShellExecution': {
      const command = str(raw.command);
      return command === null ? NOTHING : { calls: [bash(command)], reads: [], cwd };
    }
    case 'beforeReadFile': {
      const path = str(raw.file_path);
      return path === null || path === '' ? NOTHING : { calls: [read(path)], reads: [], cwd };
    }
    default:
      return NOTHING;
  }
}

// Gemini CLI BeforeTool: run_shell_command {command, dir_path (older: directory)}, read_file {file_path},
// read_many_files {include: [paths or globs]}, grep_search (formerly search_file_content)
// {pattern, dir_path, include, names_only}. glob and list_directory list names only.
function readGemini(raw: Json): HookCall {
  if (raw.hook_event_name !== undefined && raw.hook_event_name !== 'BeforeTool') return NOTHING;
  const input = raw.tool_input;
  if (!isObject(input)) return NOTHING;
  const base = absolute(raw.cwd);
  // dir_path (current), path and directory (older releases): where the tool runs.
  const dirPath = str(input.dir_path) ?? str(input.path) ?? str(input.directory);
  const within = dirPath === null || dirPath === '' ? base : dirPath.startsWith('/') ? dirPath : base === null ? null : `${base.replace(/\/+$/, '')}/${dirPath}`;
  switch (raw.tool_name) {
    case 'run_shell_command': {
      const command = str(input.command);
      return command === null ? NOTHING : { calls: [bash(command)], reads: [], cwd: within };
    }
    case 'read_file': {
      const path = str(input.file_path) ?? str(input.absolute_path) ?? str(input.path);
      return path === null || path === '' ? NOTHING : { calls: [read(path)], reads: [], cwd: base };
    }
    case 'read_many_files': {
      const listed = Array.isArray(input.include) ? input.include : Array.isArray(input.paths) ? input.paths : [];
      return { calls: [], reads: listed.filter((entry): entry is string => typeof entry === 'string' && entry !== ''), cwd: base };
    }
    case 'grep_search':
    case 'search_file_content': {
      const include = str(input.include) ?? str(input.include_pattern);
      const grep = {
        pattern: input.pattern,
        // The directory as a search path from the working directory, so a deny names backend/.env.local as Claude Code's Grep does.
        path: dirPath === null || dirPath === '' ? '.' : dirPath,
        output_mode: input.names_only === true ? 'files_with_matches' : 'content',
        ...(include === null ? {} : { glob: include }),
        ...(input.case_sensitive === false ? { '-i': true } : {}),
      };
      return { calls: [{ hook_event_name: 'PreToolUse', tool_name: 'Grep', tool_input: grep }], reads: [], cwd: base };
    }
    default:
      return NOTHING;
  }
}

const GLOB = /[*?[{]/;

/** Decides a hook call with the shared core: the first deny among its calls and reads, else allow. */
export function decideHookCall(call: HookCall, host: GuardHost): GuardDecision {
  try {
    for (const input of call.calls) {
      const decision = decideGuard(input, host);
      if (decision.decision === 'deny') return decision;
    }
    for (const entry of call.reads) {
      const decision = GLOB.test(entry) ? decideReadGlob(entry, host) : host.readDir?.(entry) != null ? decideReadDir(entry, host) : decideGuard(read(entry), host);
      if (decision.decision === 'deny') return decision;
    }
    return ALLOW;
  } catch {
    return ALLOW;
  }
}

// A glob of read_many_files, matched on the whole path below the working directory (`src/**`
// reaches src/ only, `**/.env*` every level): every secret file it reaches (bounded walk).
function decideReadGlob(glob: string, host: GuardHost): GuardDecision {
  const found = secretFilesUnder('.', host, { hidden: true, accepts: pathGlobFilter(glob) })[0];
  return found === undefined ? ALLOW : fileDenial(`read_many_files ${glob} (reaches ${found.path})`, found.path, found.kind, 'read');
}

// A directory named in read_many_files (`backend`, `.`): the tool reads every file below it.
function decideReadDir(dir: string, host: GuardHost): GuardDecision {
  const found = secretFilesUnder(dir, host, { hidden: true })[0];
  return found === undefined ? ALLOW : fileDenial(`read_many_files ${dir} (reaches ${found.path})`, found.path, found.kind, 'read');
}
