// Delivered files: the approved values a request asks for as files (a file secret's value, or a
// template rendered with its references' values) are laid out in this run's private directory
// (private-dir.ts), one 0700 subdirectory per variable, and the child gets each variable as the
// path. A regular file is written 0600 with the exact bytes (O_EXCL, no symlink followed); a
// FIFO is served by this process (fifo-server.ts, loaded only then). Everything is removed when
// the child exits, when this process is told to stop by a signal, and, for a process killed
// outright, by the sweep at the next run. A reveal site (AGENTS.md): the bytes leave their
// SecretValue only to be written into the file or the pipe, and the buffers are wiped after.

import { closeSync, constants, fchmodSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { validateAlias } from '../core/alias.js';
import { validateFileName } from '../core/delivery.js';
import { AgentSecretError } from '../core/errors.js';
import type { SecretValue } from '../core/secret-value.js';
import { parseTemplate, renderTemplate, templateValueKey, type FileSpec } from '../request/template.js';
import { makePrivateDir, privateBaseSync, removePrivateDirSync, sweepStaleDirsSync } from './private-dir.js';

/** What made the files go: the child's exit, a signal to this process, or a child that never started. */
export type RemovalCause = 'child_exit' | 'signal' | 'spawn_failed';

export interface DeliveredFiles {
  /** Variable → absolute path, for the child's environment. */
  readonly paths: ReadonlyMap<string, string>;
  /** Directories of earlier runs swept before this one was made. */
  readonly swept: number;
  /** Stops every FIFO and removes the directory; the first call's cause is kept. Idempotent, synchronous. */
  remove(cause: RemovalCause): void;
  /** The first removal: its cause and when it finished (process.hrtime.bigint()); null before. */
  readonly removal: { cause: RemovalCause; at: bigint; count: number } | null;
}

/**
 * Writes (or starts serving) every file; on any failure removes what was made and throws a
 * value-free delivery error. `values` must hold each file secret's value under its alias and each
 * template reference's value under templateValueKey.
 */
export async function deliverFiles(
  specs: readonly FileSpec[],
  values: ReadonlyMap<string, SecretValue>,
  host: { env: Readonly<Record<string, string | undefined>>; platform: NodeJS.Platform },
): Promise<DeliveredFiles> {
  const swept = sweepStaleDirsSync(host.env, host.platform);
  const dir = await makePrivateDir(privateBaseSync(host.env, host.platform));
  const paths = new Map<string, string>();
  const servers: Array<{ stop(): void }> = [];
  let removal: DeliveredFiles['removal'] = null;
  const remove = (cause: RemovalCause) => {
    if (removal !== null) return;
    process.off('exit', atExit);
    for (const server of servers) server.stop();
    removePrivateDirSync(dir);
    removal = { cause, at: process.hrtime.bigint(), count: paths.size };
  };
  // A backstop: however this process ends normally (process.exit included), the files go with it.
  const atExit = () => remove('signal');
  process.on('exit', atExit);
  try {
    for (const spec of specs) {
      // Each part of the path is one plain component: nothing the broker sent can lead outside the directory.
      if (!validateAlias(spec.alias, 'file').ok || !validateFileName(spec.file.name).ok) {
        throw new AgentSecretError('delivery.failed', 'refusing to deliver a file under an invalid name; nothing was delivered and the command did not run', { details: { alias: spec.alias.replace(/[^\x20-\x7e]/g, '?') } });
      }
      const sub = join(dir, spec.alias);
      mkdirSync(sub, { mode: 0o700 });
      const path = join(sub, spec.file.name);
      const bytes = contentOf(spec, values);
      if (spec.file.mode === 'fifo') {
        const { makeFifo, serveFifo } = await import('./fifo-server.js');
        try {
          makeFifo(path);
        } catch (error) {
          bytes.fill(0);
          throw error;
        }
        servers.push(serveFifo(path, bytes, spec.file.maxReads ?? 1));
      } else {
        writePrivateFile(path, bytes);
      }
      paths.set(spec.alias, path);
    }
  } catch (error) {
    remove('spawn_failed');
    if (error instanceof AgentSecretError) throw error;
    throw new AgentSecretError('delivery.failed', `could not write the delivered files in ${dir}; everything written was removed and the command did not run`, {
      hint: 'check that the RAM-backed filesystem has room (df -h /dev/shm)',
    });
  }
  return {
    paths,
    swept,
    remove,
    get removal() {
      return removal;
    },
  };
}

// The exact bytes of one file; the caller owns (and wipes) the buffer.
function contentOf(spec: FileSpec, values: ReadonlyMap<string, SecretValue>): Buffer {
  const valueOf = (key: string): SecretValue => {
    const value = values.get(key);
    if (value === undefined) throw new AgentSecretError('internal', `no value was delivered for ${spec.alias}`, { details: { alias: spec.alias } });
    return value;
  };
  if (spec.template === null) return valueOf(spec.alias).revealBytes();
  const parsed = parseTemplate(spec.template.text);
  const refs = spec.template.refs;
  if (!parsed.ok || parsed.refs.some((ref, i) => refs[i] !== ref) || parsed.refs.length !== refs.length) {
    throw new AgentSecretError('internal', `the approved template for ${spec.alias} does not parse as it did`, { details: { alias: spec.alias } });
  }
  const pieces: Buffer[] = [];
  try {
    return renderTemplate(parsed.parts, (ref) => {
      const piece = valueOf(templateValueKey(spec.alias, refs.indexOf(ref))).revealBytes();
      pieces.push(piece);
      return piece;
    });
  } finally {
    for (const piece of pieces) piece.fill(0);
  }
}

// A new regular file, 0600 whatever the umask, no symlink followed; the bytes are wiped after.
function writePrivateFile(path: string, bytes: Buffer): void {
  let fd: number | null = null;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
    fchmodSync(fd, 0o600);
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
  } finally {
    if (fd !== null) closeSync(fd);
    bytes.fill(0);
  }
}
