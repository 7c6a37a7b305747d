// Sessions: a bag of approved values held in daemon memory, handed out by `with-session TOKEN`
// a bounded number of times, only in the session's directory and only to callers inside the
// process tree the session is bound to (binding.ts). The store is generic over the value type,
// so it never sees a SecretValue; the broker passes `onDrop`, which clears them.
//
// Tokens: 'astok_' + 32 random bytes (base64url), returned once by create(). The store keeps
// only their SHA-256 and compares a presented token's hash with every stored hash in constant
// time, so neither the token nor its timing is kept or leaked. list() never shows tokens,
// hashes or values.
//
// Reads: resolve() reserves one (in-flight reservations count against maxReads, so concurrent
// resolves can never exceed it); `commit()` after the deliver frame was written spends it;
// `release()` on any failure before that gives it back. Both are idempotent and the first call
// wins. Right before writing, the broker checks `reservation.live()`: false once the session
// expired or was destroyed (then release and fail; the values are gone).
//
// Values leave the store only through `onDrop`, exactly once per session: at expiry (noticed by
// resolve/list/sweep/size/nextExpiry/destroy or the optional timer), at exhaustion (the commit
// of the last read), on destroy and destroyAll. create() owns the values it is given even when
// it throws (they are dropped). Nothing here does I/O; the clock is injected.

import { clip } from '../platform/fs.js';
import { createHash, randomBytes as cryptoRandomBytes, timingSafeEqual } from 'node:crypto';
import { AgentSecretError } from '../core/errors.js';
import type { BindingPolicy } from '../core/session-bind.js';
import { cleanChars, type AncestryEntry } from '../platform/process-tree.js';
import { describeProcess, isBoundCaller } from './binding.js';
import { createLeaseTable, type Lease } from './lease-table.js';

export const SESSION_BOUNDS = Object.freeze({ minReads: 1, maxReads: 100 } as const);

/** Shapes the CLI checks before it sends an id or a token. */
export const SESSION_ID_PATTERN = /^asid_[A-Za-z0-9_-]+$/;
export const SESSION_TOKEN_PATTERN = /^astok_[A-Za-z0-9_-]+$/;

const TOKEN_BYTES = 32;
const ID_BYTES = 12;

/** The fixed first lines of the errors resolve() throws, for callers and tests to tell them apart. */
export const SESSION_ERRORS = Object.freeze({
  unknownToken: 'unknown or expired session token',
  wrongCwd: 'the session was created for another directory',
  notBound: 'this process is not inside the process tree the session is bound to',
  noAlias: 'the session has no approved alias',
  noReads: 'the session has no reads left',
} as const);

/** Where a session is anchored: what `session create` chose (binding.ts chooseAnchor). */
export interface SessionBinding {
  policy: BindingPolicy;
  anchor: AncestryEntry;
  depth: number;
  matchedName?: string;
}

/** A value-free snapshot of a live session. */
export interface SessionInfo {
  /** 'asid_' + 16 base64url characters. */
  readonly id: string;
  readonly reason: string;
  readonly cwd: string;
  /** Sorted, distinct. */
  readonly aliases: readonly string[];
  readonly overrideEnv: boolean;
  readonly binding: Readonly<SessionBinding>;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly maxReads: number;
  /** maxReads minus committed reads (in-flight ones not subtracted). */
  readonly remainingReads: number;
  /** Reads reserved and not yet committed or released. */
  readonly inFlightReads: number;
}

export interface SessionReservation {
  readonly sessionId: string;
  /** True while the session is live (not expired or destroyed) and this reservation is neither committed nor released. */
  live(): boolean;
  /** The deliver frame was written: the read is spent. Idempotent; no effect after release(). */
  commit(): void;
  /** Nothing was delivered: the read goes back. Idempotent; no effect after commit(). */
  release(): void;
}

export interface CreateSessionInput<V> {
  /** The session lives this long from create() (the moment of approval). */
  readonly ttlSeconds: number;
  /** 1..100. */
  readonly maxReads: number;
  readonly cwd: string;
  readonly aliases: readonly string[];
  readonly reason: string;
  readonly overrideEnv: boolean;
  readonly binding: SessionBinding;
  readonly values: V;
}

export interface CreatedSession {
  readonly id: string;
  /** Shown once to the creator; the store keeps only its SHA-256. */
  readonly token: string;
  readonly session: SessionInfo;
}

export interface ResolveSessionInput {
  readonly token: string;
  /** The caller's directory, resolved like the one given at create. */
  readonly cwd: string;
  /** The with-session process's ancestry, depth 0 = itself. */
  readonly callerAncestry: readonly AncestryEntry[];
  /** Aliases to deliver; all of them when undefined. */
  readonly only?: readonly string[] | undefined;
}

