// `agent-secret audit [verify]`: recent requests from the audit trail as a table or JSON, and the
// check of its hash chain. The trail holds no values, and only the summary fields (time,
// requester, command, profile, aliases, decision, outcome with why it failed, exit code) are
// ever printed.

import { filterRequests, OUTCOME_FILTERS, readAuditTrail, summarizeRequests, verifyAuditTrail } from '../../audit/index.js';
import type { AuditOutcome, RequestSummary, VerifyReport } from '../../audit/index.js';
import { AgentSecretError } from '../../core/errors.js';
import { auditLogPath } from '../../platform/dirs.js';
import { dirsInput, type CliContext } from '../context.js';
import { renderError } from '../render/error.js';
import { shellQuote, writeJson, writeLines } from '../render/output.js';

interface AuditOptions {
  since?: string;
  profile?: string;
  outcome?: string;
  limit?: string;
  json?: boolean;
}

const DEFAULT_LIMIT = 50;
const UNITS_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const BROKEN_HINT = 'the audit trail was modified after it was written; compare with a backup';
const DECISION_TEXT: Readonly<Record<string, string>> = {
  approved: 'approved',
  reused: 'reused approval',
  session: 'session read',
  denied: 'denied',
  approver_failed: 'approver failed',
  timed_out: 'timed out',
  unavailable: 'unavailable',
};
const OUTCOME_TEXT: Readonly<Record<string, string>> = { approved: 'approved', denied: 'denied', timed_out: 'timed out', failed: 'failed', pending: 'pending' };

/** Runs `audit` (no action) or `audit verify`. */
export async function runAudit(ctx: CliContext, action: string | undefined, options: AuditOptions): Promise<number> {
  if (action === undefined) return listRequests(ctx, options);
  if (action !== 'verify') {
    throw new AgentSecretError('usage.invalid', 'unknown audit action; the only one is verify', { hint: 'agent-secret audit verify, or agent-secret audit --help' });
  }
  const misplaced = (['since', 'profile', 'outcome', 'limit'] as const).find((key) => options[key] !== undefined);
  if (misplaced !== undefined) {
    throw new AgentSecretError('usage.invalid', `--${misplaced} is not used by audit verify`, { hint: 'agent-secret audit verify [--json]', details: { flag: `--${misplaced}` } });
  }
  return verify(ctx, options.json === true);
}

