// A linear pre-scan of untrusted YAML text, run before the yaml library parses it. The
// library's parser and composer are fine on files of normal shape but not on hostile ones:
// composing recurses once per nesting level (a 1 MiB line of `[` takes seconds and ~1 GB),
// and everything it does costs ~10 µs per node, so a 1 MiB file of tiny keys holds the event
// loop for a second. The scan refuses such files by shape before any of that runs.
//
// It reads the token stream of yaml's own Lexer, which is a flat state machine (no recursion,
// linear time, ~0.2 µs per token): the scan agrees with the parser about what is a quoted
// scalar, a comment or a bracket, so no quoting trick can hide nesting from it. It stops at
// the first limit crossed, so a refusal costs no more than lexing up to that point.

import { Lexer } from 'yaml';

/** Limits far above any real file (real profiles have < 200 lines and nest < 8 levels); see docs/security.md "Limits". */
export const YAML_LIMITS = {
  /** Block indentation levels plus flow levels (2 per `[`, 1 per `{`) at any point. */
  depth: 64,
  lines: 2_000,
  /** Scalars, aliases, anchors, tags, brackets, commas and indicators: what the parser builds nodes from. */
  nodes: 10_000,
  keys: 2_500,
  anchors: 100,
  aliases: 100,
  /** Characters in one scalar (a reason is at most 240, a reference well under 1,000). */
  scalar: 8_192,
} as const;

export type YamlLimitName = keyof typeof YAML_LIMITS;

/** Where a limit was crossed: offsets into the text, 0-based; `line`/`col` 1-based. */
export interface YamlLimitProblem {
  limit: YamlLimitName;
  line: number;
  col: number;
  /** Plain words: what is over which limit (no file content). */
  problem: string;
}

const DESCRIBE: Record<YamlLimitName, string> = {
  depth: `nests deeper than ${YAML_LIMITS.depth} levels (indentation, each [ ] as two, each { } as one)`,
  lines: `has more than ${YAML_LIMITS.lines} lines`,
  nodes: `has more than ${YAML_LIMITS.nodes} YAML nodes and indicators (keys, values, list items, brackets, commas)`,
  keys: `has more than ${YAML_LIMITS.keys} mapping keys`,
  anchors: `has more than ${YAML_LIMITS.anchors} anchors (&name)`,
  aliases: `has more than ${YAML_LIMITS.aliases} aliases (*name)`,
  scalar: `has a value longer than ${YAML_LIMITS.scalar} characters`,
};

// The Lexer's control tokens: they stand for no source text.
const DOCUMENT = '\x02';
const FLOW_ERROR_END = '\x18';
const SCALAR = '\x1f';

interface BlockLevel {
  col: number;
  kind: 'seq' | 'map';
}

/** Scans `text` and returns the first limit it crosses, or null. Linear; never throws on any string. */
export function checkYamlLimits(text: string): YamlLimitProblem | null {
  const state = new Scan(text);
  try {
    for (const token of new Lexer().lex(text)) {
      const crossed = state.take(token);
      if (crossed !== null) return state.problem(crossed);
    }
  } catch {
    // The lexer has no failure mode on a string; should one appear, the parser gets the text
    // and reports it (never a crash here).
    return null;
  }
  return null;
}

// One pass over the tokens. Offsets are the sum of the source lengths of the tokens so far.
class Scan {
  private offset = 0;
  private lineStart = 0;
  private lines = 1;
  private nodes = 0;
  private keys = 0;
  private anchors = 0;
  private aliases = 0;
  /** Levels the open [ ] and { } add: 2 per `[` (a `key: value` inside makes a mapping of its own), 1 per `{`. */
  private flow = 0;
  private readonly flowWeights: number[] = [];
  private readonly block: BlockLevel[] = [];
  /** The next token is a scalar's source (after the SCALAR marker). */
  private atScalar = false;
  /** The scalar announced next is a block scalar's body (after `|` or `>`): it opens no level. */
  private blockBody = false;
  /** No node has started on this line yet (indentation and block indicators only). */
  private lineFresh = true;
  private at = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  take(token: string): YamlLimitName | null {
    const start = this.offset;
    if (this.atScalar) {
      this.atScalar = false;
      const body = this.blockBody;
      this.blockBody = false;
      if (token.length > YAML_LIMITS.scalar) return this.cross('scalar', start);
      return this.advance(token, start) ?? this.node(start, body ? 'none' : 'map');
    }
    if (token === SCALAR) {
      this.atScalar = true;
      return null;
    }
    if (token === DOCUMENT) return null;
    if (token === FLOW_ERROR_END) {
      this.flow = 0;
      this.flowWeights.length = 0;
      return null;
    }
    return this.advance(token, start) ?? this.structural(token, start);
  }

