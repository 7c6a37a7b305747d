import { describe, expect, it } from 'vitest';
import { parseProgramAnswer, ProgramAnswerSchema } from '../../../src/approval/decision.js';

const prompt = { id: 'req_1', ttl_seconds: 120, allows_reusable: true };
const answer = (value: unknown) => parseProgramAnswer(JSON.stringify(value), prompt);

describe('parseProgramAnswer', () => {
  it.each([
    [{ id: 'req_1', decision: 'approve' }, { kind: 'approve' }],
    [{ id: 'req_1', decision: 'deny' }, { kind: 'deny', reason: 'denied by user' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 60, max_uses: 3 } }, { kind: 'approve', reuse: { ttlSeconds: 60, maxUses: 3 } }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 120, max_uses: 20 } }, { kind: 'approve', reuse: { ttlSeconds: 120, maxUses: 20 } }],
    [{ id: 'req_2', decision: 'approve' }, { kind: 'deny', reason: 'wrong id' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 121, max_uses: 1 } }, { kind: 'deny', reason: 'malformed approver output' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 0, max_uses: 1 } }, { kind: 'deny', reason: 'malformed approver output' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 10, max_uses: 21 } }, { kind: 'deny', reason: 'malformed approver output' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 10, max_uses: 0 } }, { kind: 'deny', reason: 'malformed approver output' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 10.5, max_uses: 1 } }, { kind: 'deny', reason: 'malformed approver output' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 10 } }, { kind: 'deny', reason: 'malformed approver output' }],
    [{ id: 'req_1', decision: 'deny', reuse: { ttl_seconds: 10, max_uses: 1 } }, { kind: 'deny', reason: 'malformed approver output' }],
    [{ id: 'req_1', decision: 'APPROVE' }, { kind: 'deny', reason: 'malformed approver output' }],
    [{ id: 'req_1', decision: 'approve', extra: true }, { kind: 'deny', reason: 'malformed approver output' }],
    [{ decision: 'approve' }, { kind: 'deny', reason: 'malformed approver output' }],
    [['approve'], { kind: 'deny', reason: 'malformed approver output' }],
    [null, { kind: 'deny', reason: 'malformed approver output' }],
    ['approve', { kind: 'deny', reason: 'malformed approver output' }],
  ])('%j → %j', (value, expected) => {
    expect(answer(value)).toEqual(expected);
  });

  it.each(['', 'yes', '{"id":"req_1","decision":"approve"} trailing', '{"id":"req_1","decision":"approve"}\n{"id":"req_1","decision":"approve"}'])(
    'denies unparseable output %j',
    (stdout) => {
      expect(parseProgramAnswer(stdout, prompt)).toEqual({ kind: 'deny', reason: 'malformed approver output' });
    },
  );

  describe('for a prompt that allows no reuse (item_describe, session_create)', () => {
    const once = { id: 'req_1', ttl_seconds: 120, allows_reusable: false };
    it.each([
      [{ id: 'req_1', decision: 'approve' }, { kind: 'approve' }],
      [{ id: 'req_1', decision: 'deny' }, { kind: 'deny', reason: 'denied by user' }],
      [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 60, max_uses: 3 } }, { kind: 'deny', reason: 'malformed approver output' }],
      [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 1, max_uses: 1 } }, { kind: 'deny', reason: 'malformed approver output' }],
      [{ id: 'req_1', decision: 'deny', reuse: { ttl_seconds: 60, max_uses: 3 } }, { kind: 'deny', reason: 'malformed approver output' }],
      [{ id: 'req_2', decision: 'approve', reuse: { ttl_seconds: 60, max_uses: 3 } }, { kind: 'deny', reason: 'wrong id' }],
    ])('%j → %j (a reuse there means the program misread the prompt)', (value, expected) => {
      expect(parseProgramAnswer(JSON.stringify(value), once)).toEqual(expected);
    });
  });

  it('checks the id before trusting an approval', () => {
    expect(parseProgramAnswer('{"id":"REQ_1","decision":"approve"}', prompt)).toEqual({ kind: 'deny', reason: 'wrong id' });
  });

  it('exposes the schema of a program answer', () => {
    expect(ProgramAnswerSchema.safeParse({ id: 'x', decision: 'deny' }).success).toBe(true);
    expect(ProgramAnswerSchema.safeParse({ id: 1, decision: 'deny' }).success).toBe(false);
  });
});
