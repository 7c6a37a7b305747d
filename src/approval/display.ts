// Renders an approval prompt as plain lines of text, the one layout every approver shows.
// Every string in the prompt is agent-controlled: control, C1, bidi, zero-width and other
// format or invisible characters, combining marks and right-to-left letters are escaped
// (`\n`, `\x1b`, `\u202e`, `\u0301`; a backslash as `\\`), and long fields are clipped with
// a marker, so each untrusted field fills exactly the lines the layout gives it. Dialogs do not
// scroll: what the human must weigh (secrets, warnings) comes first, the long parts (argv,
// paths, chain) after, the command and the whole text are capped, and a cut says so.

import { escapeText, shellQuote } from '../core/display-text.js';
import { identityOf, schemeOf } from '../core/ref.js';
import { formatTtl } from '../core/ttl.js';

export { escapeText, hasUnsafeChars, shellQuote } from '../core/display-text.js';
import { identicalLines } from './answer-all.js';
import type { ApprovalPrompt, PromptOperation } from './types.js';

/** Display limits, in code points (or list entries). */
export const DISPLAY_LIMITS = {
  reason: 400,
  path: 400,
  /** One argument's shown head; the rest is counted in a marker. */
  arg: 120,
  args: 40,
  /** The whole command line as shown (the first argument is always shown whole up to `arg`). */
  command: 1000,
  /** The whole prompt text; lists shrink first, then the tail is cut with a marker. */
  total: 6000,
  ref: 200,
  alias: 128,
  account: 100,
  warning: 300,
  profile: 100,
  processName: 64,
  chain: 12,
  secrets: 50,
  warnings: 20,
  overridden: 50,
  plainEnv: 50,
  binding: 300,
} as const;

/** Window titles per operation. */
export const PROMPT_TITLES = {
  exec: 'agent-secret: secret access request',
  item_describe: 'agent-secret: item metadata request',
  session_create: 'agent-secret: session access request',
  approver_test: 'agent-secret: approver test (nothing is read)',
} as const satisfies Record<PromptOperation, string>;

/** The exec title (kept for callers of the first version). */
export const PROMPT_TITLE = PROMPT_TITLES.exec;

/** The prompt as shown: a window title and the body lines (no line contains a line break). */
export interface RenderedPrompt {
  title: string;
  lines: string[];
}

/** Clips to `max` code points, then escapes; a clipped field ends with a marker. Pure. */
export function displayField(text: string, max: number): string {
  const points = [...text];
  if (points.length <= max) return escapeText(text);
  return `${escapeText(points.slice(0, max).join(''))}${clipMarker(points.length - max)}`;
}

/** The argv as one display line: each argument's head shell-quoted, the line capped (see commandDisplay). Pure. */
export function formatCommand(argv: readonly string[]): string {
  return commandDisplay(argv).text;
}

/**
 * The argv as one display line and whether anything was left out: each argument shows at most
 * DISPLAY_LIMITS.arg code points (`…[N more characters]`), and arguments stop once the line
 * would pass DISPLAY_LIMITS.command characters or DISPLAY_LIMITS.args arguments (the program,
 * argv[0], is always shown). Pure.
 */
export function commandDisplay(argv: readonly string[]): { text: string; shortened: boolean } {
  let text = '';
  let shortened = false;
  let shown = 0;
  for (const arg of argv) {
    const points = [...arg];
    const clipped = points.length > DISPLAY_LIMITS.arg;
    const piece = clipped ? `${shellQuote(points.slice(0, DISPLAY_LIMITS.arg).join(''))}…[${plural(points.length - DISPLAY_LIMITS.arg, 'more character')}]` : shellQuote(arg);
    const next = shown === 0 ? piece : `${text} ${piece}`;
    if (shown > 0 && (shown >= DISPLAY_LIMITS.args || [...next].length > DISPLAY_LIMITS.command)) break;
    text = next;
    shown += 1;
    shortened ||= clipped;
  }
  const hidden = argv.length - shown;
  if (hidden > 0) return { text: `${text} …[${plural(hidden, 'more argument')} not shown]`, shortened: true };
  return { text, shortened };
}

