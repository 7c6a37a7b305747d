// Reusable approvals: "allow this exact request again for a while". The store keeps each live
// approval with its reuse key (reuse-key.ts), its expiry, its use count and the values resolved
// for it. It is generic over the cached value type, so it never sees a SecretValue; the broker
// passes `onDrop`, which clears them.
//
// Expiry: the human chooses the duration (1 s .. the request ttl) and it is counted from the
// moment of approval (`approvedAt`, default: the time of create()). The reference counts from
// the request's receipt instead, so time spent queued and in the prompt eats the window and a
// request approved late in its ttl gets an approval that is nearly dead; here the human gets
// the duration they picked. An approval therefore lives at most receipt + 2 × ttl.
//
// Uses: the first delivery counts as one use and is reserved by create(). A match reserves a
// use (reserve); in-flight reservations count against the limit, so concurrent deliveries can
// never exceed maxUses. `commit()` after the deliver frame was written spends the use;
// `release()` on any failure before that gives it back. Both are idempotent and the first call
// wins. Right before writing, the broker checks `reservation.live()`: false once the approval
// expired or was revoked (then release and fail; the values are gone).
//
// Values leave the store only through `onDrop`, exactly once per value set: when an approval is
// dropped (expiry noticed by reserve/list/sweep/size/nextExpiry or the optional timer,
// exhaustion at the last commit, revoke, revokeAll) and, for the replaced set, on replaceValues.
// A revoked or expired approval is dropped at once even while a delivery is in flight; that
// delivery sees live() === false. Nothing here does I/O; the clock is injected.

import { randomBytes } from 'node:crypto';
import { AgentSecretError } from '../core/errors.js';
import { createLeaseTable, type Lease } from './lease-table.js';

/** Bounds of a reusable approval, whatever the approver asked for. */
export const REUSE_BOUNDS = Object.freeze({ minTtlSeconds: 1, maxUses: 20 } as const);

/** Value-free description of an approval, for `approvals list` and the audit log. */
export interface ApprovalSummary {
  reason: string;
  command: string[];
  cwd: string;
  aliases: string[];
  /** What each alias was approved as: the reference, its provider and its account or source (`null`: the default). */
  secrets: Array<{ alias: string; ref: string; provider: string; name?: string; account: string | null }>;
  profile: string | null;
  /** The registered agent the approval was granted to, when its token was checked. */
  agent?: string | null;
  /** The policy rule that granted it (null or absent: the human). */
  policyRule?: string | null;
}

/** A live approval. The object is the store's own: counters and `values` change in place. */
export interface ReusableApproval<V> {
  /** 'appr_' + 16 hex digits. */
  readonly id: string;
  readonly key: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly maxUses: number;
  /** Deliveries committed. */
  readonly used: number;
  /** Deliveries reserved and not yet committed or released. */
  readonly reserved: number;
  readonly summary: ApprovalSummary;
  /** The cached values; read them right before delivering (replaceValues swaps them). */
  readonly values: V;
}

export interface Reservation {
  readonly approvalId: string;
  /** True while the approval is live (not expired, revoked or dropped) and this reservation is neither committed nor released. */
  live(): boolean;
  /** The deliver frame was written: the use is spent. Idempotent; no effect after release(). */
  commit(): void;
  /** Nothing was delivered: the use goes back. Idempotent; no effect after commit(). */
  release(): void;
}

export interface ApprovalListing {
  readonly id: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly maxUses: number;
  readonly used: number;
  readonly reserved: number;
  readonly summary: ApprovalSummary;
}

export interface CreateApprovalInput<V> {
  readonly key: string;
  /** Already bounded by clampReuse. */
  readonly ttlSeconds: number;
  readonly maxUses: number;
  readonly summary: ApprovalSummary;
  readonly values: V;
  /** When the human approved (epoch ms); the ttl counts from here. Default: now(). */
  readonly approvedAt?: number;
}

export interface Grant<V> {
  readonly approval: ReusableApproval<V>;
  readonly reservation: Reservation;
}

export interface ApprovalStore<V> {
  /** Stores a new approval with its first delivery already reserved. */
  create(input: CreateApprovalInput<V>): Grant<V>;
  /** Reserves a use of a live approval with this key, or null when none has a use left. Drops dead ones it meets. */
  reserve(key: string): Grant<V> | null;
  /** --force-refresh: the new values replace the cached ones; the old set goes to onDrop. No-op (new set to onDrop) when the approval is gone. */
  replaceValues(approvalId: string, values: V): void;
  /** Live approvals, oldest first, never with values. Prunes dead ones. */
  list(): ApprovalListing[];
  /** Drops one approval; false when there is no live approval with this id. */
  revoke(id: string): boolean;
  /** Drops every approval; returns how many live ones there were. */
  revokeAll(): number;
  /** Drops expired and exhausted approvals. */
  sweep(): void;
  /** Number of live approvals (prunes first). */
  size(): number;
  /** Earliest expiry of a live approval, or null; the broker may sweep then. */
  nextExpiry(): number | null;
}

export interface ApprovalStoreOptions<V> {
  now: () => number;
  /** Receives every value set that leaves the store, exactly once. */
  onDrop: (values: V) => void;
  randomId?: () => string;
  /** When given, the store sweeps itself at the earliest expiry (values cleared on time, not on the next lookup). */
  setTimer?: (fn: () => void, ms: number) => { clear(): void };
}

