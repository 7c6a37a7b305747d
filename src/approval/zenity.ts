// The zenity approver (GNOME and most Linux desktops). The request dialog is a question with
// `--no-markup` (zenity neither parses Pango markup nor expands backslash escapes then), Deny as
// the default button (`--default-cancel`: Return denies) and zenity's own timeout at the
// deadline. Exit 0 = Allow (once), 1 = Deny, 5 = timeout. For exec, an extra button "Allow
// again for a while..." (zenity prints its label and exits 1) opens a small form with two
// lists — how long, how many runs — whose Cancel is Deny. When identical requests wait behind
// this one, two more buttons answer them all: "Allow all N once" and "Deny all N".

import { createDialogApprover, firstLine, reuseDialogLines, secondsLeft, type DialogAnswer, type DialogExit, type DialogFlow, type DialogStage } from './dialog-approver.js';
import { allowAllLabel, denyAllLabel, offersAll } from './answer-all.js';
import { renderPrompt } from './display.js';
import { offersReuse, reuseChoices, type ReuseChoices } from './reuse-choice.js';
import type { ApprovalPrompt, Approver } from './types.js';

/** Dialog width in pixels. */
export const ZENITY_WIDTH = 720;

/** The extra button of an exec prompt (ASCII: zenity prints it back in the locale's charset). */
export const ZENITY_AGAIN_LABEL = 'Allow again for a while...';

/** Field separator of the reuse form's answer. */
const SEPARATOR = '|';

/** The exact zenity argv (without the program) for the request dialog. Pure. */
export function buildZenityArgs(prompt: ApprovalPrompt, opts: { now: number; deadline: number }): string[] {
  const { title, lines } = renderPrompt(prompt, { now: opts.now });
  const reusable = offersReuse(prompt);
  return [
    '--question',
    '--no-markup',
    '--default-cancel',
    '--ok-label',
    reusable ? 'Allow once' : 'Allow',
    '--cancel-label',
    'Deny',
    ...(reusable ? ['--extra-button', ZENITY_AGAIN_LABEL] : []),
    ...(offersAll(prompt) ? ['--extra-button', allowAllLabel(prompt), '--extra-button', denyAllLabel(prompt)] : []),
    '--title',
    title,
    '--text',
    lines.join('\n'),
    '--timeout',
    String(secondsLeft(opts.now, opts.deadline)),
    '--width',
    String(ZENITY_WIDTH),
  ];
}

/** The exact zenity argv of the reuse form: two lists, defaults first (an untouched list means its default). Pure. */
export function buildZenityReuseArgs(prompt: ApprovalPrompt, opts: { now: number; deadline: number }): string[] {
  const { title } = renderPrompt(prompt, { now: opts.now });
  const choices = reuseChoices(prompt.ttl_seconds);
  return [
    '--forms',
    '--title',
    title,
    '--text',
    [...reuseDialogLines(prompt), `Untouched lists mean ${choices.durations[0]?.label ?? ''} and ${choices.defaults.maxUses} runs.`].join('\n'),
    '--separator',
    SEPARATOR,
    '--add-combo',
    'Allow again for',
    '--combo-values',
    choices.durations.map((d) => d.label).join(SEPARATOR),
    '--add-combo',
    'Runs in total, this one included',
    '--combo-values',
    choices.uses.map((u) => u.label).join(SEPARATOR),
    '--ok-label',
    'Allow again',
    '--cancel-label',
    'Deny',
    '--timeout',
    String(secondsLeft(opts.now, opts.deadline)),
  ];
}

/** zenity exit status → answer for the request dialog without the extra button; anything else (255, a crash) is unexpected. Pure. */
export function mapZenityExit(exitCode: number): 'allow' | 'deny' | 'timeout' | null {
  if (exitCode === 0) return 'allow';
  if (exitCode === 1) return 'deny';
  if (exitCode === 5) return 'timeout';
  return null;
}

/** What the request dialog's exit status and output mean. Pure. */
export function readZenityRequest(exit: DialogExit, prompt: ApprovalPrompt): DialogAnswer {
  const mapped = mapZenityExit(exit.exitCode);
  if (mapped === null) return { kind: 'unexpected', exitCode: exit.exitCode };
  if (mapped !== 'deny') return { kind: mapped };
  // Exit 1 is Deny (nothing printed) or an extra button (its label printed).
  const printed = firstLine(exit.stdout);
  if (printed === '') return { kind: 'deny' };
  if (printed === ZENITY_AGAIN_LABEL && offersReuse(prompt)) return { kind: 'next', stage: 'reuse' };
  if (offersAll(prompt) && printed === allowAllLabel(prompt)) return { kind: 'allow_all' };
  if (offersAll(prompt) && printed === denyAllLabel(prompt)) return { kind: 'deny_all' };
  return { kind: 'malformed' };
}

/** What the reuse form's exit status and output (`<duration>|<uses>`) mean. Pure. */
export function readZenityReuse(exit: DialogExit, prompt: ApprovalPrompt): DialogAnswer {
  const mapped = mapZenityExit(exit.exitCode);
  if (mapped === null) return { kind: 'unexpected', exitCode: exit.exitCode };
  if (mapped !== 'allow') return { kind: mapped };
  const fields = firstLine(exit.stdout).split(SEPARATOR);
  if (fields.length !== 2) return { kind: 'malformed' };
  const choices = reuseChoices(prompt.ttl_seconds);
  const ttlSeconds = pick(fields[0], choices.durations, choices.defaults.ttlSeconds);
  const maxUses = pick(fields[1], choices.uses, choices.defaults.maxUses);
  if (ttlSeconds === null || maxUses === null) return { kind: 'malformed' };
  return { kind: 'allow_reuse', reuse: { ttlSeconds, maxUses } };
}

/** The zenity dialog flow: request, then (exec, "Allow again...") the reuse form. */
export const ZENITY_FLOW: DialogFlow = {
  args: (stage: DialogStage, prompt, opts) => (stage === 'reuse' ? buildZenityReuseArgs(prompt, opts) : buildZenityArgs(prompt, opts)),
  read: (stage: DialogStage, exit, prompt) => (stage === 'reuse' ? readZenityReuse(exit, prompt) : stage === 'request' ? readZenityRequest(exit, prompt) : { kind: 'malformed' }),
};

/** Creates the zenity approver for the binary at `file`. */
export function createZenityApprover(file: string, options: { env: Readonly<Record<string, string | undefined>>; now?: () => number }): Approver {
  return createDialogApprover({ name: 'zenity', file, flow: ZENITY_FLOW, ...options });
}

// An untouched list prints nothing: its default. Otherwise exactly one of our labels.
function pick(field: string | undefined, options: ReuseChoices['durations'], fallback: number): number | null {
  const text = (field ?? '').trim();
  if (text === '') return fallback;
  return options.find((o) => o.label === text)?.value ?? null;
}
