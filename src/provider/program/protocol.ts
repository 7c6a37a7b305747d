// The provider-program protocol, like the approver one: after approval agent-secret writes one
// JSON request to the program's stdin and reads one JSON answer from its stdout.
//
//   request: {"version": 1, "id": "req_…", "scheme": "vault",
//             "refs": [{"ref": "vault://kv/app#token", "identity": null}], "deadline": "<ISO 8601>"}
//   answer:  {"values": {"vault://kv/app#token": "…"}}            every ref asked, nothing else
//        or  {"error":  {"vault://kv/app#token": "not found"}}     refs asked only; short words
//
// The answer is untrusted: anything else (not JSON, both or neither key, a ref missing or not
// asked for, a value that is not a string or holds NUL) is refused whole, and the text of the
// answer never reaches a message. Only an `error` answer's words are shown, sanitised and
// clipped. Pure.

/** The protocol version of request and answer. */
export const PROGRAM_PROTOCOL_VERSION = 1;
/** Largest answer accepted, in bytes. */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** Longest error text shown from an `error` answer. */
export const MAX_ERROR_CHARS = 160;

export interface ProgramRequest {
  version: 1;
  id: string;
  scheme: string;
  refs: Array<{ ref: string; identity: string | null }>;
  deadline: string;
}

/** The request for one call: each reference once, in the order given. Pure. */
export function buildProgramRequest(input: { id: string; scheme: string; identity: string | null; refs: readonly string[]; deadline: number }): ProgramRequest {
  return {
    version: PROGRAM_PROTOCOL_VERSION,
    id: input.id,
    scheme: input.scheme,
    refs: [...new Set(input.refs)].map((ref) => ({ ref, identity: input.identity })),
    deadline: new Date(input.deadline).toISOString(),
  };
}

export type ProgramAnswer =
  | { kind: 'values'; values: Map<string, string> }
  /** The program reported failures: the refs it named, with its sanitised words. */
  | { kind: 'error'; errors: Array<{ ref: string; message: string }> }
  /** The answer broke the protocol; `missing` names refs it did not answer for, `extra` says it answered for a ref not asked. */
  | { kind: 'malformed'; problem: string; missing?: string[] };

/** Reads a program's stdout against the refs it was asked for. Pure. */
export function parseProgramAnswer(stdout: string, asked: readonly string[]): ProgramAnswer {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    return { kind: 'malformed', problem: 'did not answer with one JSON object' };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return { kind: 'malformed', problem: 'did not answer with a JSON object' };
  const answer = data as Record<string, unknown>;
  const keys = Object.keys(answer);
  if (keys.some((key) => key !== 'values' && key !== 'error' && key !== 'version')) return { kind: 'malformed', problem: 'answered with keys other than values and error' };
  if (Object.hasOwn(answer, 'version') && answer.version !== PROGRAM_PROTOCOL_VERSION) return { kind: 'malformed', problem: `answered a protocol version other than ${PROGRAM_PROTOCOL_VERSION}` };
  const hasValues = Object.hasOwn(answer, 'values');
  const hasError = Object.hasOwn(answer, 'error');
  if (hasValues === hasError) return { kind: 'malformed', problem: 'must answer with exactly one of values and error' };
  const wanted = new Set(asked);

  if (hasError) {
    const errors = answer.error;
    if (!isPlainObject(errors)) return { kind: 'malformed', problem: 'answered an error that is not a mapping of references' };
    const named = Object.entries(errors);
    if (named.length === 0) return { kind: 'malformed', problem: 'answered an error that names no reference' };
    if (named.some(([ref, message]) => !wanted.has(ref) || typeof message !== 'string')) {
      return { kind: 'malformed', problem: 'answered an error for a reference it was not asked for, or without words' };
    }
    return { kind: 'error', errors: named.map(([ref, message]) => ({ ref, message: sanitizeProgramText(message as string) })) };
  }

  const values = answer.values;
  if (!isPlainObject(values)) return { kind: 'malformed', problem: 'answered values that are not a mapping of references' };
  const out = new Map<string, string>();
  for (const [ref, value] of Object.entries(values)) {
    if (!wanted.has(ref)) return { kind: 'malformed', problem: 'answered for a reference it was not asked for' };
    if (typeof value !== 'string') return { kind: 'malformed', problem: 'answered a value that is not a string', missing: [ref] };
    if (value.includes('\0')) return { kind: 'malformed', problem: 'answered a value with a NUL character, which an environment cannot hold', missing: [ref] };
    out.set(ref, value);
  }
  const missing = asked.filter((ref) => !out.has(ref));
  if (missing.length > 0) {
    out.clear();
    return { kind: 'malformed', problem: 'did not answer for every reference', missing: [...new Set(missing)] };
  }
  return { kind: 'values', values: out };
}

// C0/C1 controls, DEL, zero-width and bidi controls: nothing that could rearrange a terminal line.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]+/gu;

/** A program's error words made printable on one line and clipped. Pure. */
export function sanitizeProgramText(text: string, max = MAX_ERROR_CHARS): string {
  const flat = text.replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim();
  const points = [...flat];
  const clipped = points.length > max ? `${points.slice(0, max - 1).join('')}…` : flat;
  return clipped === '' ? 'no reason given' : clipped;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
