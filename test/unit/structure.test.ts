// The import rules of src/ hold on this tree, and the checker finds what it is for: a circle,
// an import up the layer order, a sideways import, a folder in no layer, an unlisted file.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without type declarations
import { checkStructure } from '../../scripts/check-structure.mjs';

const check = checkStructure as (root: string) => { files: number; problems: string[] };
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let tree: string | null = null;

afterEach(() => {
  if (tree !== null) rmSync(tree, { recursive: true, force: true });
  tree = null;
});

function fakeTree(files: Record<string, string>): string {
  tree = mkdtempSync(join(tmpdir(), 'agent-secret-structure-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(tree, path)), { recursive: true });
    writeFileSync(join(tree, path), text);
  }
  const listed = Object.keys(files).filter((p) => p.startsWith('src/')).map((p) => `| \`${p}\` | x |`);
  mkdirSync(join(tree, 'docs'), { recursive: true });
  writeFileSync(join(tree, 'docs', 'code-layout.md'), listed.join('\n'));
  return tree;
}

describe('the import structure of src/', () => {
  it('has no circle, no import up or across the layers, and docs/code-layout.md lists every file', () => {
    const { files, problems } = check(repo);
    expect(files).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  it.each([
    ['a circle', { 'src/broker/a.ts': "import { b } from './b.js';\n", 'src/broker/b.ts': "import { a } from './a.js';\n" }, /import circle: src\/broker\/a\.ts -> src\/broker\/b\.ts/],
    ['an upward import', { 'src/daemon/x.ts': "export const x = await import('../cli/y.js');\n", 'src/cli/y.ts': '' }, /src\/daemon\/x\.ts imports src\/cli\/y\.ts: daemon may not import cli \(a higher layer\)/],
    ['a type-only upward import', { 'src/plan/x.ts': "import type { Y } from '../broker/y.js';\n", 'src/broker/y.ts': '' }, /plan may not import broker/],
    ['a sideways import', { 'src/audit/x.ts': "import { y } from '../provider/y.js';\n", 'src/provider/y.ts': '' }, /audit may not import provider \(a folder of its own layer\)/],
    ['a folder in no layer', { 'src/misc/x.ts': '' }, /folder src\/misc is in no layer/],
  ])('finds %s', (_name, files, expected) => {
    const { problems } = check(fakeTree(files));
    expect(problems.join('\n')).toMatch(expected);
  });

  it('finds a source file the layout doc does not list', () => {
    const root = fakeTree({ 'src/core/a.ts': '' });
    writeFileSync(join(root, 'docs', 'code-layout.md'), '');
    expect(check(root).problems).toEqual(['docs/code-layout.md does not list src/core/a.ts']);
  });

  it('accepts imports down the layers and the one allowed sideways pair (exec uses mask)', () => {
    const { problems } = check(
      fakeTree({
        'src/cli/a.ts': "import { b } from '../broker/b.js';\n",
        'src/broker/b.ts': "import { c } from '../core/c.js';\n",
        'src/exec/d.ts': "import { e } from '../mask/e.js';\n",
        'src/core/c.ts': '',
        'src/mask/e.ts': '',
      }),
    );
    expect(problems).toEqual([]);
  });
});
