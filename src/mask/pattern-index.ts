// Wu–Manber tables over the masker's byte patterns: 2-byte-block shifts to skip text, buckets of
// patterns to verify where the shift is 0, and first-byte lists for prefixes at a chunk's end.
// Input: patterns derived from secret values (never printed). Invariant: a position the shift
// table skips cannot start an occurrence, nor a pattern prefix the text so far allows.

/** Widest window the shift table uses; longer patterns are matched on their first WINDOW_CAP bytes, then verified. */
const WINDOW_CAP = 64;
const TABLE_SIZE = 1 << 16;

export interface PatternIndex {
  /** Distinct patterns, longest first (ties in byte order), so the first full match in a bucket is the longest. */
  readonly patterns: readonly Uint8Array[];
  /** Bytes in the scan window: min(shortest pattern, WINDOW_CAP); 0 when there are no patterns. */
  readonly window: number;
  /** 1 when the hash block is two bytes (window >= 2), 0 when it is the window's one byte twice. */
  readonly lead: number;
  readonly maxLength: number;
  /** Safe skip for the block ending a window, indexed by `(byte[end - lead] << 8) | byte[end]`. */
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

/** Builds the tables for a set of non-empty byte patterns (duplicates removed here). */
export function buildPatternIndex(input: readonly Uint8Array[]): PatternIndex {
  const patterns = distinctLongestFirst(input);
  const minLength = patterns.length === 0 ? 0 : patterns[patterns.length - 1]!.length;
  const maxLength = patterns.length === 0 ? 0 : patterns[0]!.length;
  const window = Math.min(minLength, WINDOW_CAP);
  const lead = window >= 2 ? 1 : 0;
  const shift = new Uint8Array(TABLE_SIZE).fill(window === 0 ? 1 : window - lead);
  const windowEnds: number[] = [];
  for (const pattern of patterns) {
    for (let q = lead; q < window; q += 1) {
      const block = blockAt(pattern, q, lead);
      const distance = window - 1 - q;
      if (distance < shift[block]!) shift[block] = distance;
    }
    windowEnds.push(blockAt(pattern, window - 1, lead));
  }
  const startPairs = new Uint8Array(TABLE_SIZE);
  for (const pattern of patterns) {
    if (pattern.length >= 2) startPairs[(pattern[0]! << 8) | pattern[1]!] = 1;
  }
  const buckets = groupBy(windowEnds, TABLE_SIZE);
  const firsts = groupBy(patterns.map((pattern) => pattern[0]!), 256);
  return {
    patterns,
    window,
    lead,
    maxLength,
    shift,
    bucketStart: buckets.start,
    bucketItems: buckets.items,
    startPairs,
    firstStart: firsts.start,
    firstItems: firsts.items,
  };
}

function blockAt(bytes: Uint8Array, end: number, lead: number): number {
  return (bytes[end - lead]! << 8) | bytes[end]!;
}

// Compressed buckets: the items of key k, in input order, are items[start[k] .. start[k + 1]).
// start[k] counts the keys below k; it is filled a run at a time (a masker is built at every
// exec, and a loop over all 65536 slots costs milliseconds before it is optimized).
function groupBy(keys: readonly number[], size: number): { start: Int32Array; items: Int32Array } {
  const order = keys.map((_key, index) => index).sort((a, b) => keys[a]! - keys[b]! || a - b);
  const start = new Int32Array(size + 1);
  let next = 0;
  order.forEach((index, below) => {
    const key = keys[index]!;
    if (key < next) return;
    start.fill(below, next, key + 1);
    next = key + 1;
  });
  start.fill(keys.length, next, size + 1);
  return { start, items: Int32Array.from(order) };
}

function distinctLongestFirst(input: readonly Uint8Array[]): Uint8Array[] {
  const seen = new Map<string, Uint8Array>();
  for (const pattern of input) {
    if (pattern.length === 0) continue;
    const key = Buffer.from(pattern.buffer, pattern.byteOffset, pattern.length).toString('latin1');
    if (!seen.has(key)) seen.set(key, Uint8Array.from(pattern));
  }
  return [...seen.values()].sort((a, b) => b.length - a.length || Buffer.compare(a, b));
}
