// A token kept in the macOS login Keychain through /usr/bin/security, as a generic password of
// service `agent-secret` and account NAME. Loaded with `await import()` on darwin only
// (token/store.ts). The token goes to `security -i` on stdin (never argv), so it is limited to
// characters that need no quoting there; it comes back on `find-generic-password -w`'s stdout.

import { AgentSecretError } from '../../core/errors.js';
import { SecretValue } from '../../core/secret-value.js';
import { helperEnv, runHelper } from '../run-process.js';
import { normalizeToken } from './file.js';

const SECURITY = '/usr/bin/security';
const SERVICE = 'agent-secret';
const TIMEOUT_MS = 30_000;
/** `security` exits with this when the item does not exist. */
export const ITEM_NOT_FOUND = 44;
/** Characters a token may have to be written through `security -i` unquoted (bws and 1Password tokens have only these). */
export const KEYCHAIN_TOKEN = /^[A-Za-z0-9._:+/=-]{1,16384}$/;

/** argv of `security find-generic-password … -w` for NAME. Pure. */
export function findArgs(name: string): string[] {
  return ['find-generic-password', '-s', SERVICE, '-a', name, '-w'];
}

/** argv of `security delete-generic-password` for NAME. Pure. */
export function deleteArgs(name: string): string[] {
  return ['delete-generic-password', '-s', SERVICE, '-a', name];
}

/** The line `security -i` reads from stdin to add or update NAME's token; null when the token cannot be passed unquoted. Pure. */
export function addCommandLine(name: string, token: string): string | null {
  if (!KEYCHAIN_TOKEN.test(token) || !/^[A-Za-z0-9._@-]+$/.test(name)) return null;
  return `add-generic-password -U -s ${SERVICE} -a ${name} -w ${token}\n`;
}

/** `find-generic-password -w`'s stdout → the token. Pure. */
export function parseFind(stdout: string): string | null {
  return normalizeToken(stdout);
}

const env = (host: Readonly<Record<string, string | undefined>>) => helperEnv(host);

export async function readKeychain(name: string, host: Readonly<Record<string, string | undefined>>): Promise<SecretValue | null> {
  const result = await runHelper({ file: SECURITY, args: findArgs(name), env: env(host), timeoutMs: TIMEOUT_MS, maxStdout: 64 * 1024 });
  if (result.exitCode === ITEM_NOT_FOUND) return null;
  if (result.exitCode !== 0) {
    throw new AgentSecretError('provider.failed', `the Keychain did not give token ${name} (security ${result.timedOut ? 'timed out' : `exited with code ${result.exitCode ?? 'none'}`})`, {
      hint: 'unlock the login keychain and allow agent-secret when macOS asks, then retry',
    });
  }
  const token = parseFind(result.stdout);
  return token === null ? null : new SecretValue(token);
}

export async function writeKeychain(name: string, token: SecretValue, host: Readonly<Record<string, string | undefined>>): Promise<void> {
  const line = addCommandLine(name, token.reveal());
  if (line === null) {
    throw new AgentSecretError('usage.invalid', 'this token has characters the Keychain helper cannot take safely', { hint: 'keep it in a file instead: token: {file: /absolute/path}' });
  }
  const result = await runHelper({ file: SECURITY, args: ['-i'], env: env(host), input: line, timeoutMs: TIMEOUT_MS, maxStdout: 64 * 1024 });
  if (result.exitCode !== 0) throw new AgentSecretError('provider.failed', `the Keychain did not store token ${name}`, { hint: 'unlock the login keychain, then retry' });
}

export async function removeKeychain(name: string, host: Readonly<Record<string, string | undefined>>): Promise<'removed' | 'missing'> {
  const result = await runHelper({ file: SECURITY, args: deleteArgs(name), env: env(host), timeoutMs: TIMEOUT_MS, maxStdout: 64 * 1024 });
  if (result.exitCode === ITEM_NOT_FOUND) return 'missing';
  if (result.exitCode !== 0) throw new AgentSecretError('provider.failed', `the Keychain did not remove token ${name}`, { hint: 'unlock the login keychain, then retry' });
  return 'removed';
}
