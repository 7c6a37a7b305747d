// How a session token is tied to a process tree: the binding policy and the rules for its
// parts (ancestor depth, executable names), shared by the session-create flags and the
// profile's `session.bind`. Messages never quote the names they reject: they may come from a
// file the repo controls.

/** auto: nearest stable ancestor (over nested same-executable shells); ancestor: exactly that depth; ancestor_name: nearest ancestor with one of these basenames. */
export type BindingPolicy = { mode: 'auto' } | { mode: 'ancestor'; depth: BindDepth } | { mode: 'ancestor_name'; names: string[] };

export type BindDepth = 1 | 2 | 3;

export const MAX_BIND_DEPTH = 3;
export const MAX_BIND_NAMES = 16;
export const MAX_BIND_NAME_BYTES = 128;

export type BindResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** Checks an ancestor depth (an integer 1..3). Pure. */
export function checkBindDepth(depth: unknown): BindResult<BindDepth> {
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1 || depth > MAX_BIND_DEPTH) {
    return { ok: false, message: `ancestor depth must be a whole number between 1 and ${MAX_BIND_DEPTH}` };
  }
  return { ok: true, value: depth as BindDepth };
}

/** Parses an ancestor depth written as decimal digits, as a flag gives it. Pure. */
export function parseBindDepth(text: string): BindResult<BindDepth> {
  const trimmed = text.trim();
  if (!/^\d{1,3}$/.test(trimmed)) return checkBindDepth(Number.NaN);
  return checkBindDepth(Number(trimmed));
}

/** Trims and checks one executable basename: non-empty, at most 128 bytes, no '/', no NUL, not '.' or '..'. Pure. */
export function checkBindName(name: string): BindResult<string> {
  const trimmed = name.trim();
  if (trimmed === '') return { ok: false, message: 'is empty; expected an executable name such as zsh' };
  if (Buffer.byteLength(trimmed, 'utf8') > MAX_BIND_NAME_BYTES) return { ok: false, message: `is longer than ${MAX_BIND_NAME_BYTES} bytes` };
  if (trimmed.includes('/')) return { ok: false, message: "contains '/'; expected a basename such as zsh, not a path" };
  if (trimmed.includes('\0')) return { ok: false, message: 'contains a NUL character' };
  if (trimmed === '.' || trimmed === '..') return { ok: false, message: "is '.' or '..'; expected an executable name" };
  return { ok: true, value: trimmed };
}

/**
 * Checks a list of executable names: each as checkBindName, duplicates collapsed (first
 * occurrence kept), 1..16 distinct names. Messages name the 1-based position that failed. Pure.
 */
export function checkBindNames(names: readonly string[]): BindResult<string[]> {
  if (names.length === 0) return { ok: false, message: 'no ancestor name given; expected at least one executable name' };
  const distinct: string[] = [];
  for (const [index, name] of names.entries()) {
    const result = checkBindName(name);
    if (!result.ok) return { ok: false, message: `ancestor name ${index + 1} ${result.message}` };
    if (!distinct.includes(result.value)) distinct.push(result.value);
  }
  if (distinct.length > MAX_BIND_NAMES) return { ok: false, message: `at most ${MAX_BIND_NAMES} ancestor names are allowed (got ${distinct.length})` };
  return { ok: true, value: distinct };
}

/** One line describing a policy, for prompts, lists and audit: `auto`, `ancestor 2`, `ancestor name zsh, bash`. */
export function describeBindingPolicy(policy: BindingPolicy): string {
  switch (policy.mode) {
    case 'auto':
      return 'auto';
    case 'ancestor':
      return policy.depth === 1 ? 'parent' : `ancestor ${policy.depth}`;
    case 'ancestor_name':
      return `ancestor name ${policy.names.map(printableName).join(', ')}`;
  }
}

// Names are checked for shape only; control, bidi and zero-width characters are shown as '?'.
function printableName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu, '?');
}
