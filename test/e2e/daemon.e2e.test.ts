// `agent-secret daemon start|stop|status` with the built binary: the daemon starts detached,
// one per user, survives garbage on its socket, is replaced when it was killed (stale socket)
// or retires for another version, and no daemon outlives its sandbox. Every run is scanned for
// the fake vault's canary values.

import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runClean } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
let runtime: string;
let socketPath: string;
let pidFile: string;
let version: string;

beforeEach(() => {
  sb = createSandbox();
  runtime = sb.daemonDir;
  socketPath = join(runtime, 'daemon.sock');
  pidFile = join(runtime, 'daemon.pid');
  version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
});
afterEach(() => sb.cleanup());

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return process.platform !== 'linux';
  }
}

async function startDaemon(): Promise<number> {
  const result = await runClean(sb, ['daemon', 'start', '--json']);
  expect(result.code).toBe(0);
  const doc = JSON.parse(result.stdout) as { running: boolean; pid: number };
  expect(doc.running).toBe(true);
  return doc.pid;
}

/** Writes bytes to the daemon socket and collects every line it answers until it closes. */
function exchange(chunks: Array<string | Buffer>): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => (text += data));
    socket.on('error', reject);
    socket.on('close', () =>
      resolve(
        text
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      ),
    );
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

const frame = (type: string, body: Record<string, unknown> = {}) => `${JSON.stringify({ v: 1, id: 'e2e', type, body })}\n`;

describe('daemon start, status, stop', () => {
  it('status says stopped (exit 1) and does not start one', async () => {
    const text = await runClean(sb, ['daemon', 'status']);
    expect(text.code).toBe(1);
    expect(text.stdout).toBe('agent-secret daemon: stopped\n');
    const json = await runClean(sb, ['daemon', 'status', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ schema_version: '1', running: false, pid: null, version: null, started_at: null, socket: socketPath });
    expect(existsSync(socketPath)).toBe(false);
  });

  it('start runs a detached daemon; status and a second start see the same one; stop ends it', async () => {
    const started = await runClean(sb, ['daemon', 'start']);
    expect(started.code).toBe(0);
    const match = /^agent-secret daemon: running \(pid (\d+), version (.+)\)\n$/.exec(started.stdout);
    expect(match?.[2]).toBe(version);
    const pid = Number(match?.[1]);
    expect(alive(pid)).toBe(true);
    expect(statSync(runtime).mode & 0o777).toBe(0o700);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(pidFile, 'utf8'))).toMatchObject({ pid, version });

    const status = await runClean(sb, ['daemon', 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toBe(`agent-secret daemon: running (pid ${pid}, version ${version})\n`);
    const statusJson = await runClean(sb, ['daemon', 'status', '--json']);
    expect(JSON.parse(statusJson.stdout)).toMatchObject({ schema_version: '1', running: true, pid, version, socket: socketPath });

    const again = await runClean(sb, ['daemon', 'start', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ running: true, already_running: true, pid });

    const stopped = await runClean(sb, ['daemon', 'stop']);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toBe('agent-secret daemon: stopped\n');
    expect(alive(pid)).toBe(false);
    expect(existsSync(socketPath)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    expect((await runClean(sb, ['daemon', 'status'])).code).toBe(1);

    const none = await runClean(sb, ['daemon', 'stop', '--json']);
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual({ schema_version: '1', stopped: true, was_running: false });
  });

  it('parallel starts in a fresh sandbox all find one and the same daemon', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => runClean(sb, ['daemon', 'start', '--json'])));
    expect(results.map((r) => r.code)).toEqual(Array(8).fill(0));
    const pids = new Set(results.map((r) => (JSON.parse(r.stdout) as { pid: number }).pid));
    expect(pids.size).toBe(1);
    const [pid] = [...pids] as [number];
    expect(alive(pid)).toBe(true);
    expect(JSON.parse(readFileSync(pidFile, 'utf8'))).toMatchObject({ pid });
    expect(existsSync(join(runtime, 'daemon.lock'))).toBe(false);
    expect(existsSync(join(runtime, 'daemon.spawn.lock'))).toBe(false);
  });

  it('stop --json reports the daemon it stopped', async () => {
    await startDaemon();
    const stopped = await runClean(sb, ['daemon', 'stop', '--json']);
    expect(JSON.parse(stopped.stdout)).toEqual({ schema_version: '1', stopped: true, was_running: true });
  });

  it('a second `daemon serve` exits 0 at once and leaves the first alone', async () => {
    const pid = await startDaemon();
    const second = await runClean(sb, ['daemon', 'serve']);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('');
    expect(JSON.parse((await runClean(sb, ['daemon', 'status', '--json'])).stdout)).toMatchObject({ running: true, pid });
  });

  it('replaces a stale socket after the daemon was killed with SIGKILL', async () => {
    const first = await startDaemon();
    process.kill(first, 'SIGKILL');
    for (let i = 0; i < 200 && alive(first); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(alive(first)).toBe(false);
    expect(existsSync(socketPath)).toBe(true);

    const status = await runClean(sb, ['daemon', 'status']);
    expect(status.code).toBe(1);
    const second = await startDaemon();
    expect(second).not.toBe(first);
    expect(alive(second)).toBe(true);
    expect((await runClean(sb, ['daemon', 'status'])).stdout).toContain(`pid ${second},`);
  });

  it('a file in the way of the socket is named (exit 15) and left alone', async () => {
    const { mkdirSync, writeFileSync, readFileSync } = await import('node:fs');
    mkdirSync(runtime, { recursive: true, mode: 0o700 });
    chmodSync(runtime, 0o700);
    writeFileSync(socketPath, 'not a socket\n');
    for (const args of [['daemon', 'start'], ['exec', '--reason', 'socket in the way', '--secret', 'T=op://Infra/Cloudflare/token', '--', 'true']]) {
      const result = await runClean(sb, args);
      expect(result.code).toBe(15);
      expect(result.stderr).toContain(`agent-secret: ${socketPath} is in the way of the daemon socket: it is not a socket`);
    }
    expect(readFileSync(socketPath, 'utf8')).toBe('not a socket\n');
  });

  it('refuses a runtime directory other users can enter (exit 15) and says how to fix it', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(runtime, { mode: 0o755 });
    chmodSync(runtime, 0o755);
    const result = await runClean(sb, ['daemon', 'start']);
    expect(result.code).toBe(15);
    expect(result.stderr).toContain(runtime);
    expect(result.stderr).toContain(`hint: chmod 700 ${runtime}`);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('is hidden: `daemon serve` is not in help or agent-context', async () => {
    const help = await runClean(sb, ['daemon', '--help']);
    expect(help.stdout).toContain('status');
    expect(help.stdout).not.toContain('serve');
    const context = JSON.parse((await runClean(sb, ['agent-context', '--json'])).stdout) as { commands: Record<string, unknown> };
    expect(Object.keys(context.commands)).toEqual(expect.arrayContaining(['daemon start', 'daemon stop', 'daemon status']));
    expect(Object.keys(context.commands)).not.toContain('daemon serve');
  });
});

