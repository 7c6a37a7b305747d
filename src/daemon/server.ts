// The daemon's transport and lifecycle; it knows nothing about secrets. One instance per user
// (start lock, then a live probe of the socket; a socket that refuses is stale and replaced),
// one conversation per connection, read timeouts, a bad frame answered with one `error` frame
// and a closed connection, idle exit, upgrade exit and clean shutdown. The server answers
// `hello`, `daemon.status` and `daemon.stop` itself; every other frame opens a conversation
// that hooks.handler runs. Two caps keep one caller from taking the daemon down for everyone:
// at most MAX_CONNECTIONS open connections (one more is told so and closed, unread), and at most
// MAX_BUFFERED_BYTES of unread input held across all of them (the connection whose bytes would
// go past it is told so and closed).

import { chmodSync, lstatSync, statSync, type Stats } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { AgentSecretError, isAgentSecretError } from '../core/errors.js';
import { auditLogPath, userConfigPath, type DirsInput } from '../platform/dirs.js';
import { createByteBudget, FramingError, LineReader, type ByteBudget, type FramingFailure } from '../protocol/framing.js';
import { errnoOf, unlinkQuietly } from '../platform/fs.js';
import { acquireStartLock, connectUnix, removePidFileIfOurs, writePidFile } from '../platform/instance.js';
import { daemonPaths, prepareRuntimeDir, type DaemonPaths } from '../protocol/paths.js';
import type { Conversation, DaemonHooks } from '../broker/conversation.js';
import { CLIENT_FRAME_TYPES, PROTOCOL_VERSION, encodeFrame, parseDaemonFrame, parseFrame, type Frame } from '../protocol/envelope.js';

export type DaemonLog = (event: string, fields?: Record<string, unknown>) => void;

export interface ServeOptions {
  dirs: DirsInput;
  version: string;
  /** Quiet period before an idle exit. */
  idleMs: number;
  hooks: DaemonHooks;
  log?: DaemonLog;
  /** The file whose change means "upgraded" (default: this module's own file). */
  entryFile?: string;
  /** Shut down when aborted (tests, embedding). */
  stopSignal?: AbortSignal;
  /** Shut down on SIGTERM, SIGINT and SIGHUP (default true). */
  handleSignals?: boolean;
  /** Read timeouts (defaults: first frame 10 s, rest of a started frame 5 s). */
  timeouts?: { firstFrameMs?: number; partialFrameMs?: number };
  /** Caps (defaults MAX_CONNECTIONS and MAX_BUFFERED_BYTES); tests lower them. */
  limits?: { maxConnections?: number; maxBufferedBytes?: number };
  /** Called once the socket accepts connections. */
  onListening?: (info: { socket: string; pid: number }) => void;
}

export const FIRST_FRAME_TIMEOUT_MS = 10_000;
/**
 * Open connections served at once. Every running `exec` holds one while its child runs, so this
 * is far above what a few agents need; memory is bounded by MAX_BUFFERED_BYTES, not by this.
 */
export const MAX_CONNECTIONS = 128;
/** Unread input held across all connections: 16 frames of the 1 MiB limit in flight. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
const SHUTDOWN_GRACE_MS = 2_000;
const CLOSE_LINGER_MS = 2_000;
const UNKNOWN_ID = '_';
const SERVER_TYPES = new Set<string>(['hello', 'daemon.status', 'daemon.stop']);

interface Connection {
  readonly socket: Socket;
  readonly reader: LineReader;
  readonly controller: AbortController;
  /** Resolves when the socket has closed. */
  closed$: Promise<void>;
  id: string | undefined;
  ending: boolean;
  /** Ending and reading (to drop) what the client still sends; false: no longer read at all. */
  draining: boolean;
  closed: boolean;
}

type State = 'running' | 'retiring' | 'stopping' | 'stopped';

