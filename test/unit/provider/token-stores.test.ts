import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import { addCommandLine, deleteArgs, findArgs, parseFind } from '../../../src/provider/token/keychain.js';
import { normalizeToken, readTokenFile, removeTokenFile, writeTokenFile } from '../../../src/provider/token/file.js';
import { secretToolArgs } from '../../../src/provider/token/secret-tool.js';
import { describeSource, tokenState } from '../../../src/provider/token/store.js';

const uid = process.getuid?.() ?? -1;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-secret-token-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('a token file', () => {
  it('is written 0600 in a 0700 directory, read back, and removed', async () => {
    const path = join(dir, 'tokens', 'bws.default');
    await writeTokenFile(path, new SecretValue('0.abc.def:ghi'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'tokens')).mode & 0o777).toBe(0o700);
    expect((await readTokenFile(path, uid))?.reveal()).toBe('0.abc.def:ghi');
    expect(await tokenState({ kind: 'file', path }, { env: {}, platform: 'linux', uid })).toMatchObject({ state: 'present' });
    expect(await removeTokenFile(path)).toBe('removed');
    expect(await removeTokenFile(path)).toBe('missing');
    expect(await readTokenFile(path, uid)).toBeNull();
  });

  it.each([
    ['readable by others', (p: string) => chmodSync(p, 0o644), 'readable or writable by group or others'],
    ['a symlink', (p: string) => (rmSync(p), symlinkSync('/etc/hostname', p)), 'symlink'],
    ['two lines', (p: string) => writeFileSync(p, 'a\nb\n'), 'one token on one line'],
  ])('is refused when %s, naming the file and never its content', async (_, spoil, problem) => {
    const path = join(dir, 'token');
    writeFileSync(path, 'CANARY-token-file-secret\n', { mode: 0o600 });
    spoil(path);
    const error = await readTokenFile(path, uid).then(
      () => expect.fail('should refuse'),
      (e: unknown) => e as AgentSecretError,
    );
    expect(error).toBeInstanceOf(AgentSecretError);
    expect(error.message).toContain(path);
    expect(error.message).toContain(problem);
    expect(`${error.message}${error.hint ?? ''}`).not.toContain('CANARY');
    expect(readFileSync(path, 'utf8')).not.toBe('');
  });

  it('normalizes one line and refuses control characters', () => {
    expect(normalizeToken('  tok\n')).toBe('tok');
    expect(normalizeToken('\n')).toBeNull();
    expect(normalizeToken('a\u0007b')).toBeNull();
  });
});

describe('the Secret Service and Keychain helpers never put a token in argv', () => {
  it('secret-tool', () => {
    expect(secretToolArgs('lookup', 'bws-team')).toEqual(['lookup', 'service', 'agent-secret', 'token', 'bws-team']);
    expect(secretToolArgs('store', 'bws-team')).toEqual(['store', '--label', 'agent-secret token bws-team', 'service', 'agent-secret', 'token', 'bws-team']);
  });
  it('security', () => {
    expect(findArgs('op-ci')).toEqual(['find-generic-password', '-s', 'agent-secret', '-a', 'op-ci', '-w']);
    expect(deleteArgs('op-ci')).toEqual(['delete-generic-password', '-s', 'agent-secret', '-a', 'op-ci']);
    expect(addCommandLine('op-ci', 'ops_abc.def=')).toBe('add-generic-password -U -s agent-secret -a op-ci -w ops_abc.def=\n');
    expect(addCommandLine('op-ci', 'has space')).toBeNull();
    expect(addCommandLine('op-ci', 'a"b')).toBeNull();
    expect(parseFind('ops_abc\n')).toBe('ops_abc');
  });
  it('names each store without the token', () => {
    expect(describeSource({ kind: 'keychain', name: 'op-ci' })).toBe('Keychain item agent-secret/op-ci');
    expect(describeSource({ kind: 'secret_service', name: 'bws-team' })).toBe('Secret Service item bws-team');
  });
});
