// 1Password secret references, validated the way `op` 2.x parses them
// (shared/reference/op-cli.md §1): op://vault/item[/section]/field[?attribute=…].
// A reference is not a secret, so it may appear in messages, prompts and the audit log.

export interface SecretRef {
  /** The reference exactly as written. */
  readonly raw: string;
  readonly vault: string;
  readonly item: string;
  readonly section: string | undefined;
  readonly field: string;
  /** `attribute`/`attr` query value, lower-cased (otp, totp, type, …). */
  readonly attribute: string | undefined;
  /** `ssh-format` query value, lower-cased. */
  readonly sshFormat: string | undefined;
}

export type RefResult = { ok: true; ref: SecretRef } | { ok: false; message: string };

const SEGMENT = /^[A-Za-z0-9._\- ]+$/;
const FIELD_ATTRIBUTES = new Set(['type', 'value', 'id', 'purpose', 'otp', 'totp', 'title', 'content', 'size', 'name']);
const SHAPE = 'expected op://vault/item[/section]/field';

/** Parses and validates one `op://` reference. Pure. */
export function parseRef(raw: string): RefResult {
  if (raw.length === 0) return fail('must not be empty');
  if (raw.trim() !== raw) return fail('must not start or end with whitespace');
  if (!raw.startsWith('op://')) return fail(`must start with op:// (${SHAPE})`);
  const rest = raw.slice('op://'.length);
  if (rest.includes('#')) return fail('fragments (#) are not supported');
  const queryAt = rest.indexOf('?');
  const path = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const query = queryAt === -1 ? undefined : rest.slice(queryAt + 1);

  const segments = path.split('/');
  if (segments.length < 3) return fail(`too few '/': ${SHAPE}`);
  if (segments.length > 4) return fail(`too many '/': ${SHAPE}; a name containing '/' must be referenced by its ID`);
  for (const segment of segments) {
    if (segment.length === 0) return fail(`path segments must not be empty (${SHAPE})`);
    if (!SEGMENT.test(segment)) {
      return fail('names may contain only letters, digits, space, ".", "-" and "_"; refer to anything else by its ID');
    }
    if (segment.trim() !== segment) return fail('a path segment must not start or end with a space');
  }

  let attribute: string | undefined;
  let sshFormat: string | undefined;
  if (query !== undefined) {
    if (query.length === 0) return fail('empty query after "?"');
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) return fail(`query must be key=value (got "${pair}")`);
      const key = pair.slice(0, eq).toLowerCase();
      const value = pair.slice(eq + 1).toLowerCase();
      if (key === 'attribute' || key === 'attr') {
        if (attribute !== undefined) return fail('attribute given twice');
        if (!FIELD_ATTRIBUTES.has(value)) {
          return fail(`unknown attribute "${value}"; expected one of ${[...FIELD_ATTRIBUTES].join(', ')}`);
        }
        attribute = value;
      } else if (key === 'ssh-format') {
        if (value !== 'openssh') return fail('ssh-format must be openssh');
        sshFormat = value;
      } else {
        return fail(`unknown query parameter "${key}"; expected attribute, attr or ssh-format`);
      }
    }
  }

  const [vault, item, third, fourth] = segments as [string, string, string, string | undefined];
  return {
    ok: true,
    ref: {
      raw,
      vault,
      item,
      section: fourth === undefined ? undefined : third,
      field: fourth ?? third,
      attribute,
      sshFormat,
    },
  };
}

/** An item (not a field) reference: `op://vault/item`, as `item describe` takes it. */
export interface ItemRef {
  /** Normalised: `op://vault/item` (a trailing `/*` removed). */
  readonly raw: string;
  readonly vault: string;
  readonly item: string;
}

export type ItemRefResult = { ok: true; ref: ItemRef } | { ok: false; message: string };

const ITEM_SHAPE = 'expected op://vault/item or op://vault/item/*';

/** Parses `op://vault/item` (or `op://vault/item/*`) with the segment rules of parseRef. Pure. */
export function parseItemRef(raw: string): ItemRefResult {
  if (raw.length === 0) return fail('must not be empty');
  if (raw.trim() !== raw) return fail('must not start or end with whitespace');
  if (!raw.startsWith('op://')) return fail(`must start with op:// (${ITEM_SHAPE})`);
  const path = raw.slice('op://'.length).replace(/\/\*$/, '');
  if (path.includes('?') || path.includes('#')) return fail(`an item reference takes no query or fragment (${ITEM_SHAPE})`);
  const segments = path.split('/');
  if (segments.length < 2) return fail(`too few '/': ${ITEM_SHAPE}`);
  if (segments.length > 2) return fail(`too many '/' for an item (${ITEM_SHAPE}); a name containing '/' must be referenced by its ID`);
  for (const segment of segments) {
    if (segment.length === 0) return fail(`path segments must not be empty (${ITEM_SHAPE})`);
    if (!isRefSegment(segment)) {
      return fail('names may contain only letters, digits, space, ".", "-" and "_" and must not start or end with a space; refer to anything else by its ID');
    }
  }
  const [vault, item] = segments as [string, string];
  return { ok: true, ref: { raw: `op://${vault}/${item}`, vault, item } };
}

/** True when a name can stand as one path segment of a reference (else op wants its ID). Pure. */
export function isRefSegment(name: string): boolean {
  return SEGMENT.test(name) && name.trim() === name;
}

/** True when the string looks like a reference (used to classify env-file entries). */
export function looksLikeRef(value: string): boolean {
  return value.startsWith('op://');
}

function fail(message: string): { ok: false; message: string } {
  return { ok: false, message };
}