  problem(limit: YamlLimitName): YamlLimitProblem {
    // Counted once, on refusal only: keeps the scan itself free of per-character work.
    let line = 1;
    let lineStart = 0;
    for (let i = this.text.indexOf('\n'); i !== -1 && i < this.at; i = this.text.indexOf('\n', i + 1)) {
      line += 1;
      lineStart = i + 1;
    }
    return { limit, line, col: this.at - lineStart + 1, problem: DESCRIBE[limit] };
  }

  private structural(token: string, start: number): YamlLimitName | null {
    const first = token[0];
    if (first === undefined || first === ' ' || first === '\t' || first === '#' || first === '%' || first === '\uFEFF') return null;
    if (first === '\n' || first === '\r') {
      this.lineFresh = true;
      return null;
    }
    if ((first === '"' || first === "'") && token.length > YAML_LIMITS.scalar) return this.cross('scalar', start);
    if (first === '&' && ++this.anchors > YAML_LIMITS.anchors) return this.cross('anchors', start);
    if (first === '*' && ++this.aliases > YAML_LIMITS.aliases) return this.cross('aliases', start);
    if (token === ':' && ++this.keys > YAML_LIMITS.keys) return this.cross('keys', start);
    if (token === '---' || token === '...') this.block.length = 0;
    if (first === '|' || first === '>') this.blockBody = true;
    if ((token === ']' || token === '}') && this.flowWeights.length > 0) this.flow -= this.flowWeights.pop() as number;
    // yaml reads `- ` inside [ ] or { } as a block list (an error it reports, after nesting by
    // indentation all the same), so there it opens a level at its column wherever it stands.
    if (token === '-' && this.flow > 0) return this.indicatorInFlow(start);
    const crossed = this.node(start, token === '-' ? 'seq' : startsNode(token) ? 'map' : 'none');
    if (crossed !== null || (token !== '[' && token !== '{')) return crossed;
    const weight = token === '[' ? 2 : 1;
    this.flowWeights.push(weight);
    this.flow += weight;
    return this.depthOver(start);
  }

  // Counts lines (a scalar may span many) and tracks where the current line starts.
  private advance(token: string, start: number): YamlLimitName | null {
    this.offset += token.length;
    let nl = token.indexOf('\n');
    if (nl === -1) return null;
    while (nl !== -1) {
      this.lines += 1;
      this.lineStart = start + nl + 1;
      nl = token.indexOf('\n', nl + 1);
    }
    // A block scalar's body ends with its last newline: the next token starts a line.
    if (token.endsWith('\n')) this.lineFresh = true;
    // Reported at the start of the first line over the limit.
    return this.lines > YAML_LIMITS.lines ? this.cross('lines', this.lineStart) : null;
  }

  // Every token the parser turns into (part of) a node counts. The first one on a line, outside
  // flow collections, sits at a block level; `-` and `?` leave the line open for the next one.
  private node(start: number, kind: 'seq' | 'map' | 'none'): YamlLimitName | null {
    if (++this.nodes > YAML_LIMITS.nodes) return this.cross('nodes', start);
    if (kind === 'none' || this.flow > 0 || !this.lineFresh) return null;
    if (kind === 'map') this.lineFresh = false;
    this.openBlock(start - this.lineStart, kind);
    return this.depthOver(start);
  }

  private indicatorInFlow(start: number): YamlLimitName | null {
    if (++this.nodes > YAML_LIMITS.nodes) return this.cross('nodes', start);
    this.openBlock(start - this.lineStart, 'seq');
    return this.depthOver(start);
  }

  // Block levels as an indentation stack: deeper columns nest, shallower ones close levels; a
  // list at the same column as its mapping key (`key:\n- item`) is one level deeper.
  private openBlock(col: number, kind: 'seq' | 'map'): void {
    const block = this.block;
    while (block.length > 0 && (block[block.length - 1] as BlockLevel).col > col) block.pop();
    const top = block[block.length - 1];
    if (top === undefined || top.col < col) {
      block.push({ col, kind });
    } else if (top.kind === 'map' && kind === 'seq') {
      block.push({ col, kind });
    } else if (top.kind === 'seq' && kind === 'map' && block[block.length - 2]?.col === col) {
      // `key:\n- item\nnext:` — the list has ended and `next` is a sibling of `key`.
      block.pop();
    }
  }

  private depthOver(start: number): YamlLimitName | null {
    return this.block.length + this.flow > YAML_LIMITS.depth ? this.cross('depth', start) : null;
  }

  private cross(limit: YamlLimitName, start: number): YamlLimitName {
    this.at = start;
    return limit;
  }
}

// Tokens that begin a node a block level can hold: quoted scalars, aliases, anchors, tags,
// flow collections, block scalar headers, explicit keys and `:` at the start of a line.
function startsNode(token: string): boolean {
  const first = token[0];
  return first === '"' || first === "'" || first === '*' || first === '&' || first === '!' || first === '[' || first === '{' || first === '|' || first === '>' || first === '?' || first === ':';
}
