// mergeClaudeSettings: the guard hook goes into hooks.PreToolUse exactly once, everything else in
// settings.json is kept (values, order, other hooks and matchers), a second run changes nothing,
// an older guard entry is updated in place, and shapes it cannot extend are refused.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { GUARD_MATCHER, isGuardCommand, mergeClaudeSettings } from '../../../src/guard/install.js';

const COMMAND = "/usr/bin/node '/opt/agent secret/bin/agent-secret.js' guard";
const OURS = { matcher: GUARD_MATCHER, hooks: [{ type: 'command', command: COMMAND }] };

describe('mergeClaudeSettings', () => {
  it('adds the hook to empty settings', () => {
    expect(mergeClaudeSettings({}, COMMAND)).toEqual({ settings: { hooks: { PreToolUse: [OURS] } }, changed: true, action: 'added' });
  });

  it('keeps other keys, their order, other events and other PreToolUse matchers', () => {
    const existing = {
      model: 'opus',
      permissions: { allow: ['Bash(npm test)'], deny: [] },
      hooks: {
        PostToolUse: [{ matcher: 'Edit', hooks: [{ type: 'command', command: 'prettier --write' }] }],
        PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: '~/bin/no-rm-rf.sh', timeout: 5 }] }],
      },
      env: { FOO: '1' },
    };
    const snapshot = structuredClone(existing);
    const { settings, changed, action } = mergeClaudeSettings(existing, COMMAND);
    expect(existing).toEqual(snapshot);
    expect([changed, action]).toEqual([true, 'added']);
    expect(Object.keys(settings as object)).toEqual(['model', 'permissions', 'hooks', 'env']);
    expect(settings).toEqual({ ...snapshot, hooks: { ...snapshot.hooks, PreToolUse: [...snapshot.hooks.PreToolUse, OURS] } });
  });

  it('is idempotent: the second run changes nothing and returns the same object', () => {
    const first = mergeClaudeSettings({ theme: 'dark' }, COMMAND);
    const second = mergeClaudeSettings(first.settings, COMMAND);
    expect(second).toEqual({ settings: first.settings, changed: false, action: 'unchanged' });
    expect(second.settings).toBe(first.settings);
  });

  it('updates an older guard entry in place (other command path, old matcher) instead of adding a second', () => {
    const existing = {
      hooks: {
        PreToolUse: [
          { matcher: 'Write', hooks: [{ type: 'command', command: 'lint' }] },
          { matcher: 'Bash', hooks: [{ type: 'command', command: 'agent-secret guard' }] },
          { matcher: '*', hooks: [{ type: 'command', command: 'log-all' }] },
        ],
      },
    };
    const { settings, action } = mergeClaudeSettings(existing, COMMAND);
    expect(action).toBe('updated');
    expect((settings as typeof existing).hooks.PreToolUse).toEqual([existing.hooks.PreToolUse[0], OURS, existing.hooks.PreToolUse[2]]);
  });

  it('the matcher covers Bash, Read, Grep and Glob', () => {
    expect(GUARD_MATCHER).toBe('Bash|Read|Grep|Glob');
  });

  it('upgrades an install with the old Bash|Read matcher in place, keeping the group and hook fields, then is a fixed point', () => {
    const old = { matcher: 'Bash|Read', note: 'mine', hooks: [{ type: 'command', command: COMMAND, timeout: 5 }] };
    const existing = { model: 'opus', hooks: { PreToolUse: [{ matcher: 'Edit', hooks: [{ type: 'command', command: 'lint' }] }, old, { matcher: '*', hooks: [{ type: 'command', command: 'log-all' }] }] } };
    const snapshot = structuredClone(existing);
    const first = mergeClaudeSettings(existing, COMMAND);
    expect(existing).toEqual(snapshot);
    expect([first.changed, first.action]).toEqual([true, 'updated']);
    expect(first.settings).toEqual({
      model: 'opus',
      hooks: { PreToolUse: [snapshot.hooks.PreToolUse[0], { matcher: 'Bash|Read|Grep|Glob', note: 'mine', hooks: [{ type: 'command', command: COMMAND, timeout: 5 }] }, snapshot.hooks.PreToolUse[2]] },
    });
    expect(mergeClaudeSettings(first.settings, COMMAND)).toMatchObject({ changed: false, action: 'unchanged' });
  });

  const matchers: Array<[string, string]> = [
    ['Bash|Read', 'Bash|Read|Grep|Glob'],
    ['Bash', 'Bash|Read|Grep|Glob'],
    ['Bash|Read|Write', 'Bash|Read|Grep|Glob|Write'],
    ['Glob|Grep|Read|Bash', 'Glob|Grep|Read|Bash'],
    ['*', '*'],
    ['Bash.*', 'Bash|Read|Grep|Glob'],
  ];
  for (const [before, after] of matchers) {
    it(`a guard group with matcher ${before} ends with ${after}`, () => {
      const existing = { hooks: { PreToolUse: [{ matcher: before, hooks: [{ type: 'command', command: COMMAND }] }] } };
      const merged = mergeClaudeSettings(existing, COMMAND);
      expect((merged.settings as typeof existing).hooks.PreToolUse).toEqual([{ matcher: after, hooks: [{ type: 'command', command: COMMAND }] }]);
      expect(merged.changed).toBe(before !== after);
    });
  }

  it('takes the guard out of a group it shares with other hooks, keeping them', () => {
    const shared = { matcher: 'Bash', hooks: [{ type: 'command', command: 'audit.sh' }, { type: 'command', command: 'node /x/bin/agent-secret.js guard' }] };
    const { settings } = mergeClaudeSettings({ hooks: { PreToolUse: [shared] } }, COMMAND);
    expect(settings).toEqual({ hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [shared.hooks[0]] }, OURS] } });
  });

  it('removes duplicates left by hand edits', () => {
    const twice = { hooks: { PreToolUse: [OURS, structuredClone(OURS)] } };
    expect(mergeClaudeSettings(twice, COMMAND).settings).toEqual({ hooks: { PreToolUse: [OURS] } });
  });

  it('leaves PreToolUse groups of an unknown shape alone', () => {
    const odd = { hooks: { PreToolUse: ['not a group', { matcher: 'Bash' }] } };
    expect(mergeClaudeSettings(odd, COMMAND).settings).toEqual({ hooks: { PreToolUse: ['not a group', { matcher: 'Bash' }, OURS] } });
  });

  const refused: Array<[string, unknown, RegExp]> = [
    ['an array', [], /top level is not a JSON object/],
    ['a string', 'x', /top level is not a JSON object/],
    ['null', null, /top level is not a JSON object/],
    ['hooks as a list', { hooks: [] }, /"hooks" is not a JSON object/],
    ['PreToolUse as an object', { hooks: { PreToolUse: {} } }, /"hooks.PreToolUse" is not a JSON array/],
  ];
  for (const [name, existing, message] of refused) {
    it(`refuses ${name} with a usage error and a fix hint`, () => {
      let caught: unknown;
      try {
        mergeClaudeSettings(existing, COMMAND);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AgentSecretError);
      expect((caught as AgentSecretError).code).toBe('usage.invalid');
      expect((caught as AgentSecretError).exitCode).toBe(2);
      expect((caught as AgentSecretError).message).toMatch(message);
      expect((caught as AgentSecretError).hint).toMatch(/rerun agent-secret hook-install/);
    });
  }

  it('property: any object settings keep every other top-level key, and the result is a fixed point', () => {
    const settings = fc.dictionary(fc.string().filter((key) => key !== 'hooks' && key !== '__proto__'), fc.jsonValue());
    fc.assert(
      fc.property(settings, (existing) => {
        const first = mergeClaudeSettings(existing, COMMAND);
        const result = first.settings as Record<string, unknown>;
        for (const key of Object.keys(existing)) expect(result[key]).toEqual(existing[key]);
        expect(mergeClaudeSettings(first.settings, COMMAND).changed).toBe(false);
      }),
    );
  });
});

describe('isGuardCommand', () => {
  const table: Array<[string, boolean]> = [
    ['agent-secret guard', true],
    ['npx agent-secret guard', true],
    ['/usr/bin/node /opt/x/bin/agent-secret.js guard', true],
    ["'/usr/bin/node' '/opt/a b/bin/agent-secret.js' guard", true],
    ['agent-secret exec -- guard', false],
    ['my-agent-secret guard', false],
    ['guard', false],
  ];
  for (const [command, expected] of table) it(command, () => expect(isGuardCommand(command)).toBe(expected));
});
