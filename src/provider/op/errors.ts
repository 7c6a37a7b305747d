// Reads op's stderr: `[ERROR] YYYY/MM/DD HH:MM:SS <message>` lines (timestamp optional), the
// preamble lines some errors print first, and continuation lines. stderr is untrusted text:
// it is classified by substring and shown only as a sanitised, clipped reason. Pure.

export type OpErrorKind = 'bad_ref' | 'signed_out' | 'declined' | 'transient' | 'rate_limited' | 'permission' | 'unknown';

export interface OpErrorLine {
  /** The text after `[ERROR] <timestamp> `. */
  message: string;
  /** Lines printed after it before the next [ERROR] line (e.g. the matches of an ambiguous name). */
  continuation: string[];
}

export interface ParsedOpStderr {
  /** Non-empty lines before the first [ERROR] line. */
  preamble: string[];
  errors: OpErrorLine[];
}

export interface OpFailure {
  kind: OpErrorKind;
  /** Sanitised short reason for a message, e.g. `"Cloudflare" isn't an item in the "Prod" vault`. */
  reason: string;
  /** The first [ERROR] message, unsanitised: for matching references, never for display. */
  message: string;
}

export const ERROR_LINE = /^\[ERROR\](?: \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2})? (.*)$/;
export const MAX_REASON_CHARS = 240;

/** Splits op's stderr into preamble, [ERROR] messages and their continuation lines. */
export function parseOpStderr(stderr: string): ParsedOpStderr {
  const preamble: string[] = [];
  const errors: OpErrorLine[] = [];
  for (const line of stderr.split(/\r?\n/)) {
    const match = ERROR_LINE.exec(line) ?? (line === '[ERROR]' ? ['', ''] : null);
    if (match !== null) {
      errors.push({ message: match[1] ?? '', continuation: [] });
    } else if (line.trim() !== '') {
      const last = errors.at(-1);
      if (last === undefined) preamble.push(line.trim());
      else last.continuation.push(line.trim());
    }
  }
  return { preamble, errors };
}

// Checked in this order against the short reason (references and item paths stripped first,
// so a vault or item name can never look like an auth problem).
const KIND_MARKERS: ReadonlyArray<[OpErrorKind, readonly string[]]> = [
  [
    'bad_ref',
    [
      "isn't an item",
      "isn't a vault",
      'does not have a field',
      'could not find item',
      'could not resolve item uuid',
      'could not find field or file',
      'invalid secret reference',
      "too few '/'",
      "too many '/'",
      'secret references should',
      'more than one item matches',
      'more than one vault matches',
      'parsing error at',
    ],
  ],
  ['rate_limited', ['(429)', 'too many requests']],
  [
    'signed_out',
    [
      'not currently signed in',
      'account is not signed in',
      'no accounts configured',
      'could not find session token',
      'no account found for filter',
      'service account token set, but not authenticated',
      'session expired',
    ],
  ],
  ['declined', ['authorization timeout', 'prompt dismissed', 'authorization denied', 'authorization was denied']],
  ['transient', ['connecting to desktop app', 'context deadline exceeded', 'lostconnectiontoapp', 'connection reset', 'connectionreset', 'cannot setup session']],
  ['permission', ['(403)', 'forbidden', "you aren't authorized"]],
];

/** Classifies a short reason (plus preamble lines) into an error kind by substring. */
export function classifyOpError(reason: string, preamble: readonly string[] = []): OpErrorKind {
  const text = [reason, ...preamble].join('\n').toLowerCase();
  for (const [kind, markers] of KIND_MARKERS) {
    if (markers.some((marker) => text.includes(marker))) return kind;
  }
  return 'unknown';
}

const QUOTED_OR_BARE = String.raw`(?:'[^']*'|"[^"]*"|\S*)`;
const WRAPPERS = [
  new RegExp(String.raw`^could not read secret ${QUOTED_OR_BARE}: ?`, 'i'),
  new RegExp(String.raw`^invalid secret reference ${QUOTED_OR_BARE}: ?`, 'i'),
  /^could not get item [^:]*: ?/i,
  /^error initializing client: ?/i,
];

/** op's message without the wrappers that only repeat the reference, and without op's "Specify …" advice. */
export function shortenOpMessage(message: string): string {
  let text = message.trim();
  for (let changed = true; changed; ) {
    changed = false;
    for (const wrapper of WRAPPERS) {
      const next = text.replace(wrapper, '');
      if (next !== text) {
        text = next.trim();
        changed = true;
      }
    }
  }
  text = text.replace(/\s*Specify the (?:item|vault) with its [^.]*\.?$/i, '');
  text = text.replace(/\.?\s*Try again and specify the item by its ID:?$/i, '');
  return text.replace(/[.:]\s*$/, '').trim();
}

// C0/C1 controls, DEL, zero-width and bidi controls: anything that could rearrange a terminal line.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+/gu;

/** Makes untrusted op text printable on one line and clips it to MAX_REASON_CHARS code points. */
export function sanitizeOpText(text: string, max = MAX_REASON_CHARS): string {
  const flat = text.replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim();
  const points = [...flat];
  return points.length > max ? `${points.slice(0, max - 1).join('')}…` : flat;
}

/** Interprets the stderr of a failed op call: kind, display reason and the raw first message. */
export function interpretOpFailure(stderr: string, exitCode: number | null): OpFailure {
  const parsed = parseOpStderr(stderr);
  const first = parsed.errors[0];
  if (first === undefined) {
    const reason = exitCode === null ? 'op stopped without an error message' : `op exited with code ${exitCode} without an error message`;
    return { kind: classifyOpError('', parsed.preamble), reason, message: '' };
  }
  const short = shortenOpMessage(first.message);
  const display = short === '' ? (parsed.preamble[0] ?? first.message) : short;
  return {
    kind: classifyOpError(short, parsed.preamble),
    reason: sanitizeOpText(display) || 'op reported an error without a message',
    message: first.message,
  };
}

/** One candidate op lists after `More than one item matches …`. */
export interface AmbiguousItem {
  vault: string;
  id: string;
}

const AMBIGUOUS_LINE = /^\* for the item .* in vault (.+): ([A-Za-z0-9]{20,40})$/;

/** The vault names and item IDs op lists under an ambiguous item name (at most `max`); [] when there are none. */
export function ambiguousItems(stderr: string, max = 6): AmbiguousItem[] {
  const first = parseOpStderr(stderr).errors[0];
  if (first === undefined || !first.message.toLowerCase().includes('more than one item matches')) return [];
  const found: AmbiguousItem[] = [];
  for (const line of first.continuation) {
    const match = AMBIGUOUS_LINE.exec(line);
    if (match !== null && found.length < max) found.push({ vault: sanitizeOpText(match[1] ?? '', 64), id: match[2] ?? '' });
  }
  return found;
}
