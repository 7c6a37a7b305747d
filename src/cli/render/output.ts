// Output helpers for commands: JSON documents always carry schema_version and use
// snake_case keys; text goes out as whole lines.

export const SCHEMA_VERSION = '1';

export interface Out {
  write(text: string): unknown;
}

/** Writes a pretty JSON document with schema_version first. */
export function writeJson(out: Out, document: Record<string, unknown>): void {
  out.write(`${JSON.stringify({ schema_version: SCHEMA_VERSION, ...document }, null, 2)}\n`);
}

/** Writes lines of text. */
export function writeLines(out: Out, lines: readonly string[]): void {
  if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
}

/** Quotes one argv element the way a POSIX shell reads it back (the one quoter, core/display-text.ts). */
export { shellQuote } from '../../core/display-text.js';
