#!/usr/bin/env node
// `npm run demo`: the real approve-and-inject flow with no 1Password account. It runs the
// built agent-secret in a throwaway HOME whose user config points at the test suite's fake
// op (sample vault) and at an approver program that says yes. Labelled DEMO throughout:
// nothing here touches your real config, 1Password or audit log.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'agent-secret.js');
const fixtures = join(root, 'test', 'fixtures', 'bin');
const work = mkdtempSync(join(tmpdir(), 'agent-secret-demo-'));
const say = (text = '') => process.stdout.write(`${text}\n`);
const banner = (text) => say(`\n=== DEMO: ${text} ===`);
const home = join(work, 'home');
const env = {
  HOME: home,
  PATH: [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
  LANG: 'C.UTF-8',
  XDG_CONFIG_HOME: join(work, 'config'),
  XDG_STATE_HOME: join(work, 'state'),
  XDG_RUNTIME_DIR: join(work, 'runtime'),
  FAKE_APPROVER_LOG: join(work, 'approver.log'),
};

try {
  const project = join(work, 'project');
  const configDir = join(work, 'config', 'agent-secret');
  for (const dir of [home, project, configDir, env.XDG_RUNTIME_DIR]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  copyFileSync(join(root, 'profiles.example.yaml'), join(project, 'agent-secret.yml'));
  const approverLog = env.FAKE_APPROVER_LOG;
  writeFileSync(
    join(configDir, 'config.yml'),
    `# DEMO user config: the fake op and an approver program that approves everything.\nversion: 1\napprover:\n  command: ["${join(fixtures, 'approver')}", "approve"]\nop_path: ${join(fixtures, 'op')}\n`,
    { mode: 0o600 },
  );
  const run = (args) => {
    say(`$ agent-secret ${args.map((a) => (/[\s'"$]/.test(a) ? `'${a}'` : a)).join(' ')}`);
    const result = spawnSync(process.execPath, [bin, ...args], { cwd: project, env, stdio: 'inherit' });
    say(`(exit code ${result.status})`);
    return result.status;
  };

  say('This is a DEMO. A fake `op` serves a sample vault and a fake approver answers "approve".');
  say(`Everything happens in ${work} and is deleted afterwards.`);

  banner('1. what the human would be asked (dry run: no prompt, no op call, no child)');
  run(['exec', '--dry-run', '--profile', 'demo', '--', 'node', '--version']);

  banner('2. the real flow: approve, resolve through op, run the child with the secrets');
  // The child proves it received the values without printing them: length and a short hash.
  const child = [
    'const { createHash } = require("node:crypto");',
    'for (const name of ["DEMO_API_TOKEN", "DEMO_PASSWORD"]) {',
    '  const v = process.env[name];',
    '  console.log(`${name}: ${v === undefined ? "missing" : `set, ${v.length} chars, sha256 ${createHash("sha256").update(v).digest("hex").slice(0, 12)}…`}`);',
    '}',
  ].join('\n');
  const status = run(['exec', '--profile', 'demo', '--', 'node', '-e', child]);

  banner('3. what the approver program received (the whole request, no values)');
  for (const line of readFileSync(approverLog, 'utf8').trim().split('\n')) {
    const prompt = JSON.parse(line);
    say(JSON.stringify({ reason: prompt.reason, command: prompt.command, executable: prompt.executable, secrets: prompt.secrets, warnings: prompt.warnings, requester: prompt.requester }, null, 2));
  }

  banner('4. the audit log (value-free)');
  const audit = readFileSync(join(work, 'state', 'agent-secret', 'audit.jsonl'), 'utf8');
  for (const line of audit.trim().split('\n')) {
    const event = JSON.parse(line);
    say(`${event.timestamp}  ${event.event.padEnd(22)} ${event.request_id}${event.exit_code === undefined ? '' : `  exit=${event.exit_code}`}${event.approver === undefined ? '' : `  approver=${event.approver}`}`);
  }
  say('\nDEMO done. In real use the approver is a macOS dialog with Touch ID, a Linux desktop dialog,');
  say('or your own approver program, and `op` is the real 1Password CLI. Start with: agent-secret doctor');
  process.exitCode = status ?? 1;
} finally {
  // The exec started a daemon in the demo's HOME: stop it before that HOME is deleted, or it
  // lingers for its idle time serving a directory that no longer exists.
  spawnSync(process.execPath, [bin, 'daemon', 'stop'], { cwd: tmpdir(), env, stdio: 'ignore', timeout: 15_000 });
  rmSync(work, { recursive: true, force: true });
}
