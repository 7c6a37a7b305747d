// The guard's answer in each agent's hook contract (see `hookAnswer`). Invariant: pure; the
// reason never holds file content (decide.ts builds it from names only).

import type { GuardAgent } from './agents.js';
import type { GuardDecision } from './decide.js';

/** What the guard process prints and exits with, in the agent's contract. */
export interface HookAnswer {
  readonly stdout: string | null;
  readonly stderr: string | null;
  readonly exitCode: 0 | 2;
}

/**
 * The answer for a decision:
 * - Claude Code: a deny is `hookSpecificOutput.permissionDecision: "deny"` with the reason the
 *   model reads, exit 0; an allow prints nothing, so its own permission rules decide.
 * - Codex CLI: a deny is exit 2 with the reason on stderr (Codex hands it to the model); an
 *   allow prints nothing, exit 0.
 * - Cursor: always a JSON answer (a permission hook that prints nothing counts as failed):
 *   `{"permission":"deny","user_message","agent_message"}` or `{"permission":"allow"}`.
 * - Gemini CLI: `{"decision":"deny","reason"}` (the reason goes to the model as the tool's
 *   error), exit 0; an allow is `{}`, so its own confirmation rules decide.
 */
export function hookAnswer(agent: GuardAgent, decision: GuardDecision): HookAnswer {
  if (decision.decision !== 'deny') {
    if (agent === 'cursor') return { stdout: JSON.stringify({ permission: 'allow' }), stderr: null, exitCode: 0 };
    if (agent === 'gemini') return { stdout: '{}', stderr: null, exitCode: 0 };
    return { stdout: null, stderr: null, exitCode: 0 };
  }
  switch (agent) {
    case 'claude':
      return {
        stdout: JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: decision.reason } }),
        stderr: null,
        exitCode: 0,
      };
    case 'codex':
      return { stdout: null, stderr: decision.reason, exitCode: 2 };
    case 'cursor':
      return {
        stdout: JSON.stringify({
          permission: 'deny',
          user_message: `agent-secret guard blocked \`${decision.blocked}\`; the agent was told which agent-secret command to use instead.`,
          agent_message: decision.reason,
        }),
        stderr: null,
        exitCode: 0,
      };
    case 'gemini':
      return { stdout: JSON.stringify({ decision: 'deny', reason: decision.reason }), stderr: null, exitCode: 0 };
  }
}

/** Claude Code's stdout line for a decision (without newline), or null when nothing is to be printed. */
export function toHookOutput(decision: GuardDecision): string | null {
  return hookAnswer('claude', decision).stdout;
}