describe('the daemon and bad input', () => {
  it('answers malformed frames with one daemon.protocol error, closes, and keeps serving', async () => {
    const pid = await startDaemon();
    const cases: Array<Array<string | Buffer>> = [
      ['not json at all\n'],
      ['{"v":2,"id":"x","type":"hello","body":{}}\n'],
      [frame('exec.deliver')],
      [frame('hello', { version: version }), frame('hello', { version: version })],
      [Buffer.from([0x7b, 0xff, 0x7d, 0x0a])],
      [Buffer.alloc(1024 * 1024 + 100, 0x61)],
    ];
    for (const chunks of cases) {
      const frames = await exchange(chunks);
      const errors = frames.filter((f) => f.type === 'error');
      expect(errors).toHaveLength(1);
      expect(frames.at(-1)).toMatchObject({ type: 'error', body: { code: 'daemon.protocol' } });
    }
    const status = await runClean(sb, ['daemon', 'status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid });
  });

  it('a hello from another version retires the daemon; the next start gets a fresh one', async () => {
    const old = await startDaemon();
    const frames = await exchange([frame('hello', { version: '0.0.0-older', protocol: 1 }), frame('daemon.status')]);
    expect(frames[0]).toMatchObject({ type: 'hello.ok', body: { version, retiring: true } });
    for (let i = 0; i < 300 && alive(old); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(alive(old)).toBe(false);
    const fresh = await startDaemon();
    expect(fresh).not.toBe(old);
  });
});

describe('sandbox cleanup', () => {
  it('stops the daemon a sandbox started', async () => {
    const other = createSandbox();
    const result = await runClean(other, ['daemon', 'start', '--json']);
    const pid = (JSON.parse(result.stdout) as { pid: number }).pid;
    expect(alive(pid)).toBe(true);
    other.cleanup();
    expect(alive(pid)).toBe(false);
  });
});
