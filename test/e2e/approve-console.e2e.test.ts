// The approval console end to end: `approver: console` in the user config, `agent-secret approve`
// run under a real pseudo-terminal (util-linux `script`, as a human's terminal), execs of the
// built binary asking through the daemon. The console shows each request and answers what is
// typed into it; a second console is refused. Every output and the audit log are scanned for
// the fake vault's canary values.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CANARIES } from '../helpers/canaries.js';
import { expectNoLeak, runCli, runClean } from '../helpers/run-cli.js';
import { BIN, createSandbox, FIXTURE_BIN, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';
import { digest, valueOf } from '../helpers/vault.js';

const PROGRAMS = join(REPO_ROOT, 'test', 'fixtures', 'programs');
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
const consoles: ChildProcess[] = [];
beforeEach(() => {
  sb = createSandbox();
  sb.write('agent-secret.yml', CONFIG);
  const dir = join(sb.root, 'config', 'agent-secret');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'config.yml'), `version: 1\napprover: console\nop_path: ${join(FIXTURE_BIN, 'op')}\n`, { mode: 0o600 });
});
afterEach(() => {
  for (const child of consoles.splice(0)) child.kill('SIGKILL');
  sb.cleanup();
});

const runs = () => join(sb.root, 'runs.jsonl');
const execArgs = (extra: string[] = [], flags: string[] = []) => ['exec', '--profile', 'cf', ...flags, '--', 'node', join(PROGRAMS, 'append-env.mjs'), sb.root, 'CF_TOKEN', ...extra];
const seen = (): Array<string | undefined> =>
  existsSync(runs())
    ? readFileSync(runs(), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { CF_TOKEN: { sha256?: string } }).CF_TOKEN.sha256)
    : [];

interface Console {
  child: ChildProcess;
  output(): string;
  type(text: string): void;
  waitFor(text: string, from?: number): Promise<void>;
  exited: Promise<number | null>;
}