interface Entry<V> extends Lease<V> {
  key: string;
  createdAt: number;
  summary: ApprovalSummary;
  /** What callers get: the entry's live state under the approval's names. */
  view: ReusableApproval<V>;
}

/** Bounds the approver's reuse answer: null when not a positive integer pair, else ttl ≤ the request ttl and uses ≤ 20. */
export function clampReuse(reuse: { ttlSeconds: number; maxUses: number }, requestTtlSeconds: number): { ttlSeconds: number; maxUses: number } | null {
  const { ttlSeconds, maxUses } = reuse;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < REUSE_BOUNDS.minTtlSeconds) return null;
  if (!Number.isSafeInteger(maxUses) || maxUses < 1) return null;
  if (!Number.isSafeInteger(requestTtlSeconds) || requestTtlSeconds < REUSE_BOUNDS.minTtlSeconds) return null;
  return { ttlSeconds: Math.min(ttlSeconds, requestTtlSeconds), maxUses: Math.min(maxUses, REUSE_BOUNDS.maxUses) };
}

function defaultId(): string {
  return `appr_${randomBytes(8).toString('hex')}`;
}

export function createApprovalStore<V>(opts: ApprovalStoreOptions<V>): ApprovalStore<V> {
  const { now, onDrop } = opts;
  const randomId = opts.randomId ?? defaultId;
  const table = createLeaseTable<V, Entry<V>>({ now, onDrop, ...(opts.setTimer === undefined ? {} : { setTimer: opts.setTimer }) });

  const reservationFor = (entry: Entry<V>): Reservation => {
    const { id, live, commit, release } = table.reserve(entry);
    return { approvalId: id, live, commit, release };
  };

  function uniqueId(): string {
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const id = randomId();
      if (!table.has(id)) return id;
    }
    throw new AgentSecretError('internal', 'could not pick a unique approval id');
  }

  return {
    create(input) {
      const bounded = clampReuse(input, input.ttlSeconds);
      if (bounded === null || bounded.maxUses !== input.maxUses) {
        throw new AgentSecretError('internal', 'a reusable approval was created outside its bounds', { hint: 'pass the approver answer through clampReuse first' });
      }
      const createdAt = now();
      const entry = {
        id: uniqueId(),
        key: input.key,
        createdAt,
        expiresAt: (input.approvedAt ?? createdAt) + input.ttlSeconds * 1000,
        limit: input.maxUses,
        spent: 0,
        reserved: 0,
        summary: copySummary(input.summary),
        values: input.values,
        dropped: false,
      } as Entry<V>;
      entry.view = viewOf(entry);
      table.add(entry);
      const reservation = reservationFor(entry);
      return { approval: entry.view, reservation };
    },

    reserve(key) {
      const at = now();
      let found: Entry<V> | null = null;
      for (const entry of table.all()) {
        if (entry.key !== key) continue;
        if (table.isDead(entry, at)) {
          table.drop(entry);
          continue;
        }
        if (found === null && entry.spent + entry.reserved < entry.limit) found = entry;
      }
      table.arm();
      if (found === null) return null;
      return { approval: found.view, reservation: reservationFor(found) };
    },

    replaceValues(approvalId, values) {
      const entry = table.get(approvalId);
      if (entry === undefined || entry.dropped) {
        onDrop(values);
        return;
      }
      const old = entry.values;
      entry.values = values;
      if (old !== values) onDrop(old);
    },

    list() {
      return table.live().map((entry) => ({
        id: entry.id,
        createdAt: entry.createdAt,
        expiresAt: entry.expiresAt,
        maxUses: entry.limit,
        used: entry.spent,
        reserved: entry.reserved,
        summary: copySummary(entry.summary),
      }));
    },

    revoke(id) {
      table.live();
      const entry = table.get(id);
      if (entry === undefined) return false;
      table.drop(entry);
      return true;
    },

    revokeAll: () => table.dropAll(),
    sweep: () => void table.live(),
    size: () => table.size(),
    nextExpiry: () => table.nextExpiry(),
  };
}

function viewOf<V>(entry: Entry<V>): ReusableApproval<V> {
  return {
    id: entry.id,
    key: entry.key,
    createdAt: entry.createdAt,
    expiresAt: entry.expiresAt,
    get maxUses() {
      return entry.limit;
    },
    get used() {
      return entry.spent;
    },
    get reserved() {
      return entry.reserved;
    },
    summary: entry.summary,
    get values() {
      return entry.values;
    },
  };
}

function copySummary(summary: ApprovalSummary): ApprovalSummary {
  return {
    reason: summary.reason,
    command: [...summary.command],
    cwd: summary.cwd,
    aliases: [...summary.aliases],
    secrets: summary.secrets.map((s) => ({ alias: s.alias, ref: s.ref, provider: s.provider, ...(s.name === undefined ? {} : { name: s.name }), account: s.account })),
    profile: summary.profile,
    ...(typeof summary.agent === 'string' ? { agent: summary.agent } : {}),
    ...(typeof summary.policyRule === 'string' ? { policyRule: summary.policyRule } : {}),
  };
}
