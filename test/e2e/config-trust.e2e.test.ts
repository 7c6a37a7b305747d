// Project files someone else could have written, against the built binary: a config or env
// file that another user owns, or that group or others can write (itself or, through its
// directory, by replacing it), is refused with exit 2 and the path before anyone is asked; and
// the upward search does not use a config in a shared (sticky, /tmp-like) directory. The
// approver would allow anything, so a refusal shows as no prompt and no op call. Owner cases
// need chown, so they run as root (as CI does); otherwise the same test proves the mode case
// and the owner decision is covered by test/unit/config/file-trust.test.ts.

import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean, type CliResult } from '../helpers/run-cli.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

const CONFIG = `version: 1
profiles:
  deploy:
    reason: Deploy the web app
    mask: false
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
`;
const EXEC = ['exec', '--profile', 'deploy', '--', 'true'];
const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.useApprover('approve');
});
afterEach(() => sb.cleanup());

// Refused before planning finished: exit 2, one message and one hint naming `path`, nobody asked.
function expectRefused(result: CliResult, path: string, problem: string): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines.length).toBeLessThanOrEqual(2);
  expect(lines[0]).toContain(problem);
  expect(lines[0]).toContain(path);
  expect(sb.prompts()).toHaveLength(0);
  expect(sb.opCalls()).toHaveLength(0);
}

describe('the project config', () => {
  it('a config of my own is used (the control: the approver allows, op is asked)', async () => {
    sb.write('agent-secret.yml', CONFIG);
    const result = await runClean(sb, EXEC);
    expect(result.code).toBe(0);
    expect(sb.prompts()).toHaveLength(1);
  });

  it('a world-writable (0666) config is refused, with the chmod that fixes it', async () => {
    const path = sb.write('agent-secret.yml', CONFIG);
    chmodSync(path, 0o666);
    const result = await runClean(sb, EXEC);
    expectRefused(result, path, 'writable by group or others');
    expect(result.stderr).toContain(`chmod go-w ${path}`);
  });

  it('a config owned by another user is refused (as root: chowned to 65534; else: made group-writable)', async () => {
    const path = sb.write('agent-secret.yml', CONFIG);
    if (IS_ROOT) chownSync(path, NOBODY, NOBODY);
    else chmodSync(path, 0o664);
    const result = await runClean(sb, EXEC);
    expectRefused(result, path, IS_ROOT ? `owned by another user (uid ${NOBODY})` : 'writable by group or others');
  });

  it('a config given with --config is checked the same way', async () => {
    const path = sb.write('elsewhere/team.yml', CONFIG);
    chmodSync(path, 0o646);
    const result = await runClean(sb, ['exec', '--config', path, '--profile', 'deploy', '--', 'true']);
    expectRefused(result, path, 'writable by group or others');
  });

  it('a config linked to a file others can write is refused (judged by the file it reads)', async () => {
    const target = join(sb.root, 'shared-config.yml');
    writeFileSync(target, CONFIG);
    chmodSync(target, 0o666);
    const link = join(sb.project, 'agent-secret.yml');
    symlinkSync(target, link);
    expectRefused(await runClean(sb, EXEC), link, 'writable by group or others');
  });

  it('a config in a directory others can write (so could replace it) is refused', async () => {
    const path = sb.write('open/agent-secret.yml', CONFIG);
    chmodSync(join(sb.project, 'open'), 0o777);
    const result = await runClean(sb, ['exec', '--config', path, '--profile', 'deploy', '--', 'true']);
    expectRefused(result, path, 'in a directory that group or others can write');
  });
});

describe('env files', () => {
  it('an env file owned by another user is refused (as root: chowned to 65534; else: made world-writable)', async () => {
    const path = sb.write('deploy.env', 'CF_TOKEN=op://Infra/Cloudflare/token\n');
    if (IS_ROOT) chownSync(path, NOBODY, NOBODY);
    else chmodSync(path, 0o666);
    const result = await runClean(sb, ['exec', '--reason', 'Deploy the web app', '--env-file', 'deploy.env', '--', 'true']);
    expectRefused(result, path, IS_ROOT ? `owned by another user (uid ${NOBODY})` : 'writable by group or others');
  });

  it('a world-writable env file is refused', async () => {
    const path = sb.write('deploy.env', 'CF_TOKEN=op://Infra/Cloudflare/token\n');
    chmodSync(path, 0o606);
    const result = await runClean(sb, ['exec', '--reason', 'Deploy the web app', '--env-file', 'deploy.env', '--', 'true']);
    expectRefused(result, path, 'writable by group or others');
  });
});

describe('the upward search', () => {
  it('does not use a config in a sticky, world-writable directory above cwd (like /tmp/agent-secret.yml from /tmp/x)', async () => {
    const shared = join(sb.root, 'shared');
    mkdirSync(join(shared, 'x'), { recursive: true });
    chmodSync(shared, 0o1777);
    const path = join(shared, 'agent-secret.yml');
    writeFileSync(path, CONFIG);
    if (IS_ROOT) chownSync(path, NOBODY, NOBODY);
    const result = await runClean(sb, EXEC, { cwd: join(shared, 'x') });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('none was found');
    expect(result.stderr).not.toContain(path);
    expect(sb.prompts()).toHaveLength(0);
    expect(sb.opCalls()).toHaveLength(0);
  });
});
