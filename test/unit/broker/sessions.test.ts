import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import type { AncestryEntry } from '../../../src/platform/process-tree.js';
import {
  createSessionStore,
  parseMaxReads,
  SESSION_ERRORS,
  type CreateSessionInput,
  type SessionBinding,
  type SessionReservation,
  type SessionStoreOptions,
} from '../../../src/broker/sessions.js';

const CANARY = 'canary-session-value-7f3a';

interface Values {
  id: number;
  secret: string;
}

const ZSH: AncestryEntry = { pid: 4821, ppid: 4790, uid: 501, gid: 20, startTime: '39133', path: '/bin/zsh', name: 'zsh' };
const TMUX: AncestryEntry = { pid: 4790, ppid: 912, uid: 501, gid: 20, startTime: '38000', path: '/usr/bin/tmux', name: 'tmux' };
const BINDING: SessionBinding = { policy: { mode: 'auto' }, anchor: ZSH, depth: 1 };
const CWD = '/work/project';

function withSession(pid: number): AncestryEntry[] {
  return [{ pid, ppid: ZSH.pid, uid: 501, gid: 20, startTime: String(50_000 + pid), path: '/usr/bin/node', name: 'node' }, ZSH, TMUX];
}

function harness(extra: Partial<SessionStoreOptions<Values>> = {}) {
  let clock = 1_700_000_000_000;
  const dropped: Values[] = [];
  const store = createSessionStore<Values>({ now: () => clock, onDrop: (values) => dropped.push(values), ...extra });
  let nextValues = 0;
  const input = (overrides: Partial<CreateSessionInput<Values>> = {}): CreateSessionInput<Values> => ({
    ttlSeconds: 120,
    maxReads: 3,
    cwd: CWD,
    aliases: ['TOKEN_B', 'TOKEN_A'],
    reason: 'deploy the worker',
    overrideEnv: false,
    binding: BINDING,
    values: { id: (nextValues += 1), secret: CANARY },
    ...overrides,
  });
  return {
    store,
    dropped,
    input,
    advance: (ms: number) => {
      clock += ms;
    },
    now: () => clock,
  };
}

function caught(fn: () => unknown): AgentSecretError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AgentSecretError) return error;
    throw error;
  }
  throw new Error('expected an AgentSecretError');
}

describe('create', () => {
  it('returns an id, a token once, and a value-free snapshot', () => {
    const h = harness();
    const created = h.store.create(h.input({ aliases: ['TOKEN_B', 'TOKEN_A', 'TOKEN_B'] }));
    expect(created.id).toMatch(/^asid_[A-Za-z0-9_-]{16}$/);
    expect(created.token).toMatch(/^astok_[A-Za-z0-9_-]{43}$/);
    expect(created.session).toEqual({
      id: created.id,
      reason: 'deploy the worker',
      cwd: CWD,
      aliases: ['TOKEN_A', 'TOKEN_B'],
      overrideEnv: false,
      binding: BINDING,
      createdAt: h.now(),
      expiresAt: h.now() + 120_000,
      maxReads: 3,
      remainingReads: 3,
      inFlightReads: 0,
    });
    expect(Object.isFrozen(created.session)).toBe(true);
    expect(JSON.stringify(created.session)).not.toContain(CANARY);
  });

  it('takes 32 random bytes for the token and 12 for the id from the given source', () => {
    const sizes: number[] = [];
    const h = harness({ randomBytes: (size) => (sizes.push(size), Buffer.alloc(size, sizes.length)) });
    const created = h.store.create(h.input());
    expect(sizes).toEqual([12, 32]);
    expect(created.id).toBe(`asid_${Buffer.alloc(12, 1).toString('base64url')}`);
    expect(created.token).toBe(`astok_${Buffer.alloc(32, 2).toString('base64url')}`);
  });

  it('draws a new id when the first one is taken', () => {
    let call = 0;
    const h = harness({ randomBytes: (size) => Buffer.alloc(size, size === 12 ? Math.min((call += 1), 2) : call + 10) });
    const first = h.store.create(h.input());
    const second = h.store.create(h.input());
    expect(first.id).not.toBe(second.id);
    expect(h.store.size()).toBe(2);
  });

  it('copies the binding, so later changes to the caller object do not move the anchor', () => {
    const h = harness();
    const anchor = { ...ZSH };
    const policy = { mode: 'ancestor_name' as const, names: ['zsh'] };
    const created = h.store.create(h.input({ binding: { policy, anchor, depth: 1, matchedName: 'zsh' } }));
    anchor.pid = 1234;
    policy.names.push('bash');
    expect(created.session.binding).toEqual({ policy: { mode: 'ancestor_name', names: ['zsh'] }, anchor: ZSH, depth: 1, matchedName: 'zsh' });
    expect(() => h.store.resolve({ token: created.token, cwd: CWD, callerAncestry: withSession(5000) })).not.toThrow();
  });

  it.each<[string, Partial<CreateSessionInput<Values>>]>([
    ['maxReads 0', { maxReads: 0 }],
    ['maxReads 101', { maxReads: 101 }],
    ['a fractional maxReads', { maxReads: 1.5 }],
    ['ttl 0', { ttlSeconds: 0 }],
    ['a fractional ttl', { ttlSeconds: 0.5 }],
    ['no aliases', { aliases: [] }],
    ['an anchor without a start time', { binding: { ...BINDING, anchor: { ...ZSH, startTime: '' } } }],
    ['pid 1 as the anchor', { binding: { ...BINDING, anchor: { ...ZSH, pid: 1 } } }],
  ])('refuses %s and still drops the values it was given', (_name, overrides) => {
    const h = harness();
    const input = h.input(overrides);
    const error = caught(() => h.store.create(input));
    expect(error.code).toBe('internal');
    expect(h.dropped).toEqual([input.values]);
    expect(h.store.size()).toBe(0);
  });
});

