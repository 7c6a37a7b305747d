// A small bash tokenizer for the guard: splits a command string into simple commands (words
// after quote removal, plus redirections), including the commands nested in $( ), backticks,
// <( ), subshells and unquoted heredoc bodies. Input: an untrusted command an agent wants to
// run. Invariant: it only reads the string (never expands or executes anything) and never throws.

/** One shell word after quote removal; `$…`, `${…}`, `$(…)` and backticks stay as written. */
export interface ShellWord {
  readonly text: string;
  /** Contains a parameter, command or arithmetic expansion (its value is unknown here). */
  readonly expanded: boolean;
  /** Contains an unquoted glob or brace pattern (* ? [ {). */
  readonly glob: boolean;
  /** Starts with an unquoted ~ (home directory). */
  readonly tilde: boolean;
}

export interface Redirect {
  /** The operator without its fd number: <, <<, <<-, <<<, <>, <&, >, >>, >|, >&, &>, &>>. */
  readonly op: string;
  readonly target: ShellWord;
}

export interface SimpleCommand {
  readonly words: ShellWord[];
  readonly redirects: Redirect[];
  /** Its standard input is the output of the command before it (`a | b`: true for b). */
  readonly piped: boolean;
}

export interface ParsedShell {
  /** Every simple command, nested ones included (order: as their text ends). */
  readonly commands: SimpleCommand[];
  /** False when a quote, substitution or heredoc was left open. */
  readonly complete: boolean;
}

/** Splits a bash command string into its simple commands; best effort on broken syntax. */
export function parseShell(source: string): ParsedShell {
  const parser = new Parser(source);
  parser.parseList(null);
  return { commands: parser.commands, complete: parser.complete };
}

const MAX_DEPTH = 100;
const METACHARS = new Set([' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>']);
const ANSI_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };

interface PendingHeredoc {
  delimiter: string;
  quoted: boolean;
  stripTabs: boolean;
}

interface WordBuilder {
  text: string;
  raw: string;
  expanded: boolean;
  glob: boolean;
  tilde: boolean;
  quoted: boolean;
}

class Parser {
  readonly commands: SimpleCommand[];
  complete = true;
  readonly #src: string;
  #i = 0;
  #heredocs: PendingHeredoc[] = [];

  readonly #depth: { level: number };

  constructor(source: string, commands: SimpleCommand[] = [], depth = { level: 0 }) {
    this.#src = source;
    this.commands = commands;
    this.#depth = depth;
  }

  // Text parsed on its own (backticks, heredoc bodies, ${…}): as a command list, or as the
  // inside of double quotes where only substitutions run. Shares the command list and depth.
  #nested(text: string, as: 'list' | 'quoted'): void {
    const parser = new Parser(text, this.commands, this.#depth);
    if (as === 'list') parser.parseList(null);
    else parser.#enter(() => parser.#readDoubleQuoted(emptyWord(), true));
    if (!parser.complete) this.complete = false;
  }

