// The reusable approval store: bounds, reserve/commit/release accounting, expiry counted from
// approval, values handed to onDrop exactly once, and a model-based property over random
// interleavings of reservations, commits, releases, revokes, refreshes and time steps.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { clampReuse, createApprovalStore, REUSE_BOUNDS, type ApprovalSummary, type Reservation } from '../../../src/broker/approvals.js';

const SUMMARY: ApprovalSummary = { reason: 'deploy', command: ['terraform', 'apply'], cwd: '/work', aliases: ['TF_TOKEN'], secrets: [{ alias: 'TF_TOKEN', ref: 'op://Infra/Terraform/token', provider: 'op', account: null }], profile: 'deploy' };

/** A stand-in for the broker's Map<alias, SecretValue>. */
interface Values {
  readonly token: string;
}

function setup(options: { start?: number; timers?: boolean } = {}) {
  let clock = options.start ?? 1_000_000;
  const dropped: Values[] = [];
  const timers: Array<{ at: number; fn: () => void; cleared: boolean }> = [];
  let counter = 0;
  const store = createApprovalStore<Values>({
    now: () => clock,
    onDrop: (values) => dropped.push(values),
    randomId: () => `appr_${(counter++).toString(16).padStart(16, '0')}`,
    ...(options.timers === true
      ? {
          setTimer: (fn: () => void, ms: number) => {
            const timer = { at: clock + ms, fn, cleared: false };
            timers.push(timer);
            return { clear: () => void (timer.cleared = true) };
          },
        }
      : {}),
  });
  return {
    store,
    dropped,
    advance(ms: number) {
      clock += ms;
      for (const timer of [...timers]) {
        if (!timer.cleared && timer.at <= clock) {
          timer.cleared = true;
          timer.fn();
        }
      }
    },
    pendingTimers: () => timers.filter((t) => !t.cleared).length,
    now: () => clock,
  };
}

const create = (store: ReturnType<typeof setup>['store'], over: { key?: string; ttlSeconds?: number; maxUses?: number; token?: string; approvedAt?: number } = {}) =>
  store.create({
    key: over.key ?? 'reuse-v1:k',
    ttlSeconds: over.ttlSeconds ?? 60,
    maxUses: over.maxUses ?? 3,
    summary: SUMMARY,
    values: { token: over.token ?? 'v1' },
    ...(over.approvedAt === undefined ? {} : { approvedAt: over.approvedAt }),
  });

describe('clampReuse', () => {
  const cases: Array<[string, { ttlSeconds: number; maxUses: number }, number, { ttlSeconds: number; maxUses: number } | null]> = [
    ['within bounds', { ttlSeconds: 60, maxUses: 5 }, 120, { ttlSeconds: 60, maxUses: 5 }],
    ['ttl equal to the request ttl', { ttlSeconds: 120, maxUses: 1 }, 120, { ttlSeconds: 120, maxUses: 1 }],
    ['ttl above the request ttl is clamped', { ttlSeconds: 600, maxUses: 3 }, 120, { ttlSeconds: 120, maxUses: 3 }],
    ['uses above 20 are clamped', { ttlSeconds: 60, maxUses: 100 }, 120, { ttlSeconds: 60, maxUses: REUSE_BOUNDS.maxUses }],
    ['minimum ttl', { ttlSeconds: 1, maxUses: 20 }, 10, { ttlSeconds: 1, maxUses: 20 }],
    ['ttl 0', { ttlSeconds: 0, maxUses: 3 }, 120, null],
    ['negative ttl', { ttlSeconds: -5, maxUses: 3 }, 120, null],
    ['fractional ttl', { ttlSeconds: 1.5, maxUses: 3 }, 120, null],
    ['NaN ttl', { ttlSeconds: Number.NaN, maxUses: 3 }, 120, null],
    ['infinite ttl', { ttlSeconds: Number.POSITIVE_INFINITY, maxUses: 3 }, 120, null],
    ['uses 0', { ttlSeconds: 60, maxUses: 0 }, 120, null],
    ['negative uses', { ttlSeconds: 60, maxUses: -1 }, 120, null],
    ['fractional uses', { ttlSeconds: 60, maxUses: 2.5 }, 120, null],
    ['an invalid request ttl', { ttlSeconds: 60, maxUses: 3 }, 0, null],
  ];
  it.each(cases)('%s', (_name, reuse, requestTtl, expected) => {
    expect(clampReuse(reuse, requestTtl)).toEqual(expected);
  });
});

