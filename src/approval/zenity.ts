// The zenity approver (GNOME and most Linux desktops). `--no-markup` keeps the text literal
// (zenity neither parses Pango markup nor expands backslash escapes then); Deny is the default
// button; zenity's own timeout matches the deadline. Exit 0 = Allow, 1 = Deny, 5 = timeout.

import { createDialogApprover, secondsLeft, type DialogAnswer } from './dialog-approver.js';
import { renderPrompt } from './display.js';
import type { ApprovalPrompt, Approver } from './types.js';

/** Dialog width in pixels. */
export const ZENITY_WIDTH = 720;

/** The exact zenity argv (without the program) for one prompt. Pure. */
export function buildZenityArgs(prompt: ApprovalPrompt, opts: { now: number; deadline: number }): string[] {
  const { title, lines } = renderPrompt(prompt, { now: opts.now });
  return [
    '--question',
    '--no-markup',
    '--default-cancel',
    '--ok-label',
    'Allow',
    '--cancel-label',
    'Deny',
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

/** zenity exit status → answer; anything else (e.g. 255, a crash) is unexpected. Pure. */
export function mapZenityExit(exitCode: number): DialogAnswer | null {
  if (exitCode === 0) return 'allow';
  if (exitCode === 1) return 'deny';
  if (exitCode === 5) return 'timeout';
  return null;
}

/** Creates the zenity approver for the binary at `file`. */
export function createZenityApprover(file: string, options: { env: Readonly<Record<string, string | undefined>>; now?: () => number }): Approver {
  return createDialogApprover({ name: 'zenity', file, buildArgs: buildZenityArgs, mapExit: mapZenityExit, ...options });
}
