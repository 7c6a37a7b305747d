// `item describe`: exactly one `op item get <item> --vault <vault> --format json` through the op
// chokepoint, turned into value-free metadata: vault, item, and each field's label, type,
// section and a reference ready to use. op's stdout holds every value of the item; it is parsed
// here, value-bearing keys are dropped while JSON.parse builds the object, and the text is
// never stored, returned, logged or put in an error.
//
// Kept (metadata): vault id/name; item id/title/category; section id/label; field id, type,
// purpose, label, op's `reference`; file id, name and section.
// Dropped (values, or derived from them): `value`, `totp`, `otp`, `entropy`, `password_details`
// (strength and entropy describe the password), `additional_information` (a login's username, a
// card's last digits), `urls` (a URL can embed a token), `content`, `ssh_formats`; notes are the
// `value` of the notesPlain field. Ignored: tags, dates, version, favorite, last_edited_by,
// file sizes and content paths.

import { validateAccount } from '../../core/account.js';
import { AgentSecretError } from '../../core/errors.js';
import { isRefSegment, parseItemRef, parseRef, type ItemRef } from '../../core/ref.js';
import { z } from 'zod';
import { toItemError } from './failure.js';
import { DEFAULT_OP_TIMEOUT_MS, runOp, type OpOptions } from './run-op.js';

export interface ItemDescription {
  vault: { id: string; name: string };
  item: { id: string; title: string; category: string };
  fields: ItemField[];
}

export interface ItemField {
  /** op's label; '' when the field has none. For a file attachment, its file name. */
  label: string;
  id: string;
  /** op's field type (STRING, CONCEALED, OTP, …); FILE for a file attachment. */
  type: string;
  /** USERNAME, PASSWORD or NOTES when op gives one. */
  purpose?: string;
  /** The section's label, or its ID when it has none; null outside a section. */
  section: string | null;
  sectionId: string | null;
  /** The value is concealed in 1Password (password, OTP, SSH key, card number, file). */
  concealed: boolean;
  /** op://vault/item[/section]/field, resolvable by op and unique within the item. */
  reference: string;
}

export interface DescribeItemOptions extends OpOptions {
  /** op://vault/item (or op://vault/item/*). */
  itemRef: string;
  /** Passed as --account when not null. */
  account: string | null;
}

/** Types whose value 1Password conceals. */
const CONCEALED_TYPES = new Set(['CONCEALED', 'OTP', 'SSHKEY', 'CREDIT_CARD_NUMBER', 'FILE']);

/** Keys JSON.parse drops as it builds the object: values and what is derived from them. */
const VALUE_KEYS = new Set(['value', 'totp', 'otp', 'entropy', 'password_details', 'additional_information', 'urls', 'content', 'ssh_formats']);

const id = z.string().min(1).max(1024);
const text = z.string().max(4096);
const sectionRef = z.object({ id, label: text.optional() });
// z.object strips every key it does not name: the parsed item holds metadata only.
const itemSchema = z.object({
  id,
  title: text,
  category: text,
  vault: z.object({ id, name: text }),
  sections: z.array(sectionRef).optional(),
  fields: z
    .array(z.object({ id, type: z.string().min(1).max(64), purpose: z.string().max(64).optional(), label: text.optional(), reference: text.optional(), section: sectionRef.optional() }))
    .optional(),
  files: z.array(z.object({ id, name: text.optional(), section: sectionRef.optional() })).optional(),
});

type OpItem = z.output<typeof itemSchema>;
type OpSection = { id: string; label?: string | undefined };

