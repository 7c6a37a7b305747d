// A deliberately simple whole-buffer masker used as the oracle for the streaming masker: every
// occurrence of every pattern is found with indexOf, overlapping occurrences are merged and
// each merged run becomes one MASK_TEXT. Test values only; nothing here ever sees a real secret.

import { MASK_TEXT } from '../../../src/mask/masker.js';
import { maskPatterns } from '../../../src/mask/variants.js';

/** The byte patterns the masker derives from values of at least `minLength` code points. */
export function patternsFor(values: readonly string[], minLength = 4): Buffer[] {
  return values.filter((value) => [...value].length >= minLength && value.length > 0).flatMap((value) => maskPatterns(value));
}

/** Whole-buffer replacement by brute force: every occurrence of every pattern, via indexOf. */
export function referenceMask(text: Buffer, patterns: readonly Buffer[]): Buffer {
  const longestAt = new Int32Array(text.length);
  for (const pattern of patterns) {
    for (let at = text.indexOf(pattern); at >= 0; at = text.indexOf(pattern, at + 1)) {
      longestAt[at] = Math.max(longestAt[at]!, pattern.length);
    }
  }
  const parts: Buffer[] = [];
  let emitted = 0;
  let regionEnd = -1;
  for (let i = 0; i < text.length; i += 1) {
    const longest = longestAt[i]!;
    if (longest === 0) continue;
    if (i < regionEnd) {
      regionEnd = Math.max(regionEnd, i + longest);
      continue;
    }
    if (regionEnd >= 0) emitted = regionEnd;
    parts.push(text.subarray(emitted, i), Buffer.from(MASK_TEXT));
    regionEnd = i + longest;
  }
  parts.push(text.subarray(regionEnd >= 0 ? regionEnd : emitted));
  return Buffer.concat(parts);
}

/** The unmasked stretches of a masked output (the text between MASK_TEXTs). */
export function rawSegments(masked: Buffer): Buffer[] {
  const marker = Buffer.from(MASK_TEXT);
  const segments: Buffer[] = [];
  let from = 0;
  for (let at = masked.indexOf(marker, from); at >= 0; at = masked.indexOf(marker, from)) {
    segments.push(masked.subarray(from, at));
    from = at + marker.length;
  }
  segments.push(masked.subarray(from));
  return segments;
}
