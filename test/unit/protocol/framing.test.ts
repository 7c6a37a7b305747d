// The line reader under the protocol: any chunking gives the same lines, nothing over the
// limit is ever held (limit plus the chunk in hand), a started frame must finish in time,
// many queued lines pause the socket, and lines already complete survive a close.

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createByteBudget, FramingError, LineReader, MAX_QUEUED_LINES, type ByteBudget, type FramingFailure } from '../../../src/protocol/framing.js';

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

function reader(options: { maxBytes?: number; partialTimeoutMs?: number; onFailure?: (kind: FramingFailure) => void; budget?: ByteBudget } = {}) {
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

describe('LineReader with a shared byte budget', () => {
  it('fails with busy the reader whose bytes would go past the budget, at once, and leaves the others alone', async () => {
    const budget = createByteBudget(10);
    const failures: FramingFailure[] = [];
    const a = reader({ budget });
    const b = reader({ budget, onFailure: (kind) => failures.push(kind) });
    a.socket.feed('123456');
    expect(budget.used).toBe(6);
    b.socket.feed('1234');
    expect(budget.used).toBe(10);
    b.socket.feed('5');
    expect(failures).toEqual(['busy']);
    expect(b.lines.failure).toBe('busy');
    expect(b.socket.paused).toBe(true);
    expect(await failureOf(b.lines.next())).toBe('busy');
    // b gave back everything it held; a still holds its partial frame and can finish it.
    expect(budget.used).toBe(6);
    a.socket.feed('7\n');
    expect((await a.lines.next()).toString()).toBe('1234567');
    expect(budget.used).toBe(0);
  });

  it('counts queued lines until they are read, and a line handed to a waiting reader not at all', async () => {
    const budget = createByteBudget(100);
    const { socket, lines } = reader({ budget });
    const waiting = lines.next();
    socket.feed('abc\n');
    expect((await waiting).toString()).toBe('abc');
    expect(budget.used).toBe(0);
    socket.feed('defg\nhi\nj');
    expect(budget.used).toBe(7);
    await lines.next();
    expect(budget.used).toBe(3);
    lines.dispose();
    expect(budget.used).toBe(0);
  });

  it('a complete small frame passes even while the budget is spent', async () => {
    const budget = createByteBudget(4);
    const hog = reader({ budget });
    hog.socket.feed('1234');
    const { socket, lines } = reader({ budget });
    const waiting = lines.next();
    socket.feed('{"ok":1}\n');
    expect((await waiting).toString()).toBe('{"ok":1}');
    expect(lines.failure).toBeUndefined();
  });

  it('gives every byte back whatever the readers were fed and however they ended (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ who: fc.nat({ max: 3 }), text: fc.string({ maxLength: 12 }), end: fc.constantFrom('none', 'read', 'close', 'dispose') }), { maxLength: 40 }),
        (steps) => {
          const budget = createByteBudget(24);
          const readers = Array.from({ length: 4 }, () => reader({ budget, maxBytes: 16 }));
          for (const step of steps) {
            const r = readers[step.who]!;
            r.socket.feed(step.text.replaceAll('x', '\n'));
            expect(budget.used).toBeLessThanOrEqual(budget.limit);
            if (step.end === 'read') void r.lines.next().catch(() => undefined);
            if (step.end === 'close') r.socket.emit('close');
            if (step.end === 'dispose') r.lines.dispose();
            expect(budget.used).toBe(readers.reduce((sum, x) => sum + x.lines.bufferedBytes, 0));
          }
          for (const r of readers) r.lines.dispose();
          expect(budget.used).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
