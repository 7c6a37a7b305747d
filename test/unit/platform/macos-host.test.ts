// What can only be checked on a Mac, checked on the Mac running the suite (a user's, or GitHub's
// macos-latest runner): every JXA dialog script the macOS approver can generate compiles with
// `osacompile -l JavaScript` (a syntax check: nothing is shown), node-mac-auth loads and answers
// canPromptTouchID() (it never prompts), and the process-tree reader parses this machine's real
// `ps` output. Elsewhere the darwin cases are skipped and a line says so; the `ps` cases also run
// on any other system with /bin/ps (the macOS path of the reader, forced).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDialogScript } from '../../../src/approval/macos/dialog-script.js';
import { loadTouchId } from '../../../src/approval/macos/touch-id.js';
import { buildPrompt } from '../../../src/approval/prompt.js';
import type { ApprovalPrompt, PromptOperation } from '../../../src/approval/types.js';
import { parsePsAncestryLine, parsePsLine, psAncestryArgs, psArgs, readAncestry, readRequesterChain } from '../../../src/platform/process-tree.js';
import { NOW, sampleWire } from '../approval/sample-prompt.js';

const DARWIN = process.platform === 'darwin';
const HAS_PS = existsSync('/bin/ps');
if (!DARWIN) console.log(`macOS checks skipped on ${process.platform}: osacompile of the JXA dialogs and node-mac-auth's canPromptTouchID() need macOS (CI runs them on macos-latest)`);
if (!HAS_PS) console.log('ps checks skipped: this system has no /bin/ps');

