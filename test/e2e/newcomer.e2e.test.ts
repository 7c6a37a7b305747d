// A newcomer's first hour, end to end with the built binary: the mistakes people make first
// (a command typed before `--`) get the corrected command line, with or without a daemon, and
// never start one. Fake op and approver, canary scans on every run.

import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.useApprover('approve');
});
afterEach(() => sb.cleanup());

describe('a command typed before -- gets the corrected command line', () => {
  const cases: Array<{ args: string[]; hint: string }> = [
    { args: ['exec', '--profile', 'deploy', 'sh', '-c', 'echo hi'], hint: "agent-secret exec --profile deploy -- sh -c 'echo hi'" },
    { args: ['exec', '--profile', 'deploy', 'npm', 'test'], hint: 'agent-secret exec --profile deploy -- npm test' },
    { args: ['exec', '--reason', 'Run the tests', 'npm', 'test', '--', '--watch'], hint: "agent-secret exec --reason 'Run the tests' -- npm test -- --watch" },
  ];

  it.each(cases)('$args: no daemon is started', async ({ args, hint }) => {
    const result = await runClean(sb, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('exec takes the command to run after --');
    expect(result.stderr).toContain(`hint: ${hint}\n`);
    expect(existsSync(sb.daemonPidFile)).toBe(false);
  });

  it('through a running daemon (the fast path), the same message', async () => {
    expect((await runClean(sb, ['daemon', 'start'])).code).toBe(0);
    const result = await runClean(sb, cases[2]?.args ?? []);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`agent-secret: exec takes the command to run after --, but "npm" came before it\nhint: ${cases[2]?.hint}\n`);
  });

  it('exec --help shows where the command goes', async () => {
    const result = await runClean(sb, ['exec', '--help']);
    expect(result.stdout).toContain('Usage: agent-secret exec [options] -- CMD [ARGS...]');
  });
});
