// The daemon transport as a component: a real server on a Unix socket in a temp runtime dir,
// an in-test handler, and clients that are either ours (client.ts) or raw sockets writing bytes.
// Bad frames, oversized and unfinished frames, disconnects, single instance, stale sockets, idle,
// upgrade and shutdown; fast-check feeds it arbitrary bytes and it keeps serving.

import { spawn } from 'node:child_process';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { daemonStatus, errorFromFrame, openConversation, stopDaemon } from '../../../src/client/daemon.js';
import { daemonPaths, type DaemonPaths } from '../../../src/protocol/paths.js';
import { MAX_FRAME_BYTES, parseDaemonFrame, type Frame } from '../../../src/protocol/envelope.js';
import type { Conversation, DaemonHooks } from '../../../src/broker/conversation.js';
import { serveDaemon, type ServeOptions } from '../../../src/daemon/server.js';
import { VERSION } from '../../../src/version.js';

let root: string;
let dirs: { env: Record<string, string>; platform: NodeJS.Platform; homedir: string };
let paths: DaemonPaths;
let stop: AbortController;
let served: Promise<void> | null;
let events: Array<{ event: string; fields?: Record<string, unknown> }>;
let shutdowns: number;

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-daemon-')));
  dirs = { env: { HOME: root, XDG_RUNTIME_DIR: root }, platform: process.platform, homedir: root };
  paths = daemonPaths(dirs);
  stop = new AbortController();
  served = null;
  events = [];
  shutdowns = 0;
});

afterEach(async () => {
  stop.abort();
  await served;
  await rm(root, { recursive: true, force: true });
});

type Hooks = Partial<DaemonHooks>;

/** Starts a server with the given hooks; resolves once it listens. */
async function start(hooks: Hooks = {}, extra: Partial<ServeOptions> = {}): Promise<void> {
  let listening!: () => void;
  const ready = new Promise<void>((resolve) => (listening = resolve));
  served = serveDaemon({
    dirs,
    version: VERSION,
    idleMs: 60_000,
    handleSignals: false,
    stopSignal: stop.signal,
    log: (event, fields) => events.push(fields === undefined ? { event } : { event, fields }),
    onListening: () => listening(),
    ...extra,
    hooks: {
      handler: hooks.handler ?? (async (conv) => conv.send(`${conv.first.type}.ok`, { echo: conv.first.body })),
      isIdle: hooks.isIdle ?? (() => true),
      shutdown:
        hooks.shutdown ??
        (async () => {
          shutdowns += 1;
        }),
    },
  });
  await Promise.race([ready, served.then(() => Promise.reject(new Error('the server stopped before listening')))]);
}

interface Raw {
  socket: Socket;
  /** Every frame the server sent, once it closed its side. */
  frames: Promise<Frame[]>;
  /** Resolves when the server ended or closed the connection. */
  ended: Promise<void>;
}

function raw(): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: paths.socket });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    const ended = new Promise<void>((done) => {
      socket.once('end', () => done());
      socket.once('close', () => done());
    });
    const frames = ended.then(() =>
      Buffer.concat(chunks)
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => parseDaemonFrame(Buffer.from(line))),
    );
    socket.once('connect', () => resolve({ socket, frames, ended }));
    socket.once('error', reject);
  });
}

const frame = (type: string, body: Record<string, unknown> = {}, id = 'c1') => `${JSON.stringify({ v: 1, id, type, body })}\n`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function expectOneProtocolError(input: string | Buffer | Array<string | Buffer>): Promise<Frame> {
  const client = await raw();
  for (const part of Array.isArray(input) ? input : [input]) client.socket.write(part);
  const frames = await client.frames;
  client.socket.destroy();
  expect(frames).toHaveLength(1);
  expect(frames[0]).toMatchObject({ type: 'error', body: { code: 'daemon.protocol' } });
  return frames[0] as Frame;
}

async function expectServing(): Promise<void> {
  const status = await daemonStatus(dirs);
  expect(status).toMatchObject({ running: true, pid: process.pid, version: VERSION });
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function caught(promise: Promise<unknown>): Promise<AgentSecretError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AgentSecretError);
    return error as AgentSecretError;
  }
  throw new Error('expected a rejection');
}

