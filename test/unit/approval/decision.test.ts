import fc from 'fast-check';
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
    [{ id: 'req_2', decision: 'approve' }, { kind: 'failed', reason: 'the approver program answered something malformed: id is not the id of this request' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 121, max_uses: 1 } }, { kind: 'failed', reason: 'the approver program answered something malformed: reuse.ttl_seconds is longer than the request\'s ttl_seconds' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 0, max_uses: 1 } }, { kind: 'failed', reason: 'the approver program answered something malformed: reuse.ttl_seconds is out of bounds' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 10, max_uses: 21 } }, { kind: 'failed', reason: 'the approver program answered something malformed: reuse.max_uses is out of bounds' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 10, max_uses: 0 } }, { kind: 'failed', reason: 'the approver program answered something malformed: reuse.max_uses is out of bounds' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 10.5, max_uses: 1 } }, { kind: 'failed', reason: 'the approver program answered something malformed: reuse.ttl_seconds is missing or of the wrong type' }],
    [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 10 } }, { kind: 'failed', reason: 'the approver program answered something malformed: reuse.max_uses is missing or of the wrong type' }],
    [{ id: 'req_1', decision: 'deny', reuse: { ttl_seconds: 10, max_uses: 1 } }, { kind: 'failed', reason: 'the approver program answered something malformed: reuse on a deny' }],
    [{ id: 'req_1', decision: 'APPROVE' }, { kind: 'failed', reason: 'the approver program answered something malformed: decision is not one of the allowed values' }],
    [{ id: 'req_1', decision: 'approve', CANARY_KEY: true }, { kind: 'failed', reason: 'the approver program answered something malformed: an unknown key' }],
    [{ decision: 'approve' }, { kind: 'failed', reason: 'the approver program answered something malformed: id is missing or of the wrong type' }],
    [['approve'], { kind: 'failed', reason: 'the approver program answered something malformed: not a JSON object' }],
    [null, { kind: 'failed', reason: 'the approver program answered something malformed: not a JSON object' }],
    ['approve', { kind: 'failed', reason: 'the approver program answered something malformed: not a JSON object' }],
  ])('%j → %j', (value, expected) => {
    expect(answer(value)).toEqual(expected);
  });

  it.each(['yes', '{"id":"req_1","decision":"approve"} trailing', '{"id":"req_1","decision":"approve"}\n{"id":"req_1","decision":"approve"}'])(
    'fails (not denies) on unparseable output %j',
    (stdout) => {
      expect(parseProgramAnswer(stdout, prompt)).toEqual({ kind: 'failed', reason: 'the approver program answered something malformed: not one JSON object' });
    },
  );

  it('fails on no output at all', () => {
    expect(parseProgramAnswer('', prompt)).toEqual({ kind: 'failed', reason: 'the approver program answered something malformed: no output' });
  });

  it('never quotes what the program wrote in a reason', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const decision = parseProgramAnswer(JSON.stringify({ id: 'req_1', decision: 'approve', ...(typeof value === 'object' && value !== null && !Array.isArray(value) ? value : { reuse: value }) }), prompt);
        if (decision.kind === 'failed') expect(decision.reason).toMatch(/^the approver program answered something malformed: [a-z_. '"]+$/);
      }),
    );
  });

  describe('for a prompt that allows no reuse (item_describe, session_create)', () => {
    const once = { id: 'req_1', ttl_seconds: 120, allows_reusable: false };
    it.each([
      [{ id: 'req_1', decision: 'approve' }, { kind: 'approve' }],
      [{ id: 'req_1', decision: 'deny' }, { kind: 'deny', reason: 'denied by user' }],
      [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 60, max_uses: 3 } }, { kind: 'failed', reason: 'the approver program answered something malformed: reuse on a request with allows_reusable false' }],
      [{ id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 1, max_uses: 1 } }, { kind: 'failed', reason: 'the approver program answered something malformed: reuse on a request with allows_reusable false' }],
      [{ id: 'req_1', decision: 'deny', reuse: { ttl_seconds: 60, max_uses: 3 } }, { kind: 'failed', reason: 'the approver program answered something malformed: reuse on a deny' }],
      [{ id: 'req_2', decision: 'approve', reuse: { ttl_seconds: 60, max_uses: 3 } }, { kind: 'failed', reason: 'the approver program answered something malformed: id is not the id of this request' }],
    ])('%j → %j (a reuse there means the program misread the prompt)', (value, expected) => {
      expect(parseProgramAnswer(JSON.stringify(value), once)).toEqual(expected);
    });
  });

  it('checks the id before trusting an approval', () => {
    expect(parseProgramAnswer('{"id":"REQ_1","decision":"approve"}', prompt)).toEqual({ kind: 'failed', reason: 'the approver program answered something malformed: id is not the id of this request' });
  });

  it('exposes the schema of a program answer', () => {
    expect(ProgramAnswerSchema.safeParse({ id: 'x', decision: 'deny' }).success).toBe(true);
    expect(ProgramAnswerSchema.safeParse({ id: 1, decision: 'deny' }).success).toBe(false);
  });
});

describe('parseProgramAnswer with scope all (answer the identical requests waiting too)', () => {
  const waiting = { id: 'req_1', ttl_seconds: 120, allows_reusable: true, identical_waiting: 3 };
  const none = { id: 'req_1', ttl_seconds: 120, allows_reusable: true, identical_waiting: 0 };
  const malformed = (check: string) => ({ kind: 'failed', reason: `the approver program answered something malformed: ${check}` });
  it.each([
    [waiting, { id: 'req_1', decision: 'approve', scope: 'all' }, { kind: 'approve', scope: 'all' }],
    [waiting, { id: 'req_1', decision: 'deny', scope: 'all' }, { kind: 'deny', reason: 'denied by user', scope: 'all' }],
    [waiting, { id: 'req_1', decision: 'approve' }, { kind: 'approve' }],
    [waiting, { id: 'req_1', decision: 'deny' }, { kind: 'deny', reason: 'denied by user' }],
    [waiting, { id: 'req_1', decision: 'approve', scope: 'all', reuse: { ttl_seconds: 60, max_uses: 3 } }, malformed('reuse with scope all')],
    [waiting, { id: 'req_1', decision: 'approve', scope: 'ALL' }, malformed('scope is not one of the allowed values')],
    [waiting, { id: 'req_2', decision: 'deny', scope: 'all' }, malformed('id is not the id of this request')],
    [none, { id: 'req_1', decision: 'approve', scope: 'all' }, malformed('scope all on a request with no identical_waiting')],
    [none, { id: 'req_1', decision: 'deny', scope: 'all' }, malformed('scope all on a request with no identical_waiting')],
    // A prompt without the field (an older broker) has nobody waiting.
    [{ id: 'req_1', ttl_seconds: 120, allows_reusable: true }, { id: 'req_1', decision: 'approve', scope: 'all' }, malformed('scope all on a request with no identical_waiting')],
  ])('%j: %j → %j', (p, value, expected) => {
    expect(parseProgramAnswer(JSON.stringify(value), p)).toEqual(expected);
  });
});
