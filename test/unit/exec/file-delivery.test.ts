// deliverFiles against the real RAM-backed filesystem: exact bytes in 0600 files of a private
// directory, a rendered template, one removal whatever calls it, and nothing left on a failure.

import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import { deliverFiles } from '../../../src/exec/file-delivery.js';
import type { FileSpec } from '../../../src/request/template.js';

const env = { XDG_RUNTIME_DIR: '/nonexistent-runtime-dir' };
const binary = Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x80, 0x41]);
const specs: FileSpec[] = [
  { alias: 'KEYSTORE', file: { name: 'keystore.p12', mode: 'file', maxReads: null }, template: null },
  { alias: 'NPMRC', file: { name: 'npmrc', mode: 'file', maxReads: null }, template: { text: 'a={{ op://V/I/t }}\nb={{ op://V/I/u }} {{ op://V/I/t }}\n', refs: ['op://V/I/t', 'op://V/I/u'] } },
];
const values = () =>
  new Map([
    ['KEYSTORE', new SecretValue(binary)],
    ['NPMRC#0', new SecretValue('tok')],
    ['NPMRC#1', new SecretValue('usr')],
  ]);

describe('deliverFiles', () => {
  it('writes the exact bytes 0600 in a private 0700 directory on /dev/shm and removes them once', async () => {
    const delivered = await deliverFiles(specs, values(), { env, platform: 'linux' });
    const keystore = delivered.paths.get('KEYSTORE') as string;
    const npmrc = delivered.paths.get('NPMRC') as string;
    expect(keystore).toMatch(/^\/dev\/shm\/agent-secret-files\.\d+\.[A-Za-z0-9]+\/KEYSTORE\/keystore\.p12$/);
    expect(readFileSync(keystore).equals(binary)).toBe(true);
    expect(readFileSync(npmrc, 'utf8')).toBe('a=tok\nb=usr tok\n');
    expect(lstatSync(keystore).mode & 0o777).toBe(0o600);
    expect(lstatSync(dirname(keystore)).mode & 0o777).toBe(0o700);
    expect(lstatSync(dirname(dirname(keystore))).mode & 0o777).toBe(0o700);
    expect(delivered.removal).toBeNull();

    delivered.remove('child_exit');
    delivered.remove('signal');
    expect(existsSync(dirname(dirname(keystore)))).toBe(false);
    expect(delivered.removal).toMatchObject({ cause: 'child_exit', count: 2 });
  });

  it('leaves nothing behind when a value is missing, and says so without a value', async () => {
    const partial = values();
    partial.delete('NPMRC#1');
    const error = await deliverFiles(specs, partial, { env, platform: 'linux' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentSecretError);
    expect((error as AgentSecretError).message).toBe('no value was delivered for NPMRC');
    const mine = (await import('node:fs')).readdirSync('/dev/shm').filter((n) => n.startsWith(`agent-secret-files.${process.pid}.`));
    expect(mine).toEqual([]);
  });

  it.each([
    ['an alias that climbs out of the directory', { alias: '../X', file: { name: 'x', mode: 'file' as const, maxReads: null }, template: null }],
    ['a file name with a slash', { alias: 'X', file: { name: '../../x', mode: 'file' as const, maxReads: null }, template: null }],
  ])('refuses %s and leaves nothing', async (_name, spec) => {
    const error = await deliverFiles([spec], new Map([[spec.alias, new SecretValue('v')]]), { env, platform: 'linux' }).catch((e: unknown) => e);
    expect((error as AgentSecretError).code).toBe('delivery.failed');
    const mine = (await import('node:fs')).readdirSync('/dev/shm').filter((n) => n.startsWith(`agent-secret-files.${process.pid}.`));
    expect(mine).toEqual([]);
  });
});
