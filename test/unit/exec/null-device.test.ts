import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isNullDevice } from '../../../src/exec/index.js';

const dir = mkdtempSync(join(tmpdir(), 'as-null-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('isNullDevice', () => {
  const file = join(dir, 'out.log');
  writeFileSync(file, '');
  it.each<[string, () => number, boolean]>([
    ['/dev/null opened for writing', () => openSync('/dev/null', 'w'), true],
    ['/dev/null opened read-write', () => openSync('/dev/null', 'r+'), true],
    ['/dev/zero (another character device)', () => openSync('/dev/zero', 'r'), false],
    ['a regular file', () => openSync(file, 'a'), false],
    ['a directory', () => openSync(dir, 'r'), false],
  ])('%s → %s', (_name, open, expected) => {
    const fd = open();
    try {
      expect(isNullDevice(fd)).toBe(expected);
    } finally {
      closeSync(fd);
    }
  });

  it('is false for a descriptor that is not open', () => {
    const fd = openSync(file, 'r');
    closeSync(fd);
    expect(isNullDevice(fd)).toBe(false);
  });
});
