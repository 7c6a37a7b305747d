// Runs the JXA dialog with /usr/bin/osascript (scrubbed environment, killed at the deadline)
// and parses what it prints. osascript's output is untrusted and never shown; anything but a
// clear "Allow"/"Allow once" (or "Allow again…" with two chosen labels) that did not give up is
// a deny or a timeout. The labels are matched against the offered choices by approver.ts.

import { buildDialogEnv, MACOS_BIN_DIRS, trustedHome } from '../approver-env.js';
import { runApproverProcess, type RunOutcome } from '../run-approver-process.js';
import { MACOS_AGAIN_BUTTON } from './dialog-script.js';

export const OSASCRIPT = '/usr/bin/osascript';

export type DialogResult =
  | { kind: 'allow' }
  /** "Allow again…" with the labels chosen in the two lists (not yet checked against the offer). */
  | { kind: 'allow_again'; duration: string; uses: string }
  | { kind: 'deny' }
  /** "Allow all N once" / "Deny all N" from the "More…" list (the label is checked against the prompt by approver.ts). */
  | { kind: 'all'; answer: 'allow' | 'deny'; label: string }
  | { kind: 'timeout' }
  | { kind: 'failed'; reason: string };

/** Parses osascript's stdout: our JSON answer, or an AppleScript record like `button returned:Allow, gave up:false`. Pure. */
export function parseDialogOutput(stdout: string): DialogResult {
  const text = stdout.trim();
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { kind: 'failed', reason: 'malformed approver output' };
    }
    if (typeof json !== 'object' || json === null) return { kind: 'failed', reason: 'malformed approver output' };
    const record = json as Record<string, unknown>;
    if (typeof record.error === 'number') return { kind: 'failed', reason: `dialog error ${Math.trunc(record.error)}` };
    if (record.button === MACOS_AGAIN_BUTTON && record.gaveUp === false) {
      if (typeof record.duration !== 'string' || typeof record.uses !== 'string') return { kind: 'failed', reason: 'malformed approver output' };
      return { kind: 'allow_again', duration: record.duration, uses: record.uses };
    }
    if (typeof record.button === 'string' && record.gaveUp === false) {
      if (/^Allow all \d{1,3} once$/.test(record.button)) return { kind: 'all', answer: 'allow', label: record.button };
      if (/^Deny all \d{1,3}$/.test(record.button)) return { kind: 'all', answer: 'deny', label: record.button };
    }
    return fromButton(record.button, record.gaveUp);
  }
  const match = /^button returned:(Allow|Deny|), gave up:(true|false)$/.exec(text) ?? /^button returned:(Allow|Deny)$/.exec(text);
  if (match === null) return { kind: 'failed', reason: 'malformed approver output' };
  return fromButton(match[1], match[2] === undefined ? false : match[2] === 'true');
}

/** Maps how osascript ended to a dialog result. Pure. */
export function dialogResultFromOutcome(outcome: RunOutcome): DialogResult {
  switch (outcome.kind) {
    case 'exited':
      return outcome.exitCode === 0 ? parseDialogOutput(outcome.stdout) : { kind: 'failed', reason: `approver exited ${outcome.exitCode}` };
    case 'signaled':
      return { kind: 'failed', reason: `approver killed by ${outcome.signal}` };
    case 'deadline':
      return { kind: 'timeout' };
    case 'aborted':
      return { kind: 'failed', reason: 'cancelled' };
    case 'overflow':
      return { kind: 'failed', reason: 'approver output too large' };
    case 'spawn_failed':
      return { kind: 'failed', reason: 'approver could not be started' };
  }
}

/** Shows the dialog script and waits for the answer (or the deadline). */
export async function runDialog(
  script: string,
  opts: { env: Readonly<Record<string, string | undefined>>; deadline: number; signal?: AbortSignal | undefined; now?: () => number },
): Promise<DialogResult> {
  const outcome = await runApproverProcess({
    file: OSASCRIPT,
    args: ['-l', 'JavaScript', '-e', script],
    env: buildDialogEnv(opts.env, { home: trustedHome(opts.env), path: MACOS_BIN_DIRS }),
    deadline: opts.deadline,
    signal: opts.signal,
    maxOutput: 64 * 1024,
    ...(opts.now === undefined ? {} : { now: opts.now }),
  });
  return dialogResultFromOutcome(outcome);
}

function fromButton(button: unknown, gaveUp: unknown): DialogResult {
  if (gaveUp === true) return { kind: 'timeout' };
  if (gaveUp !== false) return { kind: 'failed', reason: 'malformed approver output' };
  if (button === 'Allow' || button === 'Allow once') return { kind: 'allow' };
  if (button === 'Deny') return { kind: 'deny' };
  return { kind: 'failed', reason: 'malformed approver output' };
}