describe('conversations', () => {
  it('says hello, answers status and runs a conversation with one id', async () => {
    const seen: Frame[] = [];
    await start({
      handler: async (conv) => {
        seen.push(conv.first);
        await conv.send('exec.queued', { waiting: 2 });
        const next = await conv.receive();
        seen.push(next);
        await conv.send('exec.exited.ok', { got: next.type });
      },
    });
    const conv = await openConversation({ dirs, env: {}, autoStart: false, firstType: 'exec.argv', firstBody: { n: 1 } });
    expect((await conv.receive()).body).toEqual({ waiting: 2 });
    await conv.send('exec.started', { pid: 7 });
    const last = await conv.receive();
    expect(last).toMatchObject({ type: 'exec.exited.ok', body: { got: 'exec.started' } });
    conv.close();
    expect(seen.map((f) => f.type)).toEqual(['exec.argv', 'exec.started']);
    expect(seen[0]?.body).toEqual({ n: 1 });
    expect(seen[0]?.id).toBe(last.id);
    await expectServing();
  });

  it('a raw hello gets hello.ok with version, pid and protocol', async () => {
    await start();
    const client = await raw();
    client.socket.write(frame('hello', { version: VERSION, protocol: 1 }));
    client.socket.write(frame('daemon.status'));
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames.map((f) => f.type)).toEqual(['hello.ok', 'daemon.status.ok']);
    expect(frames[0]?.body).toEqual({ version: VERSION, pid: process.pid, protocol: 1, retiring: false });
    expect(frames[1]?.body).toMatchObject({ pid: process.pid, version: VERSION, connections: 0 });
  });

  it('turns an AgentSecretError from the handler into the same error at the client', async () => {
    await start({
      handler: async () => {
        throw new AgentSecretError('approval.denied', 'the request was denied', { hint: 'ask again with a better reason' });
      },
    });
    const conv = await openConversation({ dirs, env: {}, autoStart: false, firstType: 'exec.argv', firstBody: {} });
    const error = await caught(conv.receive());
    conv.close();
    expect({ code: error.code, message: error.message, hint: error.hint }).toEqual({
      code: 'approval.denied',
      message: 'the request was denied',
      hint: 'ask again with a better reason',
    });
  });

  it('never sends the message of any other error', async () => {
    await start({
      handler: async () => {
        throw new Error('CANARY-handler-text op said: token=abc');
      },
    });
    const client = await raw();
    client.socket.write(frame('exec.argv'));
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ type: 'error', id: 'c1', body: { code: 'internal' } });
    expect(JSON.stringify(frames)).not.toContain('CANARY');
    expect(JSON.stringify(events)).not.toContain('CANARY');
  });

  it('aborts the signal and rejects receive() when the client disconnects', async () => {
    const observed = deferred<{ aborted: boolean; error: unknown }>();
    await start({
      handler: async (conv) => {
        const pending = conv.receive().then(
          () => null,
          (error: unknown) => error,
        );
        await new Promise((resolve) => conv.signal.addEventListener('abort', resolve, { once: true }));
        observed.resolve({ aborted: conv.signal.aborted, error: await pending });
      },
    });
    const conv = await openConversation({ dirs, env: {}, autoStart: false, firstType: 'exec.argv', firstBody: {} });
    conv.close();
    const { aborted, error } = await observed.promise;
    expect(aborted).toBe(true);
    expect(error).toBeInstanceOf(AgentSecretError);
    expect((error as AgentSecretError).code).toBe('daemon.unavailable');
    await expectServing();
  });

  it('send() rejects once the client is gone', async () => {
    const observed = deferred<unknown>();
    await start({
      handler: async (conv) => {
        await new Promise((resolve) => conv.signal.addEventListener('abort', resolve, { once: true }));
        observed.resolve(await conv.send('exec.deliver', {}).then(() => null, (error: unknown) => error));
      },
    });
    const conv = await openConversation({ dirs, env: {}, autoStart: false, firstType: 'exec.argv', firstBody: {} });
    conv.close();
    expect(await observed.promise).toMatchObject({ code: 'daemon.unavailable' });
  });

  it('receive({timeoutMs}) gives up with daemon.protocol and the client gets one error', async () => {
    const observed = deferred<unknown>();
    await start({
      handler: async (conv) => {
        observed.resolve(await conv.receive({ timeoutMs: 50 }).then(() => null, (error: unknown) => error));
        throw observed;
      },
    });
    const client = await raw();
    client.socket.write(frame('exec.argv'));
    expect(await observed.promise).toMatchObject({ code: 'daemon.protocol' });
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames.map((f) => [f.type, f.body.code])).toEqual([['error', 'daemon.protocol']]);
  });
});

