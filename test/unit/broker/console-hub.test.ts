// The approval console hub: one console at a time, the prompt sent to the attached console (and
// again to a console that attaches later), answers checked like an approver program's, the
// caller told once while no console is attached, late answers stale, deadlines and aborts.
import { describe, expect, it } from 'vitest';
import { MALFORMED_CONSOLE_ANSWER, parseConsoleAnswer } from '../../../src/approval/console.js';
import { createConsoleHub, type ConsoleLink } from '../../../src/broker/console-hub.js';
import { samplePrompt } from '../approval/sample-prompt.js';

function link(pid = 100): ConsoleLink & { sent: Array<{ type: string; body: Record<string, unknown> }> } {
  const sent: Array<{ type: string; body: Record<string, unknown> }> = [];
  return { pid, sent, send: async (type, body) => void sent.push({ type, body }) };
}
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('console hub', () => {
  it('attaches one console at a time', () => {
    const hub = createConsoleHub();
    const a = link(1);
    const b = link(2);
    expect(hub.attach(a)).toBe(true);
    expect(hub.attach(b)).toBe(false);
    expect(hub.attached()).toBe(a);
    hub.detach(b);
    expect(hub.attached()).toBe(a);
    hub.detach(a);
    expect(hub.attach(b)).toBe(true);
  });

  it('waits for a console (telling the caller once), shows the prompt, and takes its answer', async () => {
    const hub = createConsoleHub();
    const prompt = samplePrompt({}, { id: 'req_1' });
    const told: string[] = [];
    const asked = hub.ask(prompt, { deadline: Date.now() + 5_000, onWaiting: (m) => told.push(m) });
    await tick();
    expect(told).toEqual([expect.stringContaining('agent-secret approve')]);
    const first = link(1);
    hub.attach(first);
    await tick();
    expect(first.sent.map((s) => s.type)).toEqual(['console.prompt']);
    // The console leaves without answering: the prompt waits for the next one, the caller is not told again.
    hub.detach(first);
    const second = link(2);
    hub.attach(second);
    await tick();
    expect(second.sent.map((s) => s.type)).toEqual(['console.prompt']);
    expect(told).toHaveLength(1);
    // Only the console that was shown the prompt answers it.
    expect(hub.answer(first, { id: 'req_1', decision: 'approve' })).toEqual({ id: 'req_1', outcome: 'stale' });
    expect(hub.answer(second, { id: 'req_1', decision: 'approve', reuse: { ttl_seconds: 60, max_uses: 3 } })).toEqual({ id: 'req_1', outcome: 'approved' });
    await expect(asked).resolves.toEqual({ kind: 'approve', reuse: { ttlSeconds: 60, maxUses: 3 } });
  });

  it('a malformed answer is a failure of the approver, never a decision', async () => {
    const hub = createConsoleHub();
    const console_ = link();
    hub.attach(console_);
    const asked = hub.ask(samplePrompt({}, { id: 'req_2' }), { deadline: Date.now() + 5_000 });
    await tick();
    const outcome = hub.answer(console_, { id: 'req_2', decision: 'approve', reuse: { ttl_seconds: 99_999, max_uses: 3 } });
    expect(outcome).toMatchObject({ id: 'req_2', outcome: 'failed' });
    await expect(asked).resolves.toEqual({ kind: 'failed', reason: `${MALFORMED_CONSOLE_ANSWER}: reuse.ttl_seconds is longer than the request's ttl_seconds` });
  });

  it('withdraws the prompt at the deadline; a late answer to it is stale, not a bad answer to the next', async () => {
    const hub = createConsoleHub();
    const console_ = link();
    hub.attach(console_);
    await expect(hub.ask(samplePrompt({}, { id: 'req_3' }), { deadline: Date.now() + 30 })).resolves.toBeNull();
    expect(console_.sent.map((s) => [s.type, s.body.id ?? null])).toEqual([
      ['console.prompt', null],
      ['console.withdrawn', 'req_3'],
    ]);
    const next = hub.ask(samplePrompt({}, { id: 'req_4' }), { deadline: Date.now() + 5_000 });
    await tick();
    expect(hub.answer(console_, { id: 'req_3', decision: 'approve' })).toEqual({ id: 'req_3', outcome: 'stale' });
    expect(hub.answer(console_, { id: 'req_4', decision: 'deny' })).toEqual({ id: 'req_4', outcome: 'denied' });
    await expect(next).resolves.toEqual({ kind: 'deny', reason: 'denied by user' });
  });

  it('an abort withdraws the prompt as cancelled', async () => {
    const hub = createConsoleHub();
    const console_ = link();
    hub.attach(console_);
    const controller = new AbortController();
    const asked = hub.ask(samplePrompt({}, { id: 'req_5' }), { deadline: Date.now() + 5_000, signal: controller.signal });
    await tick();
    controller.abort();
    await expect(asked).resolves.toBeNull();
    expect(console_.sent.at(-1)).toEqual({ type: 'console.withdrawn', body: { id: 'req_5', why: 'cancelled' } });
  });
});

describe('parseConsoleAnswer', () => {
  const prompt = { id: 'req_9', ttl_seconds: 120, allows_reusable: true };
  it.each([
    [{ id: 'req_9', decision: 'approve' }, { kind: 'approve' }],
    [{ id: 'req_9', decision: 'deny' }, { kind: 'deny', reason: 'denied by user' }],
    [{ id: 'req_8', decision: 'approve' }, { kind: 'failed', reason: `${MALFORMED_CONSOLE_ANSWER}: id is not the id of this request` }],
    [{ id: 'req_9', decision: 'yes' }, { kind: 'failed', reason: `${MALFORMED_CONSOLE_ANSWER}: decision is not one of the allowed values` }],
    [{ id: 'req_9', decision: 'approve', extra: 1 }, { kind: 'failed', reason: `${MALFORMED_CONSOLE_ANSWER}: an unknown key` }],
    [{ id: 'req_9', decision: 'deny', reuse: { ttl_seconds: 60, max_uses: 3 } }, { kind: 'failed', reason: `${MALFORMED_CONSOLE_ANSWER}: reuse on a deny` }],
    [{ id: 'req_9', decision: 'approve', reuse: { ttl_seconds: 60, max_uses: 21 } }, { kind: 'failed', reason: `${MALFORMED_CONSOLE_ANSWER}: reuse.max_uses is out of bounds` }],
  ])('%j', (body, expected) => {
    expect(parseConsoleAnswer(body, prompt)).toEqual(expected);
  });
});