/** Time left, rounded up: `45 sec`, `1 second`, `1 min 30 sec`, `2 minutes`, or `expired`. Pure. */
export function formatRemaining(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return 'expired';
  const total = Math.ceil(ms / 1000);
  if (total === 1) return '1 second';
  if (total < 60) return `${total} sec`;
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  if (seconds === 0) return minutes === 1 ? '1 minute' : `${minutes} minutes`;
  return `${minutes} min ${seconds} sec`;
}

/**
 * Renders the whole request; `now` (epoch ms) fixes the time-left text. Order: question and
 * reason, secrets, warnings, then the long parts (command, paths, scope, requester), so what
 * decides the answer is on screen even when the dialog cannot show it all. Pure.
 */
export function renderPrompt(prompt: ApprovalPrompt, opts: { now: number }): RenderedPrompt {
  const operation = knownOperation(prompt.operation);
  const head = [question(prompt, operation), '', "Reason (the agent's own words):", `  ${displayField(prompt.reason, DISPLAY_LIMITS.reason)}`];
  const tail = [...detailLines(prompt, operation), ...footerLines(prompt, opts.now)];
  // Lists shrink first (their markers say how many are hidden), then the text is cut.
  let secretsShown: number = DISPLAY_LIMITS.secrets;
  let warningsShown: number = DISPLAY_LIMITS.warnings;
  const assemble = () => [...head, '', ...secretLines(prompt, operation, secretsShown), ...warningLines(prompt, warningsShown), ...tail];
  let lines = assemble();
  while (textLength(lines) > DISPLAY_LIMITS.total && (secretsShown > MIN_LISTED || warningsShown > MIN_LISTED)) {
    if (secretsShown > MIN_LISTED && secretsShown >= warningsShown) secretsShown = Math.max(MIN_LISTED, Math.floor(secretsShown / 2));
    else warningsShown = Math.max(MIN_LISTED, Math.floor(warningsShown / 2));
    lines = assemble();
  }
  return { title: PROMPT_TITLES[knownOperation(prompt.operation)], lines: capLines(lines, DISPLAY_LIMITS.total) };
}

/** Entries a list keeps when the prompt is over its total. */
const MIN_LISTED = 3;

/** Where the whole request can be read when the prompt shortened the command (a command that exists, as written). */
export function fullCommandNote(id: string): string {
  return `  (shortened; the full command is in the audit log under request ${displayField(String(id), DISPLAY_LIMITS.alias)}: agent-secret audit --json --since 1h)`;
}

// A logical name of the user config's names: comes first, in the human's own words.
function nameOf(secret: { name?: string | undefined }): string {
  return secret.name === undefined ? '' : `${displayField(secret.name, DISPLAY_LIMITS.alias)} → `;
}

function secretLines(prompt: ApprovalPrompt, operation: PromptOperation, max: number): string[] {
  const n = prompt.secrets.length;
  if (operation === 'approver_test') return ['Secrets: none. This is a test: nothing is read from 1Password and nothing runs.'];
  const lines =
    operation === 'item_describe'
      ? [
          n === 1 ? 'Item:' : `Items (${n}):`,
          ...listed(
            prompt.secrets.map((s) => `  ${displayField(s.ref, DISPLAY_LIMITS.ref)} (${identityLabel(s)})`),
            max,
            (hidden) => `  …[${hidden} more item${hidden === 1 ? '' : 's'} not shown; deny if you did not expect this many]`,
          ),
        ]
      : [
          ...(n === 0 && Array.isArray(prompt.templates) && prompt.templates.length > 0 ? [] : [`Secrets (${n}):`]),
          ...listed(
            prompt.secrets.map((s) => `  ${displayField(s.alias, DISPLAY_LIMITS.alias)} = ${nameOf(s)}${displayField(s.ref, DISPLAY_LIMITS.ref)} (${identityLabel(s)})${asFile(s)}`),
            max,
            (hidden) => `  …[${hidden} more secret${hidden === 1 ? '' : 's'} not shown; deny if you did not expect this many]`,
          ),
          ...templateLines(prompt, max),
        ];
  if (prompt.override_env && prompt.overridden_aliases.length > 0) {
    const shown = prompt.overridden_aliases.slice(0, DISPLAY_LIMITS.overridden).map((a) => displayField(a, DISPLAY_LIMITS.alias));
    const hidden = prompt.overridden_aliases.length - shown.length;
    lines.push(`Will replace existing variables: ${shown.join(', ')}${hidden > 0 ? ` …[${hidden} more]` : ''}`);
  }
  // Names only: the values are the env file's, never shown. Absent in a prompt from an older client.
  const plainEnv = Array.isArray(prompt.plain_env) ? prompt.plain_env : [];
  if (plainEnv.length > 0) {
    const shown = plainEnv.slice(0, DISPLAY_LIMITS.plainEnv).map((a) => displayField(a, DISPLAY_LIMITS.alias));
    const hidden = plainEnv.length - shown.length;
    lines.push(`Env file also sets (${plainEnv.length}, not secrets): ${shown.join(', ')}${hidden > 0 ? ` …[${hidden} more]` : ''}`);
  }
  return lines;
}

