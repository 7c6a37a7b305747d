// The machinery reusable approvals and sessions share: a table of leases, each with an expiry,
// a number of deliveries it allows (`limit`), deliveries spent and deliveries reserved, and the
// values it holds. A lease is dead once expired, or once every allowed delivery is spent and
// none is in flight; dead leases are dropped whenever the table is looked at, and, with a
// timer source, at the earliest expiry by the table itself (values cleared on time, not on the
// next lookup). Values leave only through `onDrop`, exactly once per lease.
//
// Deliveries are reserved (counted against the limit while in flight, so concurrent ones can
// never exceed it), then committed (spent) or released (given back); both idempotent, the first
// call wins. Nothing here does I/O; the clock is injected. Generic over the values, so it never
// sees a SecretValue.

/** What the table needs of a lease; the stores add their own fields. */
export interface Lease<V> {
  readonly id: string;
  readonly expiresAt: number;
  /** Deliveries allowed. */
  readonly limit: number;
  /** Deliveries committed. */
  spent: number;
  /** Deliveries reserved and not yet committed or released. */
  reserved: number;
  values: V;
  dropped: boolean;
}

/** One delivery in flight. */
export interface LeaseReservation {
  readonly id: string;
  /** True while the lease is live (not expired or dropped) and this reservation is neither committed nor released. */
  live(): boolean;
  /** The delivery was written: spent. Idempotent; no effect after release(). */
  commit(): void;
  /** Nothing was delivered: given back. Idempotent; no effect after commit(). */
  release(): void;
}

export interface LeaseTableOptions<V> {
  now: () => number;
  /** Receives the values of every lease that leaves the table, exactly once. */
  onDrop: (values: V) => void;
  /** When given, the table sweeps itself at the earliest expiry. */
  setTimer?: (fn: () => void, ms: number) => { clear(): void };
}

export interface LeaseTable<V, L extends Lease<V>> {
  add(lease: L): void;
  get(id: string): L | undefined;
  has(id: string): boolean;
  /** Live leases in insertion order, after dropping the dead ones. */
  live(): L[];
  /** Live leases in insertion order, as they are (the caller drops what it finds dead). */
  all(): L[];
  isDead(lease: L, at: number): boolean;
  isExpired(lease: L, at: number): boolean;
  /** Takes the lease out of the table and its values to onDrop (once). */
  drop(lease: L): void;
  /** Drops every lease; returns how many live ones there were. */
  dropAll(): number;
  /** Reserves one delivery of the lease (the caller checked there is one left). */
  reserve(lease: L): LeaseReservation;
  /** Number of live leases. */
  size(): number;
  /** Earliest expiry of a live lease, or null. */
  nextExpiry(): number | null;
  /** Re-arms the timer after the caller changed the table. */
  arm(): void;
}

// setTimeout cannot wait longer than this (about 24.8 days); a longer wait fires early and re-arms.
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createLeaseTable<V, L extends Lease<V>>(opts: LeaseTableOptions<V>): LeaseTable<V, L> {
  const { now, onDrop } = opts;
  /** Insertion order: oldest first. */
  const byId = new Map<string, L>();
  let timer: { clear(): void } | null = null;
  let timerAt: number | null = null;

  const isExpired = (lease: L, at: number): boolean => at >= lease.expiresAt;
  const isExhausted = (lease: L): boolean => lease.spent >= lease.limit && lease.reserved === 0;
  const isDead = (lease: L, at: number): boolean => isExpired(lease, at) || isExhausted(lease);

  function drop(lease: L): void {
    if (lease.dropped) return;
    lease.dropped = true;
    byId.delete(lease.id);
    onDrop(lease.values);
  }

  function prune(): void {
    const at = now();
    for (const lease of [...byId.values()]) if (isDead(lease, at)) drop(lease);
    arm();
  }

  function earliest(): number | null {
    let at: number | null = null;
    for (const lease of byId.values()) if (at === null || lease.expiresAt < at) at = lease.expiresAt;
    return at;
  }

  // Keeps one timer at the earliest expiry, when a timer source was given.
  function arm(): void {
    if (opts.setTimer === undefined) return;
    const next = earliest();
    if (next === timerAt) return;
    timer?.clear();
    timer = null;
    timerAt = next;
    if (next === null) return;
    const ms = Math.min(Math.max(0, next - now()), MAX_TIMER_MS);
    timer = opts.setTimer(() => {
      timer = null;
      timerAt = null;
      prune();
    }, ms);
  }

  return {
    add(lease) {
      byId.set(lease.id, lease);
      arm();
    },
    get: (id) => byId.get(id),
    has: (id) => byId.has(id),
    live() {
      prune();
      return [...byId.values()];
    },
    all: () => [...byId.values()],
    isDead,
    isExpired,
    drop(lease) {
      drop(lease);
      arm();
    },
    dropAll() {
      prune();
      const leases = [...byId.values()];
      for (const lease of leases) drop(lease);
      arm();
      return leases.length;
    },
    reserve(lease) {
      lease.reserved += 1;
      let settled = false;
      return {
        id: lease.id,
        live: () => !settled && !lease.dropped && !isExpired(lease, now()),
        commit: () => {
          if (settled) return;
          settled = true;
          lease.reserved -= 1;
          lease.spent += 1;
          if (!lease.dropped && isExhausted(lease)) {
            drop(lease);
            arm();
          }
        },
        release: () => {
          if (settled) return;
          settled = true;
          lease.reserved -= 1;
        },
      };
    },
    size() {
      prune();
      return byId.size;
    },
    nextExpiry() {
      prune();
      return earliest();
    },
    arm,
  };
}
