// The prompt queue: one turn at a time, round-robin between callers (plain arrival order with
// one entry per caller), the per-caller caps, deadlines that expire only queued entries, waiting
// counts, abort, coalescing of identical requests, and shutdown. A fake clock and timer drive
// time; model-based properties check random interleavings.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { createPromptQueue, MAX_WAITING_KEYS_PER_CALLER, MAX_WAITING_PER_CALLER, type PromptQueueOptions, type QueueOutcome } from '../../../src/broker/queue.js';

/** Lets every settled promise run its handlers. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(start = 0, caps: Pick<PromptQueueOptions, 'maxKeysPerCaller' | 'maxPerCaller'> = {}) {
  let clock = start;
  const timers: Array<{ at: number; fn: () => void; cleared: boolean }> = [];
  const queue = createPromptQueue<string>({
    ...caps,
    now: () => clock,
    setTimer: (fn, ms) => {
      const timer = { at: clock + ms, fn, cleared: false };
      timers.push(timer);
      return { clear: () => void (timer.cleared = true) };
    },
  });
  const outcomes = new Map<string, QueueOutcome | { error: unknown }>();
  const enqueue = (id: string, opts: { key?: string; deadline?: number; signal?: AbortSignal; caller?: string } = {}) => {
    const entry = { id, key: opts.key ?? 'k', deadline: opts.deadline ?? clock + 60_000, item: `item-${id}`, ...(opts.caller === undefined ? {} : { caller: opts.caller }) };
    const promise = queue.enqueue(entry, opts.signal);
    promise.then(
      (outcome) => outcomes.set(id, outcome),
      (error: unknown) => outcomes.set(id, { error }),
    );
    return promise;
  };
  return {
    queue,
    outcomes,
    enqueue,
    /** Moves the clock and fires due timers, like real time passing. */
    tick(ms: number) {
      clock += ms;
      for (const timer of [...timers]) {
        if (!timer.cleared && timer.at <= clock) {
          timer.cleared = true;
          timer.fn();
        }
      }
    },
    /** Moves the clock without firing timers (a timer running late). */
    skew(ms: number) {
      clock += ms;
    },
    /** Fires every pending timer now, whatever the clock says (a timer running early). */
    fireAll() {
      for (const timer of [...timers]) {
        if (!timer.cleared) {
          timer.cleared = true;
          timer.fn();
        }
      }
    },
    pendingTimers: () => timers.filter((t) => !t.cleared).length,
    now: () => clock,
  };
}

const errorOf = (outcome: unknown) => (outcome as { error: unknown } | undefined)?.error;
const isTimeout = (outcome: unknown) => errorOf(outcome) instanceof AgentSecretError && (errorOf(outcome) as AgentSecretError).code === 'approval.timeout';

