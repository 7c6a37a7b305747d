// The forms real output takes: a value printed with CRLF, indented, flattened, wrapped, cut short,
// escaped for a shell, a URL, JSON, HTML or Python, or in UTF-16 — each must come out concealed,
// for any chunking. All values are generated test canaries.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMasker, MASK_TEXT, type Masker } from '../../../src/mask/masker.js';
import { FRAGMENT_LENGTH } from '../../../src/mask/variants.js';
import { rawSegments } from './reference.js';

const M = MASK_TEXT;

function run(masker: Masker, text: string | Buffer, sizes: readonly number[] = [1 << 16]): Buffer {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const out: Buffer[] = [];
  let at = 0;
  for (let k = 0; at < bytes.length; k += 1) {
    const size = Math.max(1, sizes[k % sizes.length]!);
    out.push(masker.push(bytes.subarray(at, at + size)));
    at += size;
  }
  out.push(masker.end());
  return Buffer.concat(out);
}

/** Masked output of `text` for `values`, whole and in awkward chunkings; all three must agree. */
function masked(values: string[], text: string | Buffer): Buffer {
  const whole = run(createMasker(values), text);
  expect(run(createMasker(values), text, [1]).equals(whole)).toBe(true);
  expect(run(createMasker(values), text, [7, 3, 64]).equals(whole)).toBe(true);
  return whole;
}

const BODY = [
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7canaryQ0x1Zz',
  'k3Jp9mWq5Tn8yL2vR4bXc6dE0fGh1iJk2lMn3oPq4rSt5uVw6xYz7AB8CD9EF0GH',
  'Xy7Zq2Lp',
];
const PEM = `-----BEGIN PRIVATE KEY-----\n${BODY.join('\n')}\n-----END PRIVATE KEY-----\n`;

/** No line of the PEM body (the secret part) survives in the output, in whole or in part of 8+. */
function expectNoBodyLine(out: Buffer): void {
  const text = out.toString();
  for (const line of BODY) expect(text, line).not.toContain(line);
  for (const segment of rawSegments(out)) {
    for (const line of BODY) {
      for (let at = 0; at + 8 <= line.length; at += 1) expect(segment.toString()).not.toContain(line.slice(at, at + 8));
    }
  }
}

describe('multi-line values', () => {
  it.each([
    ['as delivered', PEM],
    ['with CRLF', PEM.replaceAll('\n', '\r\n')],
    ['indented', PEM.split('\n').map((line) => `    ${line}`).join('\n')],
    ['flattened, joined with nothing', PEM.split('\n').join('')],
    ['flattened, joined with spaces', PEM.split('\n').join(' ')],
    ['flattened, joined with literal \\n', PEM.split('\n').join('\\n')],
    ['flattened, joined with literal \\r\\n', PEM.split('\n').join('\\r\\n')],
    ['body only', BODY.join('\n')],
    ['body only, CRLF', BODY.join('\r\n')],
    ['body only, indented CRLF', BODY.map((line) => `\t${line}`).join('\r\n')],
  ])('masks each line of a PEM printed %s', (_name, text) => {
    expectNoBodyLine(masked([PEM], `key:\n${text}\nend\n`));
  });
});