const scratch = mkdtempSync(join(tmpdir(), 'agent-secret-macos-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Text an agent controls that has broken generated scripts elsewhere: quotes, backslashes,
// comment and template syntax, line and paragraph separators, bidi and zero-width characters.
const HOSTILE = 'deploy "prod" \\ `$(id)` ${x} */ // </script> \u2028\u2029 \u202e\u200b ünïcødé 🚀\n"); app.doShellScript("id"); ("';

function prompt(operation: PromptOperation, overrides: Parameters<typeof sampleWire>[0] = {}, extra: { identical?: number } = {}): ApprovalPrompt {
  return buildPrompt(sampleWire(overrides), {
    id: 'req_0123456789abcdef',
    expiresAt: new Date(NOW + (overrides.ttl_seconds ?? 120) * 1000),
    operation,
    identicalWaiting: extra.identical ?? 0,
    ...(operation === 'session_create' ? { session: { max_reads: 5, ttl_seconds: 300, binding: `zsh (pid 4200, /bin/${HOSTILE})` } } : {}),
  });
}

// Every shape the script builder has: the plain two buttons, "Allow again…" with its two lists,
// "More…" with and without reuse, each operation, and hostile text in every field that reaches it.
const SCRIPTS: Array<[string, ApprovalPrompt]> = [
  ['exec, reusable (Allow again… and its lists)', prompt('exec', { ttl_seconds: 120 })],
  ['exec, too short to reuse (two buttons)', prompt('exec', { ttl_seconds: 10 })],
  ['exec, identical requests waiting (More…, reusable)', prompt('exec', { ttl_seconds: 120 }, { identical: 3 })],
  ['exec, identical requests waiting, not reusable', prompt('exec', { ttl_seconds: 10 }, { identical: 2 })],
  ['item_describe', prompt('item_describe', { secrets: [{ alias: 'ITEM', ref: 'op://Private/GitHub', provider: 'op', account: null }] })],
  ['session_create', prompt('session_create')],
  ['approver_test', prompt('approver_test', { secrets: [], command: ['agent-secret', 'approver', 'test'] })],
  [
    'hostile text everywhere',
    prompt('exec', {
      reason: HOSTILE,
      command: [HOSTILE, HOSTILE],
      cwd: `/tmp/${HOSTILE}`,
      secrets: [{ alias: 'TOKEN', ref: `op://${HOSTILE}/x/y`, provider: 'op', account: HOSTILE }],
      warnings: [HOSTILE],
      plain_env: [HOSTILE],
      profile: HOSTILE,
      config_path: HOSTILE,
      requester: { pid: 1, chain: [{ pid: 2, name: HOSTILE }] },
    }),
  ],
];

// Everywhere: each script is at least valid JavaScript (osacompile below is the real check).
describe('the JXA dialog scripts parse as JavaScript', () => {
  it.each(SCRIPTS)('%s', (_name, shown) => {
    expect(() => new Script(buildDialogScript(shown, { now: NOW, deadline: NOW + 60_000 }))).not.toThrow();
  });
});

describe.skipIf(!DARWIN)('on macOS: osacompile -l JavaScript', () => {
  it.each(SCRIPTS)('compiles the dialog script: %s', (name, shown) => {
    const source = join(scratch, `${name.replace(/\W+/g, '-')}.js`);
    writeFileSync(source, buildDialogScript(shown, { now: NOW, deadline: NOW + 60_000 }));
    const compiled = spawnSync('/usr/bin/osacompile', ['-l', 'JavaScript', '-o', `${source}.scpt`, source], { encoding: 'utf8', timeout: 30_000 });
    expect({ status: compiled.status, stderr: compiled.stderr }).toEqual({ status: 0, stderr: '' });
    expect(existsSync(`${source}.scpt`)).toBe(true);
  });

  it('osacompile does refuse a broken script (the check above can fail)', () => {
    const source = join(scratch, 'broken.js');
    writeFileSync(source, `${buildDialogScript(SCRIPTS[0]![1], { now: NOW, deadline: NOW + 60_000 })}\n}}) var;`);
    expect(spawnSync('/usr/bin/osacompile', ['-l', 'JavaScript', '-o', `${source}.scpt`, source], { timeout: 30_000 }).status).not.toBe(0);
  });
});

describe.skipIf(!DARWIN)('on macOS: node-mac-auth', () => {
  it('loads and answers canPromptTouchID() without prompting', async () => {
    // The native module builds at install time (npm ci here; allowScripts in package.json).
    const mod = (await import('node-mac-auth')) as unknown as { canPromptTouchID?: () => unknown; default?: { canPromptTouchID?: () => unknown } };
    const canPrompt = mod.canPromptTouchID ?? mod.default?.canPromptTouchID;
    expect(typeof canPrompt).toBe('function');
    expect(typeof canPrompt!()).toBe('boolean');
    // And through the approver's own gate, as doctor and the dialog use it.
    const gate = await loadTouchId('darwin');
    expect(gate).not.toBeNull();
    expect(gate!.available()).toBe(canPrompt!());
  });
});

describe.skipIf(!HAS_PS)(`this machine's real ps output (${process.platform})`, () => {
  const env = { ...process.env, LC_ALL: 'C' };

  it('parses ps -o pid=,ppid=,comm= for this process', () => {
    const parsed = parsePsLine(execFileSync('/bin/ps', psArgs(process.pid), { encoding: 'utf8', env }));
    expect(parsed).toMatchObject({ pid: process.pid, ppid: process.ppid });
    expect(parsed!.name).toMatch(/node/);
  });

  it('parses ps -o pid=,ppid=,uid=,gid=,lstart=,comm= for this process and its parent', () => {
    for (const pid of [process.pid, process.ppid]) {
      const parsed = parsePsAncestryLine(execFileSync('/bin/ps', psAncestryArgs(pid), { encoding: 'utf8', env }));
      expect(parsed).toMatchObject({ pid, uid: process.getuid!(), gid: process.getgid!() });
      expect(parsed!.startTime).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}:\d{2} \d{4}$/);
    }
  });

  it('walks the requester chain and the ancestry through ps (the macOS path)', async () => {
    const chain = await readRequesterChain({ pid: process.pid, platform: 'darwin' });
    expect(chain[0]).toMatchObject({ pid: process.ppid });
    expect(chain.every((entry) => entry.name.length > 0)).toBe(true);
    const ancestry = await readAncestry({ pid: process.pid, platform: 'darwin' });
    expect(ancestry.slice(0, 2).map((entry) => entry.pid)).toEqual([process.pid, process.ppid]);
    expect(ancestry[0]).toMatchObject({ uid: process.getuid!(), ppid: process.ppid });
    expect(ancestry.at(-1)!.pid === 1 || ancestry.length > 2).toBe(true);
    // The start time is stable: a second read gives the same one (what session binding relies on).
    const again = await readAncestry({ pid: process.pid, platform: 'darwin', maxDepth: 0 });
    expect(again[0]!.startTime).toBe(ancestry[0]!.startTime);
  });
});
