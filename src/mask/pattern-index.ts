// Wu–Manber tables over the masker's byte patterns: shifts per hashed 3-byte block to skip text,
// buckets of patterns to verify where the shift is 0, and first-byte lists for prefixes at a
// chunk's end. Blocks are 3 bytes (not 2) and the table grows with the pattern count because a
// value's 12-byte fragments put nearly every byte pair of its forms at a window's end: on the
// bench corpus (20 secrets, 2487 patterns) 2-byte blocks found 37.7k candidates/MB, hashed
// 3-byte blocks 4.0k/MB (the masker before fragments: 3.3k/MB with 160 patterns); with a PEM
// key added (11020 patterns, 2^18 slots) 7.9k/MB. Any hash is sound: a text block and a pattern
// block that hash alike only lower the shift.
// Input: patterns derived from secret values (never printed). Invariant: a position the shift
// table skips cannot start an occurrence, nor a pattern prefix the text so far allows.

/** Widest window the shift table uses; longer patterns are matched on their first WINDOW_CAP bytes, then verified. */
const WINDOW_CAP = 64;
/** Slots of startPairs: every pair of bytes. */
const PAIR_TABLE_SIZE = 1 << 16;
/** Multiplier of the block hash (Fibonacci hashing: the top bits of the product spread well). */
export const HASH = 0x9e3779b1;
/** Table bits: at least 16, more with many patterns (a PEM has thousands of fragments), so that about 1 slot in 16 is a window end. */
const MIN_TABLE_BITS = 16;
const MAX_TABLE_BITS = 18;

export interface PatternIndex {
  /** Distinct patterns, longest first (ties in byte order), so the first full match in a bucket is the longest. */
  readonly patterns: readonly Uint8Array[];
  /** Bytes in the scan window: min(shortest pattern, WINDOW_CAP); 0 when there are no patterns. */
  readonly window: number;
  /** The block ending at e hashes bytes e - lead, e - mid and e (see blockHash): lead = min(window - 1, 2), mid = min(window - 1, 1). */
  readonly lead: number;
  readonly mid: number;
  /** 32 - table bits: the block hash is `Math.imul(b0 << 16 | b1 << 8 | b2, HASH) >>> hashShift`. */
  readonly hashShift: number;
  readonly maxLength: number;
  /** Safe skip for the block ending a window, indexed by its blockHash. */
  readonly shift: Uint8Array;
  /** Patterns whose window ends with block h: `bucketItems[bucketStart[h] .. bucketStart[h + 1])`. */
  readonly bucketStart: Int32Array;
  readonly bucketItems: Int32Array;
  /** 1 where some pattern starts with the two bytes `(b0 << 8) | b1`; meaningful only when window >= 2. */
  readonly startPairs: Uint8Array;
  /** Patterns starting with byte b: `firstItems[firstStart[b] .. firstStart[b + 1])`. */
  readonly firstStart: Int32Array;
  readonly firstItems: Int32Array;
}

/** Byte strings each of whose `length`-byte windows is a pattern too (a value's fragments). */
export interface FragmentSources {
  readonly sources: readonly Uint8Array[];
  readonly length: number;
}

/**
 * Builds the tables for a set of non-empty byte patterns (duplicates removed here) plus every
 * window of the fragment sources. Fragments are views into one copy of their source, listed by
 * position (a repeated stretch is listed at each place), and the shift table gets each source
 * byte once: a source of n bytes costs O(n), not one pattern of `length` bytes per window.
 */
