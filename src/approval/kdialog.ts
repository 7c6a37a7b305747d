// The kdialog approver (KDE). kdialog expands `\n` and `\\` in its text and Qt guesses
// between plain and rich text, so the text is forced to rich text (`<qt>`), HTML-escaped, and
// its backslashes doubled. kdialog has no timeout: it is killed at the deadline. Exit 0 = Allow.

import { createDialogApprover, type DialogAnswer } from './dialog-approver.js';
import { renderPrompt } from './display.js';
import type { ApprovalPrompt, Approver } from './types.js';

/** The exact kdialog argv (without the program) for one prompt. Pure. */
export function buildKdialogArgs(prompt: ApprovalPrompt, opts: { now: number }): string[] {
  const { title, lines } = renderPrompt(prompt, { now: opts.now });
  return ['--title', title, '--warningyesno', toKdialogText(lines), '--yes-label', 'Allow', '--no-label', 'Deny'];
}

/** Lines → kdialog rich text that shows them literally, one per line. Pure. */
export function toKdialogText(lines: readonly string[]): string {
  const html = lines.map((line) => htmlEscape(line).replace(/^ +/, (spaces) => '&nbsp;'.repeat(spaces.length))).join('<br>');
  return `<qt>${html}</qt>`.replaceAll('\\', '\\\\');
}

/** kdialog exit status → answer: 0 yes, 1 no, 2 closed; anything else is unexpected. Pure. */
export function mapKdialogExit(exitCode: number): DialogAnswer | null {
  if (exitCode === 0) return 'allow';
  if (exitCode === 1 || exitCode === 2) return 'deny';
  return null;
}

/** Creates the kdialog approver for the binary at `file`. */
export function createKdialogApprover(file: string, options: { env: Readonly<Record<string, string | undefined>>; now?: () => number }): Approver {
  return createDialogApprover({ name: 'kdialog', file, buildArgs: buildKdialogArgs, mapExit: mapKdialogExit, ...options });
}

function htmlEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}
