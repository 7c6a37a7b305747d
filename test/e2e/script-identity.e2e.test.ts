// The files a command really runs, end to end: the scripts its argv names are part of the
// request and its reuse key (a rewritten script is a new request), a script someone can change
// is named in the prompt, a root caller is told that root ownership protects nothing inside the
// project, and the child that receives values is the approved executable even while its
// parent directories are being swapped. Every run is scanned for canary values.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findCanary } from '../helpers/canaries.js';
import { expectNoLeak, runCli, runClean, type CliResult } from '../helpers/run-cli.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
});
afterEach(() => sb.cleanup());

const isLinux = process.platform === 'linux';

// Swaps two directories with renameat2(RENAME_EXCHANGE) every ~0.3 ms until killed (a short
// sleep leaves the CPU to the runs: the machine running the tests may have two cores).
const SWAPPER = `
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
print("ready", flush=True)
while True:
    libc.renameat2(-100, a, -100, b, 2)
    time.sleep(0.0002)
`;

// The swapper stops at any point: exchange once more when the approved program is not in cur.
function putBack(swap: string): void {
  if (readFileSync(join(swap, 'cur', 'tool')).equals(readFileSync('/usr/bin/true'))) return;
  renameSync(join(swap, 'cur'), join(swap, 'tmp'));
  renameSync(join(swap, 'alt'), join(swap, 'cur'));
  renameSync(join(swap, 'tmp'), join(swap, 'alt'));
}

function startSwapper(a: string, b: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', SWAPPER, a, b], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.stdout?.once('data', () => resolve(child));
  });
}

const CONFIG = `version: 1
profiles:
  deploy:
    reason: Deploy the site
    ttl: 60s
    secrets:
      TOKEN: op://Infra/Cloudflare/token
`;
const DEPLOY = '#!/bin/sh\necho "deploying ${#TOKEN}"\n';
const deployArgs = (...flags: string[]) => ['exec', '--profile', 'deploy', ...flags, '--', 'sh', './deploy.sh'];
const isRoot = process.getuid?.() === 0;

describe('files the argv names', () => {
  it('a rewritten script is a new request: --reuse-only does not reuse it', async () => {
    sb.write('agent-secret.yml', CONFIG);
    sb.write('deploy.sh', DEPLOY);
    sb.useApprover('approve-reuse:60:10');
    const first = await runClean(sb, deployArgs());
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('deploying');
    const again = await runClean(sb, deployArgs('--reuse-only'));
    expect(again.code).toBe(0);
    const prompt = sb.prompts()[0] as { scripts?: Array<{ path: string; sha256: string | null }> };
    expect(prompt.scripts).toEqual([{ path: join(sb.project, 'deploy.sh'), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown }]);

    sb.write('deploy.sh', '#!/bin/sh\necho "stolen $TOKEN"\n');
    const rewritten = await runClean(sb, deployArgs('--reuse-only'));
    expect(rewritten.code).toBe(14);
    expect(rewritten.stdout).not.toContain('stolen');
    expect(sb.prompts()).toHaveLength(1);
  });

  it('a script rewritten while the prompt is open is refused before the child starts', async () => {
    sb.write('agent-secret.yml', CONFIG);
    sb.write('deploy.sh', DEPLOY);
    sb.useApprover('approve-reuse:60:10:2000');
    const running = runCli(sb, deployArgs());
    // Planned (the prompt is on screen), not yet answered: now the file changes.
    for (let i = 0; i < 200 && sb.prompts().length === 0; i += 1) await sleep(25);
    expect(sb.prompts()).toHaveLength(1);
    sb.write('deploy.sh', '#!/bin/sh\necho "stolen $TOKEN"\n');
    const result = await running;
    expectNoLeak(sb, result);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/changed before it could start: .*deploy\.sh/);
    expect(result.stdout).not.toContain('stolen');
  });

  it('warns in the prompt when the script can be changed by others', async () => {
    sb.write('agent-secret.yml', CONFIG);
    const path = sb.write('deploy.sh', DEPLOY);
    chmodSync(path, 0o666);
    sb.useApprover('approve');
    expect((await runClean(sb, deployArgs())).code).toBe(0);
    const warnings = (sb.prompts()[0] as { warnings: string[] }).warnings;
    expect(warnings).toContainEqual(expect.stringMatching(new RegExp(`^the file ${path} can be changed by you or others before it runs: ${path} is (group|world) writable$`)));
  });

  it('warns a root caller that a file inside the project is not protected by root ownership (and nobody else)', async () => {
    sb.write('agent-secret.yml', CONFIG);
    const path = sb.write('deploy.sh', DEPLOY);
    sb.useApprover('approve');
    expect((await runClean(sb, deployArgs())).code).toBe(0);
    const warnings = (sb.prompts()[0] as { warnings: string[] }).warnings;
    const rootWarning = `running as root: ${path} is inside ${sb.project}, where being owned by root does not protect it, since anything running as root there can rewrite it`;
    if (isRoot) expect(warnings).toContain(rootWarning);
    else expect(warnings.some((w) => w.startsWith('running as root'))).toBe(false);
  });
});

describe('the executable that receives values under a directory swap', () => {
  it.runIf(isLinux)('never runs the other file while the parent directories are exchanged in a loop', async () => {
    sb.useApprover('approve-reuse:60:20');
    const swap = join(sb.root, 'swap');
    mkdirSync(join(swap, 'cur'), { recursive: true });
    mkdirSync(join(swap, 'alt'), { recursive: true });
    // Approved: a program that ignores its arguments. The other one prints the variable named.
    copyFileSync('/usr/bin/true', join(swap, 'cur', 'tool'));
    copyFileSync('/usr/bin/printenv', join(swap, 'alt', 'tool'));
    chmodSync(join(swap, 'cur', 'tool'), 0o755);
    chmodSync(join(swap, 'alt', 'tool'), 0o755);
    const args = (...flags: string[]) => ['exec', '--secret', 'T=op://Infra/Cloudflare/token', '--reason', 'Swap test', '--ttl', '60s', '--no-mask', '--allow-mutable-executable', ...flags, '--', join(swap, 'cur', 'tool'), 'T'];

    // An approval serves at most 20 runs: two rounds of 20, each approved with the directories in place.
    const results: CliResult[] = [];
    for (let round = 0; round < 2; round += 1) {
      putBack(swap);
      expect((await runClean(sb, ['approvals', 'revoke', '--all'])).code).toBe(0);
      const approved = await runClean(sb, args());
      expect(approved.stderr).toBe('');
      expect(approved.code).toBe(0);
      const swapper = await startSwapper(join(swap, 'cur'), join(swap, 'alt'));
      try {
        for (let i = 0; i < 20; i += 1) results.push(await runCli(sb, args('--reuse-only')));
      } finally {
        swapper.kill('SIGKILL');
        await once(swapper, 'exit');
      }
    }
    expect(sb.prompts()).toHaveLength(2);
    const leaked = results.filter((r) => findCanary(r.stdout + r.stderr) !== null).length;
    const codes = results.map((r) => r.code);
    console.log(`swap loop: ${leaked} of ${results.length} runs got the other file; exit codes ${JSON.stringify(codes)}`);
    expect(leaked).toBe(0);
    // The others ran the approved file, missed the reuse (the planner saw the other file: 14),
    // or were refused before anything started (1, the identity check).
    expect(codes.every((c) => c === 0 || c === 14 || c === 1)).toBe(true);
    for (const r of results.filter((x) => x.code === 1)) expect(r.stderr).toMatch(/approved executable changed before it could start/);
    expectNoLeak(sb, ...results);
  }, 60_000);
});
