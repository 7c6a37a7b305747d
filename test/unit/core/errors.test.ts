// The one exit table: every kind has one number, every code maps to a listed number, and the
// tables in README.md and the skill list exactly those numbers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CODE_TABLE, EXIT_CODES, listErrorCodes } from '../../../src/core/errors.js';

const ROOT = new URL('../../../', import.meta.url);
const numbersIn = (file: string, heading: string) => {
  const text = readFileSync(new URL(file, ROOT), 'utf8');
  const section = text.slice(text.indexOf(heading));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('|')));
  return [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
};

describe('exit codes', () => {
  it('gives each kind its own number, and every error code a listed one', () => {
    const numbers = Object.values(EXIT_CODES);
    expect(new Set(numbers).size).toBe(numbers.length);
    const listed = new Set(EXIT_CODE_TABLE.map((e) => e.code));
    for (const { exit_code } of listErrorCodes()) expect(listed.has(exit_code)).toBe(true);
  });

  it('a broken approver is its own code, not a denial', () => {
    expect(listErrorCodes()).toContainEqual({ code: 'approval.failed', exit_code: 17 });
    expect(listErrorCodes()).toContainEqual({ code: 'approval.denied', exit_code: 10 });
  });

  it('README.md lists every number of the table', () => {
    expect(numbersIn('README.md', '## Exit codes')).toEqual(EXIT_CODE_TABLE.map((e) => e.code).filter((c) => c >= 0));
  });

  it('SKILL.md lists every number an agent can meet from agent-secret (2 and up)', () => {
    expect(numbersIn('skills/agent-secret/SKILL.md', '## Exit codes')).toEqual(EXIT_CODE_TABLE.map((e) => e.code).filter((c) => c >= 2));
  });
});
