import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import type { BindingPolicy } from '../../../src/core/session-bind.js';
import { chooseAnchor, describeProcess, ineligibility, isBoundCaller, parseBindingFlags, type BindingFlags } from '../../../src/broker/binding.js';
import type { AncestryEntry } from '../../../src/platform/process-tree.js';

const ME = { uid: 501, gid: 20 };

let nextPid = 1000;
function proc(name: string, overrides: Partial<AncestryEntry> = {}): AncestryEntry {
  nextPid += 7;
  const path = overrides.path === undefined ? `/usr/bin/${name}` : overrides.path;
  return { pid: nextPid, ppid: nextPid + 7, uid: ME.uid, gid: ME.gid, startTime: String(40_000 + nextPid), path, name, ...overrides };
}

/** Links the entries so each one's ppid is the next one's pid, as a real walk would. */
function chain(...entries: AncestryEntry[]): AncestryEntry[] {
  return entries.map((entry, index) => ({ ...entry, ppid: entries[index + 1]?.pid ?? 1 }));
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

describe('parseBindingFlags', () => {
  it.each<[string, BindingFlags, BindingPolicy | undefined, BindingPolicy]>([
    ['no flag and no profile: auto', {}, undefined, { mode: 'auto' }],
    ['no flag: the profile', {}, { mode: 'ancestor', depth: 2 }, { mode: 'ancestor', depth: 2 }],
    ['--bind-parent', { bindParent: true }, undefined, { mode: 'ancestor', depth: 1 }],
    ['--bind-parent over the profile', { bindParent: true }, { mode: 'ancestor_name', names: ['zsh'] }, { mode: 'ancestor', depth: 1 }],
    ['--bind-parent=false is no flag', { bindParent: false }, { mode: 'ancestor', depth: 3 }, { mode: 'ancestor', depth: 3 }],
    ['--bind-ancestor 1', { bindAncestor: '1' }, undefined, { mode: 'ancestor', depth: 1 }],
    ['--bind-ancestor 3', { bindAncestor: '3' }, { mode: 'auto' }, { mode: 'ancestor', depth: 3 }],
    ['--bind-ancestor " 2 "', { bindAncestor: ' 2 ' }, undefined, { mode: 'ancestor', depth: 2 }],
    ['one name', { bindAncestorName: ['zsh'] }, undefined, { mode: 'ancestor_name', names: ['zsh'] }],
    ['names trimmed, duplicates collapsed, order kept', { bindAncestorName: [' tmux', 'zsh ', 'tmux'] }, undefined, { mode: 'ancestor_name', names: ['tmux', 'zsh'] }],
    ['an empty name list is no flag', { bindAncestorName: [] }, undefined, { mode: 'auto' }],
    ['a name with spaces inside', { bindAncestorName: ['Visual Studio Code'] }, undefined, { mode: 'ancestor_name', names: ['Visual Studio Code'] }],
    ['a 128-byte name', { bindAncestorName: ['é'.repeat(64)] }, undefined, { mode: 'ancestor_name', names: ['é'.repeat(64)] }],
  ])('%s', (_name, flags, profile, expected) => {
    expect(parseBindingFlags(flags, profile)).toEqual(expected);
  });

  it('accepts 16 distinct names, and 17 that collapse to 16', () => {
    const sixteen = Array.from({ length: 16 }, (_, i) => `p${i}`);
    expect(parseBindingFlags({ bindAncestorName: sixteen })).toEqual({ mode: 'ancestor_name', names: sixteen });
    expect(parseBindingFlags({ bindAncestorName: [...sixteen, 'p0'] })).toEqual({ mode: 'ancestor_name', names: sixteen });
  });

  it.each<[string, BindingFlags, RegExp]>([
    ['--bind-parent with --bind-ancestor', { bindParent: true, bindAncestor: '1' }, /use only one session binding flag/],
    ['--bind-parent with --bind-ancestor-name', { bindParent: true, bindAncestorName: ['zsh'] }, /use only one session binding flag/],
    ['--bind-ancestor with --bind-ancestor-name', { bindAncestor: '2', bindAncestorName: ['zsh'] }, /use only one session binding flag/],
    ['depth 0', { bindAncestor: '0' }, /--bind-ancestor: ancestor depth must be a whole number between 1 and 3/],
    ['depth 4', { bindAncestor: '4' }, /between 1 and 3/],
    ['a negative depth', { bindAncestor: '-1' }, /between 1 and 3/],
    ['a fractional depth', { bindAncestor: '1.5' }, /between 1 and 3/],
    ['an empty depth', { bindAncestor: '' }, /between 1 and 3/],
    ['a word', { bindAncestor: 'two' }, /between 1 and 3/],
    ['a hex depth', { bindAncestor: '0x2' }, /between 1 and 3/],
    ['an empty name', { bindAncestorName: ['zsh', ''] }, /--bind-ancestor-name: ancestor name 2 is empty/],
    ['a blank name', { bindAncestorName: ['   '] }, /ancestor name 1 is empty/],
    ['a path', { bindAncestorName: ['/bin/zsh'] }, /contains '\/'/],
    ['.', { bindAncestorName: ['.'] }, /is '\.' or '\.\.'/],
    ['..', { bindAncestorName: [' .. '] }, /is '\.' or '\.\.'/],
    ['a NUL', { bindAncestorName: ['zs\0h'] }, /NUL/],
    ['a 129-byte name', { bindAncestorName: [`${'é'.repeat(64)}x`] }, /longer than 128 bytes/],
    ['17 distinct names', { bindAncestorName: Array.from({ length: 17 }, (_, i) => `p${i}`) }, /at most 16 ancestor names/],
  ])('refuses %s as a usage error', (_name, flags, message) => {
    const error = caught(() => parseBindingFlags(flags));
    expect(error.code).toBe('usage.invalid');
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(message);
  });

  it('never echoes a rejected name', () => {
    const error = caught(() => parseBindingFlags({ bindAncestorName: ['SECRETish/name'] }));
    expect(`${error.message} ${error.hint ?? ''}`).not.toContain('SECRETish');
  });
});

describe('ineligibility', () => {
  it.each<[string, Partial<AncestryEntry>, string | null]>([
    ['an ordinary process of ours', {}, null],
    ['pid 1', { pid: 1 }, 'the init process'],
    ['pid 0', { pid: 0 }, 'the init process'],
    ['another uid', { uid: 0 }, 'another user or group'],
    ['another gid', { gid: 0 }, 'another user or group'],
    ['no start time', { startTime: '' }, 'start time unknown'],
    ['launchd by name', { name: 'launchd', path: null }, 'launchd'],
    ['launchd by path', { name: 'x', path: '/sbin/launchd' }, 'launchd'],
  ])('%s', (_name, overrides, expected) => {
    expect(ineligibility(proc('zsh', overrides), ME)).toBe(expected);
  });
});

describe('chooseAnchor: auto', () => {
  it('binds to the parent of the creator', () => {
    const ancestry = chain(proc('node'), proc('zsh'), proc('tmux'));
    expect(chooseAnchor({ mode: 'auto' }, ancestry, ME)).toEqual({ anchor: ancestry[1], depth: 1 });
  });

  it('walks up over nested shells of the same executable to the outermost', () => {
    const ancestry = chain(proc('node'), proc('zsh'), proc('zsh'), proc('zsh'), proc('Terminal'));
    expect(chooseAnchor({ mode: 'auto' }, ancestry, ME)).toEqual({ anchor: ancestry[3], depth: 3 });
  });

  it('does not treat the same name at another path as the same executable', () => {
    const ancestry = chain(proc('node'), proc('zsh', { path: '/opt/homebrew/bin/zsh' }), proc('zsh', { path: '/bin/zsh' }));
    expect(chooseAnchor({ mode: 'auto' }, ancestry, ME).depth).toBe(1);
  });

  it('does not treat two unknown paths as the same executable', () => {
    const ancestry = chain(proc('node'), proc('-zsh', { path: null }), proc('-zsh', { path: null }));
    expect(chooseAnchor({ mode: 'auto' }, ancestry, ME).depth).toBe(1);
  });

  it('stops the run at a process that is not eligible, even if a same-executable one follows', () => {
    const ancestry = chain(proc('node'), proc('zsh'), proc('zsh', { uid: 0 }), proc('zsh'));
    expect(chooseAnchor({ mode: 'auto' }, ancestry, ME).depth).toBe(1);
  });

  it('skips ineligible ancestors to the nearest eligible one', () => {
    const ancestry = chain(proc('node'), proc('sudo', { uid: 0 }), proc('zsh', { startTime: '' }), proc('bash'));
    expect(chooseAnchor({ mode: 'auto' }, ancestry, ME)).toEqual({ anchor: ancestry[3], depth: 3 });
  });

  it('never binds to the creator itself', () => {
    const ancestry = chain(proc('zsh'), proc('launchd', { pid: 1, uid: 0, gid: 0, path: '/sbin/launchd' }));
    const error = caught(() => chooseAnchor({ mode: 'auto' }, ancestry, ME));
    expect(error.code).toBe('check.failed');
    expect(error.message).toMatch(/^session create found no stable parent process to bind the session to; nearest ancestors: 1: launchd \(pid 1, the init process\)$/);
    expect(error.hint).toMatch(/--bind-parent, --bind-ancestor N \(1-3\) or --bind-ancestor-name NAME/);
  });

  it.each([
    ['nothing', []],
    ['only the creator', [proc('node')]],
  ])('fails with %s read', (_name, ancestry) => {
    const error = caught(() => chooseAnchor({ mode: 'auto' }, ancestry, ME));
    expect(error.code).toBe('check.failed');
    expect(error.message).toContain('no ancestor could be read');
  });
});

describe('chooseAnchor: ancestor N', () => {
  const ancestry = chain(proc('node'), proc('zsh'), proc('zsh'), proc('tmux'));

  it.each([1, 2, 3] as const)('binds to exactly depth %i, without skipping nested shells', (depth) => {
    expect(chooseAnchor({ mode: 'ancestor', depth }, ancestry, ME)).toEqual({ anchor: ancestry[depth], depth });
  });

  it('fails when the ancestry is shorter than the depth', () => {
    const error = caught(() => chooseAnchor({ mode: 'ancestor', depth: 3 }, ancestry.slice(0, 3), ME));
    expect(error.code).toBe('check.failed');
    expect(error.message).toMatch(/^no process at ancestor depth 3 to bind the session to; nearest ancestors: 1: zsh \(pid \d+\), 2: zsh \(pid \d+\)$/);
  });

  it.each<[string, Partial<AncestryEntry>, string]>([
    ['another user', { uid: 0 }, 'another user or group'],
    ['an unknown start time', { startTime: '' }, 'start time unknown'],
    ['launchd', { name: 'launchd', path: '/sbin/launchd' }, 'launchd'],
    ['pid 1', { pid: 1 }, 'the init process'],
  ])('fails when the process at that depth is %s', (_name, overrides, why) => {
    const bad = chain(proc('node'), proc('zsh', overrides), proc('tmux'));
    const error = caught(() => chooseAnchor({ mode: 'ancestor', depth: 1 }, bad, ME));
    expect(error.code).toBe('check.failed');
    expect(error.message).toContain(`cannot anchor a session: ${why}`);
    expect(error.message).toContain(`nearest ancestors: 1: ${bad[1]?.name} (pid ${bad[1]?.pid}, ${why}), 2: tmux`);
  });
});

describe('chooseAnchor: ancestor_name', () => {
  const ancestry = chain(proc('node'), proc('bash'), proc('zsh'), proc('tmux'), proc('zsh'));

  it('binds to the nearest ancestor with a listed name, and says which name matched', () => {
    expect(chooseAnchor({ mode: 'ancestor_name', names: ['tmux', 'zsh'] }, ancestry, ME)).toEqual({ anchor: ancestry[2], depth: 2, matchedName: 'zsh' });
    expect(chooseAnchor({ mode: 'ancestor_name', names: ['tmux'] }, ancestry, ME)).toEqual({ anchor: ancestry[3], depth: 3, matchedName: 'tmux' });
  });

  it('matches exactly and case-sensitively', () => {
    expect(() => chooseAnchor({ mode: 'ancestor_name', names: ['ZSH', 'zs', 'tmux2'] }, ancestry, ME)).toThrow(/no ancestor process is named ZSH, zs, tmux2/);
  });

  it('never matches the creator itself', () => {
    expect(() => chooseAnchor({ mode: 'ancestor_name', names: ['node'] }, ancestry, ME)).toThrow(AgentSecretError);
  });

  it('counts a login shell -zsh as zsh', () => {
    const login = chain(proc('node'), proc('-zsh', { path: null }));
    expect(chooseAnchor({ mode: 'ancestor_name', names: ['zsh'] }, login, ME)).toMatchObject({ depth: 1, matchedName: 'zsh' });
  });

  it('matches the basename of the path when the name differs', () => {
    const renamed = chain(proc('node'), proc('claude', { path: '/usr/local/bin/node' }));
    expect(chooseAnchor({ mode: 'ancestor_name', names: ['node'] }, renamed, ME)).toMatchObject({ depth: 1, matchedName: 'node' });
  });

  it('skips a matching ancestor that is not eligible for a farther one that is', () => {
    const mixed = chain(proc('node'), proc('zsh', { uid: 0 }), proc('zsh'));
    expect(chooseAnchor({ mode: 'ancestor_name', names: ['zsh'] }, mixed, ME)).toMatchObject({ depth: 2 });
  });

  it('names the ineligible match when it is the only one', () => {
    const mixed = chain(proc('node'), proc('bash'), proc('zsh', { gid: 0 }));
    const error = caught(() => chooseAnchor({ mode: 'ancestor_name', names: ['zsh'] }, mixed, ME));
    expect(error.code).toBe('check.failed');
    expect(error.message).toMatch(/^no eligible ancestor process is named zsh \(zsh \(pid \d+, \/usr\/bin\/zsh\): another user or group\); nearest ancestors: 1: bash/);
  });

  it('shows hostile names and paths with control characters replaced', () => {
    const hostile = chain(proc('node'), proc('ev\u001b[2Jil', { path: '/tmp/\u202eevil' }));
    const error = caught(() => chooseAnchor({ mode: 'ancestor_name', names: ['x\u001by'] }, hostile, ME));
    // eslint-disable-next-line no-control-regex
    expect(error.message).not.toMatch(/[\u0000-\u001f\u202e]/);
    expect(error.message).toContain('ev?[2Jil');
    expect(describeProcess(hostile[1] as AncestryEntry)).toBe(`ev?[2Jil (pid ${hostile[1]?.pid}, /tmp/?evil)`);
  });
});

describe('isBoundCaller', () => {
  const creator = chain(proc('node'), proc('zsh'), proc('tmux'));
  const anchor = creator[1] as AncestryEntry;

  it('accepts a caller whose ancestry contains the anchor', () => {
    const caller = [proc('node'), proc('bash'), ...creator.slice(1)];
    expect(isBoundCaller(anchor, caller)).toBe(true);
  });

  it('accepts a partial walk that already reached the anchor', () => {
    expect(isBoundCaller(anchor, [proc('node'), anchor])).toBe(true);
  });

  it.each<[string, Partial<AncestryEntry>]>([
    ['a reused pid (other start time)', { startTime: 'later' }],
    ['another executable at the same pid', { path: '/usr/bin/bash' }],
    ['an unknown path', { path: null }],
    ['another uid', { uid: 0 }],
    ['another gid', { gid: 0 }],
    ['another pid', { pid: anchor.pid + 1 }],
  ])('refuses %s', (_name, change) => {
    expect(isBoundCaller(anchor, [proc('node'), { ...anchor, ...change }, ...creator.slice(2)])).toBe(false);
  });

  it('refuses a caller outside the tree (a detached job of the same user)', () => {
    expect(isBoundCaller(anchor, chain(proc('node'), proc('launchd', { pid: 1, uid: 0, gid: 0 })))).toBe(false);
    expect(isBoundCaller(anchor, [])).toBe(false);
  });

  it('refuses everything when the anchor has no start time', () => {
    const blank = { ...anchor, startTime: '' };
    expect(isBoundCaller(blank, [proc('node'), blank])).toBe(false);
  });
});

// Random ancestries drawn from a small pool so that names, paths, pids and ids collide often.
const entryArb: fc.Arbitrary<AncestryEntry> = fc.record({
  pid: fc.integer({ min: 0, max: 12 }),
  ppid: fc.integer({ min: 0, max: 12 }),
  uid: fc.constantFrom(ME.uid, 0),
  gid: fc.constantFrom(ME.gid, 0),
  startTime: fc.constantFrom('', '100', '200'),
  path: fc.constantFrom(null, '/bin/zsh', '/usr/bin/bash', '/sbin/launchd', '/usr/bin/tmux'),
  name: fc.constantFrom('zsh', 'bash', '-zsh', 'launchd', 'tmux', 'node'),
});
const policyArb: fc.Arbitrary<BindingPolicy> = fc.oneof(
  fc.constant<BindingPolicy>({ mode: 'auto' }),
  fc.constantFrom<BindingPolicy>({ mode: 'ancestor', depth: 1 }, { mode: 'ancestor', depth: 2 }, { mode: 'ancestor', depth: 3 }),
  fc.subarray(['zsh', 'bash', 'tmux', 'node', 'launchd'], { minLength: 1 }).map((names): BindingPolicy => ({ mode: 'ancestor_name', names })),
);

describe('properties', () => {
  it('an anchor is always an eligible ancestor at depth >= 1, or a check.failed error', () => {
    fc.assert(
      fc.property(policyArb, fc.array(entryArb, { maxLength: 8 }), (policy, ancestry) => {
        let chosen;
        try {
          chosen = chooseAnchor(policy, ancestry, ME);
        } catch (error) {
          expect(error).toBeInstanceOf(AgentSecretError);
          expect((error as AgentSecretError).code).toBe('check.failed');
          return;
        }
        expect(chosen.depth).toBeGreaterThanOrEqual(1);
        expect(ancestry[chosen.depth]).toBe(chosen.anchor);
        expect(ineligibility(chosen.anchor, ME)).toBeNull();
        if (policy.mode === 'ancestor') expect(chosen.depth).toBe(policy.depth);
        if (policy.mode === 'ancestor_name') expect(policy.names).toContain(chosen.matchedName);
      }),
    );
  });

  it('auto skips any run of nested same-executable shells to the outermost one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 3 }), (run, ineligibleBelow) => {
        const below = Array.from({ length: ineligibleBelow }, () => proc('sudo', { uid: 0 }));
        const shells = Array.from({ length: run }, () => proc('zsh', { path: '/bin/zsh' }));
        const ancestry = chain(proc('node'), ...below, ...shells, proc('Terminal'), proc('zsh', { path: '/bin/zsh' }));
        const chosen = chooseAnchor({ mode: 'auto' }, ancestry, ME);
        expect(chosen.depth).toBe(ineligibleBelow + run);
        expect(chosen.anchor).toBe(ancestry[ineligibleBelow + run]);
        expect(chosen.anchor.pid).toBe(shells[run - 1]?.pid);
      }),
    );
  });

  it('a caller is bound exactly when its ancestry holds an entry identical to the anchor', () => {
    fc.assert(
      fc.property(entryArb, fc.array(entryArb, { maxLength: 8 }), (anchor, caller) => {
        const identical = caller.some(
          (e) => e.pid === anchor.pid && e.uid === anchor.uid && e.gid === anchor.gid && e.startTime === anchor.startTime && e.path === anchor.path,
        );
        expect(isBoundCaller(anchor, caller)).toBe(identical && anchor.startTime !== '');
      }),
    );
  });

  it('a caller outside the tree is refused: its ancestry is the creator’s with the anchor and everything above it replaced', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 2, maxLength: 8 }), fc.array(entryArb, { maxLength: 8 }), (creator, foreignTop) => {
        let chosen;
        try {
          chosen = chooseAnchor({ mode: 'auto' }, creator, ME);
        } catch {
          return;
        }
        const { anchor } = chosen;
        const outsider = [...creator.slice(0, chosen.depth), ...foreignTop].map((e) => (e.pid === anchor.pid && e.startTime === anchor.startTime ? { ...e, startTime: `${e.startTime}-other` } : e));
        expect(isBoundCaller(anchor, outsider)).toBe(false);
        expect(isBoundCaller(anchor, [proc('node'), ...creator.slice(chosen.depth)])).toBe(true);
      }),
    );
  });
});
