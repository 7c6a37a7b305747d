// Splits a socket's byte stream into lines without ever holding more than the frame limit plus
// the chunk being looked at. A line that grows past the limit, or a started line that does not
// end within the partial-frame timeout (slow-loris), fails the reader for good. Complete lines
// wait in a queue while nobody asks for them; when there are many, or they and the started line
// reach the frame limit, the socket is paused, so a client cannot make us buffer more than the
// limit plus one chunk by sending many small frames either. (Below that the socket keeps
// reading, so a disconnect is always seen.) Readers of one daemon may share a ByteBudget: the
// bytes all of them hold together; a reader whose next chunk would take more than is left fails
// with `busy`, so many connections each holding a partial frame cannot add up to more than the
// budget (551 connections with 1 MiB each once held ~660 MB of the daemon, for good).

import type { Socket } from 'node:net';
import { MAX_FRAME_BYTES } from './envelope.js';

export const PARTIAL_FRAME_TIMEOUT_MS = 5_000;

/** Why no line could be read. `timeout` (the caller's wait) leaves the reader usable; `busy`: the shared budget is spent. */
export type FramingFailure = 'too_large' | 'partial_timeout' | 'busy' | 'timeout' | 'closed';

/** Bytes several readers may hold together. `take` succeeds only while the total stays within the limit. */
export interface ByteBudget {
  readonly limit: number;
  /** Bytes held now by every reader sharing the budget. */
  readonly used: number;
  take(bytes: number): boolean;
  give(bytes: number): void;
}

export function createByteBudget(limit: number): ByteBudget {
  let used = 0;
  return {
    limit,
    get used() {
      return used;
    },
    take(bytes) {
      if (used + bytes > limit) return false;
      used += bytes;
      return true;
    },
    give(bytes) {
      used = Math.max(0, used - bytes);
    },
  };
}

export class FramingError extends Error {
  readonly kind: FramingFailure;

  constructor(kind: FramingFailure) {
    super(`framing: ${kind}`);
    this.name = 'FramingError';
    this.kind = kind;
  }
}

export interface LineReaderOptions {
  maxBytes?: number;
  partialTimeoutMs?: number;
  /** Called when the stream itself goes bad (too_large, partial_timeout, busy), even while nobody waits. */
  onFailure?: (kind: FramingFailure) => void;
  /** Shared with other readers: what they may hold together. */
  budget?: ByteBudget;
}

/** Complete lines held for a reader before the socket is paused. */
export const MAX_QUEUED_LINES = 8;

interface Waiter {
  resolve: (line: Buffer) => void;
  reject: (error: FramingError) => void;
  timer: NodeJS.Timeout | undefined;
}

const NL = 0x0a;

export class LineReader {
  readonly #socket: Socket;
  readonly #maxBytes: number;
  readonly #partialTimeoutMs: number;
  readonly #onFailure: ((kind: FramingFailure) => void) | undefined;
  readonly #budget: ByteBudget | undefined;
  /** What this reader has taken from the budget. */
  #taken = 0;
  readonly #lines: Buffer[] = [];
  #queuedBytes = 0;
  #parts: Buffer[] = [];
  #partBytes = 0;
  #partialTimer: NodeJS.Timeout | undefined;
  #waiter: Waiter | undefined;
  #failure: FramingFailure | undefined;
  #paused = false;

  constructor(socket: Socket, options: LineReaderOptions = {}) {
    this.#socket = socket;
    this.#maxBytes = options.maxBytes ?? MAX_FRAME_BYTES;
    this.#partialTimeoutMs = options.partialTimeoutMs ?? PARTIAL_FRAME_TIMEOUT_MS;
    this.#onFailure = options.onFailure;
    this.#budget = options.budget;
    socket.on('data', this.#onData);
    socket.on('end', this.#onClose);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onClose);
  }

  /** The failure that ended the reader, if any. */
  get failure(): FramingFailure | undefined {
    return this.#failure;
  }

  /** Bytes held: queued lines plus the started one. */
  get bufferedBytes(): number {
    return this.#queuedBytes + this.#partBytes;
  }

  /** The next complete line (newline removed). Without timeoutMs it waits until one comes or the socket closes. */
  next(timeoutMs?: number): Promise<Buffer> {
    const queued = this.#lines.shift();
    if (queued !== undefined) {
      this.#queuedBytes -= queued.length;
      this.#settleBudget();
      this.#maybeResume();
      return Promise.resolve(queued);
    }
    if (this.#failure !== undefined) return Promise.reject(new FramingError(this.#failure));
    if (this.#waiter !== undefined) return Promise.reject(new Error('LineReader.next: one reader at a time'));
    return new Promise<Buffer>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          if (this.#waiter !== waiter) return;
          this.#waiter = undefined;
          reject(new FramingError('timeout'));
        }, timeoutMs);
      }
      this.#waiter = waiter;
      this.#maybeResume();
    });
  }

