// Hostile project files against the built binary: an agent-secret.yml or env file of a shape
// the YAML parser cannot take cheaply (deep nesting, many keys, many lines) is refused with
// exit 2 and a one-line message naming the file and the limit, by the CLI and by a running
// daemon that plans the exec, which stays up for the next request. Files are generated here.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
});
afterEach(() => sb.cleanup());

const lines = (count: number, line: (i: number) => string): string => Array.from({ length: count }, (_, i) => `${line(i)}\n`).join('');

// Each under the 1 MiB file limit; the first two stalled the process for seconds (~1 GB) before.
const HOSTILE: Array<[name: string, text: string, message: RegExp]> = [
  ['a million open brackets', `a: ${'['.repeat(1_000_000)}`, /agent-secret\.yml:1:35: the file nests deeper than 64 levels/],
  ['99k keys', lines(99_000, (i) => `k${i}: 1`).slice(0, 1_000_000), /agent-secret\.yml:2001:1: the file has more than 2000 lines/],
  ['ever deeper "- " lines', lines(1_400, (i) => `${' '.repeat(i)}- `), /agent-secret\.yml:65:65: the file nests deeper than 64 levels/],
];
// Fails only a run that hangs; the refusal itself takes milliseconds (no time is asserted).
const BOUND = { timeoutMs: 15_000 };

describe('hostile agent-secret.yml', () => {
  it.each(HOSTILE)('exec --dry-run refuses %s with exit 2 and the limit', async (_name, text, message) => {
    sb.write('agent-secret.yml', text);
    const result = await runClean(sb, ['exec', '--dry-run', '--profile', 'x', '--', 'true'], BOUND);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain(sb.project);
    expect(result.stderr).toContain('docs/security.md, "Limits"');
    expect(result.stderr.split('\n').filter((line) => line !== '')).toHaveLength(2);
  });

  it('a running daemon planning the exec refuses each one and stays up', async () => {
    sb.useApprover('approve');
    expect((await runClean(sb, ['daemon', 'start'], BOUND)).code).toBe(0);
    const before = await runClean(sb, ['daemon', 'status', '--json'], BOUND);
    const pid = (JSON.parse(before.stdout) as { pid: number }).pid;
    for (const [, text, message] of HOSTILE) {
      sb.write('agent-secret.yml', text);
      const result = await runClean(sb, ['exec', '--profile', 'x', '--', 'true'], BOUND);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    const after = await runClean(sb, ['daemon', 'status', '--json'], BOUND);
    expect(JSON.parse(after.stdout)).toMatchObject({ running: true, pid });
    expect(sb.prompts()).toHaveLength(0);
    expect(sb.opCalls()).toHaveLength(0);
  });
});

describe('hostile env file', () => {
  it('refuses an env file of more than 5000 lines with exit 2', async () => {
    sb.write('big.env', lines(100_000, (i) => `K${i}=v`));
    const result = await runClean(sb, ['exec', '--dry-run', '--reason', 'Read a huge env file', '--env-file', 'big.env', '--', 'true'], BOUND);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/big\.env:5001: the env file has more than 5000 lines/);
  });
});