export function buildPatternIndex(input: readonly Uint8Array[], fragments: FragmentSources = { sources: [], length: 0 }): PatternIndex {
  const whole = distinctLongestFirst(input);
  const size = fragments.length;
  const sources = size > 0 ? distinctLongestFirst(fragments.sources).filter((source) => source.length >= size) : [];
  const windows = sources.flatMap((source) => Array.from({ length: source.length - size + 1 }, (_unused, at) => source.subarray(at, at + size)));
  const longer = whole.findIndex((pattern) => pattern.length <= size);
  const patterns = windows.length === 0 ? whole : longer < 0 ? [...whole, ...windows] : [...whole.slice(0, longer), ...windows, ...whole.slice(longer)];
  const minLength = patterns.length === 0 ? 0 : patterns[patterns.length - 1]!.length;
  const maxLength = patterns.length === 0 ? 0 : patterns[0]!.length;
  const window = Math.min(minLength, WINDOW_CAP);
  const lead = Math.max(0, Math.min(window - 1, 2));
  const mid = Math.max(0, Math.min(window - 1, 1));
  const bits = Math.min(MAX_TABLE_BITS, Math.max(MIN_TABLE_BITS, Math.ceil(Math.log2(16 * patterns.length + 1))));
  const hashShift = 32 - bits;
  const shift = new Uint8Array(1 << bits).fill(window === 0 ? 1 : window - lead);
  for (const pattern of whole) lowerShifts(shift, pattern, window, lead, mid, hashShift, window);
  for (const source of sources) lowerShifts(shift, source, window, lead, mid, hashShift, source.length - size + window);
  const windowEnds = patterns.map((pattern) => blockHash(pattern, window - 1, lead, mid, hashShift));
  const startPairs = new Uint8Array(PAIR_TABLE_SIZE);
  for (const pattern of patterns) {
    if (pattern.length >= 2) startPairs[(pattern[0]! << 8) | pattern[1]!] = 1;
  }
  const buckets = groupBy(windowEnds, 1 << bits);
  const firsts = groupBy(patterns.map((pattern) => pattern[0]!), 256);
  return {
    patterns,
    window,
    lead,
    mid,
    hashShift,
    maxLength,
    shift,
    bucketStart: buckets.start,
    bucketItems: buckets.items,
    startPairs,
    firstStart: firsts.start,
    firstItems: firsts.items,
  };
}

// Lowers the shift of each block ending at j in [lead, end) of `bytes` to its distance from the
// end of the scan window that ends nearest after it: the window ending at j itself (distance 0)
// when one starts at j - window + 1 >= 0, else the window at 0 (window - 1 - j). For a pattern,
// end = window (its one window); for a source, its last fragment's window ends at end - 1.
function lowerShifts(shift: Uint8Array, bytes: Uint8Array, window: number, lead: number, mid: number, hashShift: number, end: number): void {
  for (let j = lead; j < end; j += 1) {
    const distance = Math.max(0, window - 1 - j);
    const block = blockHash(bytes, j, lead, mid, hashShift);
    if (distance < shift[block]!) shift[block] = distance;
  }
}

/** The table slot of the block ending at `end`; the scan inlines this same expression. */
export function blockHash(bytes: Uint8Array, end: number, lead: number, mid: number, hashShift: number): number {
  return Math.imul((bytes[end - lead]! << 16) | (bytes[end - mid]! << 8) | bytes[end]!, HASH) >>> hashShift;
}

// Compressed buckets: the items of key k, in input order, are items[start[k] .. start[k + 1]).
// start[k] counts the keys below k; it is filled a run at a time (a masker is built at every
// exec, and a loop over all 65536 slots costs milliseconds before it is optimized). Key and
// index are packed into one number and sorted natively (a Float64Array, no comparator calls:
// with thousands of fragments, a comparator sort cost tens of milliseconds on a cold start).
const INDEX_SPAN = 2 ** 26;

function groupBy(keys: readonly number[], size: number): { start: Int32Array; items: Int32Array } {
  const packed = new Float64Array(keys.length);
  for (let index = 0; index < keys.length; index += 1) packed[index] = keys[index]! * INDEX_SPAN + index;
  packed.sort();
  const start = new Int32Array(size + 1);
  const items = new Int32Array(keys.length);
  let next = 0;
  for (let below = 0; below < packed.length; below += 1) {
    const key = Math.floor(packed[below]! / INDEX_SPAN);
    items[below] = packed[below]! - key * INDEX_SPAN;
    if (key < next) continue;
    start.fill(below, next, key + 1);
    next = key + 1;
  }
  start.fill(keys.length, next, size + 1);
  return { start, items };
}

// Keys are the patterns' bytes as latin1 strings: deduplicating and ordering strings is several
// times cheaper than comparing buffers (thousands of fragments are indexed at every masked exec),
// and latin1 string order is byte order. The patterns are copied into one buffer (one allocation,
// and the caller's buffers stay theirs).
function distinctLongestFirst(input: readonly Uint8Array[]): Uint8Array[] {
  const byKey = new Map<string, Uint8Array>();
  let total = 0;
  for (const pattern of input) {
    if (pattern.length === 0) continue;
    const key = Buffer.from(pattern.buffer, pattern.byteOffset, pattern.length).toString('latin1');
    if (byKey.has(key)) continue;
    byKey.set(key, pattern);
    total += pattern.length;
  }
  const keys = [...byKey.keys()].sort(longestFirst);
  const arena = new Uint8Array(total);
  let at = 0;
  return keys.map((key) => {
    const pattern = byKey.get(key)!;
    arena.set(pattern, at);
    at += pattern.length;
    return arena.subarray(at - pattern.length, at);
  });
}

function longestFirst(a: string, b: string): number {
  return b.length - a.length || (a < b ? -1 : a > b ? 1 : 0);
}
