// `agent-secret approver test` through the built binary and the fake approver program: the
// sample prompt reaches the configured approver (operation approver_test, no secrets, the
// daemon's own reason and label), the answer comes back (Allow and Deny both exit 0), nobody
// answering is exit 11 and a broken approver is approval.failed; op is never called and not
// even needed; the audit log records the test and its answer. doctor names the command.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectNoLeak, runCli, runClean } from '../helpers/run-cli.js';
import { BIN, createSandbox, FIXTURE_BIN, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
const terminals: ChildProcess[] = [];
beforeEach(() => {
  sb = createSandbox();
});
afterEach(() => {
  for (const child of terminals.splice(0)) child.kill('SIGKILL');
  sb.cleanup();
});

function useApproverName(name: 'console' | 'tty'): void {
  const dir = join(sb.root, 'config', 'agent-secret');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'config.yml'), `version: 1\napprover: ${name}\nop_path: ${join(FIXTURE_BIN, 'op')}\n`, { mode: 0o600 });
}

// `agent-secret ARGS` on a pseudo-terminal of its own (util-linux or BSD `script`), as a human's terminal.
function onTerminal(args: string[]) {
  const command = [process.execPath, BIN, ...args].map((word) => JSON.stringify(word)).join(' ');
  const argv = process.platform === 'linux' ? ['-qfec', command, '/dev/null'] : ['-qF', '/dev/null', process.execPath, BIN, ...args];
  const child = spawn('script', argv, { cwd: sb.project, env: { ...sb.env, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
  terminals.push(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  return {
    output: () => out,
    type: (text: string) => child.stdin?.write(text),
    exited: new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code))),
    async waitFor(text: string) {
      const deadline = Date.now() + 20_000;
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`the terminal never showed ${JSON.stringify(text)}; it showed:\n${out}`);
        await sleep(25);
      }
    },
  };
}

const QUESTION = 'Is this how agent-secret asks you?';

const eventsOf = (requestId: string) => sb.auditEvents().filter((e) => e.request_id === requestId).map((e) => e.event);

describe('approver test', () => {
  it('Allow: the sample prompt reaches the approver, the answer is reported, nothing resolved, op not needed', async () => {
    // An op that does not exist: the test must not need it.
    sb.useApprover('approve', { op_path: '/nonexistent/op' });
    const result = await runClean(sb, ['approver', 'test', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(report)[0]).toBe('schema_version');
    expect(report).toMatchObject({ schema_version: '1', answer: 'approve', approver: 'command', resolved: false });

    const prompts = sb.prompts();
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toMatchObject({
      operation: 'approver_test',
      allows_reusable: false,
      command: ['agent-secret', 'approver', 'test'],
      secrets: [],
      reason: 'A test of your approver, started with agent-secret approver test',
      ttl_seconds: 60,
      cwd: sb.project,
    });
    expect(sb.opCalls()).toHaveLength(0);
    expect(eventsOf(report.request_id as string)).toEqual(['request_received', 'approval_granted']);
  });

  it('Deny is an answer too: exit 0, reported as Deny, audited as denied', async () => {
    sb.useApprover('deny');
    const result = await runClean(sb, ['approver', 'test']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('approver test: you answered Deny (approver: command)\nNothing was read from 1Password and nothing ran; the audit log records the test.\n');
    const received = sb.auditEvents().find((e) => e.event === 'request_received')!;
    expect(eventsOf(received.request_id as string)).toEqual(['request_received', 'approval_denied']);
    expect(sb.opCalls()).toHaveLength(0);
  });

  it('nobody answers within --ttl: exit 11, the approver is not blamed', async () => {
    sb.useApprover('hang');
    const result = await runClean(sb, ['approver', 'test', '--ttl', '10s'], { timeoutMs: 40_000 });
    expect(result.code).toBe(11);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(sb.prompts()[0]).toMatchObject({ operation: 'approver_test', ttl_seconds: 10 });
  }, 60_000);

  it('a broken approver program: approval.failed, nobody decided', async () => {
    sb.useApprover('garbage');
    const result = await runClean(sb, ['approver', 'test', '--json']);
    // With --json the error is the JSON document on stdout.
    const error = JSON.parse(result.stdout) as { error: { code: string; exit_code: number } };
    expect(error.error.code).toBe('approval.failed');
    expect(result.code).toBe(error.error.exit_code);
  });

  it('refuses a ttl out of range before asking anyone', async () => {
    sb.useApprover('approve');
    const result = await runClean(sb, ['approver', 'test', '--ttl', '2s']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--ttl/);
    expect(sb.prompts()).toHaveLength(0);
  });

  it('the audit table shows the test as its own request', async () => {
    sb.useApprover('approve');
    expect((await runClean(sb, ['approver', 'test'])).code).toBe(0);
    const audit = await runClean(sb, ['audit', '--json']);
    const rows = (JSON.parse(audit.stdout) as { requests: Array<Record<string, unknown>> }).requests;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ command: ['agent-secret', 'approver', 'test'], aliases: [] });
  });

  it('doctor names it next to the approver', async () => {
    sb.useApprover('approve');
    const doctor = await runClean(sb, ['doctor', '--json']);
    const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; hint: string | null }> }).checks;
    expect(checks.find((c) => c.name === 'approver')?.hint).toContain('agent-secret approver test');
  });

  it('console approver: the sample shows in agent-secret approve, and its answer comes back', async () => {
    useApproverName('console');
    const con = onTerminal(['approve']);
    await con.waitFor('Waiting for requests');
    const test = runCli(sb, ['approver', 'test', '--json'], { timeoutMs: 40_000 });
    await con.waitFor(QUESTION);
    await con.waitFor('answer>');
    con.type('d\r');
    const result = await test;
    expectNoLeak(sb, result);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ answer: 'deny', approver: 'console' });
    expect(sb.opCalls()).toHaveLength(0);
  }, 60_000);

  it('tty approver: asked on this terminal by an in-process broker (the daemon has none)', async () => {
    useApproverName('tty');
    const term = onTerminal(['approver', 'test']);
    await term.waitFor(QUESTION);
    term.type('y\r');
    expect(await term.exited).toBe(0);
    expect(term.output()).toContain('approver test: you answered Allow (approver: tty)');
    expect(sb.opCalls()).toHaveLength(0);
    // The in-process broker audits it the same way.
    expect(sb.auditEvents().map((e) => e.event)).toEqual(['request_received', 'approval_granted']);
    // No daemon was started for it.
    expect(existsSync(sb.daemonPidFile)).toBe(false);
  }, 60_000);
});