describe('createPromptQueue', () => {
  it('gives the first entry the turn at once and the others in arrival order, one at a time', async () => {
    const t = setup();
    t.enqueue('a');
    t.enqueue('b');
    t.enqueue('c');
    await flush();
    expect([...t.outcomes]).toEqual([['a', 'turn']]);
    expect(t.queue.activeId()).toBe('a');
    t.queue.done('a');
    await flush();
    expect(t.outcomes.get('b')).toBe('turn');
    expect(t.outcomes.has('c')).toBe(false);
    t.queue.done('b');
    await flush();
    expect(t.outcomes.get('c')).toBe('turn');
    t.queue.done('c');
    expect(t.queue.size()).toBe(0);
    expect(t.queue.activeId()).toBeNull();
  });

  it('gives callers turns round-robin, each caller its own entries in arrival order', async () => {
    const t = setup();
    for (const id of ['a1', 'a2', 'a3', 'a4']) t.enqueue(id, { caller: 'A', key: id });
    t.enqueue('b1', { caller: 'B' });
    t.enqueue('c1', { caller: 'C' });
    t.enqueue('b2', { caller: 'B' });
    const order: string[] = [];
    for (;;) {
      await flush();
      const active = t.queue.activeId();
      if (active === null) break;
      order.push(active);
      t.queue.done(active);
    }
    // Strict arrival order would have been a1 a2 a3 a4 b1 c1 b2: B and C behind all of A's.
    expect(order).toEqual(['a1', 'a2', 'b1', 'c1', 'a3', 'b2', 'a4']);
  });

  it('refuses, at once and without queueing, a caller over its caps; identical requests count once; other callers are not affected', async () => {
    const t = setup(0, { maxKeysPerCaller: 3, maxPerCaller: 5 });
    t.enqueue('active', { caller: 'X' });
    for (const n of [1, 2, 3]) t.enqueue(`a${n}`, { caller: 'A', key: `k${n}` });
    t.enqueue('a4', { caller: 'A', key: 'k4' });
    await flush();
    const refused = errorOf(t.outcomes.get('a4'));
    expect(refused).toBeInstanceOf(AgentSecretError);
    expect((refused as AgentSecretError).code).toBe('daemon.unavailable');
    expect((refused as AgentSecretError).message).toBe('this caller already has 3 different requests waiting for the approval prompt; this one was not queued and nothing ran');
    // The same request again joins: it would be answered by the same approval.
    t.enqueue('a1-again', { caller: 'A', key: 'k1' });
    t.enqueue('a1-again2', { caller: 'A', key: 'k1' });
    t.enqueue('a1-again3', { caller: 'A', key: 'k1' });
    await flush();
    expect(t.outcomes.has('a1-again')).toBe(false);
    expect(t.outcomes.has('a1-again2')).toBe(false);
    expect((errorOf(t.outcomes.get('a1-again3')) as AgentSecretError).message).toContain('already has 5 requests waiting');
    // Another caller queues as before.
    t.enqueue('b1', { caller: 'B', key: 'k4' });
    await flush();
    expect(t.outcomes.has('b1')).toBe(false);
    expect(t.queue.waiting()).toBe(6);
    // Once fewer different requests of A wait (k1 still waits twice), A may queue another one.
    t.queue.done('active');
    await flush();
    expect(t.queue.activeId()).toBe('a1');
    t.queue.done('a1');
    await flush();
    expect(t.queue.activeId()).toBe('b1');
    t.queue.done('b1');
    await flush();
    expect(t.queue.activeId()).toBe('a2');
    t.enqueue('a5', { caller: 'A', key: 'k5' });
    await flush();
    expect(t.outcomes.has('a5')).toBe(false);
  });

  it('has the documented default caps', () => {
    expect([MAX_WAITING_KEYS_PER_CALLER, MAX_WAITING_PER_CALLER]).toEqual([8, 32]);
  });

  it('ignores done() for an id that does not hold the turn', async () => {
    const t = setup();
    t.enqueue('a');
    t.enqueue('b');
    t.queue.done('b');
    t.queue.done('nobody');
    await flush();
    expect(t.queue.activeId()).toBe('a');
    expect(t.outcomes.has('b')).toBe(false);
    expect(t.queue.waiting()).toBe(1);
  });

  it('counts who waits', () => {
    const t = setup();
    t.enqueue('a');
    expect([t.queue.waiting(), t.queue.size(), t.queue.waitingFor('a')]).toEqual([0, 1, 0]);
    t.enqueue('b');
    t.enqueue('c');
    t.enqueue('d');
    expect(t.queue.waiting()).toBe(3);
    expect(t.queue.size()).toBe(4);
    expect(t.queue.waitingFor('a')).toBe(3); // the active prompt: everyone queued waits behind it
    expect(t.queue.waitingFor('c')).toBe(2); // a queued entry does not count itself
    expect(t.queue.waitingFor('unknown')).toBe(3);
    t.queue.done('a');
    expect(t.queue.waitingFor('b')).toBe(2);
  });

  it('times out an entry whose deadline passes while queued, without giving it the turn', async () => {
    const t = setup();
    t.enqueue('a', { deadline: 1000 });
    t.enqueue('b', { deadline: 500 });
    t.enqueue('c', { deadline: 5000 });
    t.tick(499);
    await flush();
    expect(t.outcomes.has('b')).toBe(false);
    t.tick(1);
    await flush();
    expect(isTimeout(t.outcomes.get('b'))).toBe(true);
    expect((errorOf(t.outcomes.get('b')) as AgentSecretError).exitCode).toBe(11);
    expect(t.queue.waiting()).toBe(1);
    // The active entry's deadline is the prompt's business: it keeps the turn.
    t.tick(1000);
    await flush();
    expect(t.outcomes.get('a')).toBe('turn');
    expect(t.queue.activeId()).toBe('a');
    t.queue.done('a');
    await flush();
    expect(t.outcomes.get('c')).toBe('turn');
  });

  it('never gives the turn to an entry past its deadline even when its timer has not fired', async () => {
    const t = setup();
    t.enqueue('a');
    t.enqueue('b', { deadline: 100 });
    t.enqueue('c', { deadline: 10_000 });
    t.skew(200);
    t.queue.done('a');
    await flush();
    expect(isTimeout(t.outcomes.get('b'))).toBe(true);
    expect(t.outcomes.get('c')).toBe('turn');
    expect(t.pendingTimers()).toBe(0);
  });

  it('re-arms a timer that fires before the deadline', async () => {
    const t = setup();
    t.enqueue('a');
    t.enqueue('b', { deadline: 1000 });
    t.fireAll();
    await flush();
    expect(t.outcomes.has('b')).toBe(false);
    expect(t.pendingTimers()).toBe(1);
    t.tick(1000);
    await flush();
    expect(isTimeout(t.outcomes.get('b'))).toBe(true);
  });

  it('rejects an entry whose deadline has already passed, without queueing it', async () => {
    const t = setup(5000);
    t.enqueue('late', { deadline: 5000 });
    await flush();
    expect(isTimeout(t.outcomes.get('late'))).toBe(true);
    expect(t.queue.size()).toBe(0);
  });

  it('removes an entry when its signal aborts while queued, with the abort reason', async () => {
    const t = setup();
    const controller = new AbortController();
    const reason = new Error('client went away');
    t.enqueue('a');
    t.enqueue('b', { signal: controller.signal });
    t.enqueue('c');
    controller.abort(reason);
    await flush();
    expect(errorOf(t.outcomes.get('b'))).toBe(reason);
    expect(t.queue.waiting()).toBe(1);
    expect(t.pendingTimers()).toBe(1);
    t.queue.done('a');
    await flush();
    expect(t.outcomes.get('c')).toBe('turn');
  });

  it('rejects at once with an already aborted signal', async () => {
    const t = setup();
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    t.enqueue('a', { signal: controller.signal });
    await flush();
    expect((errorOf(t.outcomes.get('a')) as Error).message).toBe('gone');
    expect(t.queue.size()).toBe(0);
  });

  it('leaves an entry that holds the turn alone when its signal aborts', async () => {
    const t = setup();
    const controller = new AbortController();
    t.enqueue('a');
    t.enqueue('b', { signal: controller.signal });
    t.queue.done('a');
    await flush();
    controller.abort(new Error('late'));
    await flush();
    expect(t.outcomes.get('b')).toBe('turn');
    expect(t.queue.activeId()).toBe('b');
  });

  it('refuses an id that is already queued or active', async () => {
    const t = setup();
    t.enqueue('a');
    t.enqueue('b');
    const again = t.queue.enqueue({ id: 'a', key: 'k', deadline: 60_000, item: 'x' });
    const againQueued = t.queue.enqueue({ id: 'b', key: 'k', deadline: 60_000, item: 'x' });
    await expect(again).rejects.toMatchObject({ code: 'internal' });
    await expect(againQueued).rejects.toMatchObject({ code: 'internal' });
    expect(t.queue.size()).toBe(2);
  });

  it('hands identical queued requests to a granted approval, oldest first, up to the limit', async () => {
    const t = setup();
    t.enqueue('a', { key: 'same' });
    t.enqueue('b', { key: 'same' });
    t.enqueue('x', { key: 'other' });
    t.enqueue('c', { key: 'same' });
    t.enqueue('d', { key: 'same' });
    const taken = t.queue.takeMatching('same', 2);
    expect(taken.map((e) => [e.id, e.item])).toEqual([
      ['b', 'item-b'],
      ['c', 'item-c'],
    ]);
    await flush();
    expect(t.outcomes.get('b')).toBe('coalesced');
    expect(t.outcomes.get('c')).toBe('coalesced');
    expect(t.outcomes.has('d')).toBe(false);
    expect(t.queue.activeId()).toBe('a'); // the active entry is never taken
    expect(t.queue.waiting()).toBe(2);
    expect(t.pendingTimers()).toBe(2);
    t.queue.done('a');
    await flush();
    expect(t.outcomes.get('x')).toBe('turn');
    t.queue.done('x');
    await flush();
    expect(t.outcomes.get('d')).toBe('turn');
  });

  it('counts the identical requests (same key, any caller) queued behind the one holding the turn', async () => {
    const t = setup();
    t.enqueue('a', { key: 'same', caller: 'one' });
    t.enqueue('b', { key: 'same', caller: 'two' });
    t.enqueue('x', { key: 'other', caller: 'one' });
    t.enqueue('c', { key: 'same', caller: 'one', deadline: 100 });
    t.enqueue('d', { key: 'same', caller: 'three' });
    expect(t.queue.identicalTo('a')).toEqual(['b', 'c', 'd']);
    // Only the entry at the prompt is asked about; a queued one or an unknown id has none.
    expect(t.queue.identicalTo('b')).toEqual([]);
    expect(t.queue.identicalTo('nope')).toEqual([]);
    t.skew(100); // c expired
    expect(t.queue.identicalTo('a')).toEqual(['b', 'd']);
    await flush();
    expect(isTimeout(t.outcomes.get('c'))).toBe(true);
  });

  it('answers at most the counted identical requests together with the one at the prompt, oldest first', async () => {
    const t = setup();
    t.enqueue('a', { key: 'same' });
    t.enqueue('b', { key: 'same' });
    t.enqueue('x', { key: 'other' });
    t.enqueue('c', { key: 'same' });
    const counted = t.queue.identicalTo('a');
    expect(counted).toEqual(['b', 'c']);
    t.enqueue('late', { key: 'same' }); // arrived after the prompt counted 2: keeps its own prompt
    // Nobody but the entry holding the turn can answer for others.
    expect(t.queue.takeIdentical('b', counted)).toEqual([]);
    expect(t.queue.takeIdentical('a', counted).map((e) => e.id)).toEqual(['b', 'c']);
    await flush();
    expect(t.outcomes.get('b')).toBe('coalesced');
    expect(t.outcomes.get('c')).toBe('coalesced');
    expect(t.queue.waiting()).toBe(2);
    t.queue.done('a');
    await flush();
    expect(t.outcomes.get('x')).toBe('turn');
    expect(t.queue.identicalTo('x')).toEqual([]);
    t.queue.done('x');
    await flush();
    expect(t.outcomes.get('late')).toBe('turn');
    // After done() the old holder answers for nobody.
    expect(t.queue.takeIdentical('a', ['late'])).toEqual([]);
  });

  it('a request that arrived after the prompt is not answered in the place of a counted one that left', async () => {
    const t = setup();
    t.enqueue('a', { key: 'same' });
    const gone = new AbortController();
    t.enqueue('b', { key: 'same', signal: gone.signal });
    t.enqueue('c', { key: 'same' });
    const counted = t.queue.identicalTo('a');
    expect(counted).toEqual(['b', 'c']);
    gone.abort(new Error('client left')); // b's caller went away while the prompt was up
    t.enqueue('late', { key: 'same' }); // and a new identical request arrived
    await flush();
    // "Allow all 2" covers c only: late was not counted, whatever the number says.
    expect(t.queue.takeIdentical('a', counted).map((e) => e.id)).toEqual(['c']);
    await flush();
    expect(t.outcomes.get('late')).toBeUndefined();
    expect(t.queue.waiting()).toBe(1);
  });

  it('property: identicalTo is the number of queued entries sharing the active key', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('k1', 'k2', 'k3'), { minLength: 1, maxLength: 20 }), (keys) => {
        const t = setup();
        keys.forEach((key, i) => void t.enqueue(`e${i}`, { key, caller: `c${i % 3}` }));
        const first = keys[0] as string;
        const count = keys.slice(1).filter((k) => k === first).length;
        const ids = t.queue.identicalTo('e0');
        expect(ids).toHaveLength(count);
        const taken = t.queue.takeIdentical('e0', ids);
        expect(taken.map((e) => e.id)).toEqual(ids);
        expect(taken.every((e) => e.key === first)).toBe(true);
        expect(t.queue.identicalTo('e0')).toEqual([]);
      }),
    );
  });

  it('does not hand over entries past their deadline, nor any with limit 0', async () => {
    const t = setup();
    t.enqueue('a', { key: 'same' });
    t.enqueue('b', { key: 'same', deadline: 100 });
    t.enqueue('c', { key: 'same' });
    expect(t.queue.takeMatching('same', 0)).toEqual([]);
    t.skew(100);
    expect(t.queue.takeMatching('same', 5).map((e) => e.id)).toEqual(['c']);
    await flush();
    expect(isTimeout(t.outcomes.get('b'))).toBe(true);
    expect(t.outcomes.get('c')).toBe('coalesced');
  });

  it('cancels every queued request at shutdown and keeps the active turn until done', async () => {
    const t = setup();
    const reason = new AgentSecretError('daemon.unavailable', 'stopping');
    t.enqueue('a');
    t.enqueue('b');
    t.enqueue('c');
    t.queue.cancelAll(reason);
    await flush();
    expect(errorOf(t.outcomes.get('b'))).toBe(reason);
    expect(errorOf(t.outcomes.get('c'))).toBe(reason);
    expect(t.pendingTimers()).toBe(0);
    expect(t.queue.activeId()).toBe('a');
    t.queue.done('a');
    expect(t.queue.size()).toBe(0);
  });

  it('expires queued entries with the real clock and timer by default', async () => {
    const queue = createPromptQueue<null>();
    const first = queue.enqueue({ id: 'a', key: 'k', deadline: Date.now() + 60_000, item: null });
    const second = queue.enqueue({ id: 'b', key: 'k', deadline: Date.now() + 20, item: null });
    await expect(first).resolves.toBe('turn');
    await expect(second).rejects.toMatchObject({ code: 'approval.timeout' });
    expect(queue.size()).toBe(1);
  });
});