async function listRequests(ctx: CliContext, options: AuditOptions): Promise<number> {
  const filter = {
    ...(options.since === undefined ? {} : { sinceMs: Date.now() - parseSince(options.since) }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    ...(options.outcome === undefined ? {} : { outcome: parseOutcome(options.outcome) }),
    limit: options.limit === undefined ? DEFAULT_LIMIT : parseLimit(options.limit),
  };
  const snapshot = await readAuditTrail(auditLogPath(dirsInput(ctx)));
  // A FIFO, directory or symlink where a trail file belongs is not "no requests yet".
  const notFile = snapshot.notFiles[0];
  if (notFile !== undefined) {
    throw new AgentSecretError('check.failed', `cannot read the audit log: ${notFile} is not a regular file`, {
      hint: 'move it away (agent-secret refuses to write there too); agent-secret audit verify names every problem',
    });
  }
  const { requests, unreadable } = summarizeRequests(snapshot);
  const shown = filterRequests(requests, filter);
  if (unreadable > 0) {
    ctx.stderr.write(`agent-secret: note: ${unreadable} audit line${unreadable === 1 ? '' : 's'} could not be read; run agent-secret audit verify\n`);
  }
  if (options.json === true) {
    writeJson(ctx.stdout, { requests: shown });
    return 0;
  }
  if (shown.length === 0) {
    writeLines(ctx.stdout, [requests.length === 0 ? 'no requests in the audit log yet' : 'no requests match']);
    return 0;
  }
  writeLines(ctx.stdout, table(['TIME (UTC)', 'REQUESTER', 'DECISION', 'OUTCOME', 'EXIT', 'PROFILE / ALIASES', 'COMMAND'], shown.map(row)));
  return 0;
}

async function verify(ctx: CliContext, json: boolean): Promise<number> {
  const path = auditLogPath(dirsInput(ctx));
  const report = await verifyAuditTrail(path);
  const { broken, ...summary } = report;
  if (broken !== null) {
    const error = new AgentSecretError('check.failed', `the audit trail is broken: ${broken.message}`, {
      hint: BROKEN_HINT,
      details: { file: broken.file, ...(broken.line === null ? {} : { line: broken.line }) },
    });
    if (!json) throw error;
    const rendered = renderError(error, { debug: false });
    writeJson(ctx.stdout, { path, ...summary, broken, error: rendered.json.error });
    writeLines(ctx.stderr, rendered.lines);
    return rendered.exitCode;
  }
  if (json) {
    writeJson(ctx.stdout, { path, ...summary, broken: null });
    return 0;
  }
  writeLines(ctx.stdout, verifiedLines(path, report));
  // What limits the proof goes to stderr, so that the stdout of an intact trail stays the same shape.
  if (report.warnings.length > 0) writeLines(ctx.stderr, report.warnings.map((w) => `agent-secret: warning: ${w}`));
  return 0;
}

function verifiedLines(path: string, report: VerifyReport): string[] {
  if (report.history === 'empty' && report.unchained_lines === 0) return [`no audit events yet (${path})`];
  const files = report.files.length === 1 ? '1 file' : `${report.files.length} files`;
  const lines = [`audit trail intact: ${report.events} event${report.events === 1 ? '' : 's'} (seq ${report.first_seq ?? '-'}..${report.last_seq ?? '-'}) in ${files}`];
  const from = report.complete_from;
  if (from !== null) {
    const since = `complete from seq ${from.seq} (${from.time ?? 'time unknown'})`;
    lines.push(report.history === 'rotated_away' ? `${since}; history before seq ${from.seq} was rotated away (the record of it is intact)` : since);
  } else if (report.history === 'unprovable') {
    lines.push('completeness not provable: the oldest lines were written before rotations were recorded');
  }
  if (report.unchained_lines > 0) lines.push(`${report.unchained_lines} line(s) at the start predate the hash chain and are not protected by it`);
  if (report.last_hash !== null) lines.push(`last hash: ${report.last_hash}`);
  return lines;
}

function row(r: RequestSummary): string[] {
  const requester = r.agent !== null ? `agent ${r.agent}` : r.requester === null ? '-' : `${shellQuote(r.requester.name)} (${r.requester.pid})`;
  // A named secret reads as its alias and the name the human gave it: OPENAI_API_KEY(openai_key).
  const aliases = r.aliases.map((alias) => shellQuote(alias) + (Object.hasOwn(r.names, alias) ? `(${r.names[alias]})` : '')).join(',');
  return [
    r.time.slice(0, 19).replace('T', ' '),
    clip(requester, 24),
    decisionText(r),
    // A failure shows what failed and its error code, so an approved request that never ran is not read as a success.
    clip(r.error ?? OUTCOME_TEXT[r.outcome] ?? r.outcome, 44),
    r.exit_code === null ? '-' : String(r.exit_code),
    clip(`${r.profile === null ? '-' : shellQuote(r.profile)}: ${aliases}`, 36),
    clip(r.command.map(shellQuote).join(' '), 60),
  ];
}

// A policy's decisions name their rule: "allowed by rule ci-tests", "denied by rule no-prod".
function decisionText(r: RequestSummary): string {
  if (r.decision === null) return '-';
  const text = DECISION_TEXT[r.decision] ?? r.decision;
  if (r.decided_by === null) return text;
  if (r.decision === 'approved') return `allowed by ${r.decided_by}`;
  if (r.decision === 'denied') return r.decided_by === 'policy' || r.decided_by.startsWith('rule ') ? `denied by ${r.decided_by}` : `denied: ${r.decided_by}`;
  return `${text} (${r.decided_by})`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length)))
      .join('  ');
  return [line(header), ...rows.map(line)];
}

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

function parseSince(text: string): number {
  const match = /^([1-9][0-9]{0,5})([smhd])$/.exec(text.trim());
  if (match === null) {
    throw new AgentSecretError('usage.invalid', '--since takes a duration such as 30m, 1h or 2d', { hint: 'agent-secret audit --since 1h', details: { flag: '--since' } });
  }
  return Number(match[1]) * (UNITS_MS[match[2] as string] as number);
}

function parseLimit(text: string): number {
  if (!/^[1-9][0-9]{0,5}$/.test(text.trim())) {
    throw new AgentSecretError('usage.invalid', '--limit takes a whole number from 1', { hint: 'agent-secret audit --limit 20', details: { flag: '--limit' } });
  }
  return Number(text.trim());
}

function parseOutcome(text: string): AuditOutcome {
  const outcome = OUTCOME_FILTERS.find((o) => o === text.trim());
  if (outcome === undefined) {
    throw new AgentSecretError('usage.invalid', `--outcome takes one of ${OUTCOME_FILTERS.join(', ')}`, { hint: 'agent-secret audit --outcome denied', details: { flag: '--outcome' } });
  }
  return outcome;
}
