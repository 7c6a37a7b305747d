#!/usr/bin/env node
// `npm run bench`: performance figures measured side by side in one run, never asserted in
// tests. Prints:
//   1. startup: `agent-secret --version` vs `node empty.js` (target ratio <= 1.3)
//   2. resolution: `exec` with 1 vs 20 references against the fake op with a fixed per-call
//      latency (target ratio <= 1.5)
//   3. masking (when built): masked vs plain pipe throughput (target >= 0.5)
// Runs in a throwaway HOME with the fake op and an approving fake approver.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'agent-secret.js');
const fixtures = join(root, 'test', 'fixtures', 'bin');
const work = mkdtempSync(join(tmpdir(), 'agent-secret-bench-'));

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(command, args, options) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${String(result.stderr).slice(0, 300)}`);
  return ms;
}

// Alternate the two commands so that machine noise hits both equally.
function sideBySide(a, b, runs) {
  const ta = [];
  const tb = [];
  for (let i = 0; i < runs; i += 1) {
    ta.push(a());
    tb.push(b());
  }
  return { a: median(ta), b: median(tb) };
}

function sandboxEnv() {
  const home = join(work, 'home');
  const config = join(work, 'config', 'agent-secret');
  mkdirSync(home, { recursive: true });
  mkdirSync(config, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(config, 'config.yml'),
    JSON.stringify({ version: 1, approver: { command: [join(fixtures, 'approver'), 'approve'] }, op_path: join(fixtures, 'op') }),
    { mode: 0o600 },
  );
  return {
    HOME: home,
    PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    XDG_CONFIG_HOME: join(work, 'config'),
    XDG_STATE_HOME: join(work, 'state'),
    LANG: 'C.UTF-8',
  };
}

try {
  const env = sandboxEnv();
  const empty = join(work, 'empty.js');
  writeFileSync(empty, '');

  // 1. Startup.
  for (let i = 0; i < 3; i += 1) time(process.execPath, [bin, '--version'], { env }); // warm the compile cache
  const startup = sideBySide(
    () => time(process.execPath, [bin, '--version'], { env }),
    () => time(process.execPath, [empty], { env }),
    25,
  );
  console.log('startup (median of 25, alternating)');
  console.log(`  node empty.js            ${startup.b.toFixed(1)} ms`);
  console.log(`  agent-secret --version   ${startup.a.toFixed(1)} ms`);
  console.log(`  ratio                    ${(startup.a / startup.b).toFixed(2)}x   (target <= 1.30x)`);

  const helpRuns = sideBySide(
    () => time(process.execPath, [bin, 'agent-context', '--json'], { env, cwd: work }),
    () => time(process.execPath, [empty], { env }),
    9,
  );
  console.log(`  agent-context --json     ${helpRuns.a.toFixed(1)} ms (${(helpRuns.a / helpRuns.b).toFixed(2)}x node; loads commander and the table only)`);

  // 2. Resolution: 1 vs 20 distinct references, fake op with a fixed latency per call.
  const refs = [
    'Infra/Cloudflare/token', 'Infra/Cloudflare/username', 'Infra/Deploy/username', 'Infra/Deploy/password',
    'Infra/Deploy/api token', 'Infra/Shared/token', 'Infra/TLS/private key', 'Infra/Edge Cases/trailing newline',
    'Infra/Edge Cases/spaces', 'Infra/Edge Cases/quotes', 'Infra/Edge Cases/dollar', 'Infra/Edge Cases/braces',
    'Infra/Edge Cases/unicode', 'Infra/Edge Cases/crlf', 'Data/Postgres/url', 'Data/Postgres/password',
    'Prod/Stripe/secret key', 'Demo Vault/Demo Service/api_token', 'Demo Vault/Demo Service/username',
    'Demo Vault/Demo Service/password',
  ].map((path) => `op://${path}`);
  const latency = 500;
  const execEnv = { ...env, FAKE_OP_DELAY_MS: String(latency) };
  const execArgs = (n) => [
    bin, 'exec', '--reason', 'bench', ...refs.slice(0, n).flatMap((ref, i) => ['--secret', `BENCH_${i}=${ref}`]), '--', 'true',
  ];
  const resolve = sideBySide(
    () => time(process.execPath, execArgs(20), { env: execEnv, cwd: work }),
    () => time(process.execPath, execArgs(1), { env: execEnv, cwd: work }),
    5,
  );
  console.log(`\nresolution through the fake op (${latency} ms per op call, median of 5, alternating; full exec incl. approver)`);
  console.log(`  1 reference              ${resolve.b.toFixed(0)} ms`);
  console.log(`  20 references            ${resolve.a.toFixed(0)} ms`);
  console.log(`  ratio                    ${(resolve.a / resolve.b).toFixed(2)}x   (target <= 1.50x)`);

  // 3. Masking throughput, when the masker is built.
  const maskBench = join(root, 'scripts', 'bench-mask.mjs');
  if (existsSync(join(root, 'dist', 'mask', 'masker.js')) && existsSync(maskBench)) {
    console.log('');
    const result = spawnSync(process.execPath, [maskBench], { stdio: 'inherit' });
    if (result.status !== 0) process.exitCode = 1;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
