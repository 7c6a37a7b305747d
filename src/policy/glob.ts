// The policy's one pattern language: `*` is any run of characters but `/`, `**` any run at all,
// `?` one character but `/`, `\` makes the next character literal (`\*`); everything else is
// literal (case-sensitive). Compiled once per
// pattern and kept. Paths match by whole segments: `/home/me/src` covers `/home/me/src/app`,
// never `/home/me/srcx`. Pure.

const compiled = new Map<string, RegExp>();
const MAX_CACHED = 4096;

/** Whether `text` matches the glob `pattern` as a whole. */
export function globMatch(pattern: string, text: string): boolean {
  if (!/[*?\\]/.test(pattern)) return pattern === text;
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = new RegExp(`^${globSource(pattern)}$`, 's');
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(pattern, re);
  }
  return re.test(text);
}

function globSource(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      out += (pattern[i + 1] as string).replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
      i += 1;
    } else if (c === '*' && pattern[i + 1] === '*') {
      out += '.*';
      i += 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return out;
}

/** `text` as a pattern that matches exactly it: `*`, `?` and `\` escaped. */
export function globEscape(text: string): string {
  return text.replace(/[\\*?]/g, '\\$&');
}

/** Whether the absolute `path` is `prefix` or inside it (whole segments; `prefix` may be a glob). */
export function pathWithin(prefix: string, path: string): boolean {
  const base = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (globMatch(base, path)) return true;
  if (base === '/') return path.startsWith('/');
  // Every ancestor directory of path, nearest first.
  for (let end = path.lastIndexOf('/'); end > 0; end = path.lastIndexOf('/', end - 1)) {
    if (globMatch(base, path.slice(0, end))) return true;
  }
  return false;
}

/** The last segment of a path (a program's name). */
export function baseName(path: string): string {
  const at = path.lastIndexOf('/');
  return at === -1 ? path : path.slice(at + 1);
}
