// The cheap look at the user config that keeps tty users off the daemon. A miss is harmless
// (the daemon sends the request back), so the table checks the common spellings and that
// other approvers and look-alikes do not match.

import { describe, expect, it } from 'vitest';
import { mentionsTtyApprover } from '../../../src/cli/commands/exec-run.js';

describe('mentionsTtyApprover', () => {
  it.each([
    ['approver: tty\n', true],
    ['version: 1\napprover: "tty"\n', true],
    ["approver: 'tty'   # ask on the terminal\n", true],
    ['{"version":1,"approver":"tty"}', true],
    ['{ "approver" : "tty" }', true],
    ['approver: auto\n', false],
    ['approver:\n  command: [/usr/local/bin/tty-approver]\n', false],
    ['# approver: tty\napprover: auto\n', false],
    ['  approver: tty\n', false],
    ['approver: ttyx\n', false],
    ['', false],
  ])('%j → %s', (text, expected) => {
    expect(mentionsTtyApprover(text)).toBe(expected);
  });
});
