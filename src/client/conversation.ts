// One conversation over the daemon socket, from the client's side: connecting to a daemon that
// is already there (never starting one), the conversation id, sending frames and reading the
// daemon's answers, `error` frames turned into AgentSecretErrors. Shared by daemon.ts (which
// also starts and stops daemons) and the reused-exec fast path (cli/fast-exec.ts), which is
// bundled into one CommonJS file: nothing here may use import.meta.

import type { Socket } from 'node:net';
import { AgentSecretError, listErrorCodes, type ErrorCode } from '../core/errors.js';
import { FramingError, LineReader } from '../protocol/framing.js';
import { errnoOf } from '../platform/fs.js';
import { connectUnix } from '../platform/instance.js';
import { prepareRuntimeDir, type DaemonPaths } from '../protocol/paths.js';
import { PROTOCOL_VERSION, encodeFrame, parseDaemonFrame, type Frame } from '../protocol/envelope.js';

export interface ClientConversation {
  send(type: string, body: Record<string, unknown>): Promise<void>;
  /** The daemon's next frame; an `error` frame is thrown as an AgentSecretError. */
  receive(opts?: { timeoutMs?: number }): Promise<Frame>;
  close(): void;
}

const CONNECT_TIMEOUT_MS = 2_000;
const NO_ANSWER = Symbol('no answer in time');

/** Whether error is a receive that timed out: the daemon took the connection but did not answer. */
export function isNoAnswer(error: unknown): boolean {
  return error instanceof AgentSecretError && error.cause === NO_ANSWER;
}
let nextId = 1;
const KNOWN_CODES = new Set<string>(listErrorCodes().map((entry) => entry.code));
export const STATUS_HINT = 'run agent-secret daemon status';

/** An environment as it travels to the daemon or a spawned one: the variables that are set. Pure. */
export function definedEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

// Connects to a daemon that is already there; null when none is.
export async function connectExisting(paths: DaemonPaths): Promise<ClientConversation | null> {
  if (!prepareRuntimeDir(paths, { create: false })) return null;
  return tryConnect(paths.socket);
}

export async function tryConnect(socketPath: string): Promise<ClientConversation | null> {
  try {
    return new SocketConversation(await connectUnix(socketPath, CONNECT_TIMEOUT_MS));
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'ENOENT' || errno === 'ECONNREFUSED') return null;
    throw new AgentSecretError('daemon.unavailable', `cannot connect to the agent-secret daemon at ${socketPath} (${errno ?? 'unknown error'})`, {
      hint: STATUS_HINT,
    });
  }
}

export async function isAnswering(socketPath: string): Promise<boolean> {
  try {
    (await connectUnix(socketPath, CONNECT_TIMEOUT_MS)).destroy();
    return true;
  } catch {
    return false;
  }
}

class SocketConversation implements ClientConversation {
  readonly #socket: Socket;
  readonly #reader: LineReader;
  // Ids only pair frames within one connection, so they need to be distinct, not secret.
  readonly #id = `${process.pid.toString(36)}-${(nextId++).toString(36)}`;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.#reader = new LineReader(socket);
    socket.on('error', () => undefined);
  }

  send(type: string, body: Record<string, unknown>): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = encodeFrame({ v: PROTOCOL_VERSION, id: this.#id, type, body });
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#socket.destroyed || !this.#socket.writable) return Promise.reject(dropped());
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (error) => (error ? reject(dropped()) : resolve()));
    });
  }

  async receive(opts: { timeoutMs?: number } = {}): Promise<Frame> {
    for (;;) {
      const frame = await this.#receiveAny(opts);
      if (frame.type !== 'notice') return frame;
      // The daemon's word to the human while a request waits (e.g. to start the approval console).
      const message = cleanText(frame.body.message);
      if (message !== undefined) process.stderr.write(`agent-secret: ${message}\n`);
    }
  }

  async #receiveAny(opts: { timeoutMs?: number }): Promise<Frame> {
    let line: Buffer;
    try {
      line = await this.#reader.next(opts.timeoutMs);
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      switch (error.kind) {
        case 'closed':
          throw dropped();
        case 'timeout':
          throw new AgentSecretError('daemon.unavailable', 'the agent-secret daemon did not answer in time', { hint: STATUS_HINT, cause: NO_ANSWER });
        default:
          throw protocolError('the daemon sent a frame over the limit or did not finish it');
      }
    }
    const frame = parseDaemonFrame(line);
    if (frame.type === 'error' && (frame.id === this.#id || frame.id === '_')) throw errorFromFrame(frame.body);
    if (frame.id !== this.#id) throw protocolError('the daemon answered with another conversation id');
    return frame;
  }

  close(): void {
    this.#reader.fail('closed');
    this.#socket.destroy();
  }
}

/** Turns an `error` frame's body into the error to throw (pure; exported for tests). */
export function errorFromFrame(body: Record<string, unknown>): AgentSecretError {
  const code = typeof body.code === 'string' && KNOWN_CODES.has(body.code) ? (body.code as ErrorCode) : null;
  if (code === null) return protocolError('the daemon sent an error with an unknown code');
  const message = cleanText(body.message) ?? 'the agent-secret daemon reported an error';
  const hint = cleanText(body.hint);
  return new AgentSecretError(code, message, hint === undefined ? {} : { hint });
}

// The daemon's texts are ours and value-free; still, show no control characters and nothing
// unbounded (a headless denial's missing rule, with its command line and references, runs long).
const MAX_DAEMON_TEXT = 4000;
function cleanText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex
  const text = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/gu, ' ').trim();
  if (text === '') return undefined;
  return text.length > MAX_DAEMON_TEXT ? `${text.slice(0, MAX_DAEMON_TEXT - 3)}...` : text;
}


function dropped(): AgentSecretError {
  return new AgentSecretError('daemon.unavailable', 'the agent-secret daemon closed the connection', { hint: STATUS_HINT });
}

export function protocolError(message: string): AgentSecretError {
  return new AgentSecretError('daemon.protocol', `the daemon protocol was broken: ${message}`, {
    hint: 'agent-secret and its daemon may be of different versions; run agent-secret daemon stop and retry',
  });
}