describe('createApprovalStore', () => {
  it('creates an approval with the first delivery reserved and a default id of the documented shape', () => {
    let now = 5000;
    const store = createApprovalStore<Values>({ now: () => now, onDrop: () => undefined });
    const { approval, reservation } = store.create({ key: 'k', ttlSeconds: 30, maxUses: 2, summary: SUMMARY, values: { token: 'v' } });
    expect(approval.id).toMatch(/^appr_[0-9a-f]{16}$/);
    expect(reservation.approvalId).toBe(approval.id);
    expect(approval).toMatchObject({ key: 'k', createdAt: 5000, expiresAt: 35_000, maxUses: 2, used: 0, reserved: 1 });
    expect(reservation.live()).toBe(true);
    now = 35_000;
    expect(reservation.live()).toBe(false);
  });

  it('counts the ttl from approvedAt when given', () => {
    const t = setup({ start: 10_000 });
    const { approval } = create(t.store, { ttlSeconds: 5, approvedAt: 8000 });
    expect(approval.expiresAt).toBe(13_000);
  });

  it('refuses bounds that were not applied', () => {
    const t = setup();
    for (const over of [{ ttlSeconds: 0 }, { maxUses: 0 }, { maxUses: 21 }, { ttlSeconds: 1.5 }]) {
      expect(() => create(t.store, over)).toThrow(AgentSecretError);
    }
    expect(t.store.size()).toBe(0);
  });

  it('spends every use exactly once: the first delivery counts', () => {
    const t = setup();
    const first = create(t.store, { maxUses: 3 });
    first.reservation.commit();
    const second = t.store.reserve('reuse-v1:k');
    expect(second?.approval.id).toBe(first.approval.id);
    second?.reservation.commit();
    const third = t.store.reserve('reuse-v1:k');
    expect(third).not.toBeNull();
    expect(t.store.reserve('reuse-v1:k')).toBeNull(); // in-flight reservation holds the last use
    expect(t.dropped).toEqual([]);
    third?.reservation.commit();
    expect(t.dropped).toEqual([{ token: 'v1' }]); // exhausted: dropped at the last commit
    expect(t.store.size()).toBe(0);
    expect(t.store.reserve('reuse-v1:k')).toBeNull();
  });

  it('gives a released use back', () => {
    const t = setup();
    const first = create(t.store, { maxUses: 2 });
    const second = t.store.reserve('reuse-v1:k');
    expect(t.store.reserve('reuse-v1:k')).toBeNull();
    second?.reservation.release();
    const again = t.store.reserve('reuse-v1:k');
    expect(again).not.toBeNull();
    first.reservation.release();
    again?.reservation.release();
    expect(t.store.list()[0]).toMatchObject({ used: 0, reserved: 0 });
    expect(t.dropped).toEqual([]);
  });

  it('makes commit and release idempotent, the first call winning', () => {
    const t = setup();
    const { approval, reservation } = create(t.store, { maxUses: 5 });
    reservation.commit();
    reservation.commit();
    reservation.release();
    expect(approval).toMatchObject({ used: 1, reserved: 0 });
    expect(reservation.live()).toBe(false);
    const next = t.store.reserve('reuse-v1:k');
    next?.reservation.release();
    next?.reservation.commit();
    next?.reservation.release();
    expect(approval).toMatchObject({ used: 1, reserved: 0 });
  });

  it('returns null for an unknown key', () => {
    const t = setup();
    create(t.store);
    expect(t.store.reserve('reuse-v1:other')).toBeNull();
  });

  it('drops an expired approval on lookup, once, and refuses it from the expiry instant on', () => {
    const t = setup();
    const { reservation } = create(t.store, { ttlSeconds: 10, maxUses: 5 });
    reservation.commit();
    t.advance(9_999);
    t.store.reserve('reuse-v1:k')?.reservation.release();
    expect(t.dropped).toHaveLength(0);
    t.advance(1);
    expect(t.store.reserve('reuse-v1:k')).toBeNull();
    expect(t.dropped).toEqual([{ token: 'v1' }]);
    t.store.sweep();
    t.store.list();
    t.store.revokeAll();
    expect(t.dropped).toHaveLength(1);
  });

  it('drops expired approvals on sweep, list, size and nextExpiry', () => {
    for (const call of ['sweep', 'list', 'size', 'nextExpiry'] as const) {
      const t = setup();
      create(t.store, { ttlSeconds: 1, key: 'a', token: 'a' });
      create(t.store, { ttlSeconds: 5, key: 'b', token: 'b' });
      t.advance(1000);
      t.store[call]();
      expect(t.dropped, call).toEqual([{ token: 'a' }]);
    }
  });

  it('treats a revoked or expired approval as gone for an in-flight reservation, and drops values only once', () => {
    const t = setup();
    const { approval, reservation } = create(t.store, { maxUses: 3 });
    const other = t.store.reserve('reuse-v1:k');
    expect(t.store.revoke(approval.id)).toBe(true);
    expect(t.dropped).toEqual([{ token: 'v1' }]);
    expect(reservation.live()).toBe(false);
    expect(other?.reservation.live()).toBe(false);
    reservation.commit();
    other?.reservation.release();
    expect(t.dropped).toHaveLength(1);
    expect(t.store.revoke(approval.id)).toBe(false);
    expect(t.store.reserve('reuse-v1:k')).toBeNull();
  });

  it('revokes all live approvals and counts them', () => {
    const t = setup();
    create(t.store, { key: 'a', token: 'a' });
    create(t.store, { key: 'b', token: 'b', ttlSeconds: 1 });
    create(t.store, { key: 'c', token: 'c' });
    t.advance(1000); // b expires: dropped, but not counted as revoked
    expect(t.store.revokeAll()).toBe(2);
    expect(t.dropped.map((v) => v.token).sort()).toEqual(['a', 'b', 'c']);
    expect(t.store.size()).toBe(0);
    expect(t.store.revokeAll()).toBe(0);
  });

  it('does not revoke an unknown id', () => {
    const t = setup();
    create(t.store);
    expect(t.store.revoke('appr_ffffffffffffffff')).toBe(false);
    expect(t.dropped).toEqual([]);
  });

  it('replaces the values on refresh and drops the old set', () => {
    const t = setup();
    const { approval } = create(t.store);
    t.store.replaceValues(approval.id, { token: 'v2' });
    expect(approval.values).toEqual({ token: 'v2' });
    expect(t.store.reserve('reuse-v1:k')?.approval.values).toEqual({ token: 'v2' });
    expect(t.dropped).toEqual([{ token: 'v1' }]);
    t.store.revoke(approval.id);
    expect(t.dropped).toEqual([{ token: 'v1' }, { token: 'v2' }]);
  });

  it('drops refreshed values at once when the approval is already gone', () => {
    const t = setup();
    const { approval } = create(t.store);
    t.store.revoke(approval.id);
    t.store.replaceValues(approval.id, { token: 'late' });
    expect(t.dropped).toEqual([{ token: 'v1' }, { token: 'late' }]);
    expect(t.store.size()).toBe(0);
  });

  it('lists live approvals oldest first, without values', () => {
    const t = setup();
    create(t.store, { key: 'a', token: 'CANARY-one', maxUses: 4 });
    t.advance(10);
    const second = create(t.store, { key: 'b', token: 'CANARY-two' });
    second.reservation.commit();
    const list = t.store.list();
    expect(list.map((a) => a.summary)).toEqual([SUMMARY, SUMMARY]);
    expect(list[0]).toMatchObject({ maxUses: 4, used: 0, reserved: 1 });
    expect(list[1]).toMatchObject({ maxUses: 3, used: 1, reserved: 0, createdAt: t.now() });
    expect(JSON.stringify(list)).not.toContain('CANARY');
    expect(Object.keys(list[0]!)).not.toContain('values');
    expect(Object.keys(list[0]!)).not.toContain('key');
  });

  it('keeps its own copy of the summary', () => {
    const t = setup();
    const summary = { ...SUMMARY, command: ['a'], aliases: ['X'] };
    create(t.store, {});
    t.store.create({ key: 'z', ttlSeconds: 5, maxUses: 2, summary, values: { token: 'z' } });
    summary.command.push('b');
    const listed = t.store.list()[1]!;
    expect(listed.summary.command).toEqual(['a']);
    listed.summary.aliases.push('Y');
    expect(t.store.list()[1]!.summary.aliases).toEqual(['X']);
  });

  it('serves a second approval with the same key when the first is fully reserved', () => {
    const t = setup();
    const first = create(t.store, { maxUses: 1, token: 'one' });
    const second = create(t.store, { maxUses: 2, token: 'two' });
    const next = t.store.reserve('reuse-v1:k');
    expect(next?.approval.id).toBe(second.approval.id);
    first.reservation.commit();
    expect(t.dropped).toEqual([{ token: 'one' }]);
  });

  it('reports the earliest live expiry', () => {
    const t = setup({ start: 0 });
    expect(t.store.nextExpiry()).toBeNull();
    create(t.store, { key: 'a', ttlSeconds: 30 });
    create(t.store, { key: 'b', ttlSeconds: 10 });
    expect(t.store.nextExpiry()).toBe(10_000);
    t.advance(10_000);
    expect(t.store.nextExpiry()).toBe(30_000);
  });

  it('clears values at expiry by itself when given a timer', () => {
    const t = setup({ start: 0, timers: true });
    create(t.store, { key: 'a', ttlSeconds: 30, token: 'a' });
    create(t.store, { key: 'b', ttlSeconds: 10, token: 'b' });
    expect(t.pendingTimers()).toBe(1);
    t.advance(9_999);
    expect(t.dropped).toEqual([]);
    t.advance(1);
    expect(t.dropped).toEqual([{ token: 'b' }]);
    expect(t.pendingTimers()).toBe(1);
    t.advance(20_000);
    expect(t.dropped).toEqual([{ token: 'b' }, { token: 'a' }]);
    expect(t.pendingTimers()).toBe(0);
  });

  it('stops its timer when the last approval is revoked', () => {
    const t = setup({ start: 0, timers: true });
    const { approval } = create(t.store);
    expect(t.pendingTimers()).toBe(1);
    t.store.revoke(approval.id);
    expect(t.pendingTimers()).toBe(0);
  });
});

