// YAML with positions: parses untrusted config text into a Document plus a LineCounter, turns
// yaml's errors into (line, col, plain description built from the error code) and maps a key
// path back to a line and column. yaml's own messages quote source lines and are never used.

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { ConfigIssueCode } from './types.js';
import { duplicateKeyOffsets } from './unique-keys.js';

/** Alias expansions allowed when converting the document (caps work on alias bombs). */
export const MAX_ALIAS_COUNT = 100;

export interface ParsedYaml {
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** What each alias refers to, found once (yaml's own lookup walks the whole document per call). */
  aliasTargets: Map<Alias, unknown>;
  /** Pairs of each mapping by key, built on first use. */
  pairIndex: WeakMap<YAMLMap, Map<string, Pair>>;
}

export interface Position {
  line: number;
  col: number;
}

/** A YAML-level problem: where, and what, in words. */
export interface YamlProblem {
  code: ConfigIssueCode;
  position: Position;
  problem: string;
}

const DESCRIPTIONS: Record<string, string> = {
  ALIAS_PROPS: 'an alias (*name) cannot carry an anchor or a tag',
  BAD_ALIAS: 'malformed alias (*name)',
  BAD_DIRECTIVE: 'unknown or malformed % directive',
  BAD_DQ_ESCAPE: 'invalid escape sequence in a double-quoted string',
  BAD_INDENT: 'bad indentation',
  BAD_PROP_ORDER: 'anchor and tag are in the wrong order',
  BAD_SCALAR_START: 'a plain value cannot start with this character; quote the value',
  BLOCK_AS_IMPLICIT_KEY: 'a nested mapping or list cannot be a key here; check the indentation and the ":" after each key',
  BLOCK_IN_FLOW: 'block syntax inside a flow collection ([...] or {...})',
  DUPLICATE_KEY: 'duplicate key; each key may appear only once in a mapping',
  KEY_OVER_1024_CHARS: 'a key is longer than 1024 characters',
  MISSING_CHAR: 'missing closing character (quote, bracket or brace)',
  MULTILINE_IMPLICIT_KEY: 'a key cannot span several lines; check the indentation',
  MULTIPLE_ANCHORS: 'a node may have only one anchor (&name)',
  MULTIPLE_DOCS: 'more than one YAML document; the file must hold exactly one',
  MULTIPLE_TAGS: 'a node may have only one tag',
  NON_STRING_KEY: 'keys must be plain strings, not lists or mappings',
  RESOURCE_EXHAUSTION: 'nested too deeply, or too many alias expansions',
  TAB_AS_INDENT: 'tabs cannot be used for indentation; use spaces',
  TAG_RESOLVE_FAILED: 'tags (!name) are not supported; remove the tag',
  UNEXPECTED_TOKEN: 'unexpected text; check the indentation and the ":" after each key',
  BAD_COLLECTION_TYPE: 'a tag does not match the kind of collection it is on',
};

/** Parses YAML text; `problems` holds syntax errors, warnings and broken aliases, sorted by position. */
export function parseYamlText(text: string): ParsedYaml & { problems: YamlProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    strict: true,
    // yaml's duplicate-key check is quadratic; duplicateKeyOffsets does it in one pass.
    uniqueKeys: false,
    stringKeys: true,
    resolveKnownTags: false,
    // 'error' keeps yaml from printing warnings (they quote source) yet still reports extra documents.
    logLevel: 'error',
    version: '1.2',
  });
  const seen = new Set<string>();
  const problems: YamlProblem[] = [];
  const found = [...doc.errors, ...doc.warnings].map((error) => ({ code: error.code as string, offset: error.pos[0] }));
  found.push(...duplicateKeyOffsets(doc).map((offset) => ({ code: 'DUPLICATE_KEY', offset })));
  for (const { code, offset } of found) {
    const position = lineCounter.linePos(offset);
    const dedupe = `${code}:${position.line}`;
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    problems.push({
      code: code === 'DUPLICATE_KEY' ? 'yaml.duplicate_key' : 'yaml.syntax',
      position,
      problem: DESCRIPTIONS[code] ?? `YAML syntax error (${code})`,
    });
  }
  const aliasTargets = new Map<Alias, unknown>();
  if (problems.length === 0) problems.push(...aliasProblems(doc, lineCounter, aliasTargets));
  return { doc, lineCounter, aliasTargets, pairIndex: new WeakMap(), problems };
}

// yaml resolves aliases only while converting; find unresolvable and self-containing ones
// first, in one pass, so conversion never meets them.
function aliasProblems(doc: Document.Parsed, lineCounter: LineCounter, aliasTargets: Map<Alias, unknown>): YamlProblem[] {
  const anchors = new Map<string, unknown>();
  const problems: YamlProblem[] = [];
  visit(doc, (_key, node, path) => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      const position = lineCounter.linePos(node.range?.[0] ?? 0);
      if (target === undefined) {
        problems.push({ code: 'yaml.alias', position, problem: 'alias (*name) refers to no anchor (&name) defined before it' });
      } else if (path.includes(target as never)) {
        problems.push({ code: 'yaml.alias', position, problem: 'alias (*name) refers to a node that contains it' });
      } else {
        aliasTargets.set(node, target);
      }
      return;
    }
    const anchor = (node as { anchor?: unknown } | null)?.anchor;
    if (typeof anchor === 'string') anchors.set(anchor, node);
  });
  return problems;
}

/** Line and column of the node at `path` (of its key when `at` is 'key'); the nearest existing ancestor if the path is missing. */
export function positionOf(parsed: ParsedYaml, path: ReadonlyArray<string | number>, at: 'key' | 'value'): Position {
  const { doc, lineCounter } = parsed;
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [index, segment] of path.entries()) {
    node = resolved(parsed, node);
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = pairsOf(parsed, node).get(String(segment));
      if (pair === undefined) break;
      const keyStart = rangeStart(pair.key);
      if (last && at === 'key') return lineCounter.linePos(keyStart ?? offset);
      // An empty value (`key:`) has no text of its own: point at the key.
      const valueStart = isEmptyScalar(pair.value) ? undefined : rangeStart(pair.value);
      offset = valueStart ?? keyStart ?? offset;
      if (valueStart === undefined) break;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return lineCounter.linePos(offset);
}

function resolved(parsed: ParsedYaml, node: unknown): unknown {
  return isAlias(node) ? (parsed.aliasTargets.get(node) ?? node) : node;
}

function pairsOf(parsed: ParsedYaml, map: YAMLMap): Map<string, Pair> {
  let index = parsed.pairIndex.get(map);
  if (index === undefined) {
    index = new Map();
    for (const pair of map.items) if (isScalar(pair.key)) index.set(String(pair.key.value), pair as Pair);
    parsed.pairIndex.set(map, index);
  }
  return index;
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && (node.range === undefined || node.range === null || node.range[0] === node.range[1]);
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range === undefined || range === null ? undefined : range[0];
}

/** The keys of the mapping at `path`, in file order (JS objects put integer-like keys first). */
export function keysInOrder(parsed: ParsedYaml, path: ReadonlyArray<string | number>): string[] {
  let node: unknown = resolved(parsed, parsed.doc.contents);
  for (const segment of path) {
    if (!isMap(node)) return [];
    node = resolved(parsed, pairsOf(parsed, node).get(String(segment))?.value);
  }
  return isMap(node) ? node.items.flatMap((pair) => (isScalar(pair.key) ? [String(pair.key.value)] : [])) : [];
}
