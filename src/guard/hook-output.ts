// The guard's answer in Claude Code's PreToolUse hook contract: a deny is one JSON line on
// stdout, `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny",
// "permissionDecisionReason":"…"}}`, with exit code 0; the reason is shown to the agent. An
// allow prints nothing (exit 0), so Claude Code's own permission rules decide as usual.
// Invariant: pure; the reason never holds file content (decide.ts builds it from names only).

import type { GuardDecision } from './decide.js';

/** The stdout line for a decision (without newline), or null when nothing is to be printed. */
export function toHookOutput(decision: GuardDecision): string | null {
  if (decision.decision !== 'deny') return null;
  return JSON.stringify({
    hookSpecificOutput: {
      hookEventName: 'PreToolUse',
      permissionDecision: 'deny',
      permissionDecisionReason: decision.reason,
    },
  });
}