describe('resolve', () => {
  it('hands out the values and every alias to a bound caller in the session directory', () => {
    const h = harness();
    const input = h.input();
    const { token, id } = h.store.create(input);
    const resolved = h.store.resolve({ token, cwd: CWD, callerAncestry: withSession(5000) });
    expect(resolved.values).toBe(input.values);
    expect(resolved.aliases).toEqual(['TOKEN_A', 'TOKEN_B']);
    expect(resolved.session).toMatchObject({ id, remainingReads: 3, inFlightReads: 1 });
    expect(resolved.reservation.sessionId).toBe(id);
  });

  it('narrows to --only, sorted and distinct', () => {
    const h = harness();
    const { token } = h.store.create(h.input({ aliases: ['C', 'A', 'B'] }));
    expect(h.store.resolve({ token, cwd: CWD, callerAncestry: withSession(5000), only: ['C', 'A', 'C'] }).aliases).toEqual(['A', 'C']);
  });

  it.each<[string, string[], RegExp]>([
    ['an alias the session lacks', ['TOKEN_A', 'OTHER'], /^the session has no approved alias "OTHER"; approved: TOKEN_A, TOKEN_B$/],
    ['an empty list', [], /^the session has no approved alias \(none given\); approved: TOKEN_A, TOKEN_B$/],
    ['a hostile name', ['X\u001b[2J'], /^the session has no approved alias "X\?\[2J"/],
  ])('refuses --only with %s before reserving a read', (_name, only, message) => {
    const h = harness();
    const { token } = h.store.create(h.input({ maxReads: 1 }));
    const error = caught(() => h.store.resolve({ token, cwd: CWD, callerAncestry: withSession(5000), only }));
    expect(error.code).toBe('usage.invalid');
    expect(error.message).toMatch(message);
    expect(h.store.resolve({ token, cwd: CWD, callerAncestry: withSession(5000) }).aliases).toHaveLength(2);
  });

  it.each<[string, (token: string, id: string) => string]>([
    ['a token never issued', () => `astok_${'A'.repeat(43)}`],
    ['the token with one character changed', (token) => `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`],
    ['the session id instead of the token', (_token, id) => id],
    ['the token hash', (token) => createHash('sha256').update(token).digest('hex')],
    ['an empty string', () => ''],
    ['the token with a newline', (token) => `${token}\n`],
  ])('refuses %s as unknown', (_name, wrong) => {
    const h = harness();
    const { token, id } = h.store.create(h.input());
    const error = caught(() => h.store.resolve({ token: wrong(token, id), cwd: CWD, callerAncestry: withSession(5000) }));
    expect(error.code).toBe('check.failed');
    expect(error.message).toBe(SESSION_ERRORS.unknownToken);
    expect(`${error.message}${error.hint ?? ''}`).not.toContain(token);
  });

  it('refuses an expired session as unknown and drops it at its expiry, not before', () => {
    const h = harness();
    const input = h.input();
    const { token } = h.store.create(input);
    h.advance(119_999);
    expect(() => h.store.resolve({ token, cwd: CWD, callerAncestry: withSession(5000) }).reservation.release()).not.toThrow();
    expect(h.dropped).toEqual([]);
    h.advance(1);
    expect(caught(() => h.store.resolve({ token, cwd: CWD, callerAncestry: withSession(5000) })).message).toBe(SESSION_ERRORS.unknownToken);
    expect(h.dropped).toEqual([input.values]);
  });

  it('refuses another directory, naming the session directory', () => {
    const h = harness();
    const { token } = h.store.create(h.input());
    for (const cwd of ['/work/project/sub', '/work/project/', '/work', '/Work/project']) {
      const error = caught(() => h.store.resolve({ token, cwd, callerAncestry: withSession(5000) }));
      expect(error.code).toBe('check.failed');
      expect(error.message).toBe(`${SESSION_ERRORS.wrongCwd}: /work/project`);
    }
  });

  it('refuses a caller outside the bound tree, naming the anchor process', () => {
    const h = harness();
    const { token } = h.store.create(h.input());
    const detached: AncestryEntry[] = [
      { pid: 7000, ppid: 1, uid: 501, gid: 20, startTime: '70000', path: '/usr/bin/node', name: 'node' },
      { pid: 1, ppid: 0, uid: 0, gid: 0, startTime: '1', path: '/sbin/launchd', name: 'launchd' },
    ];
    const reused = [withSession(5000)[0] as AncestryEntry, { ...ZSH, startTime: '99999' }, TMUX];
    for (const callerAncestry of [detached, reused, []]) {
      const error = caught(() => h.store.resolve({ token, cwd: CWD, callerAncestry }));
      expect(error.code).toBe('check.failed');
      expect(error.message).toBe(`${SESSION_ERRORS.notBound}: zsh (pid 4821, /bin/zsh)`);
      expect(error.hint).toMatch(/--bind-parent, --bind-ancestor N or --bind-ancestor-name NAME/);
    }
  });

  it('checks token, then cwd, then binding, then aliases, then reads', () => {
    const h = harness();
    const { token } = h.store.create(h.input({ maxReads: 1 }));
    const held = h.store.resolve({ token, cwd: CWD, callerAncestry: withSession(5000) });
    const all = { token, cwd: '/elsewhere', callerAncestry: [] as AncestryEntry[], only: ['NOPE'] };
    expect(caught(() => h.store.resolve({ ...all, token: 'astok_x' })).message).toBe(SESSION_ERRORS.unknownToken);
    expect(caught(() => h.store.resolve(all)).message).toMatch(SESSION_ERRORS.wrongCwd);
    expect(caught(() => h.store.resolve({ ...all, cwd: CWD })).message).toMatch(SESSION_ERRORS.notBound);
    expect(caught(() => h.store.resolve({ ...all, cwd: CWD, callerAncestry: withSession(6000) })).message).toMatch(SESSION_ERRORS.noAlias);
    expect(caught(() => h.store.resolve({ token, cwd: CWD, callerAncestry: withSession(6000) })).message).toBe(SESSION_ERRORS.noReads);
    held.reservation.release();
  });
});