// " as a file" and how: a named pipe with its read limit, and the file's name when it is not the alias.
function asFile(secret: { alias: string; delivery?: unknown; file?: { name: string; mode: string; max_reads: number | null } | null }): string {
  if (secret.delivery !== 'file' || typeof secret.file !== 'object' || secret.file === null) return '';
  return ` as a file${fileDetail(secret.file, secret.alias)}`;
}

function fileDetail(file: { name: string; mode: string; max_reads: number | null }, alias: string): string {
  const parts = [
    ...(file.name === alias ? [] : [`named ${displayField(String(file.name), DISPLAY_LIMITS.alias)}`]),
    ...(file.mode === 'fifo' ? [`a named pipe, ${file.max_reads === null ? 'unlimited reads' : `${reads(file.max_reads)} at most`}`] : []),
  ];
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

// Each template: the file it renders, its path and content hash, then every reference it uses.
function templateLines(prompt: ApprovalPrompt, max: number): string[] {
  const templates = Array.isArray(prompt.templates) ? prompt.templates : [];
  if (templates.length === 0) return [];
  const lines = [`Templates rendered into files (${templates.length}):`];
  for (const t of templates.slice(0, max)) {
    const hash = typeof t.sha256 === 'string' ? t.sha256.slice(0, 12) : '?';
    lines.push(`  ${displayField(t.alias, DISPLAY_LIMITS.alias)} = ${displayField(t.path, DISPLAY_LIMITS.path)} (sha256 ${displayField(hash, 12)}…) as a file${fileDetail(t.file, t.alias)}`);
    lines.push(
      ...listed(
        t.refs.map((ref) => `    uses ${displayField(ref, DISPLAY_LIMITS.ref)} (${templateRefLabel(ref, t.account)})`),
        max,
        (hidden) => `    …[${hidden} more reference${hidden === 1 ? '' : 's'} not shown; deny if you did not expect this many]`,
      ),
    );
  }
  if (templates.length > max) lines.push(`  …[${templates.length - max} more template${templates.length - max === 1 ? '' : 's'} not shown; deny if you did not expect this many]`);
  return lines;
}

function warningLines(prompt: ApprovalPrompt, max: number): string[] {
  if (prompt.warnings.length === 0) return [];
  return [
    '',
    'Warnings:',
    ...listed(
      prompt.warnings.map((w) => `  ! ${displayField(w, DISPLAY_LIMITS.warning)}`),
      max,
      (hidden) => `  ! …[${hidden} more warning${hidden === 1 ? '' : 's'} not shown]`,
    ),
  ];
}

// The long parts: command, executable, directory, accounts, profile, config and scope.
function detailLines(prompt: ApprovalPrompt, operation: PromptOperation): string[] {
  const accounts = [...new Set([...prompt.secrets.map((s) => identityLabel(s)), ...(Array.isArray(prompt.templates) ? prompt.templates : []).flatMap((t) => t.refs.map((ref) => templateRefLabel(ref, t.account)))])];
  const command = commandDisplay(prompt.command);
  // An exec is planned by the daemon; a session's profile and config are the client's word.
  const reported = operation === 'session_create' ? ' (reported by the caller)' : '';
  return [
    '',
    `Command: ${command.text}`,
    ...(command.shortened ? [fullCommandNote(prompt.id)] : []),
    `Executable: ${displayField(prompt.executable, DISPLAY_LIMITS.path)}`,
    `Working directory: ${displayField(prompt.cwd, DISPLAY_LIMITS.path)}`,
    `${accounts.length === 1 ? 'Account' : 'Accounts'}: ${accounts.length === 0 ? '(none)' : accounts.join(', ')}`,
    `Profile: ${prompt.profile === null ? '(none: one-off secrets)' : `${displayField(prompt.profile, DISPLAY_LIMITS.profile)}${reported}`}`,
    // The project file that chose the profile and accounts (the path is agent-controlled: escaped).
    ...(typeof prompt.config_path === 'string' ? [`Config: ${displayField(prompt.config_path, DISPLAY_LIMITS.path)}${reported}`] : []),
    ...scopeLines(prompt, operation),
  ];
}

function footerLines(prompt: ApprovalPrompt, now: number): string[] {
  const remaining = formatRemaining(Date.parse(prompt.expires_at) - now);
  return [
    '',
    // Without peer credentials the pid is the caller's word; the ancestors are read for it.
    `Requested by (pid reported by the caller): ${formatChain(prompt)}`,
    // A registered agent's name: the daemon checked its token (names are letters, digits, . _ -).
    ...(typeof prompt.agent === 'string' ? [`Agent: ${displayField(prompt.agent, DISPLAY_LIMITS.profile)} (registered token)`] : []),
    `Expires: ${remaining === 'expired' ? 'expired' : `in ${remaining}`} (request ttl ${formatTtl(prompt.ttl_seconds)})`,
    ...(prompt.queue.waiting > 0 ? [`Other requests waiting: ${prompt.queue.waiting}`] : []),
    ...identicalLines(prompt),
  ];
}

// Characters of the text the lines make (joined with line breaks), in code points.
function textLength(lines: readonly string[]): number {
  return lines.reduce((sum, line) => sum + [...line].length + 1, 0);
}

// Keeps whole lines while they fit in `max` characters; a cut ends with a line that says so.
function capLines(lines: readonly string[], max: number): string[] {
  if (textLength(lines) <= max) return [...lines];
  const marker = `…[the rest of this request is not shown: the prompt is capped at ${max} characters; deny if you cannot judge it]`;
  const kept: string[] = [];
  let used = [...marker].length + 1;
  for (const line of lines) {
    const size = [...line].length + 1;
    if (used + size > max) break;
    kept.push(line);
    used += size;
  }
  return [...kept, marker];
}

/** The rendered prompt as one text block (lines joined with `\n`). Pure. */
export function renderPromptText(prompt: ApprovalPrompt, opts: { now: number }): string {
  return renderPrompt(prompt, opts).lines.join('\n');
}

// An operation this version does not know is shown as the broadest one it knows (exec), never hidden.
function knownOperation(operation: unknown): PromptOperation {
  return operation === 'item_describe' || operation === 'session_create' || operation === 'approver_test' ? operation : 'exec';
}

function question(prompt: ApprovalPrompt, operation: PromptOperation): string {
  // Every value resolved: secrets (env or file) and each reference a template uses.
  const n = prompt.secrets.length + (Array.isArray(prompt.templates) ? prompt.templates.reduce((sum, t) => sum + t.refs.length, 0) : 0);
  const these = n === 1 ? 'this secret' : `these ${n} secrets`;
  switch (operation) {
    case 'exec':
      return `Allow this command to use ${these}?`;
    case 'item_describe':
      return 'Allow this command to read the field names (never the values) of this 1Password item?';
    case 'approver_test':
      return 'Is this how agent-secret asks you? Answer as you like: the answer is only reported back.';
    case 'session_create': {
      const session = prompt.session;
      if (session === undefined) return `Allow a session to read ${these}? (The session details are missing: deny.)`;
      return `Allow ${boundProcess(session.binding)} to read ${these} up to ${times(session.max_reads)} in the next ${formatSeconds(session.ttl_seconds)}?`;
    }
  }
}

function scopeLines(prompt: ApprovalPrompt, operation: PromptOperation): string[] {
  switch (operation) {
    case 'exec':
      return [
        `Scope: ${prompt.allows_reusable ? 'same exact command only' : 'this run only'}`,
        // Only an explicit false: a prompt without the field (an older client) says nothing new.
        ...(prompt.mask === false ? ["Output: NOT masked (--no-mask, the profile's mask: false, or output to a terminal): the values can appear in what the command prints"] : []),
      ];
    case 'item_describe':
      return ['Scope: one read of field names, types and sections; every value is dropped'];
    case 'approver_test':
      return ['Scope: none; the answer is reported back to agent-secret approver test'];
    case 'session_create': {
      const session = prompt.session;
      if (session === undefined) return ['Scope: one session (details missing)'];
      return [
        `Scope: one session: up to ${reads(session.max_reads)} within ${formatSeconds(session.ttl_seconds)} of approval, from the bound process and this directory only`,
        `Bound to: ${boundProcess(session.binding)}`,
      ];
    }
  }
}

// The binding is daemon-made but holds process names and paths the agent chose: escaped and clipped.
function boundProcess(binding: string): string {
  const text = typeof binding === 'string' ? binding.replace(/^\s*bound to\s+/i, '') : '';
  return text.trim() === '' ? 'the bound process' : displayField(text, DISPLAY_LIMITS.binding);
}

function times(count: number): string {
  if (!Number.isSafeInteger(count) || count < 0) return '? times';
  return count === 1 ? 'once' : `${count} times`;
}

function reads(count: number): string {
  if (!Number.isSafeInteger(count) || count < 0) return '? reads';
  return count === 1 ? '1 read' : `${count} reads`;
}

function formatSeconds(seconds: number): string {
  return Number.isFinite(seconds) && seconds > 0 ? formatRemaining(seconds * 1000) : '? seconds';
}

function formatChain(prompt: ApprovalPrompt): string {
  const chain = prompt.requester.chain;
  if (chain.length === 0) return `pid ${formatPid(prompt.requester.pid)}`;
  const shown = chain.slice(0, DISPLAY_LIMITS.chain).map((p) => `${displayField(p.name, DISPLAY_LIMITS.processName)} (pid ${formatPid(p.pid)})`);
  return chain.length > DISPLAY_LIMITS.chain ? `${shown.join(' ← ')} ← …` : shown.join(' ← ');
}

function formatPid(pid: number): string {
  return Number.isSafeInteger(pid) ? String(pid) : '?';
}

/**
 * Where a secret comes from, in words: a 1Password account as before (`default account`, or its
 * name), `Bitwarden source NAME` / `Bitwarden default source`, or the provider program's scheme
 * with the account it is told. A prompt from an older client has no provider: 1Password.
 */
// A template reference's provider and identity (the template's account is for its op:// references).
function templateRefLabel(ref: string, account: string | null): string {
  return identityLabel({ provider: schemeOf(ref) ?? 'op', account: identityOf(ref, null, account) });
}

function identityLabel(secret: { provider?: unknown; account: string | null }): string {
  const provider = typeof secret.provider === 'string' ? secret.provider : 'op';
  const name = secret.account === null ? null : displayField(secret.account, DISPLAY_LIMITS.account);
  if (provider === 'op') return name ?? 'default account';
  if (provider === 'bws') return name === null ? 'Bitwarden default source' : `Bitwarden source ${name}`;
  const scheme = displayField(provider, DISPLAY_LIMITS.account);
  return name === null ? `provider ${scheme}` : `provider ${scheme}, account ${name}`;
}

function listed(lines: string[], max: number, more: (hidden: number) => string): string[] {
  return lines.length <= max ? lines : [...lines.slice(0, max), more(lines.length - max)];
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function clipMarker(hidden: number): string {
  return `…[clipped: ${hidden} more character${hidden === 1 ? '' : 's'}]`;
}