describe('bad input: one error frame, then the connection closes; the daemon keeps serving', () => {
  it.each([
    ['not JSON', 'hello there\n'],
    ['an empty line', '\n'],
    ['an empty object', '{}\n'],
    ['protocol version 2', `${JSON.stringify({ v: 2, id: 'x', type: 'hello', body: {} })}\n`],
    ['a daemon-only type', frame('exec.deliver')],
    ['an unknown type', frame('rm.rf')],
    ['an id with a slash', frame('hello', {}, 'a/b')],
    ['an array body', `${JSON.stringify({ v: 1, id: 'x', type: 'hello', body: [] })}\n`],
    ['hello without a version', frame('hello')],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])],
  ])('%s', async (_name, input) => {
    await start();
    await expectOneProtocolError(input);
    await expectServing();
  });

  it.each([
    ['two hellos', [frame('hello', { version: VERSION }), frame('hello', { version: VERSION })]],
    ['a second frame with another id', [frame('hello', { version: VERSION }), frame('daemon.status', {}, 'other')]],
  ])('after hello.ok: %s', async (_name, input) => {
    await start();
    const client = await raw();
    for (const part of input) client.socket.write(part);
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames.map((f) => [f.type, f.body.code])).toEqual([
      ['hello.ok', undefined],
      ['error', 'daemon.protocol'],
    ]);
    await expectServing();
  });

  it('a client type that may only open a connection, inside a conversation', async () => {
    await start({
      handler: async (conv) => {
        await conv.receive();
      },
    });
    const client = await raw();
    client.socket.write(frame('exec.argv'));
    client.socket.write(frame('daemon.stop'));
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames.map((f) => [f.type, f.body.code])).toEqual([['error', 'daemon.protocol']]);
    await expectServing();
  });

  it('a bad frame while the handler is busy is answered when it reads', async () => {
    const gate = deferred();
    await start({
      handler: async (conv) => {
        await gate.promise;
        await conv.receive();
        await conv.send('never.ok', {});
      },
    });
    const client = await raw();
    client.socket.write(frame('exec.argv'));
    client.socket.write('garbage\n');
    gate.resolve();
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames.map((f) => [f.type, f.body.code])).toEqual([['error', 'daemon.protocol']]);
  });

  it('a frame over 1 MiB, sent in chunks without a newline, is refused while it arrives', async () => {
    await start({
      handler: async () => {
        await new Promise(() => undefined);
      },
    });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const error = await expectOneProtocolError(Array.from({ length: 40 }, () => chunk));
    expect(error.body.message).toContain('1 MiB');
    await expectServing();
  });

  it('a frame over 1 MiB while a conversation waits for something else is answered at once', async () => {
    const observed = deferred<boolean>();
    await start({
      handler: async (conv) => {
        await new Promise((resolve) => conv.signal.addEventListener('abort', resolve, { once: true }));
        observed.resolve(conv.signal.aborted);
      },
    });
    const client = await raw();
    client.socket.write(frame('exec.argv'));
    client.socket.write(Buffer.alloc(MAX_FRAME_BYTES + 10, 0x62));
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames.map((f) => [f.type, f.body.code])).toEqual([['error', 'daemon.protocol']]);
    expect(await observed.promise).toBe(true);
  });

  it('a started frame that is not finished in time (slow loris) is refused', async () => {
    await start({}, { timeouts: { partialFrameMs: 150 } });
    const client = await raw();
    client.socket.write('{"v":1,"id":"x",');
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames.map((f) => [f.type, f.body.code])).toEqual([['error', 'daemon.protocol']]);
  });

  it('a frame trickled one byte at a time is refused when the partial-frame time runs out', async () => {
    await start({}, { timeouts: { partialFrameMs: 150 } });
    const client = await raw();
    let stopped = false;
    void client.ended.then(() => (stopped = true));
    const text = frame('daemon.status');
    for (let i = 0; i < text.length - 1 && !stopped; i += 1) {
      client.socket.write(text[i] as string);
      await sleep(20);
    }
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames.map((f) => [f.type, f.body.code])).toEqual([['error', 'daemon.protocol']]);
  });

  it('a connection that sends nothing gets one error after the first-frame timeout', async () => {
    await start({}, { timeouts: { firstFrameMs: 100 } });
    const client = await raw();
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames.map((f) => [f.type, f.body.code, f.id])).toEqual([['error', 'daemon.protocol', '_']]);
  });

  it('the first-frame timeout is not applied while the handler waits for a frame', async () => {
    const got = deferred<string>();
    await start(
      {
        handler: async (conv) => {
          const next = await conv.receive();
          got.resolve(next.type);
        },
      },
      { timeouts: { firstFrameMs: 50, partialFrameMs: 50 } },
    );
    const conv = await openConversation({ dirs, env: {}, autoStart: false, firstType: 'exec.argv', firstBody: {} });
    await sleep(300);
    await conv.send('exec.started', { pid: 1 });
    expect(await got.promise).toBe('exec.started');
    conv.close();
  });

  it('survives arbitrary bytes (fast-check) and keeps serving', async () => {
    await start({}, { timeouts: { firstFrameMs: 60, partialFrameMs: 60 } });
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
      fc.string({ maxLength: 64 }).map((text) => Buffer.from(text)),
      fc.constant(Buffer.from('\n')),
      fc.constantFrom('hello', 'daemon.status', 'exec.argv', 'exec.deliver', 'daemon.stop.ok').map((type) => Buffer.from(frame(type, { version: VERSION }))),
      fc.json().map((text) => Buffer.from(`${text}\n`)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 8 }), async (pieces) => {
        const client = await raw();
        for (const bytes of pieces) client.socket.write(bytes);
        const frames = await client.frames;
        client.socket.destroy();
        const errors = frames.filter((f) => f.type === 'error');
        expect(errors.length).toBeLessThanOrEqual(1);
        for (const error of errors) expect(['daemon.protocol', 'daemon.unavailable']).toContain(error.body.code);
        if (errors.length === 1) expect(frames.at(-1)?.type).toBe('error');
      }),
      { numRuns: 60 },
    );
    await expectServing();
  });
});

