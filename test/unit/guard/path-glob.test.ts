// pathGlobFilter: a read_many_files glob matched on the whole relative path (not on the last
// segment, which made `src/**` reach the root .env), with a directory glob reaching below it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pathGlobFilter } from '../../../src/guard/files.js';

const CASES: Array<[glob: string, path: string, matches: boolean]> = [
  ['src/**', 'src/app.ts', true],
  ['src/**', 'src/deep/.env', true],
  ['src/**', '.env', false],
  ['src/**', 'backend/.env.local', false],
  ['**/.env*', '.env', true],
  ['**/.env*', 'backend/.env.local', true],
  ['*.md', 'README.md', true],
  ['*.md', 'docs/guide.md', false],
  ['backend/*', 'backend/.env.local', true],
  ['backend/*', 'frontend/.env', false],
  ['./backend/**', 'backend/.env.local', true],
  ['backend', 'backend/.env.local', true],
  ['back*', 'backend/.env.local', true],
  ['**', '.env', true],
  ['src/[', '.env', true],
];

describe('pathGlobFilter', () => {
  it.each(CASES)('%s on %s: %s', (glob, path, matches) => {
    expect(pathGlobFilter(glob)(path)).toBe(matches);
  });

  it('a glob under one directory never reaches a file outside it', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,6}$/), fc.stringMatching(/^[a-z]{1,6}$/), (dir, other) => {
        fc.pre(dir !== other);
        expect(pathGlobFilter(`${dir}/**`)(`${other}/.env`)).toBe(false);
        expect(pathGlobFilter(`${dir}/**`)(`${dir}/x/.env`)).toBe(true);
      }),
    );
  });
});
