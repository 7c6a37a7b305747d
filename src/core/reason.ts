// The reason is the agent's own words, shown to the human in the prompt and kept in the
// audit log. It is trimmed, required, at most 240 characters (code points), and may not
// hold control characters that could rearrange what the prompt shows.

export const MAX_REASON_LENGTH = 240;

export type ReasonResult = { ok: true; reason: string } | { ok: false; message: string };

// C0/C1 controls other than tab, plus bidi overrides/isolates and zero-width joiners.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u;

/** Validates a reason from the flag or the profile. Pure. */
export function parseReason(text: string | undefined): ReasonResult {
  const reason = (text ?? '').trim();
  if (reason.length === 0) {
    return { ok: false, message: 'a reason is required: pass --reason "…" or set reason: in the profile' };
  }
  if ([...reason].length > MAX_REASON_LENGTH) {
    return { ok: false, message: `reason is longer than ${MAX_REASON_LENGTH} characters` };
  }
  if (FORBIDDEN.test(reason)) {
    return { ok: false, message: 'reason must be one line of plain text (no control, zero-width or bidi characters)' };
  }
  return { ok: true, reason };
}