export interface ResolvedSession<V> {
  readonly session: SessionInfo;
  /** The session's values; deliver only `aliases` of them. */
  readonly values: V;
  /** The aliases to deliver: `only` (sorted, distinct) or all. */
  readonly aliases: readonly string[];
  readonly reservation: SessionReservation;
}

export interface SessionStore<V> {
  create(input: CreateSessionInput<V>): CreatedSession;
  /** Checks token, cwd, binding, aliases and reads, in that order, and reserves a read. Throws AgentSecretError. */
  resolve(input: ResolveSessionInput): ResolvedSession<V>;
  /** Live sessions sorted by expiry then id, without tokens or values. Prunes dead ones. */
  list(): SessionInfo[];
  /** Drops one session; false when no live session has this id. */
  destroy(id: string): boolean;
  /** Drops every session; returns how many live ones there were. */
  destroyAll(): number;
  /** Drops expired and exhausted sessions. */
  sweep(): void;
  /** Number of live sessions (prunes first). */
  size(): number;
  /** Earliest expiry of a live session, or null. */
  nextExpiry(): number | null;
}

export interface SessionStoreOptions<V> {
  now: () => number;
  /** Receives the values of every session that leaves the store, exactly once. */
  onDrop: (values: V) => void;
  /** Source of randomness for ids and tokens (tests); default node:crypto. */
  randomBytes?: (size: number) => Buffer;
  /** When given, the store sweeps itself at the earliest expiry (values cleared on time, not on the next lookup). */
  setTimer?: (fn: () => void, ms: number) => { clear(): void };
}

interface Entry<V> extends Lease<V> {
  tokenHash: Buffer;
  reason: string;
  cwd: string;
  aliases: string[];
  overrideEnv: boolean;
  binding: SessionBinding;
  createdAt: number;
}

/** Parses `--max-reads N` (default 1): an integer 1..100. Throws usage.invalid. Pure. */
export function parseMaxReads(text: string | undefined): number {
  if (text === undefined) return SESSION_BOUNDS.minReads;
  const trimmed = text.trim();
  const reads = /^\d{1,4}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!isReadCount(reads)) {
    throw new AgentSecretError('usage.invalid', `--max-reads must be a whole number between ${SESSION_BOUNDS.minReads} and ${SESSION_BOUNDS.maxReads}`, {
      details: { flag: '--max-reads' },
    });
  }
  return reads;
}

