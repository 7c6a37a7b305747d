// Finds which references of a batch op's error message is about: a quoted reference, or the
// vault/item/field names op printed. The message is untrusted op text, used only for matching;
// an empty result means "cannot tell" and the caller names the whole batch. Pure.

import { parseRef, type SecretRef } from '../../core/ref.js';

interface NamedParts {
  vault?: string;
  item?: string;
  field?: string;
}

const NAME_PATTERNS: ReadonlyArray<{ pattern: RegExp; parts: ReadonlyArray<keyof NamedParts> }> = [
  { pattern: /item '([^'/]+)\/([^']+)' does not have a field '([^']+)'/i, parts: ['vault', 'item', 'field'] },
  { pattern: /could not find field or file (.+?) on item (.+?) in vault (.+?)$/i, parts: ['field', 'item', 'vault'] },
  { pattern: /"([^"]+)" isn't an item in the "([^"]+)" vault/i, parts: ['item', 'vault'] },
  { pattern: /could not get item ([^/:]+)\/([^:]+?):/i, parts: ['vault', 'item'] },
  { pattern: /"([^"]+)" isn't an item\b/i, parts: ['item'] },
  { pattern: /"([^"]+)" isn't a vault/i, parts: ['vault'] },
  { pattern: /could not resolve item UUID for item (.+?):/i, parts: ['item'] },
  { pattern: /could not find item (.+?) in vault /i, parts: ['item'] },
  { pattern: /More than one item matches "([^"]+)"/i, parts: ['item'] },
];

/** The references of `refs` that op's message names; empty when it cannot be told. */
export function pinpointRefs(message: string, refs: readonly string[]): string[] {
  const lower = message.toLowerCase();
  const quoted = refs.filter((ref) => {
    const r = ref.toLowerCase();
    return lower.includes(`'${r}'`) || lower.includes(`"${r}"`) || lower.includes(`${r}:`);
  });
  if (quoted.length > 0) return quoted;

  for (const { pattern, parts } of NAME_PATTERNS) {
    const match = pattern.exec(message);
    if (match === null) continue;
    const named: NamedParts = {};
    parts.forEach((part, index) => {
      const value = match[index + 1];
      if (value !== undefined) named[part] = value.trim();
    });
    const hits = refs.filter((ref) => matchesNames(ref, named));
    if (hits.length > 0) return hits;
  }
  return [];
}

function matchesNames(raw: string, named: NamedParts): boolean {
  const parsed = parseRef(raw);
  if (!parsed.ok) return false;
  const ref: SecretRef = parsed.ref;
  const same = (a: string | undefined, b: string) => a === undefined || a.toLowerCase() === b.toLowerCase();
  const fieldPath = ref.section === undefined ? ref.field : `${ref.section}/${ref.field}`;
  return same(named.vault, ref.vault) && same(named.item, ref.item) && (same(named.field, ref.field) || same(named.field, fieldPath));
}
