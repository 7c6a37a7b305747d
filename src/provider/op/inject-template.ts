// The `op inject` template for one batch and the splitter for its output. Each reference sits
// between markers made of a fresh random boundary, so the output splits back into exact values
// (newlines, empty values, `{{`, anything). op's output is untrusted: anything that does not
// split into exactly the expected pieces is refused whole, and the output is never shown. Pure.

import { randomBytes } from 'node:crypto';

export interface InjectTemplate {
  /** Template text: markers and `{{ ref }}` placeholders only, never a value. */
  readonly text: string;
  readonly boundary: string;
  readonly count: number;
}

/** A fresh boundary: 128 random bits as hex. */
export function newBoundary(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Builds `<B>:0:{{ ref0 }}<B>:1:{{ ref1 }}…<B>:end:\n`. References must already be validated
 * (core/ref.ts), which rules out `{{`, `}}`, `$` and line breaks.
 */
export function buildInjectTemplate(refs: readonly string[], boundary: string = newBoundary()): InjectTemplate {
  const body = refs.map((ref, index) => `${boundary}:${index}:{{ ${ref} }}`).join('');
  return { text: `${body}${boundary}:end:\n`, boundary, count: refs.length };
}

/** Tails accepted after the end marker: the template's newline, and at most one more that op may add. */
const END_TAILS = new Set([':end:\n', ':end:', ':end:\n\n']);

/**
 * Splits op's output into one value per reference, in template order; null when the output does
 * not have exactly the template's shape (a value that contained the boundary makes it ambiguous).
 */
export function splitInjectOutput(output: string, template: InjectTemplate): string[] | null {
  return splitInjectBytes(Buffer.from(output, 'utf8'), template)?.map((value) => value.toString('utf8')) ?? null;
}

/**
 * As splitInjectOutput, on op's raw bytes: each value exactly as op wrote it (a binary document
 * stays byte for byte; the boundary and tags are ASCII, so no UTF-8 decoding is involved).
 */
export function splitInjectBytes(output: Uint8Array, template: InjectTemplate): Buffer[] | null {
  const bytes = Buffer.from(output.buffer, output.byteOffset, output.byteLength);
  const boundary = Buffer.from(template.boundary, 'latin1');
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const next = bytes.indexOf(boundary, at);
    if (next === -1) break;
    parts.push(bytes.subarray(at, next));
    at = next + boundary.length;
  }
  parts.push(bytes.subarray(at));
  if (parts.length !== template.count + 2 || (parts[0] as Buffer).length !== 0) return null;
  const values: Buffer[] = [];
  for (let index = 0; index < template.count; index += 1) {
    const part = parts[index + 1] as Buffer;
    const tag = Buffer.from(`:${index}:`, 'latin1');
    if (part.length < tag.length || !part.subarray(0, tag.length).equals(tag)) return null;
    values.push(Buffer.from(part.subarray(tag.length)));
  }
  return END_TAILS.has((parts[template.count + 1] as Buffer).toString('latin1')) ? values : null;
}
