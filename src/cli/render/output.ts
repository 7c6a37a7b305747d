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

/** Quotes one argv element for display the way a POSIX shell would read it back. */
export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u.test(arg)) {
    const escaped = [...arg]
      .map((ch) => {
        const cp = ch.codePointAt(0) as number;
        if (ch === "'" || ch === '\\') return `\\${ch}`;
        if (ch === '\n') return '\\n';
        if (ch === '\t') return '\\t';
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return `\\x${cp.toString(16).padStart(2, '0')}`;
        if ((cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp === 0xfeff) {
          return `\\u${cp.toString(16).padStart(4, '0')}`;
        }
        return ch;
      })
      .join('');
    return `$'${escaped}'`;
  }
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}