describe('reads and reservations', () => {
  const resolveOnce = (h: ReturnType<typeof harness>, token: string) => h.store.resolve({ token, cwd: CWD, callerAncestry: withSession(5000) });

  it('spends a read only on commit, and drops the session after the last one', () => {
    const h = harness();
    const input = h.input({ maxReads: 2 });
    const { token, id } = h.store.create(input);
    resolveOnce(h, token).reservation.commit();
    expect(h.store.list()).toEqual([expect.objectContaining({ id, remainingReads: 1, inFlightReads: 0 })]);
    resolveOnce(h, token).reservation.release();
    expect(h.store.list()[0]?.remainingReads).toBe(1);
    resolveOnce(h, token).reservation.commit();
    expect(h.dropped).toEqual([input.values]);
    expect(h.store.list()).toEqual([]);
    expect(caught(() => resolveOnce(h, token)).message).toBe(SESSION_ERRORS.unknownToken);
  });

  it('counts in-flight reads against the limit, and a release gives the read back', () => {
    const h = harness();
    const { token } = h.store.create(h.input({ maxReads: 1 }));
    const first = resolveOnce(h, token);
    const error = caught(() => resolveOnce(h, token));
    expect(error.message).toBe(SESSION_ERRORS.noReads);
    expect(error.hint).toMatch(/being delivered/);
    first.reservation.release();
    const second = resolveOnce(h, token);
    second.reservation.commit();
    expect(h.store.size()).toBe(0);
  });

  it('settles a reservation once: the first of commit and release wins', () => {
    const h = harness();
    const { token } = h.store.create(h.input({ maxReads: 3 }));
    const a = resolveOnce(h, token).reservation;
    a.commit();
    a.commit();
    a.release();
    const b = resolveOnce(h, token).reservation;
    b.release();
    b.commit();
    expect(h.store.list()[0]).toMatchObject({ remainingReads: 2, inFlightReads: 0 });
  });

  it('says live() until settled, destroyed or expired', () => {
    const h = harness();
    const { token, id } = h.store.create(h.input({ maxReads: 5 }));
    const committed = resolveOnce(h, token).reservation;
    expect(committed.live()).toBe(true);
    committed.commit();
    expect(committed.live()).toBe(false);
    const expiring = resolveOnce(h, token).reservation;
    h.advance(120_000);
    expect(expiring.live()).toBe(false);
    h.advance(-1);
    const destroyed = resolveOnce(h, token).reservation;
    h.store.destroy(id);
    expect(destroyed.live()).toBe(false);
    destroyed.commit();
    expiring.release();
    expect(h.dropped).toHaveLength(1);
  });
});