describe('caps: connections and unread bytes', () => {
  /** A raw connection that said hello and got hello.ok: it stays open, waiting to send its request. */
  async function helloed(): Promise<Raw> {
    const client = await raw();
    const answered = new Promise<void>((resolve) => client.socket.once('data', () => resolve()));
    client.socket.write(frame('hello', { version: VERSION }));
    await answered;
    return client;
  }

  async function rawStatus(): Promise<Record<string, unknown>> {
    const client = await raw();
    client.socket.write(frame('daemon.status'));
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames[0]?.type).toBe('daemon.status.ok');
    return frames[0]!.body;
  }

  it('a connection over the cap gets one daemon.unavailable error naming the cap and is closed, unread; a slot freed is served again', async () => {
    await start({}, { limits: { maxConnections: 3 } });
    const open = [await helloed(), await helloed(), await helloed()];
    const over = await raw();
    over.socket.write(frame('hello', { version: VERSION }));
    const frames = await over.frames;
    over.socket.destroy();
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ type: 'error', body: { code: 'daemon.unavailable', message: 'too many connections to the agent-secret daemon (3 open)' } });
    expect(frames[0]!.body.hint).toContain('each running exec holds one');
    // Never read: no hello.ok was sent, nothing was logged as a bad frame.
    expect(events.filter((e) => e.event === 'bad_frame')).toEqual([]);
    expect(events.filter((e) => e.event === 'connection_refused')).toHaveLength(1);
    open[0]!.socket.destroy();
    await open[0]!.ended;
    await sleep(20);
    await expectServing();
    for (const client of open) client.socket.destroy();
  });

  it('connections each holding a partial frame cannot together hold more than the byte budget; the one that would is told and closed', async () => {
    await start({}, { limits: { maxBufferedBytes: 256 * 1024 } });
    const part = Buffer.alloc(100 * 1024, 0x61);
    const holders = [await raw(), await raw()];
    for (const client of holders) {
      client.socket.write(part);
      await sleep(50);
    }
    expect(await rawStatus()).toMatchObject({ buffered_bytes: 2 * part.length });
    const third = await raw();
    third.socket.write(part);
    const frames = await third.frames;
    third.socket.destroy();
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ type: 'error', body: { code: 'daemon.unavailable' } });
    expect(frames[0]!.body.message).toContain('256 KiB of unfinished frames');
    // The holders are still connected and what they hold is still counted; complete requests still pass.
    expect(await rawStatus()).toMatchObject({ buffered_bytes: 2 * part.length });
    await expectServing();
    for (const client of holders) client.socket.destroy();
  });

  it('after a flood of connections with partial frames has gone, nothing is held and every slot is free again', async () => {
    await start({}, { limits: { maxConnections: 16, maxBufferedBytes: 512 * 1024 } });
    const part = Buffer.alloc(64 * 1024, 0x62);
    const flood = await Promise.all(Array.from({ length: 40 }, () => raw()));
    const answers = flood.map((client) => client.frames);
    for (const client of flood) client.socket.write(part);
    await sleep(200);
    const during = await rawStatus();
    expect(during.buffered_bytes as number).toBeLessThanOrEqual(512 * 1024);
    for (const client of flood) client.socket.destroy();
    const codes = (await Promise.all(answers)).flat().map((f) => f.body.code);
    // Refused over the connection cap (24) or over the budget; nobody got anything else.
    expect(codes.length).toBeGreaterThanOrEqual(24);
    expect(new Set(codes)).toEqual(new Set(['daemon.unavailable']));
    // Connections no longer read are let go after the linger at the latest.
    await sleep(2_200);
    expect(await rawStatus()).toMatchObject({ connections: 0, buffered_bytes: 0 });
  });
});

