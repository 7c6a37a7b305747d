// Core validators sometimes quote what they were given (`(got "x")`, `unknown attribute "x"`).
// In config and env-file messages that text came from an untrusted file and may be a pasted
// secret, so any quoted fragment that repeats the input is removed before a message is shown.

/** Removes every quoted fragment of `message` (two characters or more) that repeats text of `input`. */
export function withoutEcho(message: string, input: string): string {
  return message.replace(/( ?)\(got "([^"]*)"\)( ?)|( ?)"([^"]*)"( ?)/g, (whole, lead1, got, trail1, lead2, quoted, trail2) => {
    const fragment = (got ?? quoted) as string;
    if (!repeats(fragment, input)) return whole;
    const lead = (lead1 ?? lead2 ?? '') as string;
    const trail = (trail1 ?? trail2 ?? '') as string;
    return lead !== '' && trail !== '' ? ' ' : '';
  });
}

// Validators clip long input with a trailing "…" and replace each unprintable UTF-16 unit
// with "?", so "?" matches any one unit (no `u` flag on purpose).
function repeats(fragment: string, input: string): boolean {
  const core = fragment.endsWith('…') ? fragment.slice(0, -1) : fragment;
  if (core.length < 2) return false;
  const pattern = core.replace(/[.*+?^${}()|[\]\\]/g, (ch) => (ch === '?' ? '[\\s\\S]' : `\\${ch}`));
  return new RegExp(pattern, 'i').test(input);
}
