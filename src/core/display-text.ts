// How agent-controlled text is shown to a human: every character that could hide, reorder or
// restyle what is around it is escaped, and argv elements are quoted the way a POSIX shell reads
// them back. The one place for this: the prompt (approval/display.ts), command output and error
// hints all use it. Pure.

// Characters that must never reach a display raw: controls, format (bidi, zero-width, BOM,
// tags), line/paragraph separators, private use, unassigned, lone surrogates, non-ASCII
// spaces and the Hangul fillers that render as nothing; combining marks (Mn, Me), which stack
// on the character before (a quote, a slash) and change how it reads; and the letters of
// right-to-left scripts, whose strong direction reorders the text around them like a bidi
// override does (JavaScript has no Bidi_Class property, so the R/AL scripts are listed).
const RTL_SCRIPTS = ['Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Nko', 'Samaritan', 'Mandaic', 'Adlam', 'Hanifi_Rohingya', 'Yezidi', 'Mende_Kikakui'];
const UNSAFE_CLASS = `[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Co}\\p{Cn}\\p{Cs}\\p{Mn}\\p{Me}${RTL_SCRIPTS.map((name) => `\\p{Script=${name}}`).join('')}\\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000\\u115f\\u1160\\u3164\\uffa0]`;
const UNSAFE = new RegExp(UNSAFE_CLASS, 'u');
// escapeText also escapes the backslash, so an escape in the output means exactly one character.
const ESCAPED_GLOBAL = new RegExp(`${UNSAFE_CLASS}|\\\\`, 'gu');
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** True when the text holds a character that escapeText would escape. Pure. */
export function hasUnsafeChars(text: string): boolean {
  return UNSAFE.test(text);
}

/** Escapes unsafe characters as `\n`, `\t`, `\r`, `\xNN`, `\uNNNN` or `\UNNNNNNNN`, and `\` as `\\`: reversible. Pure. */
export function escapeText(text: string): string {
  return text.replace(ESCAPED_GLOBAL, (ch) => (ch === '\\' ? '\\\\' : escapeChar(ch)));
}

/** Quotes one argv element for display: bare if safe, single-quoted, or `$'…'` when it holds unsafe characters. Pure. */
export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (SHELL_SAFE.test(arg)) return arg;
  if (UNSAFE.test(arg)) {
    return `$'${[...arg].map((ch) => (ch === "'" || ch === '\\' ? `\\${ch}` : UNSAFE.test(ch) ? escapeChar(ch) : ch)).join('')}'`;
  }
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

function escapeChar(ch: string): string {
  if (ch === '\n') return '\\n';
  if (ch === '\t') return '\\t';
  if (ch === '\r') return '\\r';
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}