/** Runs the daemon until a clean shutdown; resolves at once, quietly, when another daemon answers. */
export async function serveDaemon(opts: ServeOptions): Promise<void> {
  const log: DaemonLog = opts.log ?? (() => undefined);
  const paths = daemonPaths(opts.dirs);
  prepareRuntimeDir(paths, { create: true });

  const release = await acquireStartLock(paths.lockFile);
  let server: Server;
  let socketStats: Stats;
  const startedAt = new Date().toISOString();
  try {
    const existing = await probeSocket(paths);
    if (existing === 'live') {
      log('already_running', { socket: paths.socket });
      return;
    }
    if (existing === 'stale') {
      unlinkQuietly(paths.socket);
      log('stale_socket_removed', { socket: paths.socket });
    }
    // A client that ends its side has left: the conversation's signal is aborted.
    server = createServer({ allowHalfOpen: false });
    await listen(server, paths.socket);
    chmodSync(paths.socket, 0o600);
    socketStats = lstatSync(paths.socket);
    writePidFile(paths.pidFile, { pid: process.pid, version: opts.version, started_at: startedAt });
  } finally {
    release();
  }

  const runtime = new DaemonRuntime(opts, log, paths, server, socketStats, startedAt);
  log('listening', { socket: paths.socket, pid: process.pid, version: opts.version, fallback_dir: paths.fallback });
  opts.onListening?.({ socket: paths.socket, pid: process.pid });
  return runtime.stopped;
}

class DaemonRuntime {
  readonly stopped: Promise<void>;
  #resolveStopped!: () => void;
  #state: State = 'running';
  readonly #connections = new Set<Connection>();
  /** Refused connections still lingering until their client reads the refusal. */
  readonly #refused = new Set<Socket>();
  readonly #maxConnections: number;
  readonly #budget: ByteBudget;
  readonly #tasks = new Set<Promise<void>>();
  readonly #idleTimer: NodeJS.Timeout;
  #idleSince = Date.now();
  readonly #entryFile: string;
  readonly #entryStamp: string | null;
  readonly #firstFrameMs: number;
  readonly #partialFrameMs: number | undefined;
  readonly #signalHandler = () => void this.shutdown('signal');
  readonly #opts: ServeOptions;
  readonly #log: DaemonLog;
  readonly #paths: DaemonPaths;
  readonly #server: Server;
  readonly #socketStats: Stats;
  readonly #startedAt: string;

