// Streaming byte masker for a child's output: each maximal run of overlapping occurrences of the
// values and their encoded forms becomes one MASK_TEXT (adjacent runs stay separate). Input:
// untrusted output, chunked arbitrarily. Invariant: output equals the whole-stream replacement
// for any chunking; bytes are held only while they may begin an occurrence (< longest pattern).
// maskerPair adds to that the occurrences that run from one of a child's streams into the other.

import { AgentSecretError } from '../core/errors.js';
import { buildPatternIndex, HASH, type PatternIndex } from './pattern-index.js';
import { createCandidates, scanCandidates, type Candidates } from './scan-candidates.js';
import { FRAGMENT_LENGTH, fragmentSources, wholePatterns } from './variants.js';

export const MASK_TEXT = '<concealed by agent-secret>';
export const MIN_MASK_LENGTH = 4;

const MASK_BYTES = Buffer.from(MASK_TEXT, 'utf8');
const EMPTY = Buffer.alloc(0);

export interface MaskerOptions {
  /** Values with fewer characters (Unicode code points) than this are not masked; default MIN_MASK_LENGTH. */
  minLength?: number;
}

export interface Masker {
  /** Feed a chunk; returns the bytes that are safe to emit now (holds back at most (longest pattern - 1) bytes). The result may share memory with `chunk`. */
  push(chunk: Buffer): Buffer;
  /** End of stream: returns the remaining bytes, masked. */
  end(): Buffer;
  /** Distinct byte patterns searched for. */
  readonly patternCount: number;
  /** Distinct values skipped for being shorter than the minimum length. */
  readonly skipped: number;
  /** Bytes currently held back (for tests and diagnostics). */
  readonly heldBytes: number;
}

/** The patterns of a set of values, compiled once; any number of maskers (one per stream) can share them. */
export interface MaskPatterns {
  readonly index: PatternIndex;
  /** Distinct values skipped for being shorter than the minimum length. */
  readonly skipped: number;
}

/** Compiles the values and all their encoded forms into the masker's search tables. */
export function compileMaskPatterns(values: readonly string[], options: MaskerOptions = {}): MaskPatterns {
  const minLength = options.minLength ?? MIN_MASK_LENGTH;
  const patterns: Uint8Array[] = [];
  const sources: Uint8Array[] = [];
  let skipped = 0;
  for (const value of new Set(values)) {
    if (codePointLength(value) < minLength || value.length === 0) {
      skipped += 1;
      continue;
    }
    patterns.push(...wholePatterns(value));
    sources.push(...fragmentSources(value));
  }
  return { index: buildPatternIndex(patterns, { sources, length: FRAGMENT_LENGTH }), skipped };
}

/** Builds a masker for the given values and all their encoded forms. */
export function createMasker(values: readonly string[], options: MaskerOptions = {}): Masker {
  return maskerFor(compileMaskPatterns(values, options));
}

/** A masker (one stream's state) over compiled patterns. */
export function maskerFor(compiled: MaskPatterns): Masker {
  const { index, skipped } = compiled;
  const scanner = new Scanner(index);
  return {
    push: (chunk) => scanner.push(chunk, false),
    end: () => scanner.push(EMPTY, true),
    patternCount: index.patterns.length,
    skipped,
    get heldBytes() {
      return scanner.heldBytes;
    },
  };
}

/**
 * A masker built on first use: a child that prints nothing (many do) never pays for compiling the
 * patterns. Same output as the masker `build` returns; end() without any push returns nothing.
 */
export function deferredMasker(build: () => Masker): Masker {
  let masker: Masker | null = null;
  const get = (): Masker => (masker ??= build());
  return {
    push: (chunk) => get().push(chunk),
    end: () => (masker === null ? EMPTY : masker.end()),
    get patternCount() {
      return get().patternCount;
    },
    get skipped() {
      return get().skipped;
    },
    get heldBytes() {
      return masker === null ? 0 : masker.heldBytes;
    },
  };
}