export function createSessionStore<V>(opts: SessionStoreOptions<V>): SessionStore<V> {
  const { now, onDrop } = opts;
  const random = opts.randomBytes ?? cryptoRandomBytes;
  const table = createLeaseTable<V, Entry<V>>({ now, onDrop, ...(opts.setTimer === undefined ? {} : { setTimer: opts.setTimer }) });

  const reservationFor = (entry: Entry<V>): SessionReservation => {
    const { id, live, commit, release } = table.reserve(entry);
    return { sessionId: id, live, commit, release };
  };

  function randomText(bytes: number): string {
    const buffer = random(bytes);
    if (buffer.length !== bytes) throw new AgentSecretError('internal', 'the random source returned the wrong number of bytes');
    return buffer.toString('base64url');
  }

  // Every stored hash is compared, match or not, so the time taken does not depend on which one matches.
  function findByToken(token: string): Entry<V> | undefined {
    const hash = sha256(SESSION_TOKEN_PATTERN.test(token) && token.length <= 128 ? token : '');
    let found: Entry<V> | undefined;
    for (const entry of table.all()) {
      if (timingSafeEqual(hash, entry.tokenHash) && found === undefined) found = entry;
    }
    return found;
  }

  return {
    create(input) {
      let entry: Entry<V>;
      let token: string;
      try {
        checkCreateInput(input);
        let id = `asid_${randomText(ID_BYTES)}`;
        for (let attempt = 0; table.has(id); attempt += 1) {
          if (attempt >= 8) throw new AgentSecretError('internal', 'could not pick a unique session id');
          id = `asid_${randomText(ID_BYTES)}`;
        }
        token = `astok_${randomText(TOKEN_BYTES)}`;
        const createdAt = now();
        entry = {
          id,
          tokenHash: sha256(token),
          reason: input.reason,
          cwd: input.cwd,
          aliases: [...new Set(input.aliases)].sort(),
          overrideEnv: input.overrideEnv,
          binding: copyBinding(input.binding),
          createdAt,
          expiresAt: createdAt + input.ttlSeconds * 1000,
          limit: input.maxReads,
          spent: 0,
          reserved: 0,
          values: input.values,
          dropped: false,
        };
      } catch (error) {
        onDrop(input.values);
        throw error;
      }
      table.add(entry);
      return { id: entry.id, token, session: infoOf(entry) };
    },

    resolve(input) {
      table.live();
      const entry = findByToken(input.token);
      if (entry === undefined) {
        throw new AgentSecretError('check.failed', SESSION_ERRORS.unknownToken, {
          hint: 'sessions end at their ttl, after their last read, on session destroy and when the daemon stops; create a new one',
        });
      }
      if (input.cwd !== entry.cwd) {
        throw new AgentSecretError('check.failed', `${SESSION_ERRORS.wrongCwd}: ${cleanChars(entry.cwd)}`, {
          hint: 'run with-session from that directory or pass --cwd with it',
          details: { flag: '--cwd' },
        });
      }
      if (!isBoundCaller(entry.binding.anchor, input.callerAncestry)) {
        throw new AgentSecretError('check.failed', `${SESSION_ERRORS.notBound}: ${describeProcess(entry.binding.anchor)}`, {
          hint: 'run with-session from a process started under that one, or create the session with --bind-parent, --bind-ancestor N or --bind-ancestor-name NAME',
        });
      }
      let aliases: string[] = entry.aliases;
      if (input.only !== undefined) {
        const wanted = [...new Set(input.only)].sort();
        const missing = wanted.find((alias) => !entry.aliases.includes(alias));
        if (wanted.length === 0 || missing !== undefined) {
          const named = missing === undefined ? '(none given)' : `"${printable(missing)}"`;
          throw new AgentSecretError('usage.invalid', `${SESSION_ERRORS.noAlias} ${named}; approved: ${entry.aliases.join(', ')}`, {
            details: { flag: '--only' },
          });
        }
        aliases = wanted;
      }
      if (entry.spent + entry.reserved >= entry.limit) {
        throw new AgentSecretError('check.failed', SESSION_ERRORS.noReads, {
          hint: entry.reserved > 0 ? 'the last reads are being delivered to other callers; create a new session if you need more' : 'create a new session with a higher --max-reads',
        });
      }
      const reservation = reservationFor(entry);
      return { session: infoOf(entry), values: entry.values, aliases: [...aliases], reservation };
    },

    list() {
      return table.live().sort((a, b) => a.expiresAt - b.expiresAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map(infoOf);
    },

    destroy(id) {
      table.live();
      const entry = table.get(id);
      if (entry === undefined) return false;
      table.drop(entry);
      return true;
    },

    destroyAll: () => table.dropAll(),
    sweep: () => void table.live(),
    size: () => table.size(),
    nextExpiry: () => table.nextExpiry(),
  };
}

function isReadCount(reads: number): boolean {
  return Number.isInteger(reads) && reads >= SESSION_BOUNDS.minReads && reads <= SESSION_BOUNDS.maxReads;
}

// The broker has validated all of this; a failure here is a bug in the caller, not user input.
function checkCreateInput(input: CreateSessionInput<unknown>): void {
  const problem = !isReadCount(input.maxReads)
    ? `maxReads must be ${SESSION_BOUNDS.minReads}..${SESSION_BOUNDS.maxReads}`
    : !Number.isSafeInteger(input.ttlSeconds) || input.ttlSeconds < 1
      ? 'ttlSeconds must be a positive whole number'
      : input.aliases.length === 0
        ? 'a session needs at least one alias'
        : input.binding.anchor.startTime === '' || input.binding.anchor.pid <= 1
          ? 'the binding anchor is not an eligible process'
          : null;
  if (problem !== null) throw new AgentSecretError('internal', `a session was created outside its bounds: ${problem}`);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function copyBinding(binding: SessionBinding): SessionBinding {
  const policy: BindingPolicy = binding.policy.mode === 'ancestor_name' ? { mode: 'ancestor_name', names: [...binding.policy.names] } : { ...binding.policy };
  return {
    policy,
    anchor: { ...binding.anchor },
    depth: binding.depth,
    ...(binding.matchedName === undefined ? {} : { matchedName: binding.matchedName }),
  };
}

function infoOf(entry: Entry<unknown>): SessionInfo {
  return Object.freeze({
    id: entry.id,
    reason: entry.reason,
    cwd: entry.cwd,
    aliases: Object.freeze([...entry.aliases]),
    overrideEnv: entry.overrideEnv,
    binding: Object.freeze(copyBinding(entry.binding)),
    createdAt: entry.createdAt,
    expiresAt: entry.expiresAt,
    maxReads: entry.limit,
    remainingReads: entry.limit - entry.spent,
    inFlightReads: entry.reserved,
  });
}

// An --only name the caller typed; short and printable in the message.
function printable(text: string): string {
  return clip(text, 64).replace(/[^\x20-\x7e…]/g, '?');
}
