// What the published package holds: every relative link in the shipped docs (README, docs/,
// the skill) points at a file package.json "files" includes, and the README's Install section
// gets `agent-secret` onto PATH, the name every other example uses.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[]; bin: Record<string, string> };
// npm always packs these, whatever "files" says.
const ALWAYS = ['package.json', 'README.md', 'LICENSE'];

const shipped = (path: string): boolean => [...pkg.files, ...ALWAYS].some((entry) => path === entry || path.startsWith(`${entry}/`));

describe('package.json files', () => {
  const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'skills/agent-secret/SKILL.md'];

  it('ships every shipped doc', () => {
    expect(docs.filter((doc) => !shipped(doc))).toEqual([]);
  });

  it('ships every file a shipped doc links to', () => {
    const missing: string[] = [];
    for (const doc of docs) {
      for (const match of readFileSync(join(ROOT, doc), 'utf8').matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = match[1] ?? '';
        if (/^[a-z]+:/.test(target)) continue;
        const path = relative(ROOT, normalize(join(ROOT, dirname(doc), target)));
        if (!shipped(path)) missing.push(`${doc} -> ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe("README's Install section", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const install = readme.slice(readme.indexOf('## Install'), readme.indexOf('## Quick start'));

  it('leads with the package install, says how to allow the Touch ID build, and runs it by its name', () => {
    expect(pkg.bin['agent-secret']).toBe('bin/agent-secret.js');
    const blocks = [...install.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks[0]).toMatch(/^npm install -g agent-secret$/m);
    expect(blocks.join('\n')).toContain('npm install -g --allow-scripts=node-mac-auth agent-secret');
    expect(blocks.join('\n')).toContain('npm install -g ./agent-secret-*.tgz');
    expect(blocks.join('\n')).toMatch(/^agent-secret --help/m);
    expect(blocks.join('\n')).not.toContain('node bin/agent-secret.js');
  });
});
