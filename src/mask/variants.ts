// The forms of a delivered value that the output masker conceals. Input: a plaintext value
// (trusted, never echoed). Invariant: each whole form is exactly an encoder's output for the
// value (its UTF-8 bytes, or its UTF-16 code units); the pieces added besides (base64 alignment
// cores, lines, fragments) are at least 8 characters (48 bits) long, so they do not hit
// ordinary words or identifiers by chance. The fragments are not listed one by one: the index
// takes their sources and the fragment length (FragmentSources).

import { htmlEscapes, jsonEscapes, percentEncodings, pythonReprs, shellQuotings } from './escapes.js';

/** Shortest base64 alignment core we add; shorter cores would match ordinary words too often. */
export const MIN_ALIGNED_CORE = 8;

/** Shortest stretch of a value masked on its own, wherever it appears (a prefix the child cut off, a line). */
export const FRAGMENT_LENGTH = 12;

/** Shortest line of a multi-line value masked on its own (trimmed); longer lines are fragments anyway. */
export const MIN_LINE_LENGTH = 8;

/** Widths `base64` (76, MIME) and `openssl base64` / PEM (64) wrap their output at. */
const WRAP_WIDTHS = [64, 76];

/** All text forms of `value` to conceal (encoded, escaped, re-joined), deduplicated, longest (in UTF-8 bytes) first. */
export function maskVariants(value: string): string[] {
  if (value.length === 0) return [];
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set<string>();
  forms.add(value);
  const base64 = bytes.toString('base64');
  const unpadded = base64.replace(/=+$/, '');
  const base64url = bytes.toString('base64url');
  forms.add(base64);
  forms.add(unpadded);
  forms.add(base64url);
  forms.add(base64url + '='.repeat(base64.length - unpadded.length));
  // Wrapped: the value alone, and its stable core at offset 0 (what `echo "$V" | base64` begins
  // with: the trailing newline changes only the last characters).
  for (const width of WRAP_WIDTHS) {
    for (const encoded of [base64, alignedCore(bytes, 0)]) {
      if (encoded.length <= width) continue;
      const lines = encoded.match(new RegExp(`.{1,${width}}`, 'g')) ?? [];
      forms.add(lines.join('\n'));
      forms.add(lines.join('\r\n'));
    }
  }
  forms.add(bytes.toString('hex'));
  forms.add(bytes.toString('hex').toUpperCase());
  const wellFormed = toWellFormed(value);
  for (const form of percentEncodings(wellFormed)) forms.add(form);
  for (const form of jsonEscapes(value)) forms.add(form);
  for (const form of htmlEscapes(value)) forms.add(form);
  for (const form of shellQuotings(value)) forms.add(form);
  for (const form of pythonReprs(wellFormed)) forms.add(form);
  for (const form of rejoinedLines(value)) forms.add(form);
  for (const core of alignedCores(bytes)) forms.add(core);
  forms.delete('');
  return [...forms].map((form) => ({ form, bytes: Buffer.byteLength(form, 'utf8') })).sort(byByteLengthDescending).map(({ form }) => form);
}

/**
 * The whole byte patterns the masker searches for `value`: its text forms in UTF-8, the value in
 * UTF-16LE and UTF-16BE, and each line of a multi-line value of MIN_LINE_LENGTH+ characters (trimmed).
 */
export function wholePatterns(value: string): Buffer[] {
  if (value.length === 0) return [];
  const patterns = maskVariants(value).map((form) => Buffer.from(form, 'utf8'));
  const utf16 = Buffer.from(value, 'utf16le');
  patterns.push(utf16, Buffer.from(utf16).swap16());
  for (const line of value.split(/\r?\n|\r/)) {
    const trimmed = line.trim();
    if (codePoints(trimmed).length >= MIN_LINE_LENGTH) patterns.push(Buffer.from(trimmed, 'utf8'));
  }
  return patterns;
}

/**
 * The byte strings whose every FRAGMENT_LENGTH-byte window is masked, so that any longer stretch
 * of them (a prefix the child cut off, a line of a PEM, a line of wrapped base64) is masked too
 * (overlapping occurrences merge into one mask): the value's UTF-8 bytes and its base64 alignment
 * cores (standard alphabet), for a value of more than FRAGMENT_LENGTH characters. FRAGMENT_LENGTH bytes are that
 * many characters of ASCII; of other text, fewer characters but as many bits.
 */
export function fragmentSources(value: string): Buffer[] {
  if (codePoints(value).length <= FRAGMENT_LENGTH) return [];
  const bytes = Buffer.from(value, 'utf8');
  // Standard-alphabet cores only: wrapped and cut base64 comes from base64, MIME and PEM tools;
  // base64url (tokens, JWTs) is masked whole and as cores, not by fragments.
  const cores = [0, 1, 2].map((offset) => Buffer.from(alignedCore(bytes, offset), 'latin1'));
  return [bytes, ...cores].filter((source) => source.length >= FRAGMENT_LENGTH);
}

/** Every pattern for `value` spelled out (whole patterns, then each fragment): the reference the tests compare the index with. */
export function maskPatterns(value: string): Buffer[] {
  const patterns = wholePatterns(value);
  for (const source of fragmentSources(value)) {
    for (let at = 0; at + FRAGMENT_LENGTH <= source.length; at += 1) patterns.push(source.subarray(at, at + FRAGMENT_LENGTH));
  }
  return patterns;
}

// A multi-line value as it is printed after its line breaks were changed: CRLF or LF, or
// flattened (joined with nothing, a space, or an escaped `\n` / `\r\n`).
function rejoinedLines(value: string): string[] {
  const lines = value.split(/\r?\n/);
  if (lines.length < 2) return [];
  return ['\n', '\r\n', '', ' ', '\\n', '\\r\\n'].map((separator) => lines.join(separator));
}

// The base64 characters that depend only on the value's bits when the value starts `offset`
// bytes into a 3-byte group of a larger base64 payload (the unstable edges trimmed), in both
// alphabets; only cores of MIN_ALIGNED_CORE+ characters.
function alignedCores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (const offset of [0, 1, 2]) {
    const core = alignedCore(bytes, offset);
    if (core.length < MIN_ALIGNED_CORE) continue;
    cores.push(core, core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return cores;
}

function alignedCore(bytes: Buffer, offset: number): string {
  const padded = Buffer.concat([Buffer.alloc(offset), bytes, Buffer.alloc(2)]);
  const encoded = padded.toString('base64');
  const firstBit = 8 * offset;
  const endBit = 8 * (offset + bytes.length);
  return encoded.slice(Math.ceil(firstBit / 6), Math.floor(endBit / 6));
}

// encodeURIComponent throws on lone surrogates; Buffer.from already replaced them with U+FFFD.
function toWellFormed(value: string): string {
  return value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function codePoints(value: string): string[] {
  return [...value];
}

function byByteLengthDescending(a: { form: string; bytes: number }, b: { form: string; bytes: number }): number {
  return b.bytes - a.bytes || (a.form < b.form ? -1 : a.form > b.form ? 1 : 0);
}