describe('one daemon per user', () => {
  it('a second server does not start while one answers', async () => {
    await start();
    const second: string[] = [];
    await serveDaemon({
      dirs,
      version: VERSION,
      idleMs: 60_000,
      handleSignals: false,
      hooks: { handler: async () => undefined, isIdle: () => true, shutdown: async () => undefined },
      log: (event) => second.push(event),
    });
    expect(second).toEqual(['already_running']);
    await expectServing();
  });

  it('replaces a stale socket left by a killed daemon', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    const listener = spawn(process.execPath, ['-e', `require('net').createServer().listen(process.argv[1], () => process.stdout.write('up'))`, paths.socket], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise((resolve) => listener.stdout.once('data', resolve));
    listener.kill('SIGKILL');
    await new Promise((resolve) => listener.once('exit', resolve));
    expect(existsSync(paths.socket)).toBe(true);
    await start();
    expect(events.map((e) => e.event)).toContain('stale_socket_removed');
    await expectServing();
  });

  it('refuses to remove something at the socket path that is not a socket', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    writeFileSync(paths.socket, 'precious');
    const error = await caught(
      serveDaemon({ dirs, version: VERSION, idleMs: 60_000, handleSignals: false, hooks: { handler: async () => undefined, isIdle: () => true, shutdown: async () => undefined } }),
    );
    expect(error.code).toBe('daemon.unavailable');
    expect(error.hint).toContain(paths.socket);
  });

  it('writes a 0600 pid file and a 0600 socket, and removes both on shutdown', async () => {
    await start();
    const { statSync, readFileSync } = await import('node:fs');
    expect(statSync(paths.socket).mode & 0o777).toBe(0o600);
    expect(statSync(paths.pidFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(paths.pidFile, 'utf8'))).toMatchObject({ pid: process.pid, version: VERSION });
    expect(await stopDaemon(dirs)).toBe(true);
    await served;
    expect(existsSync(paths.socket)).toBe(false);
    expect(existsSync(paths.pidFile)).toBe(false);
    expect(existsSync(paths.lockFile)).toBe(false);
  });
});

describe('client without a daemon', () => {
  it('status says stopped, stop says there was none, and nothing is created', async () => {
    expect(await daemonStatus(dirs)).toEqual({ running: false });
    expect(await stopDaemon(dirs)).toBe(false);
    expect(existsSync(paths.dir)).toBe(false);
  });

  it('openConversation without auto-start fails with daemon.unavailable and a hint', async () => {
    const error = await caught(openConversation({ dirs, env: {}, autoStart: false, firstType: 'approvals.list', firstBody: {} }));
    expect(error.code).toBe('daemon.unavailable');
    expect(error.hint).toContain('agent-secret daemon');
  });

  it('a daemon that drops the connection is daemon.unavailable', async () => {
    await start({
      handler: async (conv) => {
        await conv.receive();
      },
    });
    const conv = await openConversation({ dirs, env: {}, autoStart: false, firstType: 'exec.argv', firstBody: {} });
    stop.abort();
    const error = await caught(conv.receive());
    conv.close();
    expect(error.code).toBe('daemon.unavailable');
    expect(error.hint).toContain('agent-secret daemon status');
  });
});

