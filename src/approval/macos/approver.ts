// The macOS approver: the JXA dialog, then — when the user config allows it and this Mac has
// it — Touch ID, so a click synthesized by another process is not enough. Loaded lazily by
// select.ts on darwin only. Every failure is a deny; no answer by the deadline is a timeout.

import { allowAllLabel, denyAllLabel, offersAll } from '../answer-all.js';
import { checkReuse, offersReuse, reuseChoices } from '../reuse-choice.js';
import { DENY_REASONS, type ApprovalPrompt, type Approver, type DecideOptions, type Decision, type ReuseGrant } from '../types.js';
import { buildDialogScript } from './dialog-script.js';
import { runDialog, type DialogResult } from './dialog.js';
import { loadTouchId, TOUCH_ID_REASON, type TouchIdGate } from './touch-id.js';

export interface MacosApproverOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** `touch_id` from the user config. */
  touchId: boolean;
  now?: () => number;
  /** Test seams: the dialog runner and the Touch ID gate. */
  runDialog?: (script: string, opts: { deadline: number; signal?: AbortSignal | undefined }) => Promise<DialogResult>;
  loadTouchId?: () => Promise<TouchIdGate | null>;
}

/** Creates the macOS dialog (+ Touch ID) approver. */
export function createMacosApprover(options: MacosApproverOptions): Approver {
  const now = options.now ?? Date.now;
  const show =
    options.runDialog ??
    ((script: string, opts: { deadline: number; signal?: AbortSignal | undefined }) =>
      runDialog(script, { env: options.env, deadline: opts.deadline, signal: opts.signal, now }));
  const gate = options.loadTouchId ?? (() => loadTouchId('darwin'));
  return {
    name: 'macos',
    async decide(prompt: ApprovalPrompt, opts: DecideOptions): Promise<Decision> {
      if (now() >= opts.deadline) return { kind: 'timeout' };
      const script = buildDialogScript(prompt, { now: now(), deadline: opts.deadline });
      const result = await show(script, { deadline: opts.deadline, signal: opts.signal });
      if (result.kind === 'timeout') return { kind: 'timeout' };
      if (result.kind === 'deny') return { kind: 'deny', reason: DENY_REASONS.user };
      if (result.kind === 'failed') return { kind: 'failed', reason: result.reason };
      // "Allow all" / "Deny all": only the labels offered for this prompt's count.
      if (result.kind === 'all' && !chosenAll(prompt, result.answer, result.label)) return { kind: 'failed', reason: DENY_REASONS.malformed };
      if (result.kind === 'all' && result.answer === 'deny') return { kind: 'deny', reason: DENY_REASONS.user, scope: 'all' };
      let reuse: ReuseGrant | undefined;
      if (result.kind === 'allow_again') {
        const chosen = chosenReuse(prompt, result.duration, result.uses);
        if (chosen === null) return { kind: 'failed', reason: DENY_REASONS.malformed };
        reuse = chosen;
      }
      const approve: Decision = reuse !== undefined ? { kind: 'approve', reuse } : result.kind === 'all' ? { kind: 'approve', scope: 'all' } : { kind: 'approve' };
      if (now() > opts.deadline) return { kind: 'timeout' };
      if (!options.touchId) return approve;
      const touchId = await gate();
      if (touchId === null || !touchId.available()) return approve;
      const confirmed = await beforeDeadline(touchId.confirm(TOUCH_ID_REASON), opts.deadline - now());
      if (confirmed === 'late') return { kind: 'timeout' };
      if (!confirmed) return { kind: 'deny', reason: DENY_REASONS.touchId };
      return now() > opts.deadline ? { kind: 'timeout' } : approve;
    },
  };
}

/** The labels chosen after "Allow again…" → the grant, when the prompt offers reuse and both are offered labels. Pure. */
export function chosenReuse(prompt: ApprovalPrompt, duration: string, uses: string): ReuseGrant | null {
  if (!offersReuse(prompt)) return null;
  const choices = reuseChoices(prompt.ttl_seconds);
  const ttlSeconds = choices.durations.find((d) => d.label === duration)?.value;
  const maxUses = choices.uses.find((u) => u.label === uses)?.value;
  if (ttlSeconds === undefined || maxUses === undefined) return null;
  return checkReuse({ ttlSeconds, maxUses }, prompt.ttl_seconds);
}

/** True when the "all" answer's label is the one offered for this prompt. Pure. */
export function chosenAll(prompt: ApprovalPrompt, answer: 'allow' | 'deny', label: string): boolean {
  return offersAll(prompt) && label === (answer === 'allow' ? allowAllLabel(prompt) : denyAllLabel(prompt));
}

// Touch ID may never answer (for example without an app bundle); the deadline still holds.
function beforeDeadline(confirm: Promise<boolean>, ms: number): Promise<boolean | 'late'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('late'), Math.max(0, ms));
    confirm.then(
      (ok) => {
        clearTimeout(timer);
        resolve(ok);
      },
      () => {
        clearTimeout(timer);
        resolve(false);
      },
    );
  });
}
