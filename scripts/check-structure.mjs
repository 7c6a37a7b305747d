#!/usr/bin/env node
// The import rules of src/, checked from the source text (static, dynamic and type-only imports
// alike): no import circles, and every import points down the layer order below (or stays in
// its folder), with the few same-layer pairs listed in ALLOWED. Also checks that
// docs/code-layout.md names every source file. Run by `npm run lint` and by a unit test;
// exits 1 naming each violation. See AGENTS.md for what the layers mean.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Lower layers never import higher ones. */
export const LAYERS = [
  ['core'],
  ['platform'],
  ['policy'],
  ['config'],
  ['request'],
  ['mask', 'approval', 'provider', 'exec', 'audit', 'guard'],
  ['plan'],
  ['protocol'],
  ['broker'],
  ['client', 'daemon'],
  ['cli'],
];
/** Same-layer imports that are part of the design: running the child masks its output. */
const ALLOWED = new Set(['exec->mask']);
/** Files at the top of src/ (generated). */
const TOP_LEVEL = new Set(['version.ts']);

const rankOf = new Map(LAYERS.flatMap((folders, rank) => folders.map((folder) => [folder, rank])));

export function checkStructure(root) {
  const src = join(root, 'src');
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path);
    }
  };
  walk(src);
  const known = new Set(files);
  const folderOf = (file) => relative(src, file).split(sep)[0];
  const problems = [];
  const graph = new Map();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = new Set();
    for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      const target = resolve(dirname(file), match[1]).replace(/\.js$/, '.ts');
      if (known.has(target)) targets.add(target);
    }
    graph.set(file, targets);
    const from = folderOf(file);
    if (from.endsWith('.ts')) {
      if (!TOP_LEVEL.has(from)) problems.push(`${relative(root, file)}: source files live in a layer folder`);
      continue;
    }
    if (!rankOf.has(from)) {
      problems.push(`${relative(root, file)}: folder src/${from} is in no layer (add it to LAYERS in scripts/check-structure.mjs)`);
      continue;
    }
    for (const target of targets) {
      const to = folderOf(target);
      if (to === from || TOP_LEVEL.has(to)) continue;
      const up = rankOf.get(to) > rankOf.get(from);
      const sideways = rankOf.get(to) === rankOf.get(from) && !ALLOWED.has(`${from}->${to}`);
      if (up || sideways) problems.push(`${relative(root, file)} imports ${relative(root, target)}: ${from} may not import ${to} (${up ? 'a higher layer' : 'a folder of its own layer'})`);
    }
  }
  for (const circle of circles(graph)) problems.push(`import circle: ${circle.map((f) => relative(root, f)).join(' -> ')}`);
  const layoutPath = join(root, 'docs', 'code-layout.md');
  const layout = existsSync(layoutPath) ? readFileSync(layoutPath, 'utf8') : '';
  for (const file of files) {
    if (!layout.includes(`\`${relative(root, file)}\``)) problems.push(`docs/code-layout.md does not list ${relative(root, file)}`);
  }
  return { files: files.length, problems };
}

// Every strongly connected component of more than one file, or a file importing itself (Tarjan).
function circles(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.reverse());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { files, problems } = checkStructure(resolve(dirname(fileURLToPath(import.meta.url)), '..'));
  for (const problem of problems) console.error(`structure: ${problem}`);
  console.log(`structure: ${files} source files, ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
