// Renders an item description (`item describe`) as a table, JSON or env-file lines of
// references. The description holds metadata only, so nothing here can print a value; labels,
// titles and section names are still untrusted text and are escaped wherever a terminal or a
// shell reads them. Env names are derived deterministically from labels. Pure.

import { escapeText, displayField } from '../../approval/display.js';
import { validateAlias } from '../../core/alias.js';
import { AgentSecretError } from '../../core/errors.js';
import type { ItemDescription } from '../../provider/op/item.js';
import { SCHEMA_VERSION, shellQuote } from './output.js';

export type ItemFormat = 'text' | 'json' | 'env-refs';
export const ITEM_FORMATS: readonly ItemFormat[] = ['text', 'json', 'env-refs'];

export interface ItemRenderOptions {
  format: ItemFormat;
  /** Env-name prefix for the generated names (json and env-refs), e.g. GITHUB. */
  prefix?: string;
}

/** One derived env name: `denied` holds why the name cannot carry a secret, or null. */
export interface DerivedEnvName {
  name: string;
  denied: string | null;
}

const PREFIX = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_PREFIX = 64;
/** Room left under the alias limit (128) for a `_N` suffix. */
const MAX_NAME = 120;
const LIMITS = { label: 40, type: 20, section: 30, title: 120 } as const;

/** Validates --prefix and returns it upper-cased without trailing underscores; throws AgentSecretError('usage.invalid'). */
export function checkEnvPrefix(prefix: string): string {
  const problem = (message: string) => new AgentSecretError('usage.invalid', `--prefix ${message}`, { hint: 'for example --prefix GITHUB', details: { flag: '--prefix' } });
  if (!PREFIX.test(prefix)) throw problem('must be letters, digits and _, and must not start with a digit');
  if (prefix.length > MAX_PREFIX) throw problem(`must be at most ${MAX_PREFIX} characters`);
  const normalised = prefix.toUpperCase().replace(/_+$/, '');
  if (normalised === '') throw problem('must contain a letter or digit');
  const probe = validateAlias(`${normalised}_X`);
  if (!probe.ok) throw problem(`gives names that cannot carry a secret: ${probe.message.replaceAll('"', '')}`);
  return normalised;
}

/** The env-name stem of one label: ASCII letters and digits upper-cased, every other run one `_`, trimmed. */
function stem(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * Env names for the fields, in order: the label's stem (else the ID's, else FIELD), after the
 * prefix and `_`, or with a leading `_` when it starts with a digit; a name already given gets
 * `_2`, `_3`, …; a name the alias denylist refuses is not given and carries the reason. Pure.
 */
export function deriveEnvNames(fields: ReadonlyArray<{ label: string; id: string; purpose?: string | undefined }>, prefix?: string): DerivedEnvName[] {
  const head = prefix === undefined ? undefined : checkEnvPrefix(prefix);
  const taken = new Set<string>();
  return fields.map((field) => {
    // op's built-in notes field is labelled notesPlain.
    const label = field.purpose === 'NOTES' && field.label === 'notesPlain' ? 'notes' : field.label;
    const base = (stem(label) || stem(field.id) || 'FIELD').slice(0, MAX_NAME - (head === undefined ? 1 : head.length + 1)).replace(/_+$/, '');
    const name = head === undefined ? (/^[0-9]/.test(base) ? `_${base}` : base) : `${head}_${base}`;
    const check = validateAlias(name);
    if (!check.ok) return { name, denied: check.message };
    let unique = name;
    for (let n = 2; taken.has(unique) || !validateAlias(unique).ok; n += 1) unique = `${name}_${n}`;
    taken.add(unique);
    return { name: unique, denied: null };
  });
}

/** The description as text, JSON or env-file lines; throws AgentSecretError for a bad prefix. Pure. */
export function formatItemDescription(desc: ItemDescription, options: ItemRenderOptions): string {
  if (options.prefix !== undefined) checkEnvPrefix(options.prefix);
  switch (options.format) {
    case 'json':
      return formatJson(desc, options.prefix);
    case 'env-refs':
      return formatEnvRefs(desc, options.prefix);
    default:
      return formatText(desc);
  }
}

function formatText(desc: ItemDescription): string {
  const lines = [
    `item: ${displayField(desc.item.title, LIMITS.title)} (id ${escapeText(desc.item.id)})`,
    `category: ${displayField(desc.item.category, LIMITS.type)}`,
    `vault: ${displayField(desc.vault.name, LIMITS.title)} (id ${escapeText(desc.vault.id)})`,
  ];
  if (desc.fields.length === 0) return `${[...lines, 'fields: (none)'].join('\n')}\n`;
  const rows = [
    ['LABEL', 'TYPE', 'SECTION', 'REFERENCE'],
    ...desc.fields.map((f) => [
      f.label === '' ? '(no label)' : displayField(f.label, LIMITS.label),
      displayField(f.type, LIMITS.type),
      f.section === null ? '-' : displayField(f.section, LIMITS.section),
      escapeText(f.reference),
    ]),
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => [...(row[column] ?? '')].length)));
  const table = rows.map((row) => `  ${row.map((cell, column) => (column < 3 ? pad(cell, widths[column] ?? 0) : cell)).join('  ')}`.trimEnd());
  return `${[...lines, `fields: ${desc.fields.length}`, ...table].join('\n')}\n`;
}

function pad(cell: string, width: number): string {
  return cell + ' '.repeat(Math.max(0, width - [...cell].length));
}

function formatJson(desc: ItemDescription, prefix: string | undefined): string {
  const names = deriveEnvNames(desc.fields, prefix);
  const document = {
    schema_version: SCHEMA_VERSION,
    vault: { id: desc.vault.id, name: desc.vault.name },
    item: { id: desc.item.id, title: desc.item.title, category: desc.item.category },
    fields: desc.fields.map((f, index) => {
      const derived = names[index];
      return {
        label: f.label,
        id: f.id,
        type: f.type,
        purpose: f.purpose ?? null,
        section: f.section,
        section_id: f.sectionId,
        concealed: f.concealed,
        reference: f.reference,
        env_name: derived === undefined || derived.denied !== null ? null : derived.name,
      };
    }),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function formatEnvRefs(desc: ItemDescription, prefix: string | undefined): string {
  const names = deriveEnvNames(desc.fields, prefix);
  const lines = [`# ${displayField(desc.item.title, LIMITS.title)} in ${displayField(desc.vault.name, LIMITS.title)}: 1Password references, no values`];
  if (desc.fields.length === 0) lines.push('# (no fields)');
  desc.fields.forEach((f, index) => {
    const derived = names[index];
    if (derived === undefined) return;
    const line = `${derived.name}=${shellQuote(f.reference)}`;
    lines.push(derived.denied === null ? line : `# ${line} skipped: ${derived.denied.replaceAll('"', '')}; rename it or pass --prefix`);
  });
  return `${lines.join('\n')}\n`;
}
