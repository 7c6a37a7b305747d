import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildProgramRequest, parseProgramAnswer, sanitizeProgramText } from '../../../src/provider/program/protocol.js';

const A = 'vault://kv/app#token';
const B = 'vault://kv/db#password';

describe('buildProgramRequest', () => {
  it('asks each reference once, with the identity and an ISO deadline', () => {
    expect(buildProgramRequest({ id: 'req_1', scheme: 'vault', identity: 'prod', refs: [A, B, A], deadline: Date.UTC(2030, 0, 1) })).toEqual({
      version: 1,
      id: 'req_1',
      scheme: 'vault',
      refs: [
        { ref: A, identity: 'prod' },
        { ref: B, identity: 'prod' },
      ],
      deadline: '2030-01-01T00:00:00.000Z',
    });
  });
});

describe('parseProgramAnswer', () => {
  it('takes values for exactly the refs asked', () => {
    const answer = parseProgramAnswer(JSON.stringify({ values: { [A]: 'x', [B]: '' } }), [A, B]);
    expect(answer.kind).toBe('values');
    if (answer.kind === 'values') expect(Object.fromEntries(answer.values)).toEqual({ [A]: 'x', [B]: '' });
    expect(parseProgramAnswer(JSON.stringify({ version: 1, values: { [A]: 'x' } }), [A]).kind).toBe('values');
  });

  it('reads an error answer, its words sanitised', () => {
    const answer = parseProgramAnswer(JSON.stringify({ error: { [B]: 'no such\u001b[31m key\u202e' } }), [A, B]);
    expect(answer).toEqual({ kind: 'error', errors: [{ ref: B, message: 'no such [31m key' }] });
  });

  it.each([
    ['not JSON', 'token=abc', 'did not answer with one JSON object'],
    ['an array', '[]', 'did not answer with a JSON object'],
    ['both keys', JSON.stringify({ values: {}, error: {} }), 'exactly one of values and error'],
    ['neither key', JSON.stringify({}), 'exactly one of values and error'],
    ['another key', JSON.stringify({ values: { [A]: 'x' }, debug: 1 }), 'keys other than values and error'],
    ['another version', JSON.stringify({ version: 2, values: { [A]: 'x' } }), 'protocol version'],
    ['a ref not asked', JSON.stringify({ values: { [A]: 'x', [B]: 'y' } }), 'not asked for'],
    ['a missing ref', JSON.stringify({ values: {} }), 'did not answer for every reference'],
    ['a number', JSON.stringify({ values: { [A]: 42 } }), 'not a string'],
    ['a NUL', JSON.stringify({ values: { [A]: 'a\u0000b' } }), 'NUL'],
    ['an error for a ref not asked', JSON.stringify({ error: { [B]: 'x' } }), 'not asked for'],
    ['an error naming nothing', JSON.stringify({ error: {} }), 'names no reference'],
  ])('refuses %s', (_, stdout, problem) => {
    const answer = parseProgramAnswer(stdout, [A]);
    expect(answer.kind).toBe('malformed');
    if (answer.kind === 'malformed') expect(answer.problem).toContain(problem);
  });

  it('never throws, and never puts any of the output into a problem', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (stdout) => {
        const answer = parseProgramAnswer(stdout, [A]);
        if (answer.kind === 'malformed') expect(answer.problem).not.toMatch(/CANARY/);
        if (answer.kind === 'values') expect([...answer.values.keys()]).toEqual([A]);
      }),
    );
  });
});

describe('sanitizeProgramText', () => {
  it('one printable line, clipped', () => {
    expect(sanitizeProgramText('a\n\tb')).toBe('a b');
    expect(sanitizeProgramText('')).toBe('no reason given');
    expect([...sanitizeProgramText('x'.repeat(500))]).toHaveLength(160);
  });
});
