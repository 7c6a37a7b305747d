// The prompt queue: requests that need the human wait here and take turns at the one prompt.
// Pure apart from the injected clock and timer; knows nothing about secrets.
//
// Fairness: every entry belongs to a caller (QueueEntry.caller; an entry without one is a caller
// of its own). Callers take turns round-robin, each caller's own entries in arrival order, so a
// caller that queued many requests does not keep the others waiting behind all of them. With
// one entry per caller this is plain arrival order. A caller may have at most
// MAX_WAITING_KEYS_PER_CALLER different requests (reuse keys) and MAX_WAITING_PER_CALLER entries
// in all waiting; one more is refused at once (daemon.unavailable) and never queued. Identical
// requests count once against the first cap: one reusable approval can serve them together.
//
// Identical requests (same reuse key) waiting behind the one at the prompt are counted for the
// prompt (identicalTo) and can be answered with it in one go (takeIdentical: the human chose
// "allow all once" or "deny all"). Only the entry holding the turn can answer for others, and
// never for more than the count it was shown. Who asked is not part of the key: two callers
// asking the very same thing are identical, as they are for a reusable approval.
//
// enqueue() returns a promise that settles exactly once:
//   'turn'       this entry now holds the prompt; the broker prompts and calls done(id) after.
//                Only one entry holds the turn at a time.
//   'coalesced'  takeMatching() or takeIdentical() removed the entry because a reusable
//                approval with the same key was granted or the human answered it together
//                with the identical request at the prompt; the entry never held the turn and must NOT call done(). The
//                broker hands it its reserved use through its own item (it gets the taken
//                entries back from takeMatching synchronously, before the promise settles).
//   rejected     AgentSecretError('daemon.unavailable') at once when the caller is over a cap;
//                AgentSecretError('approval.timeout') when the deadline passed while queued
//                (the entry never reached the prompt); the signal's reason when the signal
//                aborted while queued; cancelAll's reason at shutdown. The entry is removed.
// An entry whose deadline has passed is never given the turn or coalesced, even when its timer
// has not fired yet. Once an entry holds the turn its deadline and signal are the broker's
// business: the queue forgets them, and the turn passes on only through done(id).

import { AgentSecretError } from '../core/errors.js';

export interface QueueEntry<T> {
  readonly id: string;
  /** Reuse key, for coalescing. */
  readonly key: string;
  /** Epoch ms: receipt + ttl. */
  readonly deadline: number;
  /** Who asked, for round-robin turns and the per-caller caps; absent: a caller of its own. */
  readonly caller?: string;
  readonly item: T;
}

/** Different requests (reuse keys) one caller may have waiting. */
export const MAX_WAITING_KEYS_PER_CALLER = 8;
/** Entries one caller may have waiting in all (identical requests included). */
export const MAX_WAITING_PER_CALLER = 32;

export type QueueOutcome = 'turn' | 'coalesced';

export interface PromptQueue<T> {
  /** Waits for this entry's turn at the prompt; see the file header for how it settles. */
  enqueue(entry: QueueEntry<T>, signal?: AbortSignal): Promise<QueueOutcome>;
  /** The active prompt finished; the next queued entry takes its turn. No-op unless `id` holds the turn. */
  done(id: string): void;
  /** How many others are queued (the active entry and `id` itself excluded); for the prompt's waiting line. */
  waitingFor(id: string): number;
  /** Queued entries, the active one excluded. */
  waiting(): number;
  /**
   * After a reusable approval with `key` was granted: removes up to `limit` queued entries with
   * that key, oldest first, and returns them; their enqueue() resolves 'coalesced'.
   */
  takeMatching(key: string, limit: number): Array<QueueEntry<T>>;
  /** The ids of queued entries with the same key as the entry `id` holding the turn, oldest first; none when `id` does not hold it. */
  identicalTo(id: string): string[];
  /**
   * The human answered the prompt of `id` (holding the turn) for the identical requests the
   * prompt counted (`ids`, from identicalTo): removes those still queued, and only those, and
   * returns them (resolved 'coalesced', like takeMatching). A request that arrived after the
   * prompt was shown keeps its own prompt even when a counted one left meanwhile. Nothing when
   * `id` does not hold the turn.
   */
  takeIdentical(id: string, ids: readonly string[]): Array<QueueEntry<T>>;
  /** Daemon shutdown: every queued enqueue() rejects with `reason`. The active turn stays until done(). */
  cancelAll(reason: Error): void;
  /** Queued entries plus the active one. */
  size(): number;
  /** The id holding the turn, or null. */
  activeId(): string | null;
}

