#!/usr/bin/env node
// Checks that every relative link and #anchor in README.md, AGENTS.md and docs/*.md resolves:
// the target file exists, and an anchor names a heading of that file (GitHub's slugs:
// lower case, punctuation dropped, spaces to hyphens, -1, -2 … for repeats). External links
// (http:, https:, mailto:) are not fetched. Links inside code blocks and code spans are ignored.
// Usage: node scripts/check-doc-links.mjs   (exit 1 and one line per broken link)

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const files = ['README.md', 'AGENTS.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name))];

/** The text outside fenced code blocks, one entry per line (fenced lines blanked to keep numbers). */
function proseLines(text) {
  let fence = null;
  return text.split('\n').map((line) => {
    const marker = /^\s*(```+|~~~+)/.exec(line);
    if (marker !== null) {
      if (fence === null) fence = marker[1][0];
      else if (marker[1][0] === fence) fence = null;
      return '';
    }
    return fence === null ? line : '';
  });
}

/** GitHub's heading anchor: lower case, drop what is not a letter, digit, space, `-` or `_`, spaces to `-`. */
function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-');
}

const anchorCache = new Map();
function anchorsOf(file) {
  if (!anchorCache.has(file)) {
    const seen = new Map();
    const anchors = new Set();
    for (const line of proseLines(readFileSync(file, 'utf8'))) {
      const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
      if (heading === null) continue;
      const base = slug(heading[1]);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    anchorCache.set(file, anchors);
  }
  return anchorCache.get(file);
}

const problems = [];
let checked = 0;
for (const name of files) {
  const file = join(root, name);
  proseLines(readFileSync(file, 'utf8')).forEach((line, index) => {
    const withoutCode = line.replace(/`[^`]*`/g, ' ');
    for (const match of withoutCode.matchAll(/\]\(([^()\s]+)\)/g)) {
      const target = match[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      checked += 1;
      const [path, anchor] = target.split('#', 2);
      const targetFile = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      const where = `${name}:${index + 1}`;
      if (!existsSync(targetFile)) {
        problems.push(`${where}: ${target}: no such file`);
        continue;
      }
      if (anchor === undefined || anchor === '') continue;
      if (statSync(targetFile).isDirectory() || !targetFile.endsWith('.md')) {
        problems.push(`${where}: ${target}: an anchor into a file that is not Markdown`);
      } else if (!anchorsOf(targetFile).has(anchor)) {
        problems.push(`${where}: ${target}: no heading #${anchor} in ${relative(root, targetFile)}`);
      }
    }
  });
}

for (const problem of problems) console.log(problem);
console.log(`${checked} relative links in ${files.length} files, ${problems.length} broken`);
process.exit(problems.length === 0 ? 0 : 1);
