// The encoded forms of a delivered value that the output masker conceals. Input: a plaintext
// value (trusted, never echoed). Invariant: each form is exactly an encoder's output for the
// value's UTF-8 bytes; base64 alignment cores (the value inside a larger payload) are added only
// when >= 8 characters (48 bits), so they do not hit ordinary words or identifiers by chance.

/** Shortest base64 alignment core we add; shorter cores would match ordinary words too often. */
export const MIN_ALIGNED_CORE = 8;

/** All encoded forms of `value` to conceal, deduplicated, longest (in UTF-8 bytes) first. */
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
  forms.add(bytes.toString('hex'));
  forms.add(bytes.toString('hex').toUpperCase());
  forms.add(encodeURIComponent(toWellFormed(value)));
  forms.add(JSON.stringify(value).slice(1, -1));
  for (const offset of [0, 1, 2]) {
    const core = alignedCore(bytes, offset);
    if (core.length < MIN_ALIGNED_CORE) continue;
    forms.add(core);
    forms.add(core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  forms.delete('');
  return [...forms].sort(byByteLengthDescending);
}

// The base64 characters that depend only on the value's bits when the value starts `offset`
// bytes into a 3-byte group of a larger base64 payload: characters covering bits of the
// neighbouring bytes (the unstable edges) are trimmed.
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

function byByteLengthDescending(a: string, b: string): number {
  const diff = Buffer.byteLength(b, 'utf8') - Buffer.byteLength(a, 'utf8');
  if (diff !== 0) return diff;
  return a < b ? -1 : a > b ? 1 : 0;
}
