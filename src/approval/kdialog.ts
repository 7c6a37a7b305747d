// The kdialog approver (KDE). kdialog expands `\n` and `\\` in its text and Qt guesses between
// plain and rich text, so every text is forced to rich text (`<qt>`), HTML-escaped, and its
// backslashes doubled. kdialog cannot name a default button for a message box (and recent
// KMessageBox versions focus the first, approving one), so Return must lead nowhere: the request
// dialog only offers "Allow..." (which opens a choice) or "Deny"; the choice is a list with Deny
// selected (Return denies); "Allow again" lists durations × run counts with the default selected.
// When identical requests wait behind this one, the choice also lists "Allow all N once" and
// "Deny all N".
// kdialog has no timeout: it is killed at the deadline.

import { createDialogApprover, firstLine, reuseDialogLines, type DialogAnswer, type DialogExit, type DialogFlow, type DialogStage } from './dialog-approver.js';
import { allowAllLabel, denyAllLabel, offersAll } from './answer-all.js';
import { renderPrompt } from './display.js';
import { offersReuse, reuseChoices, usesLabel } from './reuse-choice.js';
import type { ApprovalPrompt, Approver } from './types.js';

/** The choice list's text. */
export const KDIALOG_CHOICE_TEXT = 'Your answer to this request (Deny is selected):';

/** The exact kdialog argv (without the program) for the request dialog: Allow... or Deny. Pure. */
export function buildKdialogArgs(prompt: ApprovalPrompt, opts: { now: number }): string[] {
  const { title, lines } = renderPrompt(prompt, { now: opts.now });
  return ['--title', title, '--warningcontinuecancel', toKdialogText(lines), '--continue-label', 'Allow...', '--cancel-label', 'Deny'];
}

/** The exact kdialog argv of the choice list: Deny (selected), Allow once, for exec Allow again, and the answers for all when identical requests wait. Pure. */
export function buildKdialogChoiceArgs(prompt: ApprovalPrompt, opts: { now: number }): string[] {
  const { title } = renderPrompt(prompt, { now: opts.now });
  const reusable = offersReuse(prompt);
  return [
    '--title',
    title,
    '--radiolist',
    toKdialogText([KDIALOG_CHOICE_TEXT]),
    'deny',
    'Deny',
    'on',
    'once',
    reusable ? 'Allow once' : 'Allow',
    'off',
    ...(reusable ? ['again', 'Allow this exact request again for a while...', 'off'] : []),
    ...(offersAll(prompt) ? ['all-once', allowAllLabel(prompt), 'off', 'deny-all', denyAllLabel(prompt), 'off'] : []),
  ];
}

/** The exact kdialog argv of the reuse list: every duration × run count, the default (request ttl, 3 runs) selected. Pure. */
export function buildKdialogReuseArgs(prompt: ApprovalPrompt, opts: { now: number }): string[] {
  const { title } = renderPrompt(prompt, { now: opts.now });
  const choices = reuseChoices(prompt.ttl_seconds);
  const rows = choices.durations.flatMap((d) =>
    choices.uses.map((u) => [
      reuseTag(d.value, u.value),
      `for ${d.label}, ${usesLabel(u.value)}`,
      d.value === choices.defaults.ttlSeconds && u.value === choices.defaults.maxUses ? 'on' : 'off',
    ]),
  );
  return ['--title', title, '--radiolist', toKdialogText(reuseDialogLines(prompt)), ...rows.flat()];
}

/** Lines → kdialog rich text that shows them literally, one per line. Pure. */
export function toKdialogText(lines: readonly string[]): string {
  const html = lines.map((line) => htmlEscape(line).replace(/^ +/, (spaces) => '&nbsp;'.repeat(spaces.length))).join('<br>');
  return `<qt>${html}</qt>`.replaceAll('\\', '\\\\');
}

/** Request dialog: 0 Allow... (go to the choice), 2 Deny or closed (1 is treated the same); anything else is unexpected. Pure. */
export function readKdialogRequest(exit: DialogExit): DialogAnswer {
  if (exit.exitCode === 0) return { kind: 'next', stage: 'choice' };
  if (exit.exitCode === 1 || exit.exitCode === 2) return { kind: 'deny' };
  return { kind: 'unexpected', exitCode: exit.exitCode };
}

/** Choice list: exit 0 and the chosen tag, exit 1 cancelled. Pure. */
export function readKdialogChoice(exit: DialogExit, prompt: ApprovalPrompt): DialogAnswer {
  if (exit.exitCode === 1) return { kind: 'deny' };
  if (exit.exitCode !== 0) return { kind: 'unexpected', exitCode: exit.exitCode };
  const tag = firstLine(exit.stdout).trim();
  if (tag === 'deny') return { kind: 'deny' };
  if (tag === 'once') return { kind: 'allow' };
  if (tag === 'again' && offersReuse(prompt)) return { kind: 'next', stage: 'reuse' };
  if (tag === 'all-once' && offersAll(prompt)) return { kind: 'allow_all' };
  if (tag === 'deny-all' && offersAll(prompt)) return { kind: 'deny_all' };
  return { kind: 'malformed' };
}

/** Reuse list: exit 0 and one of the offered tags (`<seconds>s-<uses>`), exit 1 cancelled (a deny). Pure. */
export function readKdialogReuse(exit: DialogExit, prompt: ApprovalPrompt): DialogAnswer {
  if (exit.exitCode === 1) return { kind: 'deny' };
  if (exit.exitCode !== 0) return { kind: 'unexpected', exitCode: exit.exitCode };
  const tag = firstLine(exit.stdout).trim();
  const choices = reuseChoices(prompt.ttl_seconds);
  for (const d of choices.durations) {
    for (const u of choices.uses) {
      if (tag === reuseTag(d.value, u.value)) return { kind: 'allow_reuse', reuse: { ttlSeconds: d.value, maxUses: u.value } };
    }
  }
  return { kind: 'malformed' };
}

/** The kdialog dialog flow: request → choice → (exec, Allow again) reuse. */
export const KDIALOG_FLOW: DialogFlow = {
  args: (stage: DialogStage, prompt, opts) =>
    stage === 'request' ? buildKdialogArgs(prompt, opts) : stage === 'choice' ? buildKdialogChoiceArgs(prompt, opts) : buildKdialogReuseArgs(prompt, opts),
  read: (stage: DialogStage, exit, prompt) =>
    stage === 'request' ? readKdialogRequest(exit) : stage === 'choice' ? readKdialogChoice(exit, prompt) : readKdialogReuse(exit, prompt),
};

/** Creates the kdialog approver for the binary at `file`. */
export function createKdialogApprover(file: string, options: { env: Readonly<Record<string, string | undefined>>; now?: () => number }): Approver {
  return createDialogApprover({ name: 'kdialog', file, flow: KDIALOG_FLOW, ...options });
}

function reuseTag(seconds: number, uses: number): string {
  return `${seconds}s-${uses}`;
}

function htmlEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}
