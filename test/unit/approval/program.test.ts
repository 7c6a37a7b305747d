// Component tests: the approver-program protocol against the real fake approver program.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProgramApprover } from '../../../src/approval/program.js';
import { samplePrompt } from './sample-prompt.js';

const FAKE = fileURLToPath(new URL('../../fixtures/bin/approver', import.meta.url));

let dir: string;
let log: string;
let meta: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-secret-approver-'));
  log = join(dir, 'requests.jsonl');
  meta = join(dir, 'meta.jsonl');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function approver(mode: string, extraEnv: Record<string, string> = {}) {
  return createProgramApprover([FAKE, mode], { env: { ...process.env, FAKE_APPROVER_LOG: log, FAKE_APPROVER_META_LOG: meta, ...extraEnv } });
}

function lines(path: string): Array<Record<string, unknown>> {
  return existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
}

// A killed process whose parent is gone may linger as a zombie until init reaps it.
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function waitUntil(check: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

const soon = (ms = 10_000) => Date.now() + ms;

describe('program approver', () => {
  it('approves, and the program saw exactly the prompt on stdin and its id in the env', async () => {
    const prompt = samplePrompt();
    await expect(approver('approve').decide(prompt, { deadline: soon() })).resolves.toEqual({ kind: 'approve' });
    expect(lines(log)).toEqual([JSON.parse(JSON.stringify(prompt))]);
    expect(lines(meta)[0]).toMatchObject({ approval_id: prompt.id });
  });

  it('denies', async () => {
    await expect(approver('deny').decide(samplePrompt(), { deadline: soon() })).resolves.toEqual({ kind: 'deny', reason: 'denied by user' });
  });

  it('parses a reuse grant', async () => {
    await expect(approver('approve-reuse:60:3').decide(samplePrompt(), { deadline: soon() })).resolves.toEqual({
      kind: 'approve',
      reuse: { ttlSeconds: 60, maxUses: 3 },
    });
  });

  it('fails (not denies) on a reuse grant longer than the request ttl', async () => {
    await expect(approver('approve-reuse:121:3').decide(samplePrompt(), { deadline: soon() })).resolves.toEqual({ kind: 'failed', reason: "the approver program answered something malformed: reuse.ttl_seconds is longer than the request's ttl_seconds" });
  });

  it('times out a program that never answers, and kills it at the deadline', async () => {
    const started = Date.now();
    await expect(approver('hang').decide(samplePrompt(), { deadline: Date.now() + 700 })).resolves.toEqual({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await waitUntil(() => lines(meta).length === 1)).toBe(true);
    const pid = lines(meta)[0]?.pid as number;
    expect(await waitUntil(() => !alive(pid))).toBe(true);
  });

  it('kills the whole process group at the deadline, children included', async () => {
    const script = join(dir, 'spawner');
    const childPidFile = join(dir, 'child.pid');
    writeFileSync(
      script,
      `#!/bin/sh\nsleep 30 &\necho $! > ${childPidFile}\nwait\n`,
    );
    chmodSync(script, 0o755);
    const result = await createProgramApprover([script], { env: process.env }).decide(samplePrompt(), { deadline: Date.now() + 700 });
    expect(result).toEqual({ kind: 'timeout' });
    const childPid = Number(readFileSync(childPidFile, 'utf8'));
    expect(await waitUntil(() => !alive(childPid))).toBe(true);
  });

  it('fails (not denies) on garbage output', async () => {
    await expect(approver('garbage').decide(samplePrompt(), { deadline: soon() })).resolves.toEqual({ kind: 'failed', reason: "the approver program answered something malformed: not one JSON object" });
  });

  it('fails (not denies) on an answer for another id', async () => {
    await expect(approver('wrong-id').decide(samplePrompt(), { deadline: soon() })).resolves.toEqual({ kind: 'failed', reason: 'the approver program answered something malformed: id is not the id of this request' });
  });

  it('fails (not denies) on an approve printed by a program that exits non-zero', async () => {
    await expect(approver('exit1').decide(samplePrompt(), { deadline: soon() })).resolves.toEqual({ kind: 'failed', reason: 'the approver program exited with code 1' });
  });

  it('fails (not denies) on the program crashes', async () => {
    await expect(approver('crash').decide(samplePrompt(), { deadline: soon() })).resolves.toEqual({ kind: 'failed', reason: 'the approver program was killed by SIGKILL' });
  });

  it('accepts a slow answer that arrives before the deadline', async () => {
    await expect(approver('slow:200').decide(samplePrompt(), { deadline: soon() })).resolves.toEqual({ kind: 'approve' });
  });

  it('times out a slow answer that would arrive after the deadline', async () => {
    await expect(approver('slow:3000').decide(samplePrompt(), { deadline: Date.now() + 400 })).resolves.toEqual({ kind: 'timeout' });
  });

  it('does not start the program for an expired request', async () => {
    await expect(approver('approve').decide(samplePrompt(), { deadline: Date.now() - 1 })).resolves.toEqual({ kind: 'timeout' });
    expect(lines(log)).toEqual([]);
  });

  it('denies when aborted, and kills the program', async () => {
    const controller = new AbortController();
    const pending = approver('hang').decide(samplePrompt(), { deadline: soon(), signal: controller.signal });
    await waitUntil(() => lines(meta).length === 1);
    controller.abort();
    await expect(pending).resolves.toEqual({ kind: 'deny', reason: 'cancelled' });
    const pid = lines(meta)[0]?.pid as number;
    expect(await waitUntil(() => !alive(pid))).toBe(true);
  });

  it('fails (not denies) on the program cannot be started', async () => {
    const missing = createProgramApprover([join(dir, 'missing')], { env: process.env });
    await expect(missing.decide(samplePrompt(), { deadline: soon() })).resolves.toEqual({ kind: 'failed', reason: 'the approver program could not be started' });
  });

  it('fails (not denies) on output over 64 KiB without reading further', async () => {
    const script = join(dir, 'chatty');
    writeFileSync(script, `#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\\\0' x\n`);
    chmodSync(script, 0o755);
    await expect(createProgramApprover([script], { env: process.env }).decide(samplePrompt(), { deadline: soon() })).resolves.toEqual({
      kind: 'failed',
      reason: 'the approver program wrote more output than an answer can be',
    });
  });

  it('strips loader and code variables from the program environment and pins PATH', async () => {
    await approver('approve', { NODE_OPTIONS: '--require /tmp/evil.js', LD_PRELOAD: '/tmp/evil.so', BASH_ENV: '/tmp/x', ZENITY_CANCEL: '0', AGENT_SECRET_OTHER: '1', KEEP_ME: 'ok' }).decide(
      samplePrompt(),
      { deadline: soon() },
    );
    const names = lines(meta)[0]?.env_names as string[];
    expect(names).toContain('KEEP_ME');
    expect(names).toContain('AGENT_SECRET_APPROVAL_ID');
    for (const name of ['NODE_OPTIONS', 'LD_PRELOAD', 'BASH_ENV', 'ZENITY_CANCEL', 'AGENT_SECRET_OTHER']) expect(names).not.toContain(name);
  });
});
