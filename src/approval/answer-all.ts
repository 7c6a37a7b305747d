// "Answer all identical requests at once": when requests identical to the one on screen wait
// in the queue, an approver may offer to allow each of them once, or to deny them all, with one
// answer. The count comes from the broker (ApprovalPrompt.identical_waiting); the labels are our
// own text and name the total, so a button can only ever mean the number the human saw. Pure.

import type { ApprovalPrompt } from './types.js';

/** Identical requests waiting behind this prompt, 0 for a prompt without the field (an older broker) or a bad count. Pure. */
export function identicalWaiting(prompt: Partial<Pick<ApprovalPrompt, 'identical_waiting'>>): number {
  const count: unknown = prompt.identical_waiting;
  return typeof count === 'number' && Number.isSafeInteger(count) && count > 0 ? count : 0;
}

/** True when the prompt may offer the answers for all: an exec prompt with identical requests waiting. Pure. */
export function offersAll(prompt: Pick<ApprovalPrompt, 'operation'> & Partial<Pick<ApprovalPrompt, 'identical_waiting'>>): boolean {
  return prompt.operation === 'exec' && identicalWaiting(prompt) > 0;
}

/** `Allow all 4 once` (this request and the 3 waiting). Pure. */
export function allowAllLabel(prompt: Partial<Pick<ApprovalPrompt, 'identical_waiting'>>): string {
  return `Allow all ${identicalWaiting(prompt) + 1} once`;
}

/** `Deny all 4`. Pure. */
export function denyAllLabel(prompt: Partial<Pick<ApprovalPrompt, 'identical_waiting'>>): string {
  return `Deny all ${identicalWaiting(prompt) + 1}`;
}

/** The prompt's line about the identical requests waiting (none when none wait). Pure. */
export function identicalLines(prompt: Partial<Pick<ApprovalPrompt, 'identical_waiting'>>): string[] {
  const count = identicalWaiting(prompt);
  if (count === 0) return [];
  return [`${count} more identical request${count === 1 ? ' is' : 's are'} waiting (same command, directory, secrets and environment); you can answer all ${count + 1} at once`];
}
