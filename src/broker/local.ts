// The in-process transport: the CLI runs the broker in its own process and talks to it through
// a pair of in-memory queues, with the same frames as over the daemon socket. Used when the
// approver needs the caller's terminal (`approver: tty`), which the daemon does not have; the
// request then takes the same pipeline (plan → prompt → resolve → audit → deliver → follow the
// child), without reusable approvals (nothing outlives the process).

import { AgentSecretError } from '../core/errors.js';
import type { DirsInput } from '../platform/dirs.js';
import { PROTOCOL_VERSION, type Frame } from '../protocol/envelope.js';
import { createBroker } from './broker.js';
import type { Conversation } from './conversation.js';

/** The client's end of an in-process conversation (the same shape as the socket's). */
export interface LocalConversation {
  send(type: string, body: Record<string, unknown>): Promise<void>;
  receive(opts?: { timeoutMs?: number }): Promise<Frame>;
  close(): void;
}

export interface LocalOptions {
  dirs: DirsInput;
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  uid: number;
}

const ID = 'local';

/** Starts an in-process broker for one conversation whose first frame is `type`/`body`. */
export function openLocalConversation(opts: LocalOptions, type: string, body: Record<string, unknown>): LocalConversation {
  const broker = createBroker({ ...opts, inProcess: true });
  const toBroker = new FrameQueue();
  const toClient = new FrameQueue();
  const abort = new AbortController();
  const conv: Conversation = {
    first: frame(type, body),
    send: async (t, b) => {
      if (abort.signal.aborted) throw gone();
      toClient.push(frame(t, b));
    },
    receive: () => toBroker.next(abort.signal),
    signal: abort.signal,
  };
  // The broker's error reaches the client as it is thrown (details and all), as the last frame.
  void broker.handler(conv).then(
    () => toClient.end(gone()),
    (error: unknown) => toClient.end(error),
  );
  return {
    send: async (t, b) => {
      if (abort.signal.aborted) throw gone();
      toBroker.push(frame(t, b));
    },
    receive: (o) => toClient.next(undefined, o?.timeoutMs),
    close: () => {
      if (abort.signal.aborted) return;
      abort.abort(gone());
      void broker.shutdown();
    },
  };
}

// Frames are copied through JSON, as the socket would: neither side keeps the other's objects.
function frame(type: string, body: Record<string, unknown>): Frame {
  return { v: PROTOCOL_VERSION, id: ID, type, body: JSON.parse(JSON.stringify(body)) as Record<string, unknown> };
}

function gone(): AgentSecretError {
  return new AgentSecretError('daemon.unavailable', 'the in-process broker ended the conversation');
}

/** An unbounded FIFO of frames with one waiting reader; ended with the error every later read gets. */
class FrameQueue {
  readonly #frames: Frame[] = [];
  #ended: { error: unknown } | null = null;
  #wake: (() => void) | null = null;

  push(item: Frame): void {
    if (this.#ended !== null) return;
    this.#frames.push(item);
    this.#wake?.();
  }

  end(error: unknown): void {
    this.#ended ??= { error };
    this.#wake?.();
  }

  async next(signal?: AbortSignal, timeoutMs?: number): Promise<Frame> {
    const deadline = timeoutMs === undefined ? null : Date.now() + timeoutMs;
    for (;;) {
      const item = this.#frames.shift();
      if (item !== undefined) return item;
      if (this.#ended !== null) throw this.#ended.error;
      if (signal?.aborted === true) throw signal.reason;
      await new Promise<void>((resolve) => {
        const done = () => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          this.#wake = null;
          resolve();
        };
        const timer = deadline === null ? undefined : setTimeout(done, Math.max(0, deadline - Date.now()));
        signal?.addEventListener('abort', done, { once: true });
        this.#wake = done;
      });
      if (deadline !== null && Date.now() >= deadline && this.#frames.length === 0 && this.#ended === null) {
        throw new AgentSecretError('daemon.unavailable', 'the in-process broker did not answer in time');
      }
    }
  }
}