  // Runs one level of nesting; past MAX_DEPTH the rest of the text is skipped as incomplete.
  #enter(body: () => void): void {
    if (this.#depth.level >= MAX_DEPTH) {
      this.complete = false;
      this.#i = this.#src.length;
      return;
    }
    this.#depth.level += 1;
    try {
      body();
    } finally {
      this.#depth.level -= 1;
    }
  }

  // Reads commands until `end` (')' for a subshell or $( ), or the end of the string.
  parseList(end: ')' | null): void {
    this.#enter(() => this.#parseList(end));
  }

  #parseList(end: ')' | null): void {
    const src = this.#src;
    let words: ShellWord[] = [];
    let redirects: Redirect[] = [];
    let piped = false;
    const finish = () => {
      if (words.length > 0 || redirects.length > 0) this.commands.push({ words, redirects, piped });
      words = [];
      redirects = [];
      piped = false;
    };
    while (this.#i < src.length) {
      const c = src[this.#i]!;
      if (c === ' ' || c === '\t') {
        this.#i += 1;
      } else if (c === '\\' && src[this.#i + 1] === '\n') {
        this.#i += 2;
      } else if (c === '\n') {
        finish();
        this.#i += 1;
        this.#readHeredocBodies();
      } else if (c === ')') {
        this.#i += 1;
        if (end === ')') {
          finish();
          return;
        }
        finish();
      } else if (c === '(') {
        finish();
        this.#i += 1;
        this.parseList(')');
      } else if ((c === '<' || c === '>') && src[this.#i + 1] === '(') {
        this.#i += 2;
        this.parseList(')');
        words.push({ text: '<(…)', expanded: true, glob: false, tilde: false });
      } else if (c === '<' || c === '>' || (c === '&' && src[this.#i + 1] === '>')) {
        const redirect = this.#readRedirect();
        if (redirect !== null) redirects.push(redirect);
      } else if (c === '|' && src[this.#i + 1] !== '|') {
        // `a | b` and `a |& b`: b reads what a prints.
        finish();
        piped = true;
        this.#i += src[this.#i + 1] === '&' ? 2 : 1;
      } else if (c === '|') {
        finish();
        this.#i += 2;
      } else if (c === ';' || c === '&') {
        finish();
        this.#i += 1;
      } else if (c === '#' ) {
        while (this.#i < src.length && src[this.#i] !== '\n') this.#i += 1;
      } else {
        const word = this.#readWord();
        if (/^\d+$/.test(word.raw) && (src[this.#i] === '<' || src[this.#i] === '>')) continue;
        words.push(freeze(word));
      }
    }
    finish();
    if (end !== null) this.complete = false;
  }

  #readRedirect(): Redirect | null {
    const src = this.#src;
    const ops = ['&>>', '&>', '<<<', '<<-', '<<', '<>', '<&', '>>', '>|', '>&', '<', '>'];
    const op = ops.find((candidate) => src.startsWith(candidate, this.#i))!;
    this.#i += op.length;
    while (src[this.#i] === ' ' || src[this.#i] === '\t') this.#i += 1;
    if (this.#i >= src.length || METACHARS.has(src[this.#i]!)) return null;
    const target = this.#readWord();
    if (op === '<<' || op === '<<-') {
      this.#heredocs.push({ delimiter: target.text, quoted: target.quoted, stripTabs: op === '<<-' });
    }
    return { op, target: freeze(target) };
  }

  // After a newline: the bodies of the heredocs opened on the line just ended. An unquoted
  // delimiter means the body is expanded like a double-quoted string, so $( ) in it runs.
  #readHeredocBodies(): void {
    const src = this.#src;
    for (const heredoc of this.#heredocs) {
      const bodyStart = this.#i;
      let bodyEnd = src.length;
      let found = false;
      while (this.#i < src.length) {
        const lineEnd = src.indexOf('\n', this.#i);
        const stop = lineEnd < 0 ? src.length : lineEnd;
        const line = src.slice(this.#i, stop);
        const lineStart = this.#i;
        this.#i = lineEnd < 0 ? src.length : lineEnd + 1;
        if ((heredoc.stripTabs ? line.replace(/^\t+/, '') : line) === heredoc.delimiter) {
          bodyEnd = lineStart;
          found = true;
          break;
        }
      }
      if (!found) this.complete = false;
      if (!heredoc.quoted) this.#nested(src.slice(bodyStart, bodyEnd), 'quoted');
    }
    this.#heredocs = [];
  }

  #readWord(): WordBuilder {
    const src = this.#src;
    const word = emptyWord();
    if (src[this.#i] === '~') word.tilde = true;
    while (this.#i < src.length) {
      const c = src[this.#i]!;
      if (METACHARS.has(c)) break;
      if (c === '\\') {
        const next = src[this.#i + 1];
        this.#i += 2;
        if (next === undefined) break;
        if (next !== '\n') add(word, next, `\\${next}`);
        word.quoted = true;
      } else if (c === "'") {
        word.quoted = true;
        const close = src.indexOf("'", this.#i + 1);
        const stop = close < 0 ? src.length : close;
        if (close < 0) this.complete = false;
        add(word, src.slice(this.#i + 1, stop), src.slice(this.#i, stop + 1));
        this.#i = stop + 1;
      } else if (c === '"') {
        word.quoted = true;
        this.#i += 1;
        this.#readDoubleQuoted(word, false);
      } else if (c === '$' && src[this.#i + 1] === "'") {
        word.quoted = true;
        this.#readAnsiC(word);
      } else if (c === '$' && src[this.#i + 1] === '"') {
        word.quoted = true;
        this.#i += 2;
        this.#readDoubleQuoted(word, false);
      } else if (c === '$' || c === '`') {
        this.#readExpansion(word);
      } else {
        if (c === '*' || c === '?' || c === '[' || (c === '{' && isBraceExpansion(src, this.#i))) word.glob = true;
        add(word, c, c);
        this.#i += 1;
      }
    }
    return word;
  }

  // Inside "…" (or a whole heredoc body when `toEnd`): \ escapes only $ ` " \ and newline.
  #readDoubleQuoted(word: WordBuilder, toEnd: boolean): void {
    const src = this.#src;
    while (this.#i < src.length) {
      const c = src[this.#i]!;
      if (c === '"' && !toEnd) {
        this.#i += 1;
        return;
      }
      if (c === '\\') {
        const next = src[this.#i + 1];
        this.#i += 2;
        if (next === undefined) break;
        if (next === '\n') continue;
        if ('$`"\\'.includes(next)) add(word, next, `\\${next}`);
        else add(word, `\\${next}`, `\\${next}`);
      } else if (c === '$' || c === '`') {
        this.#readExpansion(word);
      } else {
        add(word, c, c);
        this.#i += 1;
      }
    }
    if (!toEnd) this.complete = false;
  }

  #readAnsiC(word: WordBuilder): void {
    const src = this.#src;
    const start = this.#i;
    this.#i += 2;
    let text = '';
    while (this.#i < src.length && src[this.#i] !== "'") {
      const c = src[this.#i]!;
      if (c !== '\\') {
        text += c;
        this.#i += 1;
        continue;
      }
      const next = src[this.#i + 1] ?? '';
      const hex = /^x([0-9a-fA-F]{1,2})/.exec(src.slice(this.#i + 1, this.#i + 4));
      const octal = /^([0-7]{1,3})/.exec(src.slice(this.#i + 1, this.#i + 4));
      if (hex !== null) {
        text += String.fromCharCode(parseInt(hex[1]!, 16));
        this.#i += 1 + hex[0].length;
      } else if (octal !== null) {
        text += String.fromCharCode(parseInt(octal[1]!, 8) & 0xff);
        this.#i += 1 + octal[0].length;
      } else {
        text += ANSI_ESCAPES[next] ?? `\\${next}`;
        this.#i += 2;
      }
    }
    if (this.#i >= src.length) this.complete = false;
    this.#i += 1;
    add(word, text, src.slice(start, this.#i));
  }

  // $name, ${…}, $(…), $((…)), `…`: the nested commands of $( ) and backticks are parsed too.
  #readExpansion(word: WordBuilder): void {
    const src = this.#src;
    const start = this.#i;
    word.expanded = true;
    if (src[this.#i] === '`') {
      let inner = '';
      this.#i += 1;
      while (this.#i < src.length && src[this.#i] !== '`') {
        if (src[this.#i] === '\\' && '`$\\'.includes(src[this.#i + 1] ?? '')) {
          inner += src[this.#i + 1];
          this.#i += 2;
        } else {
          inner += src[this.#i];
          this.#i += 1;
        }
      }
      if (this.#i >= src.length) this.complete = false;
      this.#i += 1;
      this.#nested(inner, 'list');
    } else if (src.startsWith('$((', this.#i)) {
      // Arithmetic, or (when the parentheses do not close as `))`) a subshell inside $( ):
      // the inside is also read as commands, which is harmless for arithmetic.
      this.#i = skipBalanced(src, this.#i + 1, '(', ')');
      this.#nested(src.slice(start + 2, this.#i - 1), 'list');
    } else if (src.startsWith('$(', this.#i)) {
      this.#i += 2;
      this.parseList(')');
    } else if (src.startsWith('${', this.#i)) {
      this.#i = skipBalanced(src, this.#i + 1, '{', '}');
      this.#nested(src.slice(start + 2, this.#i - 1), 'quoted');
    } else {
      const name = /^\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])?/.exec(src.slice(this.#i, this.#i + 256))!;
      this.#i += Math.max(1, name[0].length);
    }
    add(word, src.slice(start, this.#i), src.slice(start, this.#i));
  }
}

// Whether the { at `open` starts a brace expansion: {a,b} or {1..3}, without spaces, closed soon.
function isBraceExpansion(src: string, open: number): boolean {
  const limit = Math.min(src.length, open + 256);
  for (let i = open + 1; i < limit; i += 1) {
    const c = src[i]!;
    if (c === '}') return /[,.]/.test(src.slice(open + 1, i));
    if (c === ' ' || c === '\t' || c === '\n') return false;
  }
  return false;
}

// Index just past the bracket that closes the one at `open` (or the end of the string).
function skipBalanced(src: string, open: number, left: string, right: string): number {
  let depth = 0;
  for (let i = open; i < src.length; i += 1) {
    const c = src[i];
    if (c === '\\') i += 1;
    else if (c === left) depth += 1;
    else if (c === right && (depth -= 1) === 0) return i + 1;
  }
  return src.length;
}

function emptyWord(): WordBuilder {
  return { text: '', raw: '', expanded: false, glob: false, tilde: false, quoted: false };
}

function add(word: WordBuilder, text: string, raw: string): void {
  word.text += text;
  word.raw += raw;
}

function freeze(word: WordBuilder): ShellWord {
  return { text: word.text, expanded: word.expanded, glob: word.glob, tilde: word.tilde };
}
