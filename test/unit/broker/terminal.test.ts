// Which requests leave the daemon for an in-process broker: exactly those whose user config
// chooses the tty approver, in any spelling the user config parser accepts (YAML or JSON), and
// never when the broker already runs in the caller's process.

import { describe, expect, it } from 'vitest';
import { needsCallerTerminal } from '../../../src/broker/terminal.js';
import { parseUserConfig } from '../../../src/config/user-config.js';

describe('needsCallerTerminal', () => {
  it.each([
    ['version: 1\napprover: tty\n', true],
    ['version: 1\napprover: "tty"\n', true],
    ["version: 1\napprover: 'tty'   # ask on the terminal\n", true],
    ['{"version":1,"approver":"tty"}', true],
    ['{ "version": 1, "approver" : "tty" }', true],
    ['version: 1\napprover: auto\n', false],
    ['version: 1\napprover:\n  command: [/usr/local/bin/tty-approver]\n', false],
    ['version: 1\n# approver: tty\napprover: auto\n', false],
    ['version: 1\n', false],
  ])('%j → %s', (text, expected) => {
    const config = parseUserConfig(text, '/h/.config/agent-secret/config.yml');
    expect(needsCallerTerminal(config)).toBe(expected);
    expect(needsCallerTerminal(config, true)).toBe(false);
  });
});