export interface PromptQueueOptions {
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => { clear(): void };
  /** The caps (defaults MAX_WAITING_KEYS_PER_CALLER, MAX_WAITING_PER_CALLER). */
  maxKeysPerCaller?: number;
  maxPerCaller?: number;
}

interface Waiter<T> {
  entry: QueueEntry<T>;
  caller: string;
  resolve: (outcome: QueueOutcome) => void;
  reject: (error: unknown) => void;
  timer: { clear(): void } | null;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | null;
}

// setTimeout cannot wait longer than this; a longer wait re-arms when it fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

function defaultSetTimer(fn: () => void, ms: number): { clear(): void } {
  const handle = setTimeout(fn, ms);
  // A queued request must not keep the process alive on its own.
  handle.unref();
  return { clear: () => clearTimeout(handle) };
}

export function callerCapError(cap: 'keys' | 'entries', limit: number): AgentSecretError {
  const what = cap === 'keys' ? `${limit} different requests` : `${limit} requests`;
  return new AgentSecretError('daemon.unavailable', `this caller already has ${what} waiting for the approval prompt; this one was not queued and nothing ran`, {
    hint: 'wait until those are answered (or run out of ttl), then rerun; callers are told apart by their terminal session',
  });
}

export function queueTimeoutError(): AgentSecretError {
  return new AgentSecretError('approval.timeout', 'the request waited for the prompt until its ttl ran out; nobody was asked and the command did not run', {
    hint: 'other requests were being approved ahead of it; retry, or pass a longer --ttl (up to 10m)',
  });
}