describe('list, destroy, destroyAll, size, nextExpiry, timer', () => {
  it('lists live sessions by expiry then id, pruning expired ones, without tokens or values', () => {
    const h = harness();
    const late = h.store.create(h.input({ ttlSeconds: 300 }));
    const early = h.store.create(h.input({ ttlSeconds: 60, overrideEnv: true }));
    const gone = h.store.create(h.input({ ttlSeconds: 10 }));
    h.advance(10_000);
    const listed = h.store.list();
    expect(listed.map((s) => s.id)).toEqual([early.id, late.id]);
    expect(listed[0]?.overrideEnv).toBe(true);
    const text = `${JSON.stringify(listed)} ${inspect(listed, { depth: 9 })} ${inspect(h.store, { depth: 9 })}`;
    for (const token of [late.token, early.token, gone.token]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(createHash('sha256').update(token).digest('hex'));
    }
    expect(text).not.toContain(CANARY);
    expect(h.dropped).toHaveLength(1);
  });

  it('destroys one session by id, once', () => {
    const h = harness();
    const keep = h.store.create(h.input());
    const input = h.input();
    const doomed = h.store.create(input);
    expect(h.store.destroy(doomed.id)).toBe(true);
    expect(h.dropped).toEqual([input.values]);
    expect(h.store.destroy(doomed.id)).toBe(false);
    expect(h.store.destroy('asid_unknown')).toBe(false);
    expect(caught(() => h.store.resolve({ token: doomed.token, cwd: CWD, callerAncestry: withSession(5000) })).message).toBe(SESSION_ERRORS.unknownToken);
    expect(h.store.list().map((s) => s.id)).toEqual([keep.id]);
    expect(h.dropped).toHaveLength(1);
  });

  it('destroys all live sessions and counts them', () => {
    const h = harness();
    h.store.create(h.input());
    h.store.create(h.input());
    h.store.create(h.input({ ttlSeconds: 10 }));
    h.advance(10_000);
    expect(h.store.destroyAll()).toBe(2);
    expect(h.dropped.map((v) => v.id).sort()).toEqual([1, 2, 3]);
    expect(h.store.destroyAll()).toBe(0);
    expect(h.store.size()).toBe(0);
  });

  it('reports the earliest expiry and sweeps on demand', () => {
    const h = harness();
    expect(h.store.nextExpiry()).toBeNull();
    h.store.create(h.input({ ttlSeconds: 30 }));
    h.store.create(h.input({ ttlSeconds: 20 }));
    expect(h.store.nextExpiry()).toBe(h.now() + 20_000);
    h.advance(20_000);
    h.store.sweep();
    expect(h.dropped).toHaveLength(1);
    expect(h.store.nextExpiry()).toBe(h.now() + 10_000);
    expect(h.store.size()).toBe(1);
  });

  it('with a timer source, drops sessions at their expiry without a lookup', () => {
    const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
    const h = harness({
      setTimer: (fn, ms) => {
        const timer = { fn, ms, cleared: false };
        timers.push(timer);
        return { clear: () => void (timer.cleared = true) };
      },
    });
    h.store.create(h.input({ ttlSeconds: 30 }));
    h.store.create(h.input({ ttlSeconds: 20 }));
    const armed = timers.filter((t) => !t.cleared);
    expect(armed.map((t) => t.ms)).toEqual([20_000]);
    h.advance(20_000);
    armed[0]?.fn();
    expect(h.dropped.map((v) => v.id)).toEqual([2]);
    expect(timers.filter((t) => !t.cleared).at(-1)?.ms).toBe(10_000);
  });
});