// ---- Model-based property over random interleavings. ----

type Op =
  | { kind: 'enqueue'; key: number; ttl: number; signal: boolean }
  | { kind: 'done' }
  | { kind: 'doneOther'; pick: number }
  | { kind: 'abort'; pick: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'skew'; ms: number }
  | { kind: 'take'; key: number; limit: number }
  | { kind: 'count'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('enqueue' as const), key: fc.nat({ max: 2 }), ttl: fc.integer({ min: 0, max: 4000 }), signal: fc.boolean() }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'done' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('doneOther' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 1500 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('skew' as const), ms: fc.integer({ min: 0, max: 1500 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('take' as const), key: fc.nat({ max: 2 }), limit: fc.nat({ max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('count' as const), pick: fc.nat() }) },
);

describe('queue under random interleavings (property)', () => {
  it('turns are strictly FIFO and exclusive; deadlines expire only queued entries; counts and aborts are exact', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), async (ops) => {
        const t = setup();
        type Expect = 'turn' | 'coalesced' | 'timeout' | 'aborted';
        const expected = new Map<string, Expect>();
        const deadlines = new Map<string, number>();
        const keys = new Map<string, string>();
        const controllers = new Map<string, AbortController>();
        const turnOrder: number[] = [];
        const everActive = new Set<string>();
        let model: string[] = [];
        let active: string | null = null;
        let seq = 0;
        let holders = 0;
        const violations: string[] = [];

        const expireModel = () => {
          const due = model.filter((id) => t.now() >= deadlines.get(id)!);
          model = model.filter((id) => !due.includes(id));
          for (const id of due) expected.set(id, 'timeout');
        };
        const promoteModel = () => {
          expireModel();
          if (active !== null) return;
          const next = model.shift();
          if (next === undefined) return;
          active = next;
          expected.set(next, 'turn');
        };

        for (const op of ops) {
          switch (op.kind) {
            case 'enqueue': {
              const id = `r${seq++}`;
              const controller = op.signal ? new AbortController() : undefined;
              if (controller !== undefined) controllers.set(id, controller);
              deadlines.set(id, t.now() + op.ttl);
              keys.set(id, `key${op.key}`);
              const n = seq - 1;
              t.queue.enqueue({ id, key: `key${op.key}`, deadline: t.now() + op.ttl, item: id }, controller?.signal).then(
                (outcome) => {
                  t.outcomes.set(id, outcome);
                  if (outcome === 'turn') {
                    turnOrder.push(n);
                    everActive.add(id);
                    holders += 1;
                  }
                },
                (error: unknown) => {
                  t.outcomes.set(id, { error });
                  // A deadline expires only an entry that never held the turn, and only once it has passed.
                  if (isTimeout({ error }) && (everActive.has(id) || t.now() < deadlines.get(id)!)) violations.push(`${id} timed out wrongly`);
                },
              );
              expireModel();
              if (op.ttl === 0) expected.set(id, 'timeout');
              else if (active === null) {
                active = id;
                expected.set(id, 'turn');
              } else model.push(id);
              break;
            }
            case 'done': {
              if (active === null) break;
              await flush(); // the broker calls done() only after it got its turn
              if (t.outcomes.get(active) === 'turn') holders -= 1;
              t.queue.done(active);
              active = null;
              promoteModel();
              break;
            }
            case 'doneOther': {
              if (model.length === 0) break;
              t.queue.done(model[op.pick % model.length]!);
              break;
            }
            case 'abort': {
              const candidates = [...controllers.keys()].filter((id) => !controllers.get(id)!.signal.aborted);
              if (candidates.length === 0) break;
              const id = candidates[op.pick % candidates.length]!;
              controllers.get(id)!.abort(new Error(`abort ${id}`));
              if (model.includes(id)) {
                model = model.filter((m) => m !== id);
                expected.set(id, 'aborted');
              }
              break;
            }
            case 'tick':
              t.tick(op.ms);
              expireModel();
              break;
            case 'skew':
              t.skew(op.ms);
              break;
            case 'take': {
              const key = `key${op.key}`;
              expireModel();
              const want = model.filter((id) => keys.get(id) === key).slice(0, op.limit);
              model = model.filter((id) => !want.includes(id));
              for (const id of want) expected.set(id, 'coalesced');
              expect(t.queue.takeMatching(key, op.limit).map((e) => e.id)).toEqual(want);
              break;
            }
            case 'count': {
              expireModel();
              const ids = [...(active === null ? [] : [active]), ...model];
              const id = ids.length === 0 ? 'none' : ids[op.pick % ids.length]!;
              const others = model.filter((m) => m !== id).length;
              expect(t.queue.waitingFor(id)).toBe(others);
              expect(t.queue.waiting()).toBe(model.length);
              expect(t.queue.size()).toBe(model.length + (active === null ? 0 : 1));
              break;
            }
          }
          await flush();
          expect(t.queue.activeId()).toBe(active);
          expect(violations).toEqual([]);
          expect(holders).toBeLessThanOrEqual(1);
          expect(holders).toBe(active === null ? 0 : 1);
          for (const [id, want] of expected) {
            const got = t.outcomes.get(id);
            if (want === 'turn' || want === 'coalesced') expect(got).toBe(want);
            else if (want === 'timeout') expect(isTimeout(got)).toBe(true);
            else expect((errorOf(got) as Error | undefined)?.message).toBe(`abort ${id}`);
          }
          // Nothing settles that the model does not expect.
          for (const id of t.outcomes.keys()) expect(expected.has(id)).toBe(true);
        }
        // Strict FIFO: turns were handed out in enqueue order.
        expect(turnOrder).toEqual([...turnOrder].sort((a, b) => a - b));
      }),
      { numRuns: 400 },
    );
  });
});