/** The maskers of one child's two output streams; see maskerPair. */
export interface MaskerPair {
  readonly stdout: Masker;
  readonly stderr: Masker;
}

/**
 * Two maskers for a child's stdout and stderr over one pattern index (compiled on the first push
 * to either, when given as a function), that also catch a value split between the two streams as
 * far as the order of arrival allows. Each still holds back its own tail as createMasker does; in
 * addition, when a chunk arrives on one stream while the other holds back bytes (a possible start
 * of a value, at the end of what it has received), the held bytes followed by this chunk are
 * searched too: an occurrence that begins in the held bytes and ends in this chunk is masked on
 * both sides (this stream masks its part at once, the other masks its held part when it releases
 * it), so either stream alone, and the two merged in any order, show neither part.
 *
 * Caught: a value (or any form or 12+ stretch of it) written partly to one stream and then, before
 * that stream writes anything else, the rest to the other, e.g. `printf %s "${T:0:9}"; printf %s
 * "${T:9}" >&2`, whichever way our reads of the two pipes fall into chunks. A part of 12+
 * characters is masked on its own in any case (fragments).
 *
 * Not caught (interleaving is nondeterministic): a split whose first part the other stream has
 * already passed on because more bytes followed it there before the rest arrived here (then the
 * parts are not adjacent in either stream, but a reader merging the two may still see them side
 * by side); a value split over three or more writes alternating between the streams, where a
 * middle part is shorter than 12; a part shorter than 12 that arrives before the part it
 * continues (our reads can reorder the two pipes); and anything once a stream has ended. Parts of
 * 12+ characters are still masked on their own in all these cases.
 */
export function maskerPair(patterns: MaskPatterns | (() => MaskPatterns)): MaskerPair {
  let scanners: [Scanner, Scanner] | null = null;
  let compiled: MaskPatterns | null = typeof patterns === 'function' ? null : patterns;
  const get = (): MaskPatterns => (compiled ??= (patterns as () => MaskPatterns)());
  const both = (): [Scanner, Scanner] => {
    if (scanners !== null) return scanners;
    const { index } = get();
    const out = new Scanner(index);
    const err = new Scanner(index);
    out.pairWith(err);
    return (scanners = [out, err]);
  };
  const side = (k: 0 | 1): Masker => ({
    push: (chunk) => both()[k].push(chunk, false),
    end: () => (scanners === null ? EMPTY : scanners[k].push(EMPTY, true)),
    get patternCount() {
      return get().index.patterns.length;
    },
    get skipped() {
      return get().skipped;
    },
    get heldBytes() {
      return scanners === null ? 0 : scanners[k].heldBytes;
    },
  });
  return { stdout: side(0), stderr: side(1) };
}

// What one push has produced so far, in positions of the buffer being scanned: the mask region
// that is open (bytes before regionEnd are covered) and the first byte not yet accounted for.
interface Run {
  readonly parts: Buffer[];
  regionEnd: number;
  emitted: number;
}

// Stream state between pushes. `held` starts at the first position not yet examined as a
// possible occurrence start; its first `covered` bytes lie inside a mask already emitted.
class Scanner {
  readonly #index: PatternIndex;
  readonly #candidates: Candidates = createCandidates();
  #held: Buffer = EMPTY;
  #covered = 0;
  #ended = false;
  // The other stream of the same child (maskerPair), and a region [at, end) counted from the
  // start of `held` that a match across the two streams requires to be masked on this side.
  #peer: Scanner | null = null;
  #pending: { at: number; end: number } | null = null;

  constructor(index: PatternIndex) {
    this.#index = index;
  }

  get heldBytes(): number {
    return this.#held.length;
  }

  pairWith(peer: Scanner): void {
    this.#peer = peer;
    peer.#peer = this;
  }