  /** Stops reading and fails every pending and later next() with `kind`. */
  fail(kind: FramingFailure): void {
    if (this.#failure !== undefined) return;
    this.#failure = kind;
    this.#clearPartial();
    this.#parts = [];
    this.#partBytes = 0;
    // A connection refused for the budget is answered and closed: what it queued is not served.
    if (kind === 'busy') {
      this.#lines.length = 0;
      this.#queuedBytes = 0;
    }
    this.#settleBudget();
    this.#socket.off('data', this.#onData);
    if (kind !== 'closed') this.#socket.pause();
    // Lines already complete are still handed out before the failure.
    if (this.#lines.length === 0) this.#rejectWaiter(kind);
    if (kind === 'too_large' || kind === 'partial_timeout' || kind === 'busy') this.#onFailure?.(kind);
  }

  /** Nobody will read again (the connection is over): drops what is held and gives its budget back. */
  dispose(): void {
    this.fail('closed');
    this.#lines.length = 0;
    this.#queuedBytes = 0;
    this.#settleBudget();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#failure !== undefined) return;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl === -1) break;
      const size = this.#partBytes + (nl - start);
      if (size > this.#maxBytes) return this.fail('too_large');
      const line = this.#parts.length === 0 ? chunk.subarray(start, nl) : Buffer.concat([...this.#parts, chunk.subarray(start, nl)], size);
      this.#parts = [];
      this.#partBytes = 0;
      this.#clearPartial();
      this.#push(Buffer.from(line));
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.#partBytes + rest.length > this.#maxBytes) return this.fail('too_large');
      this.#parts.push(Buffer.from(rest));
      this.#partBytes += rest.length;
      this.#armPartial();
    }
    if (!this.#settleBudget()) return this.fail('busy');
    if (this.#overQueued()) this.#pause();
  };

  // Brings what this reader has taken from the shared budget in line with what it holds; false
  // when the budget cannot cover it (then nothing more was taken).
  #settleBudget(): boolean {
    const budget = this.#budget;
    if (budget === undefined) return true;
    const held = this.#queuedBytes + this.#partBytes;
    if (held < this.#taken) budget.give(this.#taken - held);
    else if (held > this.#taken && !budget.take(held - this.#taken)) return false;
    this.#taken = held;
    return true;
  }

  // Held lines plus the started one stay under the frame limit (plus the chunk in hand).
  #overQueued(): boolean {
    return this.#lines.length > 0 && (this.#lines.length >= MAX_QUEUED_LINES || this.#queuedBytes + this.#partBytes >= this.#maxBytes);
  }

  readonly #onClose = (): void => {
    this.fail('closed');
  };

  #push(line: Buffer): void {
    const waiter = this.#waiter;
    if (waiter !== undefined && this.#lines.length === 0) {
      this.#waiter = undefined;
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      waiter.resolve(line);
      return;
    }
    this.#lines.push(line);
    this.#queuedBytes += line.length;
  }

  #rejectWaiter(kind: FramingFailure): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    this.#waiter = undefined;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    waiter.reject(new FramingError(kind));
  }

  // The partial-frame clock runs only while we are reading: a paused socket is our choice.
  #armPartial(): void {
    if (this.#partialTimer !== undefined || this.#paused || this.#partBytes === 0) return;
    this.#partialTimer = setTimeout(() => {
      this.#partialTimer = undefined;
      this.fail('partial_timeout');
    }, this.#partialTimeoutMs);
  }

  #clearPartial(): void {
    if (this.#partialTimer === undefined) return;
    clearTimeout(this.#partialTimer);
    this.#partialTimer = undefined;
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#clearPartial();
    this.#socket.pause();
  }

  #maybeResume(): void {
    if (!this.#paused || this.#overQueued() || this.#failure !== undefined) return;
    this.#paused = false;
    this.#socket.resume();
    this.#armPartial();
  }
}
