// Copies one of the child's output streams to one of ours through a filter (the masker). Plain
// 'data' and 'end' handlers instead of pipe() and a Transform: the same bytes, backpressure kept,
// and far less stream machinery to start in a short-lived process. Input: untrusted child bytes.
// There is no idle-flush timer: the masker already releases every byte that no continuation can
// turn into part of a secret, and what it holds back must stay held until more output or the end
// resolves it, so a prompt without a newline is passed on in the same tick it arrives.

import type { Readable, Writable } from 'node:stream';

/** Bytes in, the bytes safe to pass on out; end() gives what was held back. The masker is one. */
export interface OutputFilter {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
}

/** One piped output stream. The destination is asked for only when there are bytes to write. */
export interface PipedOutput {
  filter: OutputFilter;
  destination: () => Writable;
}

/**
 * Passes everything source yields through the filter to the destination (never ended: it is our
 * own stdout or stderr), pausing the source while the destination is full. Resolves once the
 * source has ended or failed. If the filter throws, the rest of the output is dropped, never
 * passed on unfiltered, and the source is still drained so that the child cannot block on it.
 * If the destination fails, outputFailed hears its error code (on EPIPE, its reader went away,
 * the child gets the SIGPIPE the kernel would have sent it for writing there) and the source is
 * closed, so the child finds its output closed as it would have without us in between.
 */
export function pumpThrough(source: Readable, { filter, destination }: PipedOutput, outputFailed: (code: string) => void = () => undefined): Promise<void> {
  return new Promise((resolve) => {
    let failed = false;
    let target: Writable | null = null;
    // Stays attached: a write still in flight may fail after the source has ended, which then
    // concerns nobody (the child is done writing there).
    const onTargetError = (error: NodeJS.ErrnoException) => {
      if (failed || source.readableEnded) return;
      failed = true;
      outputFailed(typeof error.code === 'string' ? error.code : 'error');
      source.destroy();
    };
    const out = (): Writable => {
      if (target === null) {
        target = destination();
        target.on('error', onTargetError);
      }
      return target;
    };
    // true when the destination can take more now.
    const pass = (take: () => Buffer): boolean => {
      if (failed) return true;
      let bytes: Buffer;
      try {
        bytes = take();
      } catch {
        failed = true;
        return true;
      }
      return bytes.length === 0 || out().write(bytes);
    };
    source.on('data', (chunk: Buffer) => {
      if (pass(() => filter.push(chunk))) return;
      source.pause();
      out().once('drain', () => source.resume());
    });
    source.once('end', () => {
      pass(() => filter.end());
      resolve();
    });
    // A read error ends the stream without 'end'; what the filter held back is dropped.
    source.once('error', () => resolve());
    source.once('close', () => resolve());
  });
}