describe('errorFromFrame', () => {
  it.each([
    [{ code: 'approval.timeout', message: 'no answer', hint: 'retry' }, { code: 'approval.timeout', message: 'no answer', hint: 'retry' }],
    [{ code: 'made.up', message: 'trust me' }, { code: 'daemon.protocol' }],
    [{ code: 42 }, { code: 'daemon.protocol' }],
    [{ code: 'internal' }, { code: 'internal', message: 'the agent-secret daemon reported an error', hint: undefined }],
    [{ code: 'provider.failed', message: 'op\nfailed\u001b[31m', hint: '' }, { code: 'provider.failed', message: 'op failed [31m', hint: undefined }],
  ])('%j', (body, expected) => {
    const error = errorFromFrame(body);
    expect(error).toBeInstanceOf(AgentSecretError);
    expect({ code: error.code, message: error.message, hint: error.hint }).toMatchObject(expected);
    if (expected.code === 'daemon.protocol') expect(error.message).not.toContain('trust me');
  });
});

describe('idle exit', () => {
  it('exits after the quiet period when the hooks are idle and nothing is connected', async () => {
    await start({}, { idleMs: 80 });
    await served;
    expect(shutdowns).toBe(1);
    expect(events.map((e) => e.event)).toContain('shutdown');
    expect(events.find((e) => e.event === 'shutdown')?.fields).toEqual({ reason: 'idle' });
    expect(existsSync(paths.socket)).toBe(false);
  });

  it('does not exit while the hooks hold something, then does', async () => {
    let idle = false;
    let calls = 0;
    const asked = deferred();
    await start(
      {
        isIdle: () => {
          calls += 1;
          if (calls === 8) asked.resolve();
          return idle;
        },
      },
      { idleMs: 40 },
    );
    await asked.promise;
    await expectServing();
    idle = true;
    await served;
    expect(shutdowns).toBe(1);
  });

  it('does not exit while a connection is open', async () => {
    const gate = deferred();
    await start(
      {
        handler: async (conv) => {
          await gate.promise;
          await conv.send('done.ok', {});
        },
      },
      { idleMs: 40 },
    );
    const conv = await openConversation({ dirs, env: {}, autoStart: false, firstType: 'exec.argv', firstBody: {} });
    await sleep(400);
    expect(existsSync(paths.socket)).toBe(true);
    gate.resolve();
    expect((await conv.receive()).type).toBe('done.ok');
    conv.close();
    await served;
  });
});

describe('upgrade exit', () => {
  it('a hello from another version retires the daemon: it lets go of the socket, finishes open conversations, then exits', async () => {
    const entry = join(root, 'entry.js');
    writeFileSync(entry, '// v1');
    const got = deferred<string>();
    await start(
      {
        handler: async (conv) => {
          const next = await conv.receive();
          got.resolve(next.type);
          await conv.send('exec.exited.ok', {});
        },
      },
      { entryFile: entry },
    );
    const inFlight = await openConversation({ dirs, env: {}, autoStart: false, firstType: 'exec.argv', firstBody: {} });

    const client = await raw();
    client.socket.write(frame('hello', { version: '0.0.0-older', protocol: 1 }));
    client.socket.write(frame('daemon.status'));
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames[0]).toMatchObject({ type: 'hello.ok', body: { version: VERSION, retiring: true } });
    expect(existsSync(paths.socket)).toBe(false);
    expect(existsSync(paths.pidFile)).toBe(false);
    expect(await daemonStatus(dirs)).toEqual({ running: false });

    await inFlight.send('exec.exited', { exit_code: 0 });
    expect((await inFlight.receive()).type).toBe('exec.exited.ok');
    expect(await got.promise).toBe('exec.exited');
    inFlight.close();
    await served;
    expect(events.find((e) => e.event === 'retiring')?.fields).toEqual({ why: 'version' });
    expect(shutdowns).toBe(1);
  });

  it('a request sent right behind a hello that retired the daemon is refused, never handled', async () => {
    let handled = 0;
    await start({
      handler: async () => {
        handled += 1;
      },
    });
    const client = await raw();
    client.socket.write(frame('hello', { version: '0.0.0-older', protocol: 1 }) + frame('exec.argv', {}));
    const frames = await client.frames;
    client.socket.destroy();
    expect(frames.map((f) => f.type)).toEqual(['hello.ok', 'error']);
    expect(frames[0]?.body.retiring).toBe(true);
    expect(frames[1]?.body.code).toBe('daemon.protocol');
    expect(handled).toBe(0);
    await served;
  });

  it('a changed entry file retires the daemon on the next connection; the client is told', async () => {
    const entry = join(root, 'entry.js');
    writeFileSync(entry, '// v1');
    await start({}, { entryFile: entry });
    const later = new Date(Date.now() + 60_000);
    utimesSync(entry, later, later);
    const error = await caught(openConversation({ dirs, env: {}, autoStart: false, firstType: 'approvals.list', firstBody: {} }));
    expect(error.code).toBe('daemon.unavailable');
    await served;
    expect(events.find((e) => e.event === 'retiring')?.fields).toEqual({ why: 'code_changed' });
  });
});