  push(chunk: Buffer, final: boolean): Buffer {
    if (this.#ended) throw new AgentSecretError('internal', 'The output masker was used after the end of its stream.');
    if (final) this.#ended = true;
    if (this.#index.window === 0) return chunk;
    if (this.#peer !== null && this.#peer.#held.length > 0 && this.#acrossStreams(this.#peer, chunk, final)) {
      this.#held = Buffer.concat([this.#held, chunk]);
      return EMPTY;
    }
    const run: Run = { parts: [], regionEnd: this.#covered, emitted: this.#covered };
    const held = this.#held;
    let data = chunk;
    if (held.length > 0 && chunk.length <= this.#index.maxLength) {
      data = Buffer.concat([held, chunk]);
    } else if (held.length > 0) {
      this.#crossBoundary(held, chunk, run);
    }
    const hold = this.#scan(data, final, run);
    if (this.#pending !== null) this.#pending = { at: this.#pending.at - hold, end: this.#pending.end - hold };
    if (run.emitted < hold) run.parts.push(data.subarray(run.emitted, hold));
    this.#held = hold < data.length ? Buffer.from(data.subarray(hold)) : EMPTY;
    this.#covered = Math.max(0, run.regionEnd - hold);
    const { parts } = run;
    if (parts.length === 0) return EMPTY;
    if (parts.length === 1 && parts[0] !== MASK_BYTES) return parts[0]!;
    return Buffer.concat(parts);
  }

  // The peer's held bytes followed by ours (held, then this chunk): an occurrence that starts in
  // theirs and ends in ours is masked on both sides (pending regions, recorded in order with the
  // occurrences each side finds itself). Returns true when an occurrence may still be completed:
  // then all of ours is held (fewer bytes than the longest pattern) until our next push or end
  // decides, as a single stream holds the start of a possible value.
  #acrossStreams(peer: Scanner, chunk: Buffer, final: boolean): boolean {
    const theirs = peer.#held;
    const { maxLength, window } = this.#index;
    const ours = this.#held.length > 0 ? Buffer.concat([this.#held, chunk.subarray(0, maxLength)]) : chunk.subarray(0, maxLength);
    const head = Buffer.concat([theirs, ours]);
    let from = -1;
    let end = 0;
    let live = false;
    for (let s = 0; s < theirs.length; s += 1) {
      if (s + window > head.length) {
        live ||= !final && this.#firstLivePrefix(head, s) === s;
        continue;
      }
      const length = this.#longestAt(head, s, final);
      if (length < 0) live = true;
      else if (length > 0 && s + length > theirs.length) {
        if (from < 0) from = s;
        end = Math.max(end, s + length - theirs.length);
      }
    }
    // While one may still be completed (ours is whole, not cut at maxLength), wait for it: a
    // shorter occurrence found now could end before the longer one would.
    if (live && ours.length > 0 && ours.length === this.#held.length + chunk.length) return true;
    if (from < 0) return false;
    peer.#addPending(from, theirs.length);
    this.#addPending(0, end);
    return false;
  }

  #addPending(at: number, end: number): void {
    const pending = this.#pending;
    this.#pending = pending === null ? { at, end } : { at: Math.min(at, pending.at), end: Math.max(end, pending.end) };
  }

  // Records the pending region once the scan reaches its start (occurrences are recorded in order).
  #flushPending(run: Run, data: Buffer, upTo: number): void {
    const pending = this.#pending;
    if (pending === null || pending.at > upTo) return;
    this.#pending = null;
    record(run, data, pending.at, pending.end - pending.at);
  }

  // Examines the held start positions against the held bytes plus the first maxLength bytes of
  // a long chunk (enough to decide every one of them), so the chunk itself is never copied;
  // then moves `run` into the chunk's positions.
  #crossBoundary(held: Buffer, chunk: Buffer, run: Run): void {
    const head = Buffer.concat([held, chunk.subarray(0, this.#index.maxLength)]);
    for (let i = 0; i < held.length; i += 1) {
      this.#flushPending(run, head, i);
      const length = this.#longestAt(head, i, false);
      if (length > 0) record(run, head, i, length);
    }
    this.#flushPending(run, head, Infinity);
    if (run.emitted < held.length) run.parts.push(head.subarray(run.emitted, held.length));
    run.emitted = Math.max(run.emitted, held.length) - held.length;
    run.regionEnd -= held.length;
  }

  // Records every occurrence in `data`; returns where to start holding back (data.length: nothing).
  #scan(data: Buffer, final: boolean, run: Run): number {
    const candidates = this.#candidates;
    scanCandidates(this.#index, data, candidates);
    const { out, from, count } = candidates;
    for (let lane = 0; lane < from.length; lane += 1) {
      for (let k = from[lane]!, stopAt = k + count[lane]!; k < stopAt; k += 1) {
        const i = out[k]!;
        this.#flushPending(run, data, i);
        const length = this.#longestAt(data, i, final);
        if (length < 0) return i;
        if (length > 0) record(run, data, i, length);
      }
    }
    this.#flushPending(run, data, Infinity);
    if (final) return data.length;
    const live = this.#firstLivePrefix(data, Math.max(0, data.length - this.#index.window + 1));
    return live < 0 ? data.length : live;
  }

  // Length of the longest pattern occurring at i (0: none), or -1 when a longer pattern is
  // still possible and needs bytes not yet seen. Needs i + window <= data.length.
  #longestAt(data: Buffer, i: number, final: boolean): number {
    const { shift, lead, mid, hashShift, window, startPairs, bucketStart, bucketItems, patterns } = this.#index;
    const end = i + window - 1;
    const block = Math.imul((data[end - lead]! << 16) | (data[end - mid]! << 8) | data[end]!, HASH) >>> hashShift;
    if (shift[block] !== 0) return 0;
    if (window >= 2 && startPairs[(data[i]! << 8) | data[i + 1]!] === 0) return 0;
    const available = data.length - i;
    for (let k = bucketStart[block]!, stopAt = bucketStart[block + 1]!; k < stopAt; k += 1) {
      const pattern = patterns[bucketItems[k]!]!;
      if (pattern.length > available) {
        if (!final && matchesAt(data, i, pattern, available)) return -1;
      } else if (matchesAt(data, i, pattern, pattern.length)) {
        return pattern.length;
      }
    }
    return 0;
  }

  // First position from `from` on where the rest of the data is a proper prefix of a pattern
  // (the window did not fit there, so every pattern is longer than what is left), or -1.
  #firstLivePrefix(data: Buffer, from: number): number {
    const { firstStart, firstItems, patterns } = this.#index;
    for (let j = from; j < data.length; j += 1) {
      const byte = data[j]!;
      const rest = data.length - j;
      for (let k = firstStart[byte]!, stopAt = firstStart[byte + 1]!; k < stopAt; k += 1) {
        if (matchesAt(data, j, patterns[firstItems[k]!]!, rest)) return j;
      }
    }
    return -1;
  }
}

// An occurrence [i, i + length): opens a new mask, or extends the open one it overlaps.
function record(run: Run, data: Buffer, i: number, length: number): void {
  if (i >= run.regionEnd) {
    if (i > run.emitted) run.parts.push(data.subarray(run.emitted, i));
    run.parts.push(MASK_BYTES);
    run.regionEnd = i + length;
  } else if (i + length > run.regionEnd) {
    run.regionEnd = i + length;
  }
  run.emitted = run.regionEnd;
}

function matchesAt(data: Buffer, at: number, pattern: Uint8Array, count: number): boolean {
  for (let k = 0; k < count; k += 1) {
    if (data[at + k] !== pattern[k]) return false;
  }
  return true;
}

function codePointLength(value: string): number {
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}
