// The approver-program answer: one JSON object `{"id", "decision", "reuse"?, "scope"?}` on stdout.
// The output is untrusted and never shown; anything but an exact, valid answer for this
// prompt's id is a failure of the approver (not a human's deny), with a fixed, value-free
// reason naming the check that failed. `reuse` is valid only on an approval of a prompt that
// allows it (exec); elsewhere the program misread the prompt: malformed. `scope: "all"` answers
// the identical requests waiting too (answer-all.ts): valid only when the prompt says some are
// waiting, and never with `reuse` (all = each of them once).

import { z } from 'zod';
import { identicalWaiting } from './answer-all.js';
import { REUSE_LIMITS } from './reuse-choice.js';
import { DENY_REASONS, type ApprovalPrompt, type Decision } from './types.js';

/** Shape of a program's answer (snake_case, as on the wire). */
export const ProgramAnswerSchema = z.strictObject({
  id: z.string(),
  decision: z.enum(['approve', 'deny']),
  reuse: z
    .strictObject({
      ttl_seconds: z.number().int().min(1),
      // The bounds every approver offers (1..20): more is a malformed answer, not a silent clamp.
      max_uses: z.number().int().min(REUSE_LIMITS.minUses).max(REUSE_LIMITS.maxUses),
    })
    .optional(),
  scope: z.enum(['all']).optional(),
});

export type ProgramAnswer = z.infer<typeof ProgramAnswerSchema>;

/** Prefix of every reason a malformed program answer gets. */
export const MALFORMED_PROGRAM_ANSWER = 'the approver program answered something malformed';

/** Turns a program's stdout into a Decision for this prompt. Pure. */
export function parseProgramAnswer(stdout: string, prompt: Pick<ApprovalPrompt, 'id' | 'ttl_seconds' | 'allows_reusable'> & Partial<Pick<ApprovalPrompt, 'identical_waiting'>>): Decision {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    return malformed(stdout === '' ? 'no output' : 'not one JSON object');
  }
  const result = ProgramAnswerSchema.safeParse(json);
  if (!result.success) return malformed(schemaProblem(result.error.issues[0]));
  const answer = result.data;
  if (answer.id !== prompt.id) return malformed('id is not the id of this request');
  if (answer.scope === 'all') {
    if (identicalWaiting(prompt) === 0) return malformed('scope all on a request with no identical_waiting');
    if (answer.reuse !== undefined) return malformed('reuse with scope all');
    return answer.decision === 'deny' ? { kind: 'deny', reason: DENY_REASONS.user, scope: 'all' } : { kind: 'approve', scope: 'all' };
  }
  if (answer.decision === 'deny') {
    return answer.reuse === undefined ? { kind: 'deny', reason: DENY_REASONS.user } : malformed('reuse on a deny');
  }
  if (answer.reuse === undefined) return { kind: 'approve' };
  if (prompt.allows_reusable !== true) return malformed('reuse on a request with allows_reusable false');
  if (answer.reuse.ttl_seconds > prompt.ttl_seconds) return malformed("reuse.ttl_seconds is longer than the request's ttl_seconds");
  return { kind: 'approve', reuse: { ttlSeconds: answer.reuse.ttl_seconds, maxUses: answer.reuse.max_uses } };
}

function malformed(check: string): Decision {
  return { kind: 'failed', reason: `${MALFORMED_PROGRAM_ANSWER}: ${check}` };
}

// Names the first failed check with our own words and key names only: an unknown key or a bad
// value the program wrote is never quoted.
const KNOWN_KEYS = new Set(['id', 'decision', 'reuse', 'ttl_seconds', 'max_uses', 'scope']);
function schemaProblem(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'not a valid answer';
  const path = issue.path.filter((key): key is string => typeof key === 'string' && KNOWN_KEYS.has(key)).join('.');
  if (issue.code === 'unrecognized_keys') return path === '' ? 'an unknown key' : `an unknown key in ${path}`;
  if (path === '') return 'not a JSON object';
  if (issue.code === 'invalid_value') return `${path} is not one of the allowed values`;
  if (issue.code === 'too_big' || issue.code === 'too_small') return `${path} is out of bounds`;
  return `${path} is missing or of the wrong type`;
}