describe('shutdown', () => {
  it('daemon.stop: conversations waiting for a frame get daemon.unavailable, the hooks clear up, files go', async () => {
    const waiting = deferred();
    await start({
      handler: async (conv) => {
        waiting.resolve();
        await conv.receive();
      },
    });
    const conv = await openConversation({ dirs, env: {}, autoStart: false, firstType: 'exec.argv', firstBody: {} });
    await waiting.promise;
    expect(await stopDaemon(dirs)).toBe(true);
    const error = await caught(conv.receive());
    conv.close();
    expect(error.code).toBe('daemon.unavailable');
    await served;
    expect(shutdowns).toBe(1);
    expect(existsSync(paths.socket)).toBe(false);
    expect(existsSync(paths.pidFile)).toBe(false);
  });

  it('a handler waiting on the broker fails with what shutdown() tells it', async () => {
    const cancelled = deferred();
    cancelled.promise.catch(() => undefined);
    await start({
      handler: async () => {
        await cancelled.promise;
      },
      shutdown: async () => {
        shutdowns += 1;
        cancelled.reject(new AgentSecretError('daemon.unavailable', 'the agent-secret daemon stopped before the request was answered'));
      },
    });
    const conv = await openConversation({ dirs, env: {}, autoStart: false, firstType: 'exec.argv', firstBody: {} });
    stop.abort();
    const error = await caught(conv.receive());
    conv.close();
    expect(error.message).toBe('the agent-secret daemon stopped before the request was answered');
    await served;
  });

  it('nothing but the error frame is sent once shutdown began, even when the handler finishes its work after it', async () => {
    const resolved = deferred();
    const sent = deferred<string>();
    const begun = deferred();
    await start({
      handler: async (conv) => {
        begun.resolve();
        // Resolution finished just as the daemon began to stop: the values must not go out.
        await resolved.promise;
        await conv.send('exec.deliver', { env: { TOKEN: 'delivered-after-stop' } }).then(
          () => sent.resolve('sent'),
          (error: unknown) => {
            sent.resolve('refused');
            throw error;
          },
        );
      },
      shutdown: async () => {
        shutdowns += 1;
        resolved.resolve();
      },
    });
    const conv = await openConversation({ dirs, env: {}, autoStart: false, firstType: 'exec.argv', firstBody: {} });
    await begun.promise;
    stop.abort();
    expect(await sent.promise).toBe('refused');
    const error = await caught(conv.receive());
    conv.close();
    expect(error.code).toBe('daemon.unavailable');
    await served;
  });

  it('a handler that ignores shutdown is cut off after the grace period', async () => {
    const started = deferred<Conversation>();
    await start({
      handler: async (conv) => {
        started.resolve(conv);
        await new Promise(() => undefined);
      },
    });
    const conv = await openConversation({ dirs, env: {}, autoStart: false, firstType: 'exec.argv', firstBody: {} });
    const conversation = await started.promise;
    stop.abort();
    const error = await caught(conv.receive());
    conv.close();
    expect(error.code).toBe('daemon.unavailable');
    await served;
    expect(conversation.signal.aborted).toBe(true);
  });
});
