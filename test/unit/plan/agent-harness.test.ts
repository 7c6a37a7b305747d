// The harness markers and the mask decision: table-driven, plus a property (the flag always wins;
// without a terminal, always masked).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectHarness, HARNESS_MARKERS } from '../../../src/plan/agent-harness.js';
import { maskDecision } from '../../../src/plan/exec-plan.js';

describe('detectHarness', () => {
  it.each([
    [{ CLAUDECODE: '1' }, [], 'Claude Code'],
    [{ CLAUDE_CODE_ENTRYPOINT: 'cli' }, [], 'Claude Code'],
    [{ CODEX_SANDBOX: 'seatbelt' }, [], 'Codex'],
    [{ CODEX_THREAD_ID: 'abc' }, [], 'Codex'],
    [{ CURSOR_AGENT: '1' }, [], 'Cursor'],
    [{ GEMINI_CLI: '1' }, [], 'Gemini CLI'],
    [{ CLAUDECODE: '' }, [], null],
    [{ CODEX_HOME: '/home/me/.codex' }, [], null],
    [{}, [{ name: 'zsh' }, { name: 'claude' }], 'Claude Code'],
    [{}, [{ name: 'bash' }, { name: 'Codex' }], 'Codex'],
    [{}, [{ name: 'cursor-agent' }], 'Cursor'],
    [{}, [{ name: 'gemini' }], 'Gemini CLI'],
    [{}, [{ name: 'bash' }, { name: 'sshd' }, { name: 'claudette' }], null],
  ])('%j %j -> %s', (env, chain, want) => {
    expect(detectHarness(env, chain)).toBe(want);
  });

  it('every marker is detected by each of its variables and process names', () => {
    for (const marker of HARNESS_MARKERS) {
      for (const name of marker.env) expect(detectHarness({ [name]: 'x' }, [])).toBe(marker.harness);
      for (const name of marker.processes) expect(detectHarness({}, [{ name }])).toBe(marker.harness);
    }
  });
});

describe('maskDecision', () => {
  const tty = { env: {}, stdoutIsTTY: true, stderrIsTTY: true };
  it.each([
    ['a terminal, no agent: not masked', undefined, undefined, tty, [], false],
    ['a pipe: masked', undefined, undefined, { ...tty, stdoutIsTTY: false }, [], true],
    ['a terminal under Claude Code: masked', undefined, undefined, { ...tty, env: { CLAUDECODE: '1' } }, [], true],
    ['a terminal under a codex ancestor: masked', undefined, undefined, tty, [{ name: 'codex' }], true],
    ['--no-mask under an agent: not masked', false, undefined, { ...tty, env: { CLAUDECODE: '1' } }, [], false],
    ["the profile's mask: false under an agent: not masked", undefined, false, { ...tty, env: { CLAUDECODE: '1' } }, [], false],
    ['--mask on a terminal: masked', true, undefined, tty, [], true],
  ] as const)('%s', (_label, flag, profile, ctx, chain, want) => {
    expect(maskDecision(flag, profile, ctx, chain)).toBe(want);
  });

  it('property: the flag always wins; without two terminals the output is masked unless asked otherwise', () => {
    fc.assert(
      fc.property(fc.option(fc.boolean(), { nil: undefined }), fc.boolean(), fc.boolean(), fc.boolean(), (flag, out, err, agent) => {
        const ctx = { env: agent ? { GEMINI_CLI: '1' } : {}, stdoutIsTTY: out, stderrIsTTY: err };
        const got = maskDecision(flag, undefined, ctx, []);
        if (flag !== undefined) expect(got).toBe(flag);
        else expect(got).toBe(!(out && err) || agent);
      }),
    );
  });
});
