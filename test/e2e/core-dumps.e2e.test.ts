// Core dumps off where values live: the daemon runs with RLIMIT_CORE 0 (soft and hard) even when
// whoever started it allowed core files, and the `agent-secret` process that receives values
// runs with a soft limit of 0 (its child inherits that, and may raise it again). Run through the
// real launcher (bin/agent-secret.js executed by sh), from a shell that allowed core files. No
// system-wide setting (core_pattern) is touched: the limits are read from /proc and from `ulimit`
// in processes that inherit them.

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectNoLeak, runCli, type CliResult } from '../helpers/run-cli.js';
import { BIN, createSandbox, FIXTURE_BIN, type Sandbox } from '../helpers/sandbox.js';

const CONFIG = `version: 1
default_profile: cf
profiles:
  cf:
    reason: Purge the CDN cache
    ttl: 60s
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
`;

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
});
afterEach(() => sb.cleanup());

/** Runs bin/agent-secret.js as a program (its sh launcher line included) from a shell whose soft core limit is raised to the hard one. */
function runLauncher(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'ulimit -S -c "$(ulimit -H -c)" && exec "$0" "$@"', BIN, ...args], { cwd: sb.project, env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, pid: child.pid });
    });
  });
}

/** The hard core limit a fresh shell started by this test reports. */
function ourHardLimit(): string {
  const result = spawnSync('/bin/sh', ['-c', 'ulimit -H -c'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error('sh could not report its core limit');
  return result.stdout.trim();
}

describe('no core dumps while values are held', () => {
  it('the daemon (and the approver it starts) runs with core dumps off; the exec process has a soft limit of 0 its child may raise', async () => {
    const hard = ourHardLimit();
    // The approver is a child of the daemon: it reports the limits it inherited, then approves.
    const limitsLog = join(sb.root, 'approver-limits');
    const wrapper = join(sb.root, 'approver-with-limits');
    writeFileSync(wrapper, `#!/bin/sh\n{ ulimit -S -c; ulimit -H -c; } > '${limitsLog}'\nexec '${join(FIXTURE_BIN, 'approver')}' "$@"\n`, { mode: 0o755 });
    sb.useApprover('approve', { approver: { command: [wrapper, 'approve'] } });

    const result = await runLauncher(['exec', '--profile', 'cf', '--', '/bin/sh', '-c', 'ulimit -S -c; ulimit -H -c']);
    expectNoLeak(sb, result);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // The child of `agent-secret exec` inherited the soft 0; the hard limit is the caller's.
    expect(result.stdout.split('\n').filter((l) => l !== '')).toEqual(['0', hard]);
    // The daemon's own children (the approver): soft and hard 0.
    expect(readFileSync(limitsLog, 'utf8').split('\n').filter((l) => l !== '')).toEqual(['0', '0']);

    const status = await runCli(sb, ['daemon', 'status', '--json']);
    const pid = (JSON.parse(status.stdout) as { pid: number }).pid;
    expect(pid).toBeGreaterThan(1);
    if (process.platform === 'linux') {
      const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('Max core file size'));
      expect(line?.split(/\s{2,}/).slice(1, 3)).toEqual(['0', '0']);
    }
  });

  it('the exec process that receives the values shows a soft core limit of 0 while its child runs', async () => {
    sb.useApprover('approve');
    // The exec process itself, read from /proc while its child runs (the child reads its parent's limits).
    const script = process.platform === 'linux' ? 'grep "Max core file size" /proc/$PPID/limits' : 'ulimit -S -c';
    const result = await runLauncher(['exec', '--profile', 'cf', '--', '/bin/sh', '-c', script]);
    expectNoLeak(sb, result);
    expect(result.code).toBe(0);
    if (process.platform === 'linux') expect(result.stdout.split(/\s{2,}/)[1]).toBe('0');
    else expect(result.stdout.trim()).toBe('0');
  });
});
