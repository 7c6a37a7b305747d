// The approver-program answer: one JSON object `{"id", "decision", "reuse"?}` on stdout.
// The output is untrusted and never shown; anything but an exact, valid answer for this
// prompt's id is a deny with a fixed, value-free reason. `reuse` is valid only on an approval
// of a prompt that allows it (exec); elsewhere the program misread the prompt: malformed.

import { z } from 'zod';
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
});

export type ProgramAnswer = z.infer<typeof ProgramAnswerSchema>;

/** Turns a program's stdout into a Decision for this prompt. Pure. */
export function parseProgramAnswer(stdout: string, prompt: Pick<ApprovalPrompt, 'id' | 'ttl_seconds' | 'allows_reusable'>): Decision {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    return { kind: 'deny', reason: DENY_REASONS.malformed };
  }
  const result = ProgramAnswerSchema.safeParse(json);
  if (!result.success) return { kind: 'deny', reason: DENY_REASONS.malformed };
  const answer = result.data;
  if (answer.id !== prompt.id) return { kind: 'deny', reason: DENY_REASONS.wrongId };
  if (answer.decision === 'deny') {
    return { kind: 'deny', reason: answer.reuse === undefined ? DENY_REASONS.user : DENY_REASONS.malformed };
  }
  if (answer.reuse === undefined) return { kind: 'approve' };
  if (prompt.allows_reusable !== true) return { kind: 'deny', reason: DENY_REASONS.malformed };
  if (answer.reuse.ttl_seconds > prompt.ttl_seconds) return { kind: 'deny', reason: DENY_REASONS.malformed };
  return { kind: 'approve', reuse: { ttlSeconds: answer.reuse.ttl_seconds, maxUses: answer.reuse.max_uses } };
}
