// The agent token binding: which process of the caller's ancestry holds the token (pure), and the
// table's decisions (bind a free token to its holder, accept callers inside the bound tree, refuse
// others while the bound process lives, start fresh for a new token or a gone process).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAgentBindings, sameProcess, tokenHolder, tokenKey, type BindingHost } from '../../../src/broker/agent-binding.js';
import type { AncestryEntry } from '../../../src/platform/process-tree.js';

const ME = { uid: 501, gid: 20 };

let nextPid = 3000;
function proc(name: string, overrides: Partial<AncestryEntry> = {}): AncestryEntry {
  nextPid += 7;
  return { pid: nextPid, ppid: nextPid + 7, uid: ME.uid, gid: ME.gid, startTime: String(50_000 + nextPid), path: `/usr/bin/${name}`, name, ...overrides };
}

/** An ancestry whose entries hold the token where `holds` says 'T'. */
function tree(spec: string): { ancestry: AncestryEntry[]; holds: (entry: AncestryEntry) => boolean } {
  const ancestry = [...spec].map((c, i) => proc(i === 0 ? 'node' : `p${i}`, c === 'r' ? { uid: 0, gid: 0 } : c === 'i' ? { pid: 1 } : c === '?' ? { startTime: '' } : {}));
  const holding = new Set(ancestry.filter((_e, i) => spec[i] !== '-').map((e) => e));
  return { ancestry, holds: (entry) => holding.has(entry) };
}

describe('tokenHolder', () => {
  // 'T' holds the token, '-' does not; 'r' holds it but runs as root, 'i' is pid 1, '?' has no start time.
  it.each<[string, string, number]>([
    ['nobody holds it', '---', -1],
    ['only the requesting process', 'T--', 0],
    ['the requesting process and its parent', 'TT-', 1],
    ['an unbroken run of three', 'TTT-', 2],
    ['the whole ancestry', 'TTTT', 3],
    ['a gap ends the run: a holder above it does not count', 'TT-T', 1],
    ['the requesting process does not hold it: no holder, whoever above does', '-TTT', -1],
    ['another user ends the run', 'TTrT', 1],
    ['pid 1 ends the run', 'TTi', 1],
    ['an unknown start time ends the run', 'T?T', 0],
    ['an empty ancestry', '', -1],
  ])('%s (%s) → %i', (_name, spec, expected) => {
    const { ancestry, holds } = tree(spec);
    expect(tokenHolder(ancestry, ME, holds)).toBe(expected);
  });

  it('is the last index of the longest prefix of eligible holders', () => {
    const kind = fc.constantFrom('T', '-', 'r', 'i', '?');
    fc.assert(
      fc.property(fc.array(kind, { maxLength: 12 }), (kinds) => {
        const spec = kinds.join('');
        const { ancestry, holds } = tree(spec);
        const holder = tokenHolder(ancestry, ME, holds);
        const prefix = /^T*/.exec(spec)?.[0].length ?? 0;
        expect(holder).toBe(prefix - 1);
        // Asking stops at the first process that does not qualify.
        const asked: number[] = [];
        tokenHolder(ancestry, ME, (entry, index) => (asked.push(index), holds(entry)));
        expect(asked.every((index) => index <= prefix)).toBe(true);
      }),
    );
  });
});

describe('sameProcess', () => {
  it('is the same pid and start time, whatever the executable (an exec keeps the process)', () => {
    const a = proc('sh');
    expect(sameProcess(a, { ...a, path: '/usr/bin/sleep', name: 'sleep' })).toBe(true);
    expect(sameProcess(a, { ...a, startTime: `${a.startTime}1` })).toBe(false);
    expect(sameProcess(a, { ...a, pid: a.pid + 1 })).toBe(false);
    const blank = { ...a, startTime: '' };
    expect(sameProcess(blank, blank)).toBe(false);
  });
});