describe('parseMaxReads', () => {
  it.each<[string | undefined, number]>([
    [undefined, 1],
    ['1', 1],
    [' 42 ', 42],
    ['100', 100],
    ['007', 7],
  ])('accepts %j', (text, expected) => {
    expect(parseMaxReads(text)).toBe(expected);
  });

  it.each(['0', '101', '-1', '1.5', '', 'ten', '1e2', '0x10', '99999'])('refuses %j as a usage error', (text) => {
    const error = caught(() => parseMaxReads(text));
    expect(error.code).toBe('usage.invalid');
    expect(error.message).toBe('--max-reads must be a whole number between 1 and 100');
  });
});

// --- properties ---------------------------------------------------------------------------

type Op = { kind: 'resolve' } | { kind: 'commit'; index: number } | { kind: 'release'; index: number } | { kind: 'tick'; ms: number } | { kind: 'list' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Op>({ kind: 'resolve' }) },
  { weight: 3, arbitrary: fc.nat({ max: 200 }).map((index): Op => ({ kind: 'commit', index })) },
  { weight: 2, arbitrary: fc.nat({ max: 200 }).map((index): Op => ({ kind: 'release', index })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 20_000 }).map((ms): Op => ({ kind: 'tick', ms })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'list' }) },
);

describe('properties', () => {
  it('interleaved resolves, commits and releases never exceed maxReads, and values drop exactly once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 10, max: 600 }), fc.array(opArb, { maxLength: 300 }), (maxReads, ttlSeconds, ops) => {
        const h = harness();
        const input = h.input({ maxReads, ttlSeconds });
        const { token } = h.store.create(input);
        const outstanding: SessionReservation[] = [];
        let committed = 0;
        let granted = 0;
        let released = 0;
        for (const op of ops) {
          if (op.kind === 'resolve') {
            try {
              outstanding.push(h.store.resolve({ token, cwd: CWD, callerAncestry: withSession(5000) }).reservation);
              granted += 1;
            } catch (error) {
              expect([SESSION_ERRORS.noReads, SESSION_ERRORS.unknownToken]).toContain((error as AgentSecretError).message);
            }
          } else if (op.kind === 'tick') {
            h.advance(op.ms);
          } else if (op.kind === 'list') {
            h.store.list();
          } else if (outstanding.length > 0) {
            const [reservation] = outstanding.splice(op.index % outstanding.length, 1) as [SessionReservation];
            if (op.kind === 'commit') {
              reservation.commit();
              committed += 1;
            } else {
              reservation.release();
              released += 1;
            }
          }
          // The invariant: reads delivered or in flight never exceed the limit.
          expect(committed).toBeLessThanOrEqual(maxReads);
          expect(committed + outstanding.length).toBeLessThanOrEqual(maxReads);
          expect(granted - released).toBeLessThanOrEqual(maxReads);
          expect(h.dropped.length).toBeLessThanOrEqual(1);
          if (committed === maxReads) expect(h.dropped).toEqual([input.values]);
        }
        for (const reservation of outstanding) reservation.release();
        h.store.destroyAll();
        expect(h.dropped).toEqual([input.values]);
      }),
    );
  });

  it('no token, token hash or value ever appears in list(), whatever the sessions', () => {
    const aliasArb = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/);
    fc.assert(
      fc.property(
        fc.array(fc.record({ ttlSeconds: fc.integer({ min: 10, max: 600 }), maxReads: fc.integer({ min: 1, max: 100 }), aliases: fc.array(aliasArb, { minLength: 1, maxLength: 5 }), reason: fc.string() }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 10 }),
        (specs, reads) => {
          const h = harness();
          const created = specs.map((spec) => h.store.create(h.input(spec)));
          for (const index of reads) {
            const session = created[index % created.length];
            if (session === undefined) continue;
            try {
              h.store.resolve({ token: session.token, cwd: CWD, callerAncestry: withSession(5000) }).reservation.commit();
            } catch {
              // exhausted: fine
            }
          }
          const text = `${JSON.stringify(h.store.list())}${inspect(h.store.list(), { depth: 9 })}`;
          for (const { token } of created) {
            expect(text).not.toContain(token);
            expect(text).not.toContain(token.slice('astok_'.length));
            expect(text).not.toContain(createHash('sha256').update(token).digest('hex'));
          }
          expect(text).not.toContain(CANARY);
        },
      ),
    );
  });

  it('each token opens its own session and no other', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.nat(), (count, pick) => {
        const h = harness();
        const created = Array.from({ length: count }, () => h.store.create(h.input({ maxReads: 100 })));
        const chosen = created[pick % count] as (typeof created)[number];
        const resolved = h.store.resolve({ token: chosen.token, cwd: CWD, callerAncestry: withSession(5000) });
        expect(resolved.session.id).toBe(chosen.id);
        resolved.reservation.release();
      }),
    );
  });

  it('a caller whose ancestry lacks the exact anchor is refused; with it, accepted', () => {
    const entryArb: fc.Arbitrary<AncestryEntry> = fc.record({
      pid: fc.constantFrom(ZSH.pid, TMUX.pid, 1, 5000),
      ppid: fc.nat({ max: 5000 }),
      uid: fc.constantFrom(501, 0),
      gid: fc.constantFrom(20, 0),
      startTime: fc.constantFrom(ZSH.startTime, TMUX.startTime, '1'),
      path: fc.constantFrom(ZSH.path, TMUX.path, null),
      name: fc.constantFrom('zsh', 'tmux', 'node'),
    });
    const isAnchor = (e: AncestryEntry) => e.pid === ZSH.pid && e.uid === ZSH.uid && e.gid === ZSH.gid && e.startTime === ZSH.startTime && e.path === ZSH.path;
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 10 }), fc.nat(), (ancestry, at) => {
        const h = harness();
        const { token } = h.store.create(h.input({ maxReads: 100 }));
        const outside = ancestry.filter((e) => !isAnchor(e));
        const error = caught(() => h.store.resolve({ token, cwd: CWD, callerAncestry: outside }));
        expect(error.message).toBe(`${SESSION_ERRORS.notBound}: zsh (pid 4821, /bin/zsh)`);
        const inside = [...outside];
        inside.splice(at % (inside.length + 1), 0, { ...ZSH });
        h.store.resolve({ token, cwd: CWD, callerAncestry: inside }).reservation.release();
      }),
    );
  });
});