/** Runs one `op item get` for the item and returns its value-free description. Rejects with AgentSecretError. */
export async function describeItem(opts: DescribeItemOptions): Promise<ItemDescription> {
  const ref = checkItemRef(opts.itemRef);
  if (opts.account !== null) {
    const account = validateAccount(opts.account);
    if (!account.ok) throw new AgentSecretError('account.invalid', account.message, { details: { ref: ref.raw } });
  }
  if (opts.signal?.aborted === true) {
    throw new AgentSecretError('provider.failed', `reading ${ref.raw} was cancelled before op started`, { details: { ref: ref.raw } });
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_OP_TIMEOUT_MS;
  const result = await runOp(
    { args: ['item', 'get', ref.item, '--vault', ref.vault, '--format', 'json'], account: opts.account, serviceToken: opts.account === null ? undefined : opts.serviceTokens?.get(opts.account) },
    { opPath: opts.opPath, env: opts.env, timeoutMs, ...(opts.signal === undefined ? {} : { signal: opts.signal }) },
  );
  if (result.exitCode !== 0 || result.timedOut || result.canceled || result.overflowed || result.failedToStart) {
    throw toItemError(result, { itemRef: ref.raw, vault: ref.vault, account: opts.account, timeoutMs });
  }
  return parseItemJson(result.stdout, ref);
}

/** Validates the item reference for describeItem; throws AgentSecretError('ref.invalid'). */
export function checkItemRef(raw: string): ItemRef {
  const parsed = parseItemRef(raw);
  if (!parsed.ok) throw new AgentSecretError('ref.invalid', `item reference: ${parsed.message}`, { hint: 'for example op://Infra/GitHub' });
  const { ref } = parsed;
  // op would read a leading '-' as a flag (and a lone '-' as "item from stdin").
  if (ref.vault.startsWith('-') || ref.item.startsWith('-')) {
    throw new AgentSecretError('ref.invalid', 'item reference: a vault or item name starting with "-" would be read as an op flag; refer to it by its ID', {
      details: { ref: ref.raw },
    });
  }
  return ref;
}

/**
 * Parses `op item get --format json` output into a description of the requested item. The text
 * is untrusted and full of values: values never get into the parsed object, and a failure says
 * only that the output was not understood. Pure.
 */
export function parseItemJson(stdout: string, ref: ItemRef): ItemDescription {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout, (key, value: unknown) => (VALUE_KEYS.has(key) ? undefined : value));
  } catch {
    // JSON.parse quotes the input in its message: never keep or show it.
    raw = undefined;
  }
  const parsed = raw === undefined ? undefined : itemSchema.safeParse(raw);
  if (parsed === undefined || !parsed.success) {
    throw new AgentSecretError('provider.failed', `op item get returned output agent-secret does not understand for ${ref.raw}`, {
      hint: 'run `agent-secret doctor`; if op is current, report this with the op version',
      details: { ref: ref.raw },
    });
  }
  const item = parsed.data;
  if (!answersTo(ref.vault, item.vault.id, item.vault.name) || !answersTo(ref.item, item.id, item.title)) {
    throw new AgentSecretError('provider.failed', `op returned a different item than ${ref.raw} names`, {
      hint: 'name the vault and the item by their exact names or IDs',
      details: { ref: ref.raw },
    });
  }
  return describe(item, ref);
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const answersTo = (segment: string, id: string, name: string | undefined) => same(segment, id) || (name !== undefined && same(segment, name));

interface Entry {
  label: string;
  id: string;
  type: string;
  purpose: string | undefined;
  section: OpSection | null;
  opReference: string | undefined;
}

