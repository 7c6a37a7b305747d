// How common tools escape a string when they print it: URL percent-encoding (each encoder's safe
// set, `+` for space, either letter case), JSON (`\/`, `\uXXXX`, Go's HTML-safe escapes), HTML
// entities, shell quoting and Python repr. Input: a plaintext value (trusted, never echoed).
// Invariant: every string returned is exactly what one real encoder prints for the value (the
// quotes around a quoted form left out), so a form never matches more than that encoder's output.

/** Percent-encodings of the value's UTF-8 bytes, as the common encoders print them. */
export function percentEncodings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.every((byte) => URL_SAFE_SETS[0]![byte] === 1)) return [value];
  // Encoders that leave the same bytes of this value alone give the same output: encode once.
  const distinct = new Map<string, Uint8Array>();
  for (const safe of URL_SAFE_SETS) distinct.set(String.fromCharCode(...new Set([...bytes].filter((byte) => safe[byte] === 1))), safe);
  const forms: string[] = [];
  for (const safe of distinct.values()) {
    for (const plus of bytes.includes(0x20) ? [false, true] : [false]) {
      for (const lower of [false, true]) forms.push(percentEncode(bytes, safe, plus, lower));
    }
  }
  return forms;
}

// Bytes left as they are: RFC 3986 unreserved (Python quote(safe='')), encodeURIComponent,
// application/x-www-form-urlencoded (URLSearchParams, form posts), Python's default quote (keeps
// `/`) and encodeURI (keeps the URL's own delimiters).
const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._';
const URL_SAFE_SETS: readonly Uint8Array[] = [`${UNRESERVED}~`, `${UNRESERVED}~!*'()`, `${UNRESERVED}*`, `${UNRESERVED}~/`, `${UNRESERVED}~!*'();/?:@&=+$,#`].map(byteSet);

function byteSet(chars: string): Uint8Array {
  const set = new Uint8Array(256);
  for (const char of chars) set[char.charCodeAt(0)] = 1;
  return set;
}

function percentEncode(bytes: Uint8Array, safe: Uint8Array, plus: boolean, lower: boolean): string {
  let out = '';
  for (const byte of bytes) {
    if (safe[byte] === 1) out += String.fromCharCode(byte);
    else if (byte === 0x20 && plus) out += '+';
    else out += `%${hex2(byte, lower)}`;
  }
  return out;
}

/** JSON string bodies: plain, `/` as `\/` (PHP), non-ASCII as `\uXXXX` in either case (Python, Java), `<>&` as `\u003c`… (Go). */
export function jsonEscapes(value: string): string[] {
  if (/^[\x20-\x7e]*$/.test(value) && !/["\\/<>&]/.test(value)) return [value];
  const base = JSON.stringify(value).slice(1, -1);
  const forms: string[] = [];
  for (const ascii of [null, false, true]) {
    for (const htmlSafe of [false, true]) {
      let form = ascii === null ? base : base.replace(/[^\x20-\x7e]/g, (char) => `\\u${hex4(char.charCodeAt(0), !ascii)}`);
      if (htmlSafe) form = form.replace(/[<>&]/g, (char) => `\\u${hex4(char.charCodeAt(0), true)}`);
      forms.push(form, form.replaceAll('/', '\\/'));
    }
  }
  return forms;
}

/** HTML-escaped text: `& < >` always; `"` as `&quot;` or left; `'` as `&#39;`, `&#x27;`, `&apos;` or left. */
export function htmlEscapes(value: string): string[] {
  if (!/[&<>"']/.test(value)) return [value];
  const base = value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const forms: string[] = [];
  for (const quot of [base, base.replaceAll('"', '&quot;')]) {
    for (const apos of [null, '&#39;', '&#x27;', '&apos;']) forms.push(apos === null ? quot : quot.replaceAll("'", apos));
  }
  return forms;
}

/** Shell-quoted bodies: single quotes with `'\''` (sh) or `'"'"'` (shlex.quote), and bash's `printf %q` backslashes. */
export function shellQuotings(value: string): string[] {
  if (!/^[~#]|[ \t!"$&'()*,;<>?[\\\]^`{|}]/.test(value)) return [value];
  return [value.replaceAll("'", "'\\''"), value.replaceAll("'", `'"'"'`), value.replace(/^[~#]|[ \t!"$&'()*,;<>?[\\\]^`{|}]/g, (char) => `\\${char}`)];
}

/** Python repr bodies of the value as str (either quote) and of its UTF-8 bytes (`b'…'`). */
export function pythonReprs(value: string): string[] {
  if (/^[\x20-\x7e]*$/.test(value) && !/[\\'"]/.test(value)) return [value];
  const bytesForm = (quote: string) => [...Buffer.from(value, 'utf8')].map((byte) => pythonChar(byte, quote, true)).join('');
  const strForm = (quote: string) => [...value].map((char) => pythonChar(char.codePointAt(0)!, quote, false)).join('');
  return [strForm("'"), strForm('"'), bytesForm("'"), bytesForm('"')];
}

function pythonChar(code: number, quote: string, bytes: boolean): string {
  const char = String.fromCodePoint(code);
  if (char === '\\' || char === quote) return `\\${char}`;
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  if (char === '\t') return '\\t';
  if (code < 0x20 || code === 0x7f || (bytes && code > 0x7f) || (code >= 0x80 && code < 0xa0)) return `\\x${hex2(code, true)}`;
  return char;
}

function hex2(byte: number, lower: boolean): string {
  const digits = byte.toString(16).padStart(2, '0');
  return lower ? digits : digits.toUpperCase();
}

function hex4(code: number, lower: boolean): string {
  const digits = code.toString(16).padStart(4, '0');
  return lower ? digits : digits.toUpperCase();
}