  constructor(opts: ServeOptions, log: DaemonLog, paths: DaemonPaths, server: Server, socketStats: Stats, startedAt: string) {
    this.#opts = opts;
    this.#log = log;
    this.#paths = paths;
    this.#server = server;
    this.#socketStats = socketStats;
    this.#startedAt = startedAt;
    this.stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    this.#entryFile = opts.entryFile ?? fileURLToPath(import.meta.url);
    this.#entryStamp = stampOf(this.#entryFile);
    this.#firstFrameMs = opts.timeouts?.firstFrameMs ?? FIRST_FRAME_TIMEOUT_MS;
    this.#partialFrameMs = opts.timeouts?.partialFrameMs;
    this.#maxConnections = opts.limits?.maxConnections ?? MAX_CONNECTIONS;
    this.#budget = createByteBudget(opts.limits?.maxBufferedBytes ?? MAX_BUFFERED_BYTES);

    server.on('connection', (socket) => this.#accept(socket));
    server.on('error', (error) => log('server_error', { errno: errnoOf(error) ?? 'unknown' }));
    const tick = Math.max(10, Math.min(Math.floor(opts.idleMs / 4), 30_000));
    this.#idleTimer = setInterval(() => this.#checkIdle(), tick);
    if (opts.handleSignals !== false) {
      for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, this.#signalHandler);
    }
    if (opts.stopSignal !== undefined) {
      if (opts.stopSignal.aborted) void this.shutdown('stop');
      else opts.stopSignal.addEventListener('abort', () => void this.shutdown('stop'), { once: true });
    }
  }

  #accept(socket: Socket): void {
    if (this.#state !== 'running' && this.#state !== 'retiring') {
      socket.destroy();
      return;
    }
    socket.on('error', () => undefined);
    if (this.#connections.size >= this.#maxConnections) {
      this.#refuse(socket);
      return;
    }
    // A frame over the limit or left unfinished is answered at once, even while nobody reads.
    // A client pushing a frame over the limit or the budget is not read any further (see #end).
    const onFailure = (kind: FramingFailure) => void this.#fail(conn, framingError(new FramingError(kind), this.#budget.limit), kind === 'partial_timeout');
    const budget = this.#budget;
    const readerOptions = this.#partialFrameMs === undefined ? { onFailure, budget } : { onFailure, budget, partialTimeoutMs: this.#partialFrameMs };
    const conn: Connection = {
      socket,
      reader: new LineReader(socket, readerOptions),
      controller: new AbortController(),
      closed$: Promise.resolve(),
      id: undefined,
      ending: false,
      draining: true,
      closed: false,
    };
    conn.closed$ = new Promise<void>((resolve) =>
      socket.once('close', () => {
        conn.closed = true;
        conn.controller.abort(unavailable('the client closed the connection'));
        resolve();
      }),
    );
    this.#connections.add(conn);
    this.#idleSince = Date.now();
    const task = this.#serve(conn);
    const whole = Promise.all([task, conn.closed$]).then(() => {
      conn.reader.dispose();
      this.#connections.delete(conn);
      this.#tasks.delete(whole);
      this.#idleSince = Date.now();
      if (this.#state === 'retiring' && this.#connections.size === 0) void this.shutdown('upgrade');
    });
    this.#tasks.add(whole);
  }

  // Over the connection cap: one error frame, nothing read, then the connection goes after the
  // linger (as #end without drain). Refusals still lingering are capped too; beyond that a
  // connection is closed at once.
  #refuse(socket: Socket): void {
    this.#log('connection_refused', { open: this.#connections.size });
    if (this.#refused.size >= this.#maxConnections) {
      socket.destroy();
      return;
    }
    this.#refused.add(socket);
    const error = unavailable(`too many connections to the agent-secret daemon (${this.#connections.size} open)`, 'wait for running agent-secret commands to finish (each running exec holds one), then rerun');
    const body = { code: error.code, message: error.message, hint: error.hint };
    socket.end(encodeFrame({ v: PROTOCOL_VERSION, id: UNKNOWN_ID, type: 'error', body }));
    socket.pause();
    const timer = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      this.#refused.delete(socket);
    });
  }

  async #serve(conn: Connection): Promise<void> {
    try {
      this.#checkUpgrade();
      let frame = await this.#receive(conn, this.#firstFrameMs, true);
      if (frame.type === 'hello') {
        conn.id = frame.id;
        const clientVersion = frame.body.version;
        if (typeof clientVersion !== 'string') throw protocol('hello must carry the client version');
        if (clientVersion !== this.#opts.version) this.#retire('version');
        const retiring = this.#state !== 'running';
        await this.#send(conn, 'hello.ok', { version: this.#opts.version, pid: process.pid, protocol: PROTOCOL_VERSION, retiring });
        frame = await this.#receive(conn, this.#firstFrameMs, true);
        if (frame.type === 'hello') throw protocol('hello may be sent once');
        // A client may send its request right behind hello without waiting for the answer; one
        // that hello told to go elsewhere (another version, or retiring) is not served here.
        if (retiring) throw protocol('this daemon is retiring; connect again');
      }
      conn.id = frame.id;
      if (frame.type === 'daemon.status') {
        await this.#send(conn, 'daemon.status.ok', {
          pid: process.pid,
          version: this.#opts.version,
          started_at: this.#startedAt,
          connections: this.#connections.size - 1,
          // Unread input held for all connections (bounded by MAX_BUFFERED_BYTES).
          buffered_bytes: this.#budget.used,
          retiring: this.#state !== 'running',
          // Which user config (approver, op_path) and audit log this daemon uses: its own environment's.
          user_config: userConfigPath(this.#opts.dirs),
          audit_log: auditLogPath(this.#opts.dirs),
        });
      } else if (frame.type === 'daemon.stop') {
        await this.#send(conn, 'daemon.stop.ok', { pid: process.pid });
        this.#end(conn);
        void this.shutdown('stop');
      } else {
        await this.#opts.hooks.handler(this.#conversation(conn, frame));
      }
    } catch (error) {
      this.#fail(conn, error);
    } finally {
      this.#end(conn);
    }
  }

  #conversation(conn: Connection, first: Frame): Conversation {
    return {
      first,
      send: (type, body) => this.#send(conn, type, body),
      receive: (options) => this.#receive(conn, options?.timeoutMs, false),
      signal: conn.controller.signal,
    };
  }

  // Every receive failure ends the conversation: a bad frame or a timeout gets one error frame.
  async #receive(conn: Connection, timeoutMs: number | undefined, opening: boolean): Promise<Frame> {
    const signal = conn.controller.signal;
    if (signal.aborted) throw reasonOf(signal);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(reasonOf(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    let line: Buffer;
    try {
      line = await Promise.race([conn.reader.next(timeoutMs), aborted]);
    } catch (error) {
      if (error instanceof FramingError && error.kind === 'closed') {
        // The client is done sending (or gone): nothing to answer.
        this.#end(conn);
        throw framingError(error, this.#budget.limit);
      }
      throw this.#fail(conn, error instanceof FramingError ? framingError(error, this.#budget.limit) : error);
    } finally {
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
      aborted.catch(() => undefined);
    }
    let frame: Frame;
    try {
      frame = parseFrame(line, CLIENT_FRAME_TYPES);
    } catch (error) {
      throw this.#fail(conn, error);
    }
    if (conn.id !== undefined && frame.id !== conn.id) throw this.#fail(conn, protocol('a frame carries another conversation id'));
    // hello, daemon.status and daemon.stop only open a connection; they never join a conversation.
    if (!opening && SERVER_TYPES.has(frame.type)) throw this.#fail(conn, protocol('this frame type may only open a connection'));
    return frame;
  }

  #send(conn: Connection, type: string, body: Record<string, unknown>): Promise<void> {
    if (conn.ending || conn.closed) return Promise.reject(unavailable('the client closed the connection'));
    // Once shutdown began (or the client left) a handler that finishes late sends nothing, values least of all.
    if (conn.controller.signal.aborted) return Promise.reject(reasonOf(conn.controller.signal));
    let bytes: Buffer;
    try {
      bytes = encodeFrame({ v: PROTOCOL_VERSION, id: conn.id ?? UNKNOWN_ID, type, body });
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      conn.socket.write(bytes, (error) => (error ? reject(unavailable('the client closed the connection')) : resolve()));
    });
  }

  // Answers an error with one error frame (unless the connection is already ending) and ends it.
  #fail(conn: Connection, error: unknown, drain = true): unknown {
    if (conn.ending || conn.closed) return error;
    const known = isAgentSecretError(error);
    if (known) this.#log(error.code === 'daemon.protocol' ? 'bad_frame' : 'request_failed', { code: error.code });
    else this.#log('handler_failed', { code: 'internal' });
    const body = known
      ? { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) }
      : { code: 'internal', message: 'the agent-secret daemon failed while handling the request', hint: 'rerun; if it happens again, run agent-secret daemon stop' };
    const bytes = encodeFrame({ v: PROTOCOL_VERSION, id: conn.id ?? UNKNOWN_ID, type: 'error', body });
    this.#end(conn, bytes, drain);
    return error;
  }

  // Half-closes after the last frame, drops whatever the client still sends (closing with unread
  // input could reset the connection before the client reads our reply), then lets go. Without
  // `drain` (a client pushing more than the frame limit or the budget) nothing more is read: the
  // kernel keeps what it sends until the linger ends. Reading a flood only to drop it held the
  // event loop for 160-330 ms at a time (500 connections of 1 MiB each).
  #end(conn: Connection, last?: Buffer, drain = true): void {
    if (conn.ending || conn.closed) return;
    conn.ending = true;
    conn.controller.abort(unavailable('the conversation ended'));
    conn.reader.fail('closed');
    const socket = conn.socket;
    if (last === undefined) socket.end();
    else socket.end(last);
    conn.draining = drain;
    if (drain) socket.resume();
    else socket.pause();
    const timer = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  #checkIdle(): void {
    if (this.#state !== 'running') return;
    const now = Date.now();
    if (this.#connections.size > 0 || !this.#hooksIdle()) {
      this.#idleSince = now;
      return;
    }
    if (now - this.#idleSince >= this.#opts.idleMs) void this.shutdown('idle');
  }

  #hooksIdle(): boolean {
    try {
      return this.#opts.hooks.isIdle();
    } catch {
      return false;
    }
  }

  // Upgrade exit: the version differs, or the file this code was loaded from changed.
  #checkUpgrade(): void {
    if (this.#state !== 'running') return;
    const stamp = stampOf(this.#entryFile);
    if (stamp === null || stamp !== this.#entryStamp) this.#retire('code_changed');
  }

  // Stops accepting (a fresh daemon may start at once), finishes open conversations, then exits.
  #retire(why: string): void {
    if (this.#state !== 'running') return;
    this.#state = 'retiring';
    this.#log('retiring', { why });
    this.#stopListening();
    removePidFileIfOurs(this.#paths.pidFile, process.pid);
  }

  /** Clean shutdown: stop accepting, abort conversations, let the hooks clear everything, close. */
  async shutdown(reason: string): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return this.stopped;
    this.#state = 'stopping';
    this.#log('shutdown', { reason });
    clearInterval(this.#idleTimer);
    this.#stopListening();
    const stopping = unavailable('the agent-secret daemon stopped before the request was answered');
    for (const conn of this.#connections) conn.controller.abort(stopping);
    // Connections no longer read would not notice their client leave: they are done already.
    for (const conn of this.#connections) if (conn.ending && !conn.draining) conn.socket.destroy();
    for (const socket of this.#refused) socket.destroy();
    try {
      await this.#opts.hooks.shutdown();
    } catch {
      this.#log('hooks_shutdown_failed');
    }
    await Promise.race([Promise.all([...this.#tasks]), delay(SHUTDOWN_GRACE_MS)]);
    // Conversations whose handler did not finish are told and closed.
    const left = [...this.#connections];
    for (const conn of left) this.#fail(conn, stopping);
    await Promise.race([Promise.all(left.map((conn) => conn.closed$)), delay(CLOSE_LINGER_MS)]);
    for (const conn of left) conn.socket.destroy();
    removePidFileIfOurs(this.#paths.pidFile, process.pid);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.off(signal, this.#signalHandler);
    this.#state = 'stopped';
    this.#log('stopped', { reason });
    this.#resolveStopped();
    return this.stopped;
  }

  #stopListening(): void {
    if (!this.#server.listening) return;
    this.#server.close();
    // Unlink only our own socket: after a retire, a newer daemon may already listen at the path.
    try {
      const now = lstatSync(this.#paths.socket);
      if (now.ino === this.#socketStats.ino && now.dev === this.#socketStats.dev) unlinkQuietly(this.#paths.socket);
    } catch {
      // Already gone.
    }
  }
}

/** What is at the socket path: nothing, a daemon that answers, or a stale socket file. */
async function probeSocket(paths: DaemonPaths): Promise<'absent' | 'live' | 'stale'> {
  let stats: Stats;
  try {
    stats = lstatSync(paths.socket);
  } catch {
    return 'absent';
  }
  if (!stats.isSocket()) {
    throw new AgentSecretError('daemon.unavailable', `${paths.socket} is in the way of the daemon socket: it is not a socket`, {
      hint: `move ${paths.socket} away, then run agent-secret daemon start`,
    });
  }
  let socket: Socket;
  try {
    socket = await connectUnix(paths.socket, 1_000);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'ECONNREFUSED' || errno === 'ENOENT') return errno === 'ENOENT' ? 'absent' : 'stale';
    throw new AgentSecretError('daemon.unavailable', `cannot probe the daemon socket ${paths.socket} (${errno ?? 'unknown error'})`, {
      hint: `if no agent-secret daemon runs, remove ${paths.socket} and run agent-secret daemon start`,
    });
  }
  // Someone listens. A daemon answers daemon.status; anything listening is left alone either way.
  try {
    socket.write(encodeFrame({ v: PROTOCOL_VERSION, id: 'probe', type: 'daemon.status', body: {} }));
    const reader = new LineReader(socket);
    parseDaemonFrame(await reader.next(2_000));
  } catch {
    // Listening but not answering like a daemon: still not ours to replace.
  } finally {
    socket.destroy();
  }
  return 'live';
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      reject(
        new AgentSecretError('daemon.unavailable', `cannot listen on the daemon socket ${path} (${errnoOf(error) ?? 'unknown error'})`, {
          hint: 'run agent-secret daemon status; if no daemon runs, remove the socket file and retry',
        }),
      );
    };
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function stampOf(file: string): string | null {
  try {
    const stats = statSync(file);
    return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  } catch {
    return null;
  }
}

function framingError(error: FramingError, budgetBytes: number): AgentSecretError {
  switch (error.kind) {
    case 'too_large':
      return protocol('a frame is larger than the 1 MiB limit');
    case 'partial_timeout':
      return protocol('a frame was started but not finished in time');
    case 'busy':
      return unavailable(
        `the agent-secret daemon already holds ${sizeText(budgetBytes)} of unfinished frames from its connections; this one was closed`,
        'rerun in a moment; if it keeps happening, a process of yours is flooding the daemon socket',
      );
    case 'timeout':
      return protocol('no frame arrived in time');
    case 'closed':
      return unavailable('the client closed the connection');
  }
}

function sizeText(bytes: number): string {
  return bytes >= 1048576 ? `${Math.round(bytes / 1048576)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

function reasonOf(signal: AbortSignal): unknown {
  return isAgentSecretError(signal.reason) ? signal.reason : unavailable('the conversation was aborted');
}

function protocol(message: string): AgentSecretError {
  return new AgentSecretError('daemon.protocol', `the daemon protocol was broken: ${message}`, {
    hint: 'agent-secret and its daemon may be of different versions; run agent-secret daemon stop and retry',
  });
}

function unavailable(message: string, hint = 'rerun; agent-secret starts the daemon again on demand (see agent-secret daemon status)'): AgentSecretError {
  return new AgentSecretError('daemon.unavailable', message, { hint });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
