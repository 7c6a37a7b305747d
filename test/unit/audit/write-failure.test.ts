// A write or fsync that fails mid-line: the writer throws audit.unwritable with the errno code
// only, cuts the partial line back off, releases the lock, and the chain continues afterwards.
// node:fs is mocked so that the failure happens exactly where a full disk would make it.

import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import type * as fs from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const failures: { write: 'partial' | 'whole' | null; fsync: boolean } = { write: null, fsync: false };

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write (not shown)'), { code: 'ENOSPC' });
  const isAuditLine = (buffer: unknown) => Buffer.isBuffer(buffer) && buffer.includes('"event"');
  return {
    ...real,
    writeSync: (fd: number, buffer: never, ...rest: never[]) => {
      if (failures.write !== null && isAuditLine(buffer)) {
        const mode = failures.write;
        failures.write = null;
        if (mode === 'partial') {
          // Half the line reaches the file, then the disk is full.
          real.writeSync(fd, (buffer as Buffer).subarray(0, 20));
          failures.write = 'whole';
          return 20;
        }
        throw enospc();
      }
      return (real.writeSync as (...args: unknown[]) => number)(fd, buffer, ...rest);
    },
    fsyncSync: (fd: number) => {
      if (failures.fsync) {
        failures.fsync = false;
        throw Object.assign(new Error('EIO'), { code: 'EIO' });
      }
      real.fsyncSync(fd);
    },
  };
});

const { auditEvent, openAuditLog, verifyAuditTrail } = await import('../../../src/audit/index.js');
const { AgentSecretError } = await import('../../../src/core/errors.js');
const { sampleRequest } = await import('./sample-request.js');

const ctx = { requestId: 'req_fail', request: sampleRequest() };
let root: string;
let file: string;

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-audit-fail-')));
  file = join(root, 'agent-secret', 'audit.jsonl');
  failures.write = null;
  failures.fsync = false;
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function thrown(fn: () => void): InstanceType<typeof AgentSecretError> {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AgentSecretError);
    return error as InstanceType<typeof AgentSecretError>;
  }
  return expect.fail('expected a throw');
}

describe('a failing disk', () => {
  it('a write that stops half way throws audit.unwritable and leaves no partial line', async () => {
    const log = await openAuditLog(file);
    log.write(auditEvent('request_received', ctx));
    const before = await readFile(file);
    failures.write = 'partial';
    const error = thrown(() => log.write(auditEvent('approval_granted', ctx)));
    expect(error.code).toBe('audit.unwritable');
    expect(error.message).toBe(`cannot write the audit log ${file}: ENOSPC`);
    expect(error.hint).toBe('free disk space or fix the file system, then rerun');
    expect(await readFile(file)).toEqual(before);
    expect(existsSync(`${file}.lock`)).toBe(false);

    log.write(auditEvent('approval_granted', ctx));
    await log.close();
    expect(await verifyAuditTrail(file)).toMatchObject({ ok: true, events: 2 });
  });

  it('a failed fsync throws audit.unwritable too', async () => {
    const log = await openAuditLog(file);
    failures.fsync = true;
    const error = thrown(() => log.write(auditEvent('request_received', ctx)));
    expect(error.message).toBe(`cannot write the audit log ${file}: EIO`);
    expect(existsSync(`${file}.lock`)).toBe(false);
    await log.close();
  });
});
