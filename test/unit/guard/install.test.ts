// mergeClaudeSettings: the guard hook goes into hooks.PreToolUse exactly once, everything else in
// settings.json is kept (values, order, other hooks and matchers), a second run changes nothing,
// an older guard entry is updated in place, and shapes it cannot extend are refused.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { GUARD_MATCHER, hasGuardHook, HOOK_SPECS, inspectGuardHook, isGuardCommand, mergeClaudeSettings, mergeGuardHooks, removeGuardHooks } from '../../../src/guard/install.js';

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
    ['agent-secret guard --agent codex', true],
    ["/usr/bin/node '/opt/x/bin/agent-secret.js' guard --agent=gemini", true],
    ['agent-secret guard --agent cursor; rm -rf /', false],
  ];
  for (const [command, expected] of table) it(command, () => expect(isGuardCommand(command)).toBe(expected));
});

describe('mergeGuardHooks / removeGuardHooks / hasGuardHook for every agent', () => {
  const cmd = (agent: string) => `/usr/bin/node /opt/as/bin/agent-secret.js guard --agent ${agent}`;

  it('Codex: a PreToolUse group on Bash, next to other groups', () => {
    const existing = { hooks: { PreToolUse: [{ matcher: 'apply_patch', hooks: [{ type: 'command', command: 'lint' }] }] } };
    const { settings, action } = mergeGuardHooks('codex', existing, cmd('codex'));
    expect(action).toBe('added');
    expect(settings).toEqual({ hooks: { PreToolUse: [existing.hooks.PreToolUse[0], { matcher: 'Bash', hooks: [{ type: 'command', command: cmd('codex') }] }] } });
    expect(mergeGuardHooks('codex', settings, cmd('codex')).changed).toBe(false);
    expect(hasGuardHook('codex', settings)).toBe(true);
    expect(removeGuardHooks('codex', settings)).toEqual({ settings: existing, changed: true, action: 'removed' });
  });

  it('Gemini: a named BeforeTool hook on its shell, read and search tools', () => {
    const { settings } = mergeGuardHooks('gemini', { theme: 'GitHub' }, cmd('gemini'));
    expect(settings).toEqual({
      theme: 'GitHub',
      hooks: { BeforeTool: [{ matcher: HOOK_SPECS.gemini.matcher, hooks: [{ type: 'command', command: cmd('gemini'), name: 'agent-secret-guard' }] }] },
    });
    expect(removeGuardHooks('gemini', settings).settings).toEqual({ theme: 'GitHub', hooks: {} });
  });

  it('Cursor: one entry per event, version 1 added, an earlier entry updated in place keeping failClosed', () => {
    const existing = { hooks: { beforeShellExecution: [{ command: './audit.sh' }, { command: 'agent-secret guard --agent cursor', failClosed: false }] } };
    const { settings, action } = mergeGuardHooks('cursor', existing, cmd('cursor'));
    expect(action).toBe('updated');
    expect(settings).toEqual({
      version: 1,
      hooks: { beforeShellExecution: [{ command: './audit.sh' }, { command: cmd('cursor'), failClosed: false }], beforeReadFile: [{ command: cmd('cursor') }] },
    });
    expect(mergeGuardHooks('cursor', settings, cmd('cursor'))).toEqual({ settings, changed: false, action: 'unchanged' });
    expect(hasGuardHook('cursor', settings)).toBe(true);
    expect(removeGuardHooks('cursor', settings).settings).toEqual({ version: 1, hooks: { beforeShellExecution: [{ command: './audit.sh' }] } });
  });

  it('hasGuardHook is false for odd shapes and other agents', () => {
    for (const odd of [null, [], 'x', { hooks: [] }, { hooks: { PreToolUse: {} } }]) expect(hasGuardHook('claude', odd)).toBe(false);
    const claude = mergeGuardHooks('claude', {}, COMMAND).settings;
    expect(hasGuardHook('claude', claude)).toBe(true);
    expect(hasGuardHook('gemini', claude)).toBe(false);
  });

  it('removing from settings without a guard changes nothing', () => {
    const settings = { hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'x' }] }] } };
    expect(removeGuardHooks('claude', settings)).toEqual({ settings, changed: false, action: 'unchanged' });
    expect(removeGuardHooks('claude', {})).toEqual({ settings: {}, changed: false, action: 'unchanged' });
  });

  it('property: install then remove gives back the same settings, for any agent and other keys', () => {
    fc.assert(
      fc.property(fc.constantFrom('claude', 'codex', 'cursor', 'gemini' as const), fc.dictionary(fc.string().filter((key) => key !== 'hooks' && key !== '__proto__' && key !== 'version'), fc.jsonValue()), (agent, other) => {
        const installed = mergeGuardHooks(agent, { ...other, version: 1 }, cmd(agent)).settings;
        const removed = removeGuardHooks(agent, installed).settings as Record<string, unknown>;
        expect(removed).toEqual({ ...other, version: 1, hooks: {} });
      }),
    );
  });
});

describe('inspectGuardHook', () => {
  const group = (matcher: unknown) => ({ hooks: { PreToolUse: [{ ...(matcher === undefined ? {} : { matcher }), hooks: [{ type: 'command', command: '/n /a/bin/agent-secret.js guard' }] }] } });
  it.each([
    ['Bash|Read|Grep|Glob', []],
    ['*', []],
    [undefined, []],
    ['Bash|Read|Grep|Glob|Write', []],
    ['.*', []],
    ['Bash', ['its matcher leaves out Read, Grep, Glob']],
    ['Bash|Read', ['its matcher leaves out Grep, Glob']],
  ] as Array<[unknown, string[]]>)('claude matcher %s: %j', (matcher, problems) => {
    expect(inspectGuardHook('claude', group(matcher))).toEqual({ commands: ['/n /a/bin/agent-secret.js guard'], problems });
  });
  it('null without a guard; Cursor missing one of its two events is a problem', () => {
    expect(inspectGuardHook('claude', { hooks: { PreToolUse: [] } })).toBeNull();
    expect(inspectGuardHook('cursor', { version: 1, hooks: { beforeShellExecution: [{ command: 'agent-secret guard --agent cursor' }] } })).toEqual({
      commands: ['agent-secret guard --agent cursor'],
      problems: ['no guard in hooks.beforeReadFile'],
    });
  });
});