function describe(item: OpItem, ref: ItemRef): ItemDescription {
  const sections = new Map<string, OpSection>();
  for (const section of item.sections ?? []) if (!sections.has(section.id)) sections.set(section.id, section);
  const sectionOf = (s: OpSection | undefined): OpSection | null => (s === undefined ? null : (sections.get(s.id) ?? s));
  const entries: Entry[] = [
    ...(item.fields ?? []).map((f) => ({ label: f.label ?? '', id: f.id, type: f.type.toUpperCase(), purpose: f.purpose, section: sectionOf(f.section), opReference: f.reference })),
    ...(item.files ?? []).map((f) => ({ label: f.name ?? '', id: f.id, type: 'FILE', purpose: undefined, section: sectionOf(f.section), opReference: undefined })),
  ];

  // The requested vault and item are addressed the way the user named them when by ID (a title
  // may be shared), else by op's names.
  const vaultSegment = segmentFor(ref.vault, item.vault.id, item.vault.name);
  const itemSegment = segmentFor(ref.item, item.id, item.title);
  for (const entry of entries) if (entry.section !== null && !sections.has(entry.section.id)) sections.set(entry.section.id, entry.section);
  const allSections = [...sections.values()];
  const base = `op://${vaultSegment}/${itemSegment}`;

  const named = entries.map((entry) => tailByName(entry, allSections));
  const fields: ItemField[] = [];
  entries.forEach((entry, index) => {
    let tail = named[index] ?? null;
    // Another field (or file) op could take for this reference: address this one by IDs.
    if (tail === null || entries.some((other, j) => j !== index && answers(other, tail as Tail))) tail = tailById(entry);
    const reference = tail === null ? null : `${base}/${tail.section === undefined ? '' : `${tail.section}/`}${tail.field}`;
    // A field that no valid reference can address (op's IDs are always valid) is left out.
    if (reference === null || !parseRef(reference).ok) return;
    const section = entry.section;
    fields.push({
      label: entry.label,
      id: entry.id,
      type: entry.type,
      ...(entry.purpose === undefined ? {} : { purpose: entry.purpose }),
      section: section === null ? null : nonEmpty(section.label) ?? section.id,
      sectionId: section === null ? null : section.id,
      concealed: CONCEALED_TYPES.has(entry.type),
      reference,
    });
  });
  return {
    vault: { id: item.vault.id, name: item.vault.name },
    item: { id: item.id, title: item.title, category: item.category },
    fields,
  };
}

interface Tail {
  section: string | undefined;
  field: string;
}

function segmentFor(given: string, id: string, name: string): string {
  if (same(given, id) || !isRefSegment(name)) return id;
  return name;
}

const nonEmpty = (s: string | undefined) => (s === undefined || s === '' ? undefined : s);

/** The section and field segments by name: op's own reference when usable, else built; section labels shared by two sections become IDs. */
function tailByName(entry: Entry, sections: readonly OpSection[]): Tail | null {
  let section: string | undefined;
  if (entry.section !== null) {
    const label = nonEmpty(entry.section.label);
    const shared = label !== undefined && sections.some((s) => s.id !== entry.section?.id && (same(s.id, label) || same(s.label ?? '', label)));
    section = label !== undefined && isRefSegment(label) && !shared ? label : entry.section.id;
  }
  const fromOp = entry.opReference === undefined ? undefined : parseRef(entry.opReference);
  let field: string | undefined;
  if (fromOp?.ok === true && fromOp.ref.attribute === undefined && fromOp.ref.sshFormat === undefined && (fromOp.ref.section === undefined) === (entry.section === null)) {
    field = fromOp.ref.field;
  } else {
    const label = nonEmpty(entry.label);
    field = label !== undefined && isRefSegment(label) ? label : entry.id;
  }
  return isRefSegment(field) && (section === undefined || isRefSegment(section)) ? { section, field } : null;
}

/** The section and field segments by ID. */
function tailById(entry: Entry): Tail | null {
  if (!isRefSegment(entry.id)) return null;
  if (entry.section === null) return { section: undefined, field: entry.id };
  return isRefSegment(entry.section.id) ? { section: entry.section.id, field: entry.id } : { section: undefined, field: entry.id };
}

/** True when op, given this tail, could pick `other` (names and IDs match case-insensitively). */
function answers(other: Entry, tail: Tail): boolean {
  const fieldMatches = same(other.id, tail.field) || same(other.label, tail.field);
  if (!fieldMatches) return false;
  if (tail.section === undefined) return true;
  return other.section !== null && (same(other.section.id, tail.section) || same(other.section.label ?? '', tail.section));
}