describe('the agent binding table', () => {
  const KEY = tokenKey('asagent_one');
  const alive = (live: AncestryEntry[]) => async (anchor: AncestryEntry) => live.some((p) => sameProcess(p, anchor));
  const host = (ancestry: AncestryEntry[], holder: number, live: AncestryEntry[] = ancestry): BindingHost => ({ ancestry, holder, alive: alive(live) });

  it('binds a free token to its holder; the holder’s tree is served, another tree refused while it lives', async () => {
    const table = createAgentBindings();
    const claude = proc('claude');
    const first = [proc('node'), proc('sh'), claude, proc('tmux')];
    expect(await table.check('builder', KEY, host(first, 2))).toEqual({ ok: true, boundTo: claude });
    expect(table.boundTo('builder')).toBe(claude);

    // Another process under claude: served, the binding unchanged.
    const again = [proc('node'), proc('bash'), claude, proc('tmux')];
    expect(await table.check('builder', KEY, host(again, 1))).toEqual({ ok: true, boundTo: claude });

    // The copied token from another tree: refused while claude lives.
    const other = [proc('node'), proc('zsh')];
    expect(await table.check('builder', KEY, host(other, 0, [claude]))).toEqual({ ok: false, anchor: claude });
    expect(await table.check('builder', KEY, host(other, 1, [claude]))).toEqual({ ok: false, anchor: claude });
    expect(table.boundTo('builder')).toBe(claude);

    // claude has exited: the token is free again and binds to the new holder.
    expect(await table.check('builder', KEY, host(other, 1, []))).toEqual({ ok: true, boundTo: other[1] });
  });

  it('a check without bind (before the decision) reads the table and never binds: a denied thief squats nothing', async () => {
    const table = createAgentBindings();
    const thief = [proc('node'), proc('sh'), proc('evil')];
    expect(await table.check('builder', KEY, host(thief, 2), false)).toEqual({ ok: true, boundTo: null });
    expect(table.boundTo('builder')).toBeNull();
    // The rightful holder, granted, binds; a later unbound check from the thief's tree is refused.
    const claude = proc('claude');
    const owner = [proc('node'), claude];
    expect(await table.check('builder', KEY, host(owner, 1), false)).toEqual({ ok: true, boundTo: null });
    expect(await table.check('builder', KEY, host(owner, 1), true)).toEqual({ ok: true, boundTo: claude });
    expect(await table.check('builder', KEY, host(thief, 2, [claude]), false)).toEqual({ ok: false, anchor: claude });
    expect(await table.check('builder', KEY, host(owner, 1), false)).toEqual({ ok: true, boundTo: claude });
  });

  it('a holder that is the requesting process itself binds nothing, and drops a gone binding', async () => {
    const table = createAgentBindings();
    expect(await table.check('builder', KEY, host([proc('node')], 0))).toEqual({ ok: true, boundTo: null });
    expect(await table.check('builder', KEY, host([proc('node'), proc('sh')], -1))).toEqual({ ok: true, boundTo: null });
    expect(table.size).toBe(0);
    const claude = proc('claude');
    await table.check('builder', KEY, host([proc('node'), claude], 1));
    expect(table.size).toBe(1);
    expect(await table.check('builder', KEY, host([proc('node')], 0, []))).toEqual({ ok: true, boundTo: null });
    expect(table.size).toBe(0);
  });

  it('a new token of the same agent (removed and added again) starts unbound', async () => {
    const table = createAgentBindings();
    const claude = proc('claude');
    await table.check('builder', KEY, host([proc('node'), claude], 1));
    const other = [proc('node'), proc('zsh')];
    expect((await table.check('builder', KEY, host(other, 0, [claude]))).ok).toBe(false);
    const fresh = tokenKey('asagent_two');
    expect(await table.check('builder', fresh, host(other, 0, [claude]))).toEqual({ ok: true, boundTo: null });
    expect(await table.check('builder', fresh, host(other, 1, [claude]))).toEqual({ ok: true, boundTo: other[1] });
    // The old token's binding is gone with it.
    expect((await table.check('builder', KEY, host([proc('node')], 0, [claude]))).ok).toBe(true);
  });

  it('agents are bound independently', async () => {
    const table = createAgentBindings();
    const a = proc('claude');
    const b = proc('codex');
    await table.check('a', KEY, host([proc('node'), a], 1));
    await table.check('b', tokenKey('asagent_b'), host([proc('node'), b], 1, [a, b]));
    expect(table.boundTo('a')).toBe(a);
    expect(table.boundTo('b')).toBe(b);
  });

  it('decides on the table as it is after the liveness read (a concurrent bind is not overwritten)', async () => {
    const table = createAgentBindings();
    const old = proc('claude');
    const newer = proc('codex');
    await table.check('builder', KEY, host([proc('node'), old], 1));
    let raced = false;
    const racing: BindingHost = {
      ancestry: [proc('node'), proc('zsh')],
      holder: 1,
      alive: async (anchor) => {
        if (!raced) {
          raced = true;
          // Meanwhile the old process exited and another request bound the token to `newer`.
          await table.check('builder', KEY, host([proc('node'), newer], 1, [newer]));
          return false;
        }
        return sameProcess(anchor, newer);
      },
    };
    expect(await table.check('builder', KEY, racing)).toEqual({ ok: false, anchor: newer });
    expect(table.boundTo('builder')).toBe(newer);
  });

  it('past 256 bindings, those whose process is gone are dropped', async () => {
    const table = createAgentBindings();
    const live: AncestryEntry[] = [];
    for (let i = 0; i < 257; i += 1) {
      const holder = proc(`agent${i}`);
      if (i % 2 === 0) live.push(holder);
      await table.check(`agent-${i}`, KEY, host([proc('node'), holder], 1, [...live, holder]));
    }
    expect(table.size).toBe(129);
  });
});