// ---- Model-based property: any interleaving keeps the accounting right. ----

type Op =
  | { kind: 'create'; key: number; ttl: number; uses: number }
  | { kind: 'reserve'; key: number }
  | { kind: 'commit'; pick: number }
  | { kind: 'release'; pick: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'revoke'; pick: number }
  | { kind: 'refresh'; pick: number }
  | { kind: 'sweep' }
  | { kind: 'list' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('create' as const), key: fc.nat({ max: 1 }), ttl: fc.integer({ min: 1, max: 5 }), uses: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('reserve' as const), key: fc.nat({ max: 1 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('commit' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 2500 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('refresh' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'list' as const }) },
);

interface ModelApproval {
  id: string;
  key: string;
  expiresAt: number;
  maxUses: number;
  used: number;
  reserved: number;
  gone: boolean;
  commits: number;
}

describe('use accounting under random interleavings (property)', () => {
  it('never commits more than maxUses, returns released uses, and drops every value set exactly once', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 80 }), (ops) => {
        let clock = 0;
        let tokens = 0;
        const dropCount = new Map<number, number>();
        /** approval id → the token of its current values. */
        const current = new Map<string, number>();
        const store = createApprovalStore<{ n: number }>({
          now: () => clock,
          onDrop: (values) => dropCount.set(values.n, (dropCount.get(values.n) ?? 0) + 1),
        });
        const model = new Map<string, ModelApproval>();
        const open: Array<{ reservation: Reservation; approval: ModelApproval }> = [];
        const keyOf = (k: number) => `reuse-v1:${k}`;
        const fresh = () => ({ n: tokens++ });
        const dead = (a: ModelApproval) => clock >= a.expiresAt || (a.used >= a.maxUses && a.reserved === 0);
        const pruneModel = (only?: string) => {
          for (const a of model.values()) if (!a.gone && (only === undefined || a.key === only) && dead(a)) a.gone = true;
        };

        for (const op of ops) {
          switch (op.kind) {
            case 'create': {
              const values = fresh();
              const { approval, reservation } = store.create({ key: keyOf(op.key), ttlSeconds: op.ttl, maxUses: op.uses, summary: SUMMARY, values });
              current.set(approval.id, values.n);
              const m: ModelApproval = { id: approval.id, key: keyOf(op.key), expiresAt: clock + op.ttl * 1000, maxUses: op.uses, used: 0, reserved: 1, gone: false, commits: 0 };
              model.set(approval.id, m);
              open.push({ reservation, approval: m });
              break;
            }
            case 'reserve': {
              const key = keyOf(op.key);
              pruneModel(key);
              const expected = [...model.values()].find((a) => !a.gone && a.key === key && a.used + a.reserved < a.maxUses);
              const got = store.reserve(key);
              // A use is available exactly when the model says so: released uses come back.
              expect(got?.approval.id ?? null).toBe(expected?.id ?? null);
              if (got !== null && expected !== undefined) {
                expected.reserved += 1;
                open.push({ reservation: got.reservation, approval: expected });
              }
              break;
            }
            case 'commit':
            case 'release': {
              if (open.length === 0) break;
              const [taken] = open.splice(op.pick % open.length, 1);
              const { reservation, approval } = taken!;
              const wasLive = !approval.gone && clock < approval.expiresAt;
              expect(reservation.live()).toBe(wasLive);
              approval.reserved -= 1;
              if (op.kind === 'commit') {
                reservation.commit();
                approval.used += 1;
                // The broker delivers only while live(); count those deliveries.
                if (wasLive) approval.commits += 1;
                if (!approval.gone && approval.used >= approval.maxUses && approval.reserved === 0) approval.gone = true;
              } else {
                reservation.release();
              }
              break;
            }
            case 'tick':
              clock += op.ms;
              break;
            case 'revoke': {
              const ids = [...model.keys()];
              if (ids.length === 0) break;
              const id = ids[op.pick % ids.length]!;
              pruneModel();
              const target = model.get(id)!;
              expect(store.revoke(id)).toBe(!target.gone);
              target.gone = true;
              break;
            }
            case 'refresh': {
              const ids = [...model.keys()];
              if (ids.length === 0) break;
              const id = ids[op.pick % ids.length]!;
              const values = fresh();
              store.replaceValues(id, values);
              if (!model.get(id)!.gone) {
                // The old set was dropped right away; the new one is the approval's now.
                expect(dropCount.get(current.get(id)!)).toBe(1);
                current.set(id, values.n);
              } else {
                expect(dropCount.get(values.n)).toBe(1);
              }
              break;
            }
            case 'sweep':
              pruneModel();
              store.sweep();
              break;
            case 'list': {
              pruneModel();
              const listed = store.list();
              const live = [...model.values()].filter((a) => !a.gone);
              expect(listed.map((a) => a.id)).toEqual(live.map((a) => a.id));
              for (const entry of listed) {
                const m = model.get(entry.id)!;
                expect([entry.used, entry.reserved]).toEqual([m.used, m.reserved]);
              }
              break;
            }
          }
          // Invariants after every step.
          for (const a of model.values()) {
            expect(a.commits).toBeLessThanOrEqual(a.maxUses);
            expect(a.used).toBeLessThanOrEqual(a.maxUses);
            if (!a.gone) expect(a.used + a.reserved).toBeLessThanOrEqual(a.maxUses);
          }
          for (const count of dropCount.values()) expect(count).toBe(1);
          // The current values of an approval that is not gone are never dropped.
          for (const [id, n] of current) {
            if (!model.get(id)!.gone) expect(dropCount.has(n)).toBe(false);
          }
        }

        // Shutdown: everything left is dropped; every value set ever handed in was dropped exactly once.
        store.revokeAll();
        expect(store.size()).toBe(0);
        for (let n = 0; n < tokens; n += 1) expect(dropCount.get(n) ?? 0).toBe(1);
      }),
      { numRuns: 1000 },
    );
  });
});
