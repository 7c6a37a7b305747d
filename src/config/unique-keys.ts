// Duplicate mapping keys, found in one pass with a Set per mapping. yaml's own check
// (`uniqueKeys: true`) compares each new key with every earlier key of its mapping, which is
// quadratic: a 1 MiB mapping of 99k keys took 72 s. Parsers here turn it off and call this.

import { isScalar, visit, type Document } from 'yaml';

/** Offsets of the keys that repeat an earlier key of the same mapping (equal scalar values, as yaml compares them), in document order. */
export function duplicateKeyOffsets(doc: Document): number[] {
  const offsets: number[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key;
        if (!isScalar(key)) continue;
        if (seen.has(key.value)) offsets.push(key.range?.[0] ?? 0);
        else seen.add(key.value);
      }
    },
  });
  return offsets;
}
