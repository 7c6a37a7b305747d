// What the human sees in the dialog, end to end: the built binary asks the fake approver, which
// logs the request it was given; the dialog text is then built from that exact request by the
// zenity argument builder (the desktop dialog's own `--text`), so these tests check the human's
// view of a real request: order, caps, the note's command (run as written), wrapper and inline
// code warnings, and escaping of combining marks and right-to-left letters.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildZenityArgs } from '../../src/approval/zenity.js';
import type { ApprovalPrompt } from '../../src/approval/types.js';
import { runClean } from '../helpers/run-cli.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

const CONFIG = `version: 1
default_profile: deploy
profiles:
  deploy:
    reason: Deploy the web app
    ttl: 30s
    secrets:
      CF_TOKEN: op://Infra/Cloudflare/token
`;

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
  sb.useApprover('approve');
});
afterEach(() => sb.cleanup());

// Runs one approved exec and returns the request the approver got and the dialog text for it.
async function shown(command: string[]): Promise<{ prompt: ApprovalPrompt; text: string }> {
  const result = await runClean(sb, ['exec', '--', ...command]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const prompt = sb.prompts()[0] as unknown as ApprovalPrompt;
  const args = buildZenityArgs(prompt, { now: Date.now(), deadline: Date.parse(prompt.expires_at) });
  return { prompt, text: args[args.indexOf('--text') + 1]! };
}

describe('the dialog text', () => {
  it('puts secrets and warnings before forty 200-character arguments, caps them, and names a command that shows them in full', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(2, '0')}${'q'.repeat(198)}`);
    const { prompt, text } = await shown(['sh', '-c', 'exit 0', ...long]);
    const lines = text.split('\n');
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    expect(at('Secrets (1):')).toBeGreaterThan(0);
    expect(at('Secrets (1):')).toBeLessThan(at('Warnings:'));
    expect(at('Warnings:')).toBeLessThan(at('Command: '));
    expect(text).toContain('the command is a shell');
    const command = lines[at('Command: ')]!;
    expect(command).toContain('…[80 more characters]');
    expect(command).toMatch(/more arguments not shown\]$/);
    expect([...command].length).toBeLessThan(1100);
    expect([...text].length).toBeLessThanOrEqual(6000);
    const note = lines[at('Command: ') + 1]!;
    expect(note).toContain(prompt.id);

    // The note's command works as written and prints the whole argv of this request.
    const viewer = note.slice(note.lastIndexOf(': ') + 2, -1);
    expect(viewer).toBe('agent-secret audit --json --since 1h');
    const audit = await runClean(sb, viewer.split(' ').slice(1));
    expect(audit.code).toBe(0);
    const requests = (JSON.parse(audit.stdout) as { requests: Array<{ request_id: string; command: string[] }> }).requests;
    expect(requests.find((r) => r.request_id === prompt.id)?.command).toEqual(['sh', '-c', 'exit 0', ...long]);
  });

  it('warns that `timeout 5 sh -c` runs a shell', async () => {
    const { prompt, text } = await shown(['timeout', '5', 'sh', '-c', 'exit 0']);
    expect(prompt.warnings).toContain('the command is a shell: it can run anything with these secrets');
    expect(text).toContain('! the command is a shell');
  });

  it('warns that `python3 -c` evaluates inline code, also under nice', async () => {
    const { prompt } = await shown(['nice', '-n', '5', 'python3', '-c', 'pass']);
    expect(prompt.warnings).toContain('the command evaluates inline code given on the command line');
  });

  it('escapes combining marks and Hebrew letters in the argv', async () => {
    const { text } = await shown(['true', 'cafe\u0301', '\u05e9\u05dc\u05d5\u05dd']);
    expect(text).toContain("Command: true $'cafe\\u0301' $'\\u05e9\\u05dc\\u05d5\\u05dd'");
    expect(/[\p{Mn}\p{Script=Hebrew}]/u.test(text)).toBe(false);
  });
});
