// A client that speaks the daemon protocol directly (not the agent-secret CLI) cannot choose
// what the human is shown as fact: for session.create, item.describe and approver.test the command label, the
// executable, the requester chain and the warnings are the daemon's own, and a body carrying
// its own versions is refused before anyone is asked. The pid is the one thing only the caller
// can report: the prompt says so. Every frame, prompt and the audit log are scanned for canaries.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderPromptText } from '../../src/approval/display.js';
import type { ApprovalPrompt } from '../../src/approval/types.js';
import { findCanary } from '../helpers/canaries.js';
import { requestBodyFor, sessionRequestBodyFor } from '../helpers/request-body.js';
import { runClean } from '../helpers/run-cli.js';
import { BIN, createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';

const FORGED_WARNING = 'verified by agent-secret: read-only command';
const FORGED_CHAIN = [{ pid: 1, name: 'Terminal' }];
const FORGED_EXECUTABLE = '/bin/ls';

let sb: Sandbox;
let version: string;
let bystander: ChildProcess | null = null;
const seen: string[] = [];

beforeEach(async () => {
  sb = createSandbox();
  sb.useApprover('approve');
  seen.length = 0;
  version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const started = await runClean(sb, ['daemon', 'start', '--json']);
  expect(started.code).toBe(0);
});

afterEach(() => {
  bystander?.kill('SIGKILL');
  bystander = null;
  // Nothing this client received, nothing the human was shown and nothing recorded holds a value.
  const audit = existsSync(sb.auditPath) ? readFileSync(sb.auditPath, 'utf8') : '';
  const prompts = existsSync(sb.approverLog) ? readFileSync(sb.approverLog, 'utf8') : '';
  for (const text of [...seen, audit, prompts]) expect(findCanary(text)).toBeNull();
  sb.cleanup();
});

/** hello, then one request frame; resolves with the daemon's first answer to the request. */
function ask(type: string, body: Record<string, unknown>): Promise<{ type: string; body: Record<string, unknown> }> {
  const frame = (t: string, b: Record<string, unknown>) => `${JSON.stringify({ v: 1, id: 'forge', type: t, body: b })}\n`;
  return new Promise((resolve, reject) => {
    const socket = connect({ path: join(sb.daemonDir, 'daemon.sock') });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${type}`));
    }, 20_000);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (data: string) => {
      text += data;
      for (const line of text.split('\n').slice(0, -1)) {
        const parsed = JSON.parse(line) as { type: string; body: Record<string, unknown> };
        if (parsed.type === 'hello.ok') continue;
        seen.push(text);
        clearTimeout(timer);
        socket.destroy();
        resolve(parsed);
        return;
      }
    });
    socket.on('connect', () => socket.write(frame('hello', { version }) + frame(type, body)));
  });
}

/** A live process of this user whose pid a caller can report as its own (a child of this test). */
function otherProcess(): number {
  bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
  return bystander.pid as number;
}

function rendered(prompt: Record<string, unknown>): string {
  return renderPromptText(prompt as unknown as ApprovalPrompt, { now: Date.now() });
}

const itemBody = (extra: Record<string, unknown>) => ({ reason: 'protocol forgery test', ttl_seconds: 60, cwd: sb.project, ref: 'op://Infra/GitHub', account: null, ...extra });

describe('a raw protocol client', () => {
  it('cannot put its own command, executable, chain or warnings in a session create prompt: refused, nobody asked', async () => {
    const request = {
      ...requestBodyFor({ cwd: sb.project, command: ['ls', '-l'], executable: FORGED_EXECUTABLE, reason: 'protocol forgery test' }),
      warnings: [FORGED_WARNING],
      requester: { pid: 1, chain: FORGED_CHAIN },
    };
    const answer = await ask('session.create', { request, max_reads: 1, binding: { mode: 'ancestor', depth: 1 }, pid: process.pid });
    expect(answer).toMatchObject({ type: 'error', body: { code: 'daemon.protocol' } });
    expect(sb.prompts()).toEqual([]);
    expect(sb.opCalls()).toEqual([]);
  });

  it('cannot put its own command, executable or chain in an item describe prompt: refused, nobody asked', async () => {
    const body = itemBody({ command: ['ls'], executable: FORGED_EXECUTABLE, requester: { pid: 1, chain: FORGED_CHAIN } });
    const answer = await ask('item.describe', body);
    expect(answer).toMatchObject({ type: 'error', body: { code: 'daemon.protocol' } });
    expect(sb.prompts()).toEqual([]);
    expect(sb.opCalls()).toEqual([]);
  });

  it("session create: the prompt shows the daemon's command label and program, its own warnings, and the chain read for a pid marked as reported by the caller", async () => {
    const pid = otherProcess();
    const answer = await ask('session.create', { request: sessionRequestBodyFor({ cwd: sb.project, reason: 'protocol forgery test' }), max_reads: 1, binding: { mode: 'ancestor', depth: 1 }, pid });
    expect(answer.type).toBe('session.created');
    const [prompt] = sb.prompts();
    expect(prompt).toMatchObject({ operation: 'session_create', command: ['agent-secret', 'session', 'create'], executable: realpathSync(BIN), warnings: [] });
    // The chain is the one the daemon read for the reported pid: this test process is its parent.
    expect((prompt?.requester as { pid: number; chain: Array<{ pid: number }> }).pid).toBe(pid);
    expect((prompt?.requester as { chain: Array<{ pid: number }> }).chain[0]?.pid).toBe(process.pid);
    const text = rendered(prompt as Record<string, unknown>);
    expect(text).toContain('Requested by (pid reported by the caller): ');
    expect(text).not.toContain('Terminal');
  });

  it("item describe: the prompt shows the daemon's command label (with the item read) and program, and the pid marked as reported by the caller", async () => {
    const pid = otherProcess();
    const answer = await ask('item.describe', itemBody({ pid }));
    expect(answer.type).toBe('item.describe.ok');
    const [prompt] = sb.prompts();
    expect(prompt).toMatchObject({ operation: 'item_describe', command: ['agent-secret', 'item', 'describe', 'op://Infra/GitHub'], executable: realpathSync(BIN), warnings: [] });
    expect((prompt?.requester as { pid: number; chain: Array<{ pid: number }> }).chain[0]?.pid).toBe(process.pid);
    expect(rendered(prompt as Record<string, unknown>)).toContain('Requested by (pid reported by the caller): ');
  });

  it('item describe: a pid that names no live process is refused before anyone is asked', async () => {
    const answer = await ask('item.describe', itemBody({ pid: 999_999_999 }));
    expect(answer).toMatchObject({ type: 'error', body: { code: 'check.failed' } });
    expect(sb.prompts()).toEqual([]);
  });

  it('approver test: its own reason, label and secrets cannot be sent (refused, nobody asked); the prompt is the daemon\'s', async () => {
    const pid = otherProcess();
    for (const forged of [{ reason: 'approve the deploy' }, { command: ['ls'] }, { secrets: [{ alias: 'T', ref: 'op://Infra/Deploy/token' }] }]) {
      const answer = await ask('approver.test', { ttl_seconds: 30, cwd: sb.project, pid, ...forged });
      expect(answer).toMatchObject({ type: 'error', body: { code: 'daemon.protocol' } });
    }
    expect(sb.prompts()).toEqual([]);
    expect((await ask('approver.test', { ttl_seconds: 30, cwd: sb.project, pid: 999_999_999 })).body).toMatchObject({ code: 'check.failed' });
    expect(sb.prompts()).toEqual([]);

    const answer = await ask('approver.test', { ttl_seconds: 30, cwd: sb.project, pid });
    expect(answer).toMatchObject({ type: 'approver.test.ok', body: { answer: 'approve', approver: 'command' } });
    const [prompt] = sb.prompts();
    expect(prompt).toMatchObject({ operation: 'approver_test', command: ['agent-secret', 'approver', 'test'], executable: realpathSync(BIN), secrets: [], warnings: [] });
    expect(sb.opCalls()).toEqual([]);
  });
});
