// The masker's hot loop: Wu–Manber skipping over a chunk of child output, reporting positions
// where a pattern may begin (shift 0). Input: untrusted bytes. Invariant: every start position
// of an occurrence whose scan window fits in the data is reported, in ascending order.

import { HASH, type PatternIndex } from './pattern-index.js';

const LANES = 4;
const MIN_LANE = 256;

/** Candidates found in `data`, lane by lane: positions `out[from[k] .. from[k] + count[k])`, ascending overall. */
export interface Candidates {
  out: Int32Array;
  readonly from: Int32Array;
  readonly count: Int32Array;
}

/** Reusable candidate storage (grows to the largest chunk seen). */
export function createCandidates(): Candidates {
  return { out: new Int32Array(1024), from: new Int32Array(LANES), count: new Int32Array(LANES) };
}

// Four lanes scan four quarters of the data in one loop so that their table look-ups overlap
// (a lane's next position depends on its last look-up, so one lane alone is latency-bound,
// about 2x slower); the step is branch-free: `s + ((s - 1) >>> 31)` is s, or 1 when s is 0.

/** Fills `candidates` with every position i <= data.length - window where the shift table gives 0. */
export function scanCandidates(index: PatternIndex, data: Uint8Array, candidates: Candidates): void {
  const { shift, lead, mid, hashShift, window } = index;
  const reach = window - 1;
  const positions = data.length - window + 1;
  if (candidates.out.length < positions) candidates.out = new Int32Array(positions);
  const out = candidates.out;
  const lanes = positions >= LANES * MIN_LANE ? LANES : 1;
  const quarter = Math.floor(positions / lanes);
  const ends = [quarter, 2 * quarter, 3 * quarter, positions];
  let a = 0;
  let za = 0;
  if (lanes === 1) {
    ends[0] = positions;
  } else {
    let b = quarter;
    let c = 2 * quarter;
    let d = 3 * quarter;
    let zb = b;
    let zc = c;
    let zd = d;
    const endA = ends[0]!;
    const endB = ends[1]!;
    const endC = ends[2]!;
    const endD = ends[3]!;
    while (a < endA && b < endB && c < endC && d < endD) {
      const pa = a + reach;
      const pb = b + reach;
      const pc = c + reach;
      const pd = d + reach;
      const sa = shift[Math.imul((data[pa - lead]! << 16) | (data[pa - mid]! << 8) | data[pa]!, HASH) >>> hashShift]!;
      const sb = shift[Math.imul((data[pb - lead]! << 16) | (data[pb - mid]! << 8) | data[pb]!, HASH) >>> hashShift]!;
      const sc = shift[Math.imul((data[pc - lead]! << 16) | (data[pc - mid]! << 8) | data[pc]!, HASH) >>> hashShift]!;
      const sd = shift[Math.imul((data[pd - lead]! << 16) | (data[pd - mid]! << 8) | data[pd]!, HASH) >>> hashShift]!;
      out[za] = a;
      za += (sa - 1) >>> 31;
      a += sa + ((sa - 1) >>> 31);
      out[zb] = b;
      zb += (sb - 1) >>> 31;
      b += sb + ((sb - 1) >>> 31);
      out[zc] = c;
      zc += (sc - 1) >>> 31;
      c += sc + ((sc - 1) >>> 31);
      out[zd] = d;
      zd += (sd - 1) >>> 31;
      d += sd + ((sd - 1) >>> 31);
    }
    candidates.count[1] = finishLane(index, data, out, b, endB, zb) - quarter;
    candidates.count[2] = finishLane(index, data, out, c, endC, zc) - 2 * quarter;
    candidates.count[3] = finishLane(index, data, out, d, endD, zd) - 3 * quarter;
  }
  candidates.count[0] = finishLane(index, data, out, a, ends[0]!, za);
  for (let k = 0; k < LANES; k += 1) {
    candidates.from[k] = k === 0 ? 0 : ends[k - 1]!;
    if (k >= lanes) candidates.count[k] = 0;
  }
}

// One lane on its own up to `end`; returns the next free slot. Slots never pass the position
// being examined, so lanes writing from their own start position cannot overlap.
function finishLane(index: PatternIndex, data: Uint8Array, out: Int32Array, at: number, end: number, slot: number): number {
  const { shift, lead, mid, hashShift, window } = index;
  const reach = window - 1;
  let i = at;
  let z = slot;
  while (i < end) {
    const p = i + reach;
    const s = shift[Math.imul((data[p - lead]! << 16) | (data[p - mid]! << 8) | data[p]!, HASH) >>> hashShift]!;
    out[z] = i;
    z += (s - 1) >>> 31;
    i += s + ((s - 1) >>> 31);
  }
  return z;
}
