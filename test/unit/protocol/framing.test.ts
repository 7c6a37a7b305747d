// The line reader under the protocol: any chunking gives the same lines, nothing over the
// limit is ever held (limit plus the chunk in hand), a started frame must finish in time,
// many queued lines pause the socket, and lines already complete survive a close.

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FramingError, LineReader, MAX_QUEUED_LINES, type FramingFailure } from '../../../src/protocol/framing.js';

class FakeSocket extends EventEmitter {
  paused = false;
  pause() {
    this.paused = true;
    return this;
  }
  resume() {
    this.paused = false;
    return this;
  }
  feed(chunk: string | Buffer) {
    this.emit('data', typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
}

function reader(options: { maxBytes?: number; partialTimeoutMs?: number; onFailure?: (kind: FramingFailure) => void } = {}) {
  const socket = new FakeSocket();
  return { socket, lines: new LineReader(socket as unknown as Socket, options) };
}

async function failureOf(promise: Promise<unknown>): Promise<FramingFailure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(FramingError);
    return (error as FramingError).kind;
  }
  throw new Error('expected a framing failure');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LineReader', () => {
  it.each([
    ['one line in one chunk', ['a\n'], ['a']],
    ['two lines in one chunk', ['a\nb\n'], ['a', 'b']],
    ['a line split over chunks', ['ab', 'c', 'd\n'], ['abcd']],
    ['an empty line', ['\n'], ['']],
    ['a newline arriving alone', ['abc', '\n', 'd\n'], ['abc', 'd']],
  ])('%s', async (_name, chunks, expected) => {
    const { socket, lines } = reader();
    for (const chunk of chunks) socket.feed(chunk);
    const got: string[] = [];
    for (let i = 0; i < expected.length; i += 1) got.push((await lines.next()).toString());
    expect(got).toEqual(expected);
  });

  it('gives the same lines however the bytes are chunked (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ maxLength: 20 }).map((s) => s.replaceAll('\n', '')), { maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 30 }), async (texts, cuts) => {
        const { socket, lines } = reader();
        const bytes = Buffer.from(texts.map((t) => `${t}\n`).join(''));
        let at = 0;
        for (const cut of cuts) {
          socket.feed(bytes.subarray(at, at + cut));
          at += cut;
        }
        socket.feed(bytes.subarray(at));
        for (const text of texts) expect((await lines.next()).toString()).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('accepts a line of exactly the limit and refuses one byte more', async () => {
    const exact = reader({ maxBytes: 8 });
    exact.socket.feed('12345678\n');
    expect((await exact.lines.next()).toString()).toBe('12345678');
    const over = reader({ maxBytes: 8 });
    over.socket.feed('1234');
    over.socket.feed('56789\n');
    expect(await failureOf(over.lines.next())).toBe('too_large');
  });

  it('never holds more than the limit plus one chunk, and stops reading once over', () => {
    const failures: FramingFailure[] = [];
    const limit = 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const { socket, lines } = reader({ maxBytes: limit, onFailure: (kind) => failures.push(kind) });
    let most = 0;
    for (let i = 0; i < 40; i += 1) {
      socket.feed(chunk);
      most = Math.max(most, lines.bufferedBytes);
    }
    expect(most).toBeLessThanOrEqual(limit + chunk.length);
    expect(lines.bufferedBytes).toBe(0);
    expect(lines.failure).toBe('too_large');
    expect(failures).toEqual(['too_large']);
    expect(socket.listenerCount('data')).toBe(0);
    expect(socket.paused).toBe(true);
  });

  it('pauses the socket when many complete lines wait, and resumes as they are read', async () => {
    const { socket, lines } = reader();
    socket.feed('x\n'.repeat(MAX_QUEUED_LINES - 1));
    expect(socket.paused).toBe(false);
    socket.feed('x\n');
    expect(socket.paused).toBe(true);
    await lines.next();
    expect(socket.paused).toBe(false);
  });

  it('pauses when waiting lines and the started one reach the limit', () => {
    const { socket, lines } = reader({ maxBytes: 10 });
    socket.feed('123456\n1234');
    expect(socket.paused).toBe(true);
    expect(lines.bufferedBytes).toBe(10);
  });

  it('hands out complete lines before reporting a close', async () => {
    const { socket, lines } = reader();
    socket.feed('a\nb\npartial');
    socket.emit('close');
    expect((await lines.next()).toString()).toBe('a');
    expect((await lines.next()).toString()).toBe('b');
    expect(await failureOf(lines.next())).toBe('closed');
  });

  it('fails a started frame that does not finish in time, even while nobody reads', () => {
    vi.useFakeTimers();
    const failures: FramingFailure[] = [];
    const { socket, lines } = reader({ partialTimeoutMs: 5_000, onFailure: (kind) => failures.push(kind) });
    socket.feed('{"v":1');
    vi.advanceTimersByTime(4_000);
    socket.feed(',"id"');
    vi.advanceTimersByTime(1_001);
    expect(lines.failure).toBe('partial_timeout');
    expect(failures).toEqual(['partial_timeout']);
  });

  it('gives each frame its own partial-frame time', () => {
    vi.useFakeTimers();
    const { socket, lines } = reader({ partialTimeoutMs: 5_000 });
    socket.feed('one');
    vi.advanceTimersByTime(4_000);
    socket.feed('\ntw');
    vi.advanceTimersByTime(4_000);
    expect(lines.failure).toBeUndefined();
    socket.feed('o\n');
    vi.advanceTimersByTime(60_000);
    expect(lines.failure).toBeUndefined();
  });

  it('does not run the partial-frame clock while it paused the socket itself', () => {
    vi.useFakeTimers();
    const { socket, lines } = reader({ partialTimeoutMs: 100 });
    socket.feed(`${'x\n'.repeat(MAX_QUEUED_LINES)}started`);
    expect(socket.paused).toBe(true);
    vi.advanceTimersByTime(1_000);
    expect(lines.failure).toBeUndefined();
  });

  it('a wait that times out leaves the reader usable', async () => {
    const { socket, lines } = reader();
    expect(await failureOf(lines.next(10))).toBe('timeout');
    socket.feed('late\n');
    expect((await lines.next()).toString()).toBe('late');
  });
});