describe('base64 wrapped', () => {
  const value = `sk_live_canary_${'Wq8mZ3xR'.repeat(10)}`;
  const encoded = Buffer.from(value).toString('base64');
  const wrap = (width: number, eol: string) => (encoded.match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join(eol);

  it.each([
    ['76 columns (base64)', wrap(76, '\n')],
    ['64 columns (openssl base64)', wrap(64, '\n')],
    ['76 columns, CRLF (MIME)', wrap(76, '\r\n')],
  ])('masks the whole of %s, the tail included', (_name, text) => {
    expect(masked([value], `${text}\n`).toString()).toBe(`${M}\n`);
  });

  it('masks `echo "$V" | base64` wrapped (the newline changes the last characters) up to those characters', () => {
    const short = `sk_live_canary_${'Wq8mZ3xR'.repeat(6).slice(0, 47)}`; // 63 bytes with the newline: a tail line of 8
    const withNewline = Buffer.from(`${short}\n`).toString('base64');
    const lines = withNewline.match(/.{1,76}/g) ?? [];
    expect(lines[1]!.length).toBe(8);
    const out = masked([short], `${lines.join('\n')}\n`).toString();
    expect(out.startsWith(M)).toBe(true);
    expect(out.length - M.length).toBeLessThanOrEqual(5);
  });

  it("masks the value's part of every line of a larger wrapped payload", () => {
    const before = 'HEADER=1\nTOKEN=';
    const payload = Buffer.from(`${before}${value}\nFOOTER=2\n`).toString('base64');
    const first = Math.ceil((8 * before.length) / 6);
    const end = Math.floor((8 * (before.length + Buffer.byteLength(value))) / 6);
    const out = masked([value], `${(payload.match(/.{1,76}/g) ?? []).join('\n')}\n`).toString();
    let checked = 0;
    for (let lineStart = 0; lineStart < payload.length; lineStart += 76) {
      const from = Math.max(first, lineStart);
      const to = Math.min(end, lineStart + 76);
      for (let at = from; at + FRAGMENT_LENGTH <= to; at += 1, checked += 1) expect(out).not.toContain(payload.slice(at, at + FRAGMENT_LENGTH));
    }
    expect(checked).toBeGreaterThan(50);
  });
});

describe('escapes and encodings', () => {
  const value = "c4n/ary+k3y 'q\"uo<t>e&d' é\\x";
  const bytes = Buffer.from(value);
  const percent = (plus: boolean, keep: RegExp) =>
    [...bytes].map((b) => (b < 128 && keep.test(String.fromCharCode(b)) ? String.fromCharCode(b) : b === 32 && plus ? '+' : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
  const forms: [string, string | Buffer][] = [
    ['upper-case hex', bytes.toString('hex').toUpperCase()],
    ['URL encoding with lower-case %xx', encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (s) => s.toLowerCase())],
    ['URL form encoding, + for space (URLSearchParams)', new URLSearchParams({ k: value }).toString().slice(2)],
    ['URL form encoding, lower-case', new URLSearchParams({ k: value }).toString().slice(2).replace(/%[0-9A-F]{2}/g, (s) => s.toLowerCase())],
    ['Python quote_plus', percent(true, /[A-Za-z0-9_.~-]/)],
    ['Python quote (keeps /)', percent(false, /[A-Za-z0-9_.~/-]/)],
    ['encodeURI', encodeURI(value)],
    ['JSON with \\/', JSON.stringify(value).slice(1, -1).replaceAll('/', '\\/')],
    ['JSON with \\u escapes (ensure_ascii)', JSON.stringify(value).slice(1, -1).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)],
    ['JSON with upper-case \\u escapes', JSON.stringify(value).slice(1, -1).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`)],
    ['JSON, Go html-safe', JSON.stringify(value).slice(1, -1).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)],
    ['HTML, &#39;', value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')],
    ['HTML, &#x27;', value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#x27;')],
    ['HTML, quotes left', value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')],
    // Quoted forms without their outer quotes (those are not secret, and stay).
    ['shell single quotes', value.replaceAll("'", "'\\''")],
    ['shlex.quote', value.replaceAll("'", `'"'"'`)],
    ['bash printf %q', value.replace(/[ !"$&'()*,;<>?[\\\]^`{|}]/g, (c) => `\\${c}`)],
    ["Python repr ('-quoted)", value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")],
    ['Python repr ("-quoted)', value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')],
    ['UTF-16LE', Buffer.from(value, 'utf16le')],
    ['UTF-16BE', Buffer.from(value, 'utf16le').swap16()],
  ];

  it.each(forms)('masks the %s form', (_name, form) => {
    const out = masked([value], Buffer.concat([Buffer.from('<< '), Buffer.from(form), Buffer.from(' >>')]));
    expect(out.toString()).toBe(`<< ${M} >>`);
  });
});

describe('fragments of a value', () => {
  const value = 'ghp_canaryR2d2C3po9Bb8Yoda7Luke';

  it.each([
    ['cut -c1-12 (a 12-character prefix)', value.slice(0, FRAGMENT_LENGTH)],
    ['a long prefix', value.slice(0, 20)],
    ['a 12-character suffix', value.slice(-FRAGMENT_LENGTH)],
    ['a long suffix', value.slice(9)],
    ['a middle stretch', value.slice(5, 5 + FRAGMENT_LENGTH + 3)],
  ])('masks %s', (_name, piece) => {
    expect(masked([value], `id=${piece};`).toString()).toBe(`id=${M};`);
  });

  it('masks a value cut into pieces of 12+ on separate lines, each on its own', () => {
    const text = `${value.slice(0, 14)}\n${value.slice(14)}\n`;
    expect(masked([value], text).toString()).toBe(`${M}\n${M}\n`);
  });

  it('leaves pieces shorter than FRAGMENT_LENGTH alone (the documented limit)', () => {
    const piece = value.slice(0, FRAGMENT_LENGTH - 1);
    expect(masked([value], `id=${piece};`).toString()).toBe(`id=${piece};`);
  });

  it('takes no fragments from a value no longer than a fragment', () => {
    const short = 'sk_short_123';
    expect(masked([short], `id=${short.slice(0, 10)}|${short}`).toString()).toBe(`id=${short.slice(0, 10)}|${M}`);
  });
});

// Generators of the transformed forms of a value, as real tools print them.
const renderers: readonly ((value: string) => Buffer)[] = [
  (v) => Buffer.from(v),
  (v) => Buffer.from(v.replaceAll('\n', '\r\n')),
  (v) => Buffer.from(v.split('\n').join('')),
  (v) => Buffer.from(v.split('\n').join('\\n')),
  (v) => Buffer.from(v.split('\n').join(' ')),
  (v) => Buffer.from(v.split('\n').map((line) => `  ${line}`).join('\n')),
  (v) => Buffer.from(Buffer.from(v).toString('hex').toUpperCase()),
  (v) => Buffer.from((Buffer.from(v).toString('base64').match(/.{1,76}/g) ?? []).join('\n')),
  (v) => Buffer.from((Buffer.from(v).toString('base64').match(/.{1,64}/g) ?? []).join('\r\n')),
  (v) => Buffer.from(encodeURIComponent(v).replace(/%[0-9A-F]{2}/g, (s) => s.toLowerCase())),
  (v) => Buffer.from(new URLSearchParams({ k: v }).toString().slice(2)),
  (v) => Buffer.from(JSON.stringify(v).slice(1, -1).replaceAll('/', '\\/')),
  (v) => Buffer.from(v.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#x27;')),
  (v) => Buffer.from(v.replaceAll("'", "'\\''")),
  (v) => Buffer.from(v.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n')),
  (v) => Buffer.from(v, 'utf16le'),
  (v) => Buffer.from(v, 'utf16le').swap16(),
  (v) => Buffer.from(v.slice(0, FRAGMENT_LENGTH + 2)),
  (v) => Buffer.from(v.slice(-FRAGMENT_LENGTH)),
];

describe('forms: properties', () => {
  const valueChars = fc.constantFrom(...'abcXYZ0189/+=_-. \'"<>&\\\nék'.split(''));
  const fillerChars = fc.constantFrom(...'mnopq: ,;\n\r|'.split(''));
  const value = fc.array(valueChars, { minLength: FRAGMENT_LENGTH + 4, maxLength: 60 }).map((c) => c.join(''));

  it('never shows any form of the value, for any chunking of output around it', () => {
    fc.assert(
      fc.property(
        value,
        fc.array(fc.tuple(fc.array(fillerChars, { maxLength: 8 }).map((c) => c.join('')), fc.integer({ min: 0, max: renderers.length - 1 })), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 6 }),
        (v, pieces, sizes) => {
          const forms = pieces.map(([, k]) => renderers[k]!(v));
          const text = Buffer.concat(pieces.flatMap(([filler], i) => [Buffer.from(filler), forms[i]!]));
          const out = run(createMasker([v]), text, sizes);
          for (const form of forms) {
            // What a renderer printed, minus what it added itself (line breaks, indentation, padding), may not survive.
            const body = form.toString('latin1').split(/\r?\n|\\n| {2}/).filter((part) => part.length >= FRAGMENT_LENGTH);
            for (const segment of rawSegments(out)) {
              for (const part of body) expect(segment.toString('latin1').includes(part)).toBe(false);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