// One closure over one queue's state: its returned methods are the queue's whole API, and
// splitting them apart would spread that state over several modules.
// eslint-disable-next-line max-lines-per-function
export function createPromptQueue<T>(opts: PromptQueueOptions = {}): PromptQueue<T> {
  const now = opts.now ?? Date.now;
  const setTimer = opts.setTimer ?? defaultSetTimer;
  const maxKeys = opts.maxKeysPerCaller ?? MAX_WAITING_KEYS_PER_CALLER;
  const maxEntries = opts.maxPerCaller ?? MAX_WAITING_PER_CALLER;
  /** Oldest first. */
  let queued: Array<Waiter<T>> = [];
  /** Callers with entries waiting, in the order they get their next turn. */
  let ring: string[] = [];
  let active: string | null = null;
  /** The reuse key of the entry holding the turn. */
  let activeKey: string | null = null;

  function dropFromRingIfDone(caller: string): void {
    if (!queued.some((waiter) => waiter.caller === caller)) ring = ring.filter((c) => c !== caller);
  }

  // Why the caller may not queue one more entry with this key; null when it may.
  function overCap(caller: string, key: string): AgentSecretError | null {
    const mine = queued.filter((waiter) => waiter.caller === caller);
    if (mine.length >= maxEntries) return callerCapError('entries', maxEntries);
    const keys = new Set(mine.map((waiter) => waiter.entry.key));
    if (!keys.has(key) && keys.size >= maxKeys) return callerCapError('keys', maxKeys);
    return null;
  }

  // Round-robin: the first caller in the ring gives its oldest entry and goes to the back.
  function nextWaiter(): Waiter<T> | undefined {
    while (ring.length > 0) {
      const caller = ring.shift() as string;
      const next = queued.find((waiter) => waiter.caller === caller);
      if (next === undefined) continue;
      queued.splice(queued.indexOf(next), 1);
      if (queued.some((waiter) => waiter.caller === caller)) ring.push(caller);
      return next;
    }
    return undefined;
  }

  function detach(waiter: Waiter<T>): void {
    waiter.timer?.clear();
    waiter.timer = null;
    if (waiter.onAbort !== null) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.onAbort = null;
  }

  function remove(waiter: Waiter<T>): boolean {
    const index = queued.indexOf(waiter);
    if (index < 0) return false;
    queued.splice(index, 1);
    detach(waiter);
    dropFromRingIfDone(waiter.caller);
    return true;
  }

  function expireDue(): void {
    const at = now();
    const due = queued.filter((waiter) => at >= waiter.entry.deadline);
    for (const waiter of due) {
      remove(waiter);
      waiter.reject(queueTimeoutError());
    }
  }

  function promote(): void {
    expireDue();
    if (active !== null) return;
    const next = nextWaiter();
    if (next === undefined) return;
    detach(next);
    active = next.entry.id;
    activeKey = next.entry.key;
    next.resolve('turn');
  }

  function takeMatching(key: string, limit: number, also: (entry: QueueEntry<T>) => boolean = () => true): Array<QueueEntry<T>> {
    expireDue();
    const taken: Array<Waiter<T>> = [];
    for (const waiter of queued) {
      if (taken.length >= limit) break;
      if (waiter.entry.key === key && also(waiter.entry)) taken.push(waiter);
    }
    for (const waiter of taken) {
      remove(waiter);
      waiter.resolve('coalesced');
    }
    return taken.map((waiter) => waiter.entry);
  }

  function arm(waiter: Waiter<T>): void {
    const ms = Math.min(Math.max(0, waiter.entry.deadline - now()), MAX_TIMER_MS);
    waiter.timer = setTimer(() => {
      waiter.timer = null;
      if (!queued.includes(waiter)) return;
      if (now() >= waiter.entry.deadline) {
        remove(waiter);
        waiter.reject(queueTimeoutError());
      } else {
        arm(waiter); // fired early (or the wait was longer than one timer can be)
      }
    }, ms);
  }

  return {
    enqueue(entry, signal) {
      return new Promise<QueueOutcome>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        if (entry.id === active || queued.some((waiter) => waiter.entry.id === entry.id)) {
          reject(new AgentSecretError('internal', 'a request id entered the approval queue twice'));
          return;
        }
        expireDue();
        if (now() >= entry.deadline) {
          reject(queueTimeoutError());
          return;
        }
        if (active === null && queued.length === 0) {
          active = entry.id;
          activeKey = entry.key;
          resolve('turn');
          return;
        }
        const caller = entry.caller ?? `entry:${entry.id}`;
        const refused = overCap(caller, entry.key);
        if (refused !== null) {
          reject(refused);
          return;
        }
        const waiter: Waiter<T> = { entry, caller, resolve, reject, timer: null, signal, onAbort: null };
        if (signal !== undefined) {
          waiter.onAbort = () => {
            if (remove(waiter)) reject(signal.reason);
          };
          signal.addEventListener('abort', waiter.onAbort, { once: true });
        }
        queued.push(waiter);
        if (!ring.includes(caller)) ring.push(caller);
        arm(waiter);
      });
    },

    done(id) {
      if (active !== id) return;
      active = null;
      activeKey = null;
      promote();
    },

    waitingFor(id) {
      expireDue();
      if (id === active) return queued.length;
      return queued.some((waiter) => waiter.entry.id === id) ? queued.length - 1 : queued.length;
    },

    waiting() {
      expireDue();
      return queued.length;
    },

    takeMatching: (key, limit) => takeMatching(key, limit),

    identicalTo(id) {
      expireDue();
      if (id !== active || activeKey === null) return [];
      const key = activeKey;
      return queued.filter((waiter) => waiter.entry.key === key).map((waiter) => waiter.entry.id);
    },

    takeIdentical(id, ids) {
      if (id !== active || activeKey === null || ids.length === 0) return [];
      const counted = new Set(ids);
      return takeMatching(activeKey, ids.length, (entry) => counted.has(entry.id));
    },

    cancelAll(reason) {
      const all = queued;
      queued = [];
      ring = [];
      for (const waiter of all) {
        detach(waiter);
        waiter.reject(reason);
      }
    },

    size() {
      expireDue();
      return queued.length + (active === null ? 0 : 1);
    },

    activeId() {
      return active;
    },
  };
}
