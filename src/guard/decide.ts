// The guard's decision for one Claude Code PreToolUse call: a Bash command that would put a
// secret where the agent can read it (op read/run/inject/signin/item get, even through a
// command word built at run time or an interpreter's inline code; cat/grep/source/cp-to-stdout
// of a file holding op:// references or values; a recursive search reaching one; decoded text
// piped into a shell) is denied with the agent-secret command to use instead, and so is a Read
// or a content Grep of such a file; everything else is allowed. Input: untrusted hook JSON and
// file heads from the host. Invariant: never throws (any internal failure allows), never
// returns file content.

import { ALLOW, CMD, clip, fileDenial, hiddenCommandDenial, humanOnlyDenial, quote, type GuardDecision } from './denial.js';
import { baseName, candidatePaths, globFilter, joinDir, secretFileAt, secretFilesUnder, secretKindOf, type GuardHost } from './files.js';
import { inlineCode, opCallInCode, pathsInCode, type InlineCode } from './inline-code.js';
import { opSecretVerb } from './op-verbs.js';
import { printsSecretLines } from './patterns.js';
import { isDecoder, operands, printedFiles, runsUnseenCode } from './readers.js';
import { decideGrepTool, decideSearch, isSearcher, parseSearch } from './search.js';
import { isAgentSecretStore, secretFileKind } from './secret-files.js';
import { parseShell, type ShellWord, type SimpleCommand } from './shell-words.js';
import { effectiveCommand, programName } from './wrappers.js';

export type { DirEntry, GuardHost } from './files.js';
export type { GuardDecision, GuardRule } from './denial.js';

/** The PreToolUse fields the guard reads; everything is optional and checked. */
export interface GuardInput {
  readonly hook_event_name?: unknown;
  readonly tool_name?: unknown;
  readonly tool_input?: unknown;
}

const MAX_SCRIPT_DEPTH = 4;
const MAX_COMMAND_CHARS = 256 * 1024;

/** Decides one hook call. Anything unexpected (other tools, odd shapes, internal errors) allows. */
export function decideGuard(raw: unknown, host: GuardHost): GuardDecision {
  try {
    if (raw === null || typeof raw !== 'object') return ALLOW;
    const input = raw as GuardInput;
    if (input.hook_event_name !== undefined && input.hook_event_name !== 'PreToolUse') return ALLOW;
    const toolInput = input.tool_input;
    if (toolInput === null || typeof toolInput !== 'object') return ALLOW;
    switch (input.tool_name) {
      case 'Bash': {
        const command = (toolInput as { command?: unknown }).command;
        return typeof command === 'string' ? decideCommand(command, host) : ALLOW;
      }
      case 'Read': {
        const path = (toolInput as { file_path?: unknown }).file_path;
        return typeof path === 'string' ? decideRead(path, host) : ALLOW;
      }
      case 'Grep':
        return decideGrepTool(toolInput, host);
      // Glob lists matching paths, sorted by time: names, never content. `**/.env*` tells the
      // agent a file exists, which `ls` does too; reading it is what the other rules stop.
      // The hook matcher includes Glob so a later rule can see these calls.
      case 'Glob':
      default:
        return ALLOW;
    }
  } catch {
    return ALLOW;
  }
}

