// A delivered file as a named pipe (FIFO), served by this process while the child runs: each
// time a reader opens it, the whole value is written into the pipe and the pipe is closed (the
// reader sees the end), a fresh FIFO takes its place for the next reader (so one still draining
// the last never gets the value twice), and after max_reads reads the FIFO is removed, so a later
// open finds nothing (a reader already waiting then gets an empty read) instead of waiting
// forever. The bytes go through the kernel's pipe buffer only, never a disk:
// the default on macOS, which has no RAM-backed filesystem, and `mode: fifo` anywhere.
//
// Node has no mkfifo(2): the FIFO is made by /usr/bin/mkfifo (argv: a mode and our own path, never
// a value). Waiting for a reader without blocking a libuv thread: an O_NONBLOCK open for
// writing fails with ENXIO until a reader has the FIFO open, so it is retried on a short timer;
// once open, the descriptor is written through a net.Socket (libuv's pipe writes, backpressure
// and all). A reader blocked in open(2) is woken by our open, so no reader is missed between tries.
// Loaded with import() only when a request delivers a FIFO.

import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { AgentSecretError } from '../core/errors.js';
import { errnoOf } from '../platform/fs.js';

/** How often a FIFO nobody reads yet is tried again (ms): the longest a reader waits for its bytes to start. */
export const FIFO_POLL_MS = 10;

const MKFIFO_PATHS = ['/usr/bin/mkfifo', '/bin/mkfifo'];

/** The mkfifo program: absolute, never looked up on the caller's PATH. */
export function mkfifoProgram(exists: (path: string) => boolean = existsSync): string | null {
  return MKFIFO_PATHS.find((path) => exists(path)) ?? null;
}

/** mkfifo's argv for a private FIFO at path. Pure. */
export function mkfifoArgs(path: string): string[] {
  return ['-m', '600', '--', path];
}

/** Makes a 0600 FIFO at path (which must not exist); delivery.failed otherwise. */
export function makeFifo(path: string): void {
  const program = mkfifoProgram();
  if (program === null) {
    throw new AgentSecretError('delivery.failed', 'mkfifo was not found in /usr/bin or /bin, so a named pipe cannot be made; nothing was written and the command did not run', {
      hint: 'install coreutils, or set mode: file for this file in the profile',
    });
  }
  try {
    execFileSync(program, mkfifoArgs(path), { stdio: 'ignore', env: {}, timeout: 10_000 });
  } catch {
    throw new AgentSecretError('delivery.failed', `could not make a named pipe at ${path}; nothing was delivered and the command did not run`, {
      hint: 'check that the private directory is writable; or set mode: file for this file in the profile',
    });
  }
}

/**
 * Removes a FIFO so that nobody is left waiting on it: our own reader end lets a writer end open,
 * which wakes any reader blocked in open(2) (it then reads an empty file); a later open finds
 * nothing. Never throws.
 */
export function closeFifo(path: string): void {
  const flags = constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0);
  let reader: number | null = null;
  let writer: number | null = null;
  try {
    reader = openSync(path, constants.O_RDONLY | flags);
    writer = openSync(path, constants.O_WRONLY | flags);
  } catch {
    // Gone already, or not a FIFO of ours any more: unlinking is all that is left.
  }
  try {
    unlinkSync(path);
  } catch {
    // Already gone with its directory.
  }
  for (const fd of [writer, reader]) {
    if (fd !== null) closeSync(fd);
  }
}

export interface FifoServer {
  /** Reads served so far (opened and written to the end, or left early by the reader). */
  readonly reads: number;
  /** Stops serving: closes a pipe being written, removes the FIFO, wipes the bytes. Idempotent. */
  stop(): void;
}

/**
 * Serves content through the FIFO at path up to maxReads times (then removes it). The caller's
 * buffer becomes the server's: it is wiped once served or stopped.
 */
export function serveFifo(path: string, content: Buffer, maxReads: number): FifoServer {
  let reads = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let socket: Socket | null = null;

  const finish = () => {
    if (stopped) return;
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    // The path goes first: a reader that sees the end of this pipe cannot open it again.
    closeFifo(path);
    socket?.destroy();
    socket = null;
    content.fill(0);
  };

  const later = (ms: number) => {
    timer = setTimeout(attempt, ms);
    // Serving never keeps the process alive by itself: the child's exit ends it.
    timer.unref();
  };

  function attempt(): void {
    timer = null;
    if (stopped) return;
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0));
    } catch (error) {
      // ENXIO: nobody has it open for reading yet. Anything else (removed, replaced): stop.
      if (errnoOf(error) === 'ENXIO') later(FIFO_POLL_MS);
      else finish();
      return;
    }
    const pipe = new Socket({ fd, readable: false, writable: true });
    socket = pipe;
    // A reader that leaves early makes the write fail (EPIPE): it still had its read.
    pipe.on('error', () => undefined);
    pipe.write(content, () => {
      if (stopped) return;
      reads += 1;
      // The path is made to lead elsewhere (a fresh FIFO, or nothing) before this pipe is closed:
      // the reader sees the end only then, so its next open never meets this FIFO again.
      if (reads >= maxReads) return finish();
      try {
        const next = `${path}.next`;
        makeFifo(next);
        renameSync(next, path);
      } catch {
        return finish();
      }
      pipe.destroy();
      if (socket === pipe) socket = null;
      later(0);
    });
  }

  later(0);
  return {
    get reads() {
      return reads;
    },
    stop: finish,
  };
}
