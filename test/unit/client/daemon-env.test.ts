// The daemon outlives the agent that started it and holds every later agent's values: it must
// not inherit variables that load code into node, the approver or op.

import { describe, expect, it } from 'vitest';
import { daemonEnv, DAEMON_ENV_DROPPED } from '../../../src/client/daemon.js';

describe('daemonEnv', () => {
  const table: Array<[string, boolean]> = [
    ...DAEMON_ENV_DROPPED.map((name): [string, boolean] => [name, false]),
    ['LD_PRELOAD', false],
    ['LD_LIBRARY_PATH', false],
    ['DYLD_INSERT_LIBRARIES', false],
    ['PATH', true],
    ['HOME', true],
    ['DISPLAY', true],
    ['OP_ACCOUNT', true],
    ['XDG_RUNTIME_DIR', true],
    ['NODE_ENV', true],
  ];
  it.each(table)('%s kept: %s', (name, kept) => {
    const env = daemonEnv({ [name]: 'x', PATH: '/usr/bin' });
    expect(name in env).toBe(kept);
    expect(env.PATH).toBe('/usr/bin');
  });

  it('drops undefined entries and keeps the rest unchanged', () => {
    expect(daemonEnv({ A: '1', B: undefined, NODE_OPTIONS: '--require /tmp/x.js' })).toEqual({ A: '1' });
  });
});