/** Decides a Bash command line. */
export function decideCommand(command: string, host: GuardHost, depth = 0): GuardDecision {
  if (command.length > MAX_COMMAND_CHARS || depth > MAX_SCRIPT_DEPTH) return ALLOW;
  const { commands } = parseShell(command);
  // Whether anything on the line decodes text (base64 -d, xxd -r …): its output may be code.
  const decodes = commands.some((simple) => {
    const { words } = effectiveCommand(simple.words);
    return words.length > 0 && isDecoder(programName(words[0]!), words.slice(1));
  });
  // `cd backend && cat .env` reads backend/.env: relative paths after a cd are taken from there.
  let dir = '';
  for (const simple of commands) {
    const moved = cdTarget(simple);
    if (moved !== null) {
      dir = moved.startsWith('/') ? moved : joinDir(dir, moved);
      continue;
    }
    const decision = decideSimple(simple, host, { depth, dir, decodes });
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

/** Decides a Read tool call on one file. */
export function decideRead(path: string, host: GuardHost): GuardDecision {
  const kind = secretKindOf(path, host);
  return kind === null ? ALLOW : fileDenial(`Read ${path}`, path, kind, 'read');
}

interface Where {
  readonly depth: number;
  /** The directory a preceding cd moved to ('' for none). */
  readonly dir: string;
  /** Something on the command line decodes text. */
  readonly decodes: boolean;
}

function decideSimple(simple: SimpleCommand, host: GuardHost, where: Where): GuardDecision {
  const { words, scripts } = effectiveCommand(simple.words);
  for (const script of scripts) {
    const decision = decideCommand(script, host, where.depth + 1);
    if (decision.decision === 'deny') return decision;
  }
  for (const redirect of simple.redirects) {
    if (redirect.op !== '<' && redirect.op !== '<>') continue;
    const decision = firstSecret([redirect.target], host, where.dir, (path) => `< ${path}`);
    if (decision !== null) return decision;
  }
  if (words.length === 0) return ALLOW;
  const first = words[0]!;
  const name = programName(first);
  const args = words.slice(1);
  if (where.decodes && runsDecodedText(simple, first, name, args)) return hiddenCommandDenial(`… | ${clip(simple.words.map((word) => word.text).join(' '))}`);
  if (name === 'op' || name === 'op.exe') return decideOp(args);
  const human = humanOnly(name, args);
  if (human !== null) return humanOnlyDenial(`${name} ${args.map((word) => word.text).join(' ')}`, human);
  if (first.expanded) return decideBuiltWord(first, args, host, where.dir);
  if (name === 'git' && gitSubcommand(args)?.text === 'grep') return decideSearch('git grep', args.slice(args.indexOf(gitSubcommand(args)!) + 1), host, where.dir);
  if (isSearcher(name)) return decideSearch(name, args, host, where.dir);
  if (name === 'find') return decideFind(args, host, where);
  const code = inlineCode(name, args);
  if (code !== null) {
    const decision = decideInlineCode(name, code, host, where.dir);
    if (decision.decision === 'deny') return decision;
  }
  const how = name === 'source' || name === '.' ? 'source' : 'read';
  return firstSecret(printedFiles(name, args), host, where.dir, (path) => `${name} ${path}`, how) ?? ALLOW;
}

// Why a command is the human's to run, or null: registering agents and storing provider tokens
// (agent-secret agent add|remove, provider token set|remove), and reading agent-secret's entries
// in the Secret Service or the Keychain.
function humanOnly(name: string, args: readonly ShellWord[]): string | null {
  const texts = args.map((word) => word.text);
  const mentionsUs = texts.some((text) => text === 'agent-secret' || text.includes('agent-secret'));
  if (name === 'agent-secret') {
    const positional = texts.filter((text) => !text.startsWith('-'));
    const [group, verb, action] = positional;
    if (group === 'agent' && (verb === 'add' || verb === 'remove')) return `registering or removing an agent is the human's decision, not an agent's.`;
    if (group === 'provider' && verb === 'token' && (action === 'set' || action === 'remove')) return `provider tokens are stored and removed by the human, not by an agent.`;
    return null;
  }
  if (name === 'secret-tool' && mentionsUs && texts.some((text) => text === 'lookup' || text === 'search')) return `it reads a provider token agent-secret keeps in the Secret Service.`;
  if (name === 'security' && mentionsUs && texts.some((text) => /^find-(generic|internet)-password$/.test(text))) return `it reads a provider token agent-secret keeps in the Keychain.`;
  return null;
}

// The first of these words that names a file holding secrets, as a deny.
function firstSecret(words: readonly ShellWord[], host: GuardHost, dir: string, blocked: (path: string) => string, how: 'read' | 'source' = 'read'): GuardDecision | null {
  for (const word of words) {
    // agent-secret's own stores, by how the path is written (a glob or a variable included).
    if (isAgentSecretStore(word.text)) return fileDenial(blocked(word.text), word.text, 'agent-secret', how);
    for (const path of candidatePaths(word, host, dir)) {
      const kind = secretKindOf(path, host);
      if (kind !== null) return fileDenial(blocked(path), path, kind, how);
    }
  }
  return null;
}

// Decoded text run as code: `… | base64 -d | sh`, `bash <<< "$(… | base64 -d)"`, `bash <(…)`,
// `eval "$(… | base64 -d)"` (eval's script is a command word made by a substitution).
function runsDecodedText(simple: SimpleCommand, first: ShellWord, name: string, args: readonly ShellWord[]): boolean {
  if (first.expanded && /\$\(|`/.test(first.text)) return true;
  if (!runsUnseenCode(name, args)) return false;
  const fed = simple.piped || simple.redirects.some((redirect) => redirect.op === '<<<' || redirect.op === '<');
  return fed || operands(args).some((word) => word.expanded);
}

function gitSubcommand(args: readonly ShellWord[]): ShellWord | undefined {
  let i = 0;
  while (i < args.length && args[i]!.text.startsWith('-')) i += ['-C', '-c', '--git-dir', '--work-tree'].includes(args[i]!.text) ? 2 : 1;
  return args[i];
}

// A command word made at run time (`$X read …`, `$(echo op) read …`, `${OP:-op} item get …`):
// the guard cannot tell what runs, so the rest of the line decides. op verbs that are common
// words elsewhere (`$NPM run build`, `$VAULT read`) count only next to an op:// reference.
function decideBuiltWord(first: ShellWord, args: readonly ShellWord[], host: GuardHost, dir: string): GuardDecision {
  const texts = args.map((word) => word.text);
  const verb = opSecretVerb(texts);
  if (verb !== null) {
    const common = verb === 'read' || verb === 'run' || verb === 'plugin run' || !/^[a-z]/.test(verb);
    if (!common || texts.some((text) => text.includes('op://'))) return decideOp(args, first.text);
  }
  // Files among its operands; a value after an env option (`$DOCKER run --env-file .env`) is passed on, not printed.
  const files = args.filter((word, i) => !word.text.startsWith('-') && (i === 0 || !/^--?[\w-]*env[\w-]*$/i.test(args[i - 1]!.text)));
  return firstSecret(files, host, dir, (path) => `${clip(first.text)} ${path}`) ?? ALLOW;
}

// Inline interpreter code: an op call with a revealing verb, a secret file it names, or one
// passed to it as an argument (`perl -ne print .env`, `python3 -c "…sys.argv[1]…" .env`).
function decideInlineCode(name: string, inline: InlineCode, host: GuardHost, dir: string): GuardDecision {
  for (const code of inline.code) {
    const opArgs = opCallInCode(code);
    if (opArgs !== null) {
      const decision = decideOp(opArgs.map(plainWord), `${name} code running op`);
      if (decision.decision === 'deny') return decision;
    }
    const named = pathsInCode(code).filter((path) => secretFileKind(baseName(path)) !== null).map(plainWord);
    const decision = firstSecret(named, host, dir, (path) => `${name} code reading ${path}`);
    if (decision !== null) return decision;
  }
  return firstSecret(operands(inline.rest), host, dir, (path) => `${name} … ${path}`) ?? ALLOW;
}

function plainWord(text: string): ShellWord {
  return { text, expanded: false, glob: false, tilde: text.startsWith('~') };
}

const FIND_OPTIONS = new Set(['-H', '-L', '-P']);
const FIND_EXEC = new Set(['-exec', '-execdir', '-ok', '-okdir']);

// find START… EXPR -exec PROGRAM … {} ;: PROGRAM runs on every file find selects, so the walk
// below START (bounded), filtered by -name/-iname, is what a printer or a search reads.
function decideFind(args: readonly ShellWord[], host: GuardHost, where: Where): GuardDecision {
  let i = 0;
  while (i < args.length && (FIND_OPTIONS.has(args[i]!.text) || args[i]!.text.startsWith('-O') || args[i]!.text === '-D')) i += args[i]!.text === '-D' ? 2 : 1;
  const starts: ShellWord[] = [];
  while (i < args.length && !/^[-(!]/.test(args[i]!.text)) starts.push(args[i++]!);
  const includes: string[] = [];
  const excludes: string[] = [];
  for (; i < args.length; i += 1) {
    const text = args[i]!.text;
    if ((text === '-name' || text === '-iname') && args[i + 1] !== undefined) {
      const negated = ['!', '-not'].includes(args[i - 1]?.text ?? '');
      (negated ? excludes : includes).push(args[i + 1]!.text);
      i += 1;
    }
    if (!FIND_EXEC.has(text)) continue;
    const end = args.findIndex((word, j) => j > i && (word.text === ';' || word.text === '+'));
    const command = args.slice(i + 1, end < 0 ? args.length : end);
    i = end < 0 ? args.length : end;
    const literal = decideSimple({ words: command.filter((word) => !word.text.includes('{}')), redirects: [], piped: false }, host, where);
    if (literal.decision === 'deny') return literal;
    if (!command.some((word) => word.text.includes('{}'))) continue;
    const decision = decideFindExec(command, starts, includes, excludes, host, where.dir);
    if (decision.decision === 'deny') return decision;
  }
  return ALLOW;
}

function decideFindExec(command: readonly ShellWord[], starts: readonly ShellWord[], includes: readonly string[], excludes: readonly string[], host: GuardHost, dir: string): GuardDecision {
  const { words } = effectiveCommand(command);
  if (words.length === 0) return ALLOW;
  const name = programName(words[0]!);
  const args = words.slice(1);
  const search = isSearcher(name) ? parseSearch(name, args) : null;
  if (search?.quiet === true) return ALLOW;
  const reads = search !== null || printedFiles(name, args).some((word) => word.text.includes('{}')) || inlineCode(name, args) !== null;
  if (!reads) return ALLOW;
  const roots = starts.length === 0 ? [dir === '' ? '.' : dir] : starts.flatMap((word) => candidatePaths(word, host, dir));
  const accepts = globFilter(includes, excludes);
  for (const root of roots) {
    const found = secretFileAt(root, host);
    const secrets = found !== null ? [found] : secretFilesUnder(root, host, { hidden: true, accepts });
    const secret = secrets.find((file) => search === null || printsSecretLines(search.spec, file.kind, file.head));
    if (secret !== undefined) return fileDenial(`find ${root} -exec ${name} (reaches ${secret.path})`, secret.path, secret.kind, 'read');
  }
  return ALLOW;
}

// ---- op ----------------------------------------------------------------------------------

function decideOp(args: readonly ShellWord[], shown = 'op'): GuardDecision {
  const texts = args.map((word) => word.text);
  if (texts.some((text) => text === '--help' || text === '-h') && !texts.includes('--')) return ALLOW;
  const verb = opSecretVerb(texts);
  if (verb === null) return ALLOW;
  const after = texts.slice(texts.indexOf(verb.split(' ').at(-1)!) + 1);
  const { suggestion, why } = opSuggestion(verb, after);
  const how = verb === 'signin' ? '' : ' — the human approves that exact command and only it receives the value';
  const reason = `agent-secret guard blocked \`${clip(shown)} ${verb}\`: ${why} Use instead: ${suggestion}${how}. Profiles and flags: \`agent-secret agent-context --json\`.`;
  return { decision: 'deny', rule: 'op-secret-verb', blocked: clip(`${shown} ${verb}`), suggestion, reason };
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
      const source = envFiles.length > 0 ? `${envFiles.map((file) => `--env-file ${quote(file)}`).join(' ')} --reason "<why>"` : '--profile <profile>';
      return { suggestion: clip(`agent-secret exec ${source} -- ${child}`), why: 'op run hands secrets to a command nobody approved.' };
    }
    case 'inject':
      return {
        suggestion: `agent-secret exec --env-file <file with op:// references> --reason "<why>" -- ${CMD}`,
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
        suggestion: `agent-secret item describe ${item === null ? 'op://<vault>/<item>' : quote(item)} (field names and op:// references, never values), then agent-secret exec --secret NAME=op://… --reason "<why>" -- ${CMD}`,
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
