// The lease table under approvals and sessions: deliveries never exceed the limit, values leave
// exactly once (exhaustion, expiry noticed by a look or by the timer, drop, dropAll), and the
// timer follows the earliest expiry.

import { describe, expect, it } from 'vitest';
import { createLeaseTable, type Lease } from '../../../src/broker/lease-table.js';

type L = Lease<string>;

function setup() {
  let clock = 1_000;
  const dropped: string[] = [];
  const timers: Array<{ at: number; fn: () => void; cleared: boolean }> = [];
  const table = createLeaseTable<string, L>({
    now: () => clock,
    onDrop: (values) => dropped.push(values),
    setTimer: (fn, ms) => {
      const timer = { at: clock + ms, fn, cleared: false };
      timers.push(timer);
      return { clear: () => (timer.cleared = true) };
    },
  });
  const lease = (id: string, ttlMs: number, limit: number): L => ({ id, expiresAt: clock + ttlMs, limit, spent: 0, reserved: 0, values: `values of ${id}`, dropped: false });
  const armed = () => timers.filter((t) => !t.cleared).map((t) => t.at);
  return { table, dropped, lease, armed, timers, advance: (ms: number) => (clock += ms) };
}

describe('createLeaseTable', () => {
  it('spends a lease by commits; the last one drops it; release gives a delivery back; both are idempotent', () => {
    const { table, dropped, lease } = setup();
    const a = lease('a', 60_000, 2);
    table.add(a);
    const first = table.reserve(a);
    const second = table.reserve(a);
    second.release();
    second.commit();
    expect([a.spent, a.reserved]).toEqual([0, 1]);
    first.commit();
    first.commit();
    expect(a.spent).toBe(1);
    const third = table.reserve(a);
    expect(third.live()).toBe(true);
    third.commit();
    expect(third.live()).toBe(false);
    expect(dropped).toEqual(['values of a']);
    expect(table.size()).toBe(0);
  });

  it('drops expired leases when looked at, and by its own timer at the earliest expiry', () => {
    const { table, dropped, lease, armed, timers, advance } = setup();
    table.add(lease('late', 9_000, 5));
    table.add(lease('early', 3_000, 5));
    expect(armed()).toEqual([4_000]);
    advance(3_000);
    const due = timers.find((t) => !t.cleared);
    if (due !== undefined) {
      due.cleared = true; // fired
      due.fn();
    }
    expect(dropped).toEqual(['values of early']);
    expect(armed()).toEqual([10_000]);
    advance(6_000);
    expect(table.live()).toEqual([]);
    expect(dropped).toEqual(['values of early', 'values of late']);
    expect(armed()).toEqual([]);
  });

  it('dropAll counts the live leases and gives every value set to onDrop once', () => {
    const { table, dropped, lease, advance } = setup();
    const a = lease('a', 1_000, 1);
    table.add(a);
    table.add(lease('b', 60_000, 1));
    table.add(lease('c', 60_000, 1));
    advance(1_000);
    const reservation = table.reserve(table.get('b') as L);
    expect(table.dropAll()).toBe(2);
    expect(dropped.sort()).toEqual(['values of a', 'values of b', 'values of c']);
    expect(reservation.live()).toBe(false);
    table.drop(a);
    expect(dropped).toHaveLength(3);
  });
});
