// Orders and lists names: aliases sorted by code unit (the same on every machine and locale),
// profile names joined for messages ("profiles: a, b, c"), clipped so a file with thousands
// of profiles cannot flood stderr. Only names that passed validation are listed.

const MAX_LISTED = 12;

/** Joins names with ", ", clipped after a dozen with a count of the rest. */
export function listNames(names: readonly string[]): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, MAX_LISTED).join(', ');
  return names.length > MAX_LISTED ? `${shown}, … (${names.length - MAX_LISTED} more)` : shown;
}

/** Orders entries by alias, by code unit (not locale), so output is the same everywhere. */
export function byAlias(a: { alias: string }, b: { alias: string }): number {
  return a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0;
}