// `agent-secret approve` on a pseudo-terminal of its own: what a human's terminal gives it.
function startConsole(): Console {
  // util-linux `script` takes the command as one string; BSD `script` (macOS) takes argv after the file.
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} approve`;
  const args = process.platform === 'linux' ? ['-qfec', command, '/dev/null'] : ['-qF', '/dev/null', process.execPath, BIN, 'approve'];
  const child = spawn('script', args, { cwd: sb.project, env: { ...sb.env, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
  consoles.push(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    type: (text) => child.stdin?.write(text),
    async waitFor(text, from = 0) {
      const deadline = Date.now() + 15_000;
      while (!out.slice(from).includes(text)) {
        if (Date.now() > deadline) throw new Error(`the console never showed ${JSON.stringify(text)}; it showed:\n${out}`);
        await sleep(25);
      }
    },
    exited,
  };
}

function expectConsoleClean(con: Console): void {
  for (const canary of CANARIES) expect(con.output().includes(canary), `console output leaked ${canary.slice(0, 12)}…`).toBe(false);
}

describe('agent-secret approve (the approval console)', () => {
  it('tells the caller to start the console, then shows the request and answers what the human types', async () => {
    // No console yet: the request waits, and the caller is told once what to run.
    const first = runCli(sb, execArgs());
    const deadline = Date.now() + 15_000;
    while (!sb.auditEvents().some((e) => e.event === 'request_received') && Date.now() < deadline) await sleep(25);
    const con = startConsole();
    await con.waitFor('answer>');
    expect(con.output()).toContain('agent-secret: secret access request');
    expect(con.output()).toContain('Reason (the agent\'s own words):');
    expect(con.output()).toContain('CF_TOKEN = op://Infra/Cloudflare/token');
    con.type('o\r');
    const approved = await first;
    expectNoLeak(sb, approved);
    expect(approved.code).toBe(0);
    expect(approved.stderr.match(/agent-secret approve/g)).toHaveLength(1);
    expect(seen()).toEqual([digest(valueOf('op://Infra/Cloudflare/token')).sha256]);
    await con.waitFor('Approved.');

    // Deny: the denial exit code, nothing resolved.
    const mark = con.output().length;
    const second = runClean(sb, execArgs(['again']));
    await con.waitFor('answer>', mark);
    con.type('d\r');
    const denied = await second;
    expect(denied.code).toBe(10);
    expect(denied.stderr).toContain('denied');
    expect(seen()).toHaveLength(1);
    expect(sb.opCalls()).toHaveLength(1);

    // A second console is refused, and the first is told.
    const other = startConsole();
    expect(await other.exited).toBe(12);
    expect(other.output()).toContain('another approval console is already attached');
    await con.waitFor('tried to attach and was refused');

    // Allow again for a while: the next identical run needs no prompt.
    const mark2 = con.output().length;
    const third = runClean(sb, execArgs(['reuse']));
    await con.waitFor('answer>', mark2);
    con.type('r\r');
    await con.waitFor('duration>', mark2);
    con.type('\r');
    await con.waitFor('runs>', mark2);
    con.type('2\r');
    expect((await third).code).toBe(0);
    const reused = await runClean(sb, execArgs(['reuse'], ['--reuse-only']));
    expect(reused.code).toBe(0);
    expect(seen()).toHaveLength(3);
    expect(sb.opCalls()).toHaveLength(2);

    // Ctrl-C detaches; the attach, the refusal and the detach are in the audit log.
    con.type('\x03');
    expect(await con.exited).toBe(0);
    expectConsoleClean(con);
    expectConsoleClean(other);
    const events = sb.auditEvents().map((e) => e.event);
    expect(events).toContain('console_attached');
    expect(events).toContain('console_refused');
    expect(events).toContain('console_detached');
    expectNoLeak(sb);
  }, 60_000);

  it('answers all identical waiting requests with one line: "all" runs each once, "deny all" denies the rest', async () => {
    const con = startConsole();
    await con.waitFor('Waiting for requests');
    // A different request holds the prompt while three identical ones queue behind it.
    const blocker = runClean(sb, ['exec', '--profile', 'cf', '--reason', 'Hold the prompt', '--', 'true']);
    await con.waitFor('answer>');
    const received = () => sb.auditEvents().filter((e) => e.event === 'request_received' && e.reason === 'Purge the CDN cache').length;
    const burst = Promise.all(Array.from({ length: 3 }, () => runClean(sb, execArgs())));
    const deadline = Date.now() + 20_000;
    while (received() < 3 && Date.now() < deadline) await sleep(25);
    const mark = con.output().length;
    con.type('o\r');
    expect((await blocker).code).toBe(0);
    // The next prompt counts the two identical ones behind it and offers the answers for all 3.
    await con.waitFor('[all] Allow all 3 once', mark);
    await con.waitFor('answer>', mark);
    con.type('all\r');
    const results = await burst;
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const cf = digest(valueOf('op://Infra/Cloudflare/token')).sha256;
    expect(seen()).toEqual([cf, cf, cf]);
    // One op call for the blocker and one for the three.
    expect(sb.opCalls()).toHaveLength(2);
    expect(sb.auditEvents().filter((e) => e.event === 'approval_granted' && e.answered_with !== undefined)).toHaveLength(2);

    // Deny all: three more identical requests behind a blocker, one line denies all of them.
    const mark2 = con.output().length;
    const blocker2 = runClean(sb, ['exec', '--profile', 'cf', '--reason', 'Hold the prompt again', '--', 'true']);
    await con.waitFor('answer>', mark2);
    const burst2 = Promise.all(Array.from({ length: 3 }, () => runClean(sb, execArgs(['denied']))));
    const deadline2 = Date.now() + 20_000;
    while (received() < 6 && Date.now() < deadline2) await sleep(25);
    const mark3 = con.output().length;
    con.type('o\r');
    expect((await blocker2).code).toBe(0);
    await con.waitFor('[deny all] Deny all 3', mark3);
    await con.waitFor('answer>', mark3);
    con.type('deny all\r');
    for (const r of await burst2) expect(r.code).toBe(10);
    expect(seen()).toHaveLength(3);
    expect(sb.opCalls()).toHaveLength(3);
    con.type('\x03');
    expect(await con.exited).toBe(0);
    expectConsoleClean(con);
    expectNoLeak(sb);
  }, 90_000);

  it('refuses to run without a terminal on stdin', async () => {
    const result = await runClean(sb, ['approve']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('needs a terminal on stdin');
  });
});

describe('a Linux host without a desktop and no approver configured', () => {
  it.skipIf(process.platform !== 'linux')('names agent-secret approve and the config line, in the error and in doctor', async () => {
    writeFileSync(join(sb.root, 'config', 'agent-secret', 'config.yml'), `version: 1\nop_path: ${join(FIXTURE_BIN, 'op')}\n`, { mode: 0o600 });
    const env = { DISPLAY: undefined, WAYLAND_DISPLAY: undefined };
    const failed = await runClean(sb, execArgs(), { env });
    expect(failed.code).toBe(12);
    expect(failed.stderr).toContain('approver: console');
    expect(failed.stderr).toContain('agent-secret approve');
    const doctor = await runClean(sb, ['doctor'], { env });
    expect(doctor.stdout + doctor.stderr).toContain('approver: console');
    expect(doctor.stdout + doctor.stderr).toContain('agent-secret approve');
  });
});
