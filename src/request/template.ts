// Templates: text with `{{ op://vault/item/field }}` placeholders, the syntax `op inject` reads
// (any provider's reference may stand there: `{{ bws://… }}`, a declared program's scheme),
// rendered after approval into a delivered file. Parsing is strict so that what the human is
// shown (every reference) is everything that is resolved: a placeholder that is not one valid
// reference, an unclosed `{{`, or a bare `op://` that op would also have replaced is an error
// with its line and column, before any prompt. `{{ "text" }}` is literal text, as in op.
// Also the resolution keys of a request: every value the provider must resolve, file secrets
// and template references included. Pure.

import { identityOf, parseSecretRef, schemeOf } from '../core/ref.js';
import type { ApprovalRequest, FileDelivery, SecretSpec, TemplateSpec } from './types.js';

export type TemplatePart = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'ref'; readonly ref: string };

export type TemplateParse =
  | { ok: true; parts: readonly TemplatePart[]; refs: readonly string[] }
  | { ok: false; line: number; col: number; problem: string };

/** Limits: one template's size in bytes and distinct references, and the templates of one request. */
export const TEMPLATE_LIMITS = Object.freeze({ maxBytes: 64 * 1024, maxRefs: 50, maxTemplates: 20 });

// op's rule for a bare reference: `op://` not preceded by a letter, digit or one of -+\.
const BARE_BEFORE = /[A-Za-z0-9\-+\\.]/;

/** Parses template text; the distinct references in first-use order. Pure. */
export function parseTemplate(text: string): TemplateParse {
  const parts: TemplatePart[] = [];
  const refs: string[] = [];
  let literal = '';
  let i = 0;
  const fail = (at: number, problem: string): TemplateParse => ({ ok: false, ...positionOf(text, at), problem });
  while (i < text.length) {
    if (text.startsWith('{{', i)) {
      const close = text.indexOf('}}', i + 2);
      if (close === -1) return fail(i, 'a {{ is never closed with }}');
      const inner = text.slice(i + 2, close).trim();
      const quoted = /^"((?:[^"\\\n]|\\.)*)"$/s.exec(inner);
      if (quoted !== null) {
        literal += (quoted[1] ?? '').replace(/\\(.)/gs, '$1');
      } else {
        if (schemeOf(inner) === null) return fail(i, 'only a reference (op://…, bws://…, or the scheme of a declared provider) or a "quoted string" may stand between {{ and }}');
        const parsed = parseSecretRef(inner);
        if (!parsed.ok) return fail(i, `invalid reference: ${parsed.message}`);
        if (literal !== '') parts.push({ kind: 'text', text: literal });
        literal = '';
        parts.push({ kind: 'ref', ref: inner });
        if (!refs.includes(inner)) refs.push(inner);
        if (refs.length > TEMPLATE_LIMITS.maxRefs) return fail(i, `a template may use at most ${TEMPLATE_LIMITS.maxRefs} different references`);
      }
      i = close + 2;
      continue;
    }
    if (text.startsWith('op://', i) && (i === 0 || !BARE_BEFORE.test(text[i - 1] as string))) {
      return fail(i, 'a bare op:// reference (op inject would replace it too); write it as {{ op://vault/item/field }}');
    }
    literal += text[i];
    i += 1;
  }
  if (literal !== '') parts.push({ kind: 'text', text: literal });
  if (refs.length === 0) {
    return { ok: false, line: 1, col: 1, problem: 'the template uses no reference; write {{ op://vault/item/field }} where a secret goes, or deliver the file some other way' };
  }
  return { ok: true, parts, refs };
}

function positionOf(text: string, at: number): { line: number; col: number } {
  const before = text.slice(0, at).split('\n');
  return { line: before.length, col: [...(before.at(-1) ?? '')].length + 1 };
}

/** Renders parsed parts: literal text as UTF-8, each reference as its value's exact bytes. Pure. */
export function renderTemplate(parts: readonly TemplatePart[], bytesOf: (ref: string) => Uint8Array): Buffer {
  return Buffer.concat(parts.map((part) => (part.kind === 'text' ? Buffer.from(part.text, 'utf8') : bytesOf(part.ref))));
}

/** The resolution key of a template's reference number `index` (a `#` never appears in an alias). */
export function templateValueKey(alias: string, index: number): string {
  return `${alias}#${index}`;
}

/**
 * Everything the provider resolves for a request: its secrets (env and file alike) under their
 * aliases, then each template reference under templateValueKey. Pure.
 */
export function resolutionSpecs(request: Pick<ApprovalRequest, 'secrets' | 'templates'>): SecretSpec[] {
  return [...request.secrets, ...request.templates.flatMap((t) => templateSpecs(t))];
}

/** A template's references as the provider resolves them: under templateValueKey, each with its provider and identity (the template's account is for op:// ones). Pure. */
export function templateSpecs(template: Pick<TemplateSpec, 'alias' | 'refs' | 'account' | 'source'>): SecretSpec[] {
  return template.refs.map((ref, index) => ({
    alias: templateValueKey(template.alias, index),
    ref,
    provider: schemeOf(ref) ?? 'op',
    account: identityOf(ref, null, template.account),
    source: template.source,
    delivery: 'file',
    file: null,
  }));
}

/** The resolution keys a request needs values for (resolutionSpecs' aliases). Pure. */
export function resolutionKeys(request: Pick<ApprovalRequest, 'secrets' | 'templates'>): string[] {
  return resolutionSpecs(request).map((s) => s.alias);
}

/** One variable the child gets as a file, value-free: a file secret (its value under the alias) or a template (its approved text and references). */
export interface FileSpec {
  readonly alias: string;
  readonly file: FileDelivery;
  readonly template: { readonly text: string; readonly refs: readonly string[] } | null;
}

/** The files a request delivers: file secrets in request order, then templates. Pure. */
export function fileSpecsOf(request: Pick<ApprovalRequest, 'secrets' | 'templates'>): FileSpec[] {
  return [
    ...request.secrets.flatMap((s) => (s.file === null ? [] : [{ alias: s.alias, file: s.file, template: null }])),
    ...request.templates.map((t) => ({ alias: t.alias, file: t.file, template: { text: t.text, refs: t.refs } })),
  ];
}

/** The resolution keys whose values go into files rather than the environment. Pure. */
export function fileValueKeys(files: readonly FileSpec[]): Set<string> {
  return new Set(files.flatMap((f) => (f.template === null ? [f.alias] : f.template.refs.map((_, i) => templateValueKey(f.alias, i)))));
}
