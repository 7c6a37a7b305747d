// The broker's side of one conversation, whatever carries it: the daemon's socket server, or
// the in-process pair the CLI uses when the approver needs its terminal (local.ts). The broker
// reads the first frame, sends answers and reads the client's reports through this interface.

import type { Frame } from '../protocol/envelope.js';

export interface Conversation {
  /** The validated first frame (client types only; never `hello`). */
  readonly first: Frame;
  /** Sends a frame with the conversation's id; resolves once written, rejects when the connection is gone. */
  send(type: string, body: Record<string, unknown>): Promise<void>;
  /**
   * The client's next frame. Rejects with daemon.protocol on a bad frame or a timeout (the
   * client then got an `error` frame and the connection is closing), with daemon.unavailable
   * when the client went away or the daemon is stopping. Without timeoutMs it waits until then.
   */
  receive(opts?: { timeoutMs?: number }): Promise<Frame>;
  /** Aborted when the client disconnects or the daemon shuts down. */
  readonly signal: AbortSignal;
}

/** Runs one conversation. AgentSecretErrors become `error` frames; anything else a generic one. */
export type Handler = (conv: Conversation) => Promise<void>;

/** What a transport needs of the broker. */
export interface DaemonHooks {
  handler: Handler;
  /** Nothing queued, cached or live: the daemon may exit when idle. */
  isIdle(): boolean;
  /** Cancel prompts, abort op calls, clear every value. Called once, on any shutdown. */
  shutdown(): Promise<void>;
}