// ---- Callers: round-robin turns and per-caller caps, against a model. ----

type CallerOp =
  | { kind: 'enqueue'; caller: number; key: number; ttl: number; signal: boolean }
  | { kind: 'done' }
  | { kind: 'abort'; pick: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'take'; key: number; limit: number };

const callerOpArb: fc.Arbitrary<CallerOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('enqueue' as const), caller: fc.nat({ max: 2 }), key: fc.nat({ max: 3 }), ttl: fc.integer({ min: 1, max: 4000 }), signal: fc.boolean() }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'done' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 1500 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('take' as const), key: fc.nat({ max: 3 }), limit: fc.nat({ max: 3 }) }) },
);

describe('queue with callers under random interleavings (property)', () => {
  it('turns go round-robin between callers and in arrival order within one; caps refuse exactly what the model refuses', async () => {
    const maxKeys = 2;
    const maxPer = 3;
    await fc.assert(
      fc.asyncProperty(fc.array(callerOpArb, { minLength: 1, maxLength: 60 }), async (ops) => {
        const t = setup(0, { maxKeysPerCaller: maxKeys, maxPerCaller: maxPer });
        type Entry = { id: string; caller: string; key: string; deadline: number };
        let model: Entry[] = [];
        let ring: string[] = [];
        let active: string | null = null;
        const expected = new Map<string, 'turn' | 'coalesced' | 'timeout' | 'aborted' | 'refused'>();
        const controllers = new Map<string, AbortController>();
        let seq = 0;
        const drop = (ids: string[]) => {
          model = model.filter((e) => !ids.includes(e.id));
          ring = ring.filter((c) => model.some((e) => e.caller === c));
        };
        const expire = () => {
          const due = model.filter((e) => t.now() >= e.deadline).map((e) => e.id);
          for (const id of due) expected.set(id, 'timeout');
          drop(due);
        };
        const promote = () => {
          expire();
          if (active !== null) return;
          while (ring.length > 0) {
            const caller = ring.shift()!;
            const next = model.find((e) => e.caller === caller);
            if (next === undefined) continue;
            model = model.filter((e) => e !== next);
            if (model.some((e) => e.caller === caller)) ring.push(caller);
            active = next.id;
            expected.set(next.id, 'turn');
            return;
          }
        };
        for (const op of ops) {
          switch (op.kind) {
            case 'enqueue': {
              const id = `r${seq++}`;
              const entry = { id, caller: `c${op.caller}`, key: `k${op.key}`, deadline: t.now() + op.ttl };
              const controller = op.signal ? new AbortController() : undefined;
              if (controller !== undefined) controllers.set(id, controller);
              t.enqueue(id, { caller: entry.caller, key: entry.key, deadline: entry.deadline, ...(controller === undefined ? {} : { signal: controller.signal }) });
              expire();
              if (active === null && model.length === 0) {
                active = id;
                expected.set(id, 'turn');
                break;
              }
              const mine = model.filter((e) => e.caller === entry.caller);
              const keys = new Set(mine.map((e) => e.key));
              if (mine.length >= maxPer || (!keys.has(entry.key) && keys.size >= maxKeys)) {
                expected.set(id, 'refused');
                break;
              }
              model.push(entry);
              if (!ring.includes(entry.caller)) ring.push(entry.caller);
              break;
            }
            case 'done':
              if (active === null) break;
              await flush();
              t.queue.done(active);
              active = null;
              promote();
              break;
            case 'abort': {
              const live = [...controllers.entries()].filter(([, c]) => !c.signal.aborted);
              if (live.length === 0) break;
              const [id, controller] = live[op.pick % live.length]!;
              controller.abort(new Error(`abort ${id}`));
              if (model.some((e) => e.id === id)) {
                expected.set(id, 'aborted');
                drop([id]);
              }
              break;
            }
            case 'tick':
              t.tick(op.ms);
              expire();
              break;
            case 'take': {
              expire();
              const want = model.filter((e) => e.key === `k${op.key}`).slice(0, op.limit).map((e) => e.id);
              for (const id of want) expected.set(id, 'coalesced');
              drop(want);
              expect(t.queue.takeMatching(`k${op.key}`, op.limit).map((e) => e.id)).toEqual(want);
              break;
            }
          }
          await flush();
          expect(t.queue.activeId()).toBe(active);
          expect(t.queue.waiting()).toBe(model.length);
          for (const [id, want] of expected) {
            const got = t.outcomes.get(id);
            if (want === 'turn' || want === 'coalesced') expect(got).toBe(want);
            else if (want === 'timeout') expect(isTimeout(got)).toBe(true);
            else if (want === 'refused') expect((errorOf(got) as AgentSecretError | undefined)?.code).toBe('daemon.unavailable');
            else expect((errorOf(got) as Error | undefined)?.message).toBe(`abort ${id}`);
          }
          for (const id of t.outcomes.keys()) expect(expected.has(id)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });
});
