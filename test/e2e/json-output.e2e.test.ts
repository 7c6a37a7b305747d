// Every command that prints data takes --json and puts "schema_version" first, through the
// built binary. The command table itself (agent-context) is checked too, so a new command
// without --json fails here unless it is one of the few that print no data of their own.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

// Commands whose output is not a data document, and why.
const NO_JSON: Record<string, string> = {
  'with-session': 'runs a command: its output is the command’s',
  approve: 'the interactive approval console of a human',
  guard: "answers in the calling agent's hook contract (JSON for most agents already)",
  completion: 'prints a shell script to source',
};

let sb: Sandbox;
beforeAll(() => {
  sb = createSandbox();
  sb.useApprover('approve');
  sb.write('agent-secret.yml', 'version: 1\ndefault_profile: deploy\nprofiles:\n  deploy:\n    reason: Deploy the web app\n    secrets:\n      CF_TOKEN: op://Infra/Cloudflare/token\n');
});
afterAll(() => sb.cleanup());

describe('--json on every command that prints data', () => {
  it('the command table: each command has --json or prints no data of its own', async () => {
    const doc = JSON.parse((await runClean(sb, ['agent-context', '--json'])).stdout) as { commands: Record<string, { flags: Array<{ name: string }> }> };
    const missing = Object.entries(doc.commands)
      .filter(([name, command]) => !command.flags.some((flag) => flag.name === '--json') && NO_JSON[name] === undefined)
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });

  const runs: Array<[string, string[], number]> = [
    ['version', ['version', '--json'], 0],
    ['agent-context', ['agent-context', '--json'], 0],
    ['doctor', ['doctor', '--json'], 0],
    ['profile list', ['profile', 'list', '--json'], 0],
    ['profile show', ['profile', 'show', 'deploy', '--json'], 0],
    ['exec --dry-run', ['exec', '--dry-run', '--json', '--', 'true'], 0],
    ['item describe', ['item', 'describe', 'op://Infra/GitHub', '--json'], 0],
    ['audit', ['audit', '--json'], 0],
    ['audit verify', ['audit', 'verify', '--json'], 0],
    ['daemon start', ['daemon', 'start', '--json'], 0],
    ['daemon status', ['daemon', 'status', '--json'], 0],
    ['approvals list', ['approvals', 'list', '--json'], 0],
    ['approvals revoke', ['approvals', 'revoke', '--all', '--json'], 0],
    ['session list', ['session', 'list', '--json'], 0],
    ['session destroy', ['session', 'destroy', '--all', '--json'], 0],
    ['skill-install', ['skill-install', '--agent', 'codex', '--json'], 0],
    ['hook-install', ['hook-install', '--agent', 'codex', '--json'], 0],
    ['daemon stop', ['daemon', 'stop', '--json'], 0],
    ['an error', ['profile', 'show', 'nope', '--json'], 2],
  ];
  for (const [name, args, code] of runs) {
    it(`${name}: one JSON document, schema_version first`, async () => {
      const result = await runClean(sb, args);
      expect(result.code).toBe(code);
      const doc = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(Object.keys(doc)[0]).toBe('schema_version');
      expect(doc.schema_version).toBe('1');
    });
  }

  it('item describe --json refuses another --format', async () => {
    const result = await runClean(sb, ['item', 'describe', 'op://Infra/GitHub', '--json', '--format', 'env-refs']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ schema_version: '1', ok: false, error: { code: 'usage.invalid' } });
  });
});
