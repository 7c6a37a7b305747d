// A token kept by the freedesktop Secret Service (GNOME Keyring, KWallet) through `secret-tool`:
// one item per token, found by the attributes `service agent-secret token NAME`. The token goes
// to `secret-tool store` on stdin (never argv) and comes back on `lookup`'s stdout, which is
// parsed here and nowhere else; secret-tool's stderr is never shown.

import { AgentSecretError } from '../../core/errors.js';
import { SecretValue } from '../../core/secret-value.js';
import { findProgram } from '../find-program.js';
import { helperEnv, runHelper, type HelperResult } from '../run-process.js';
import { normalizeToken } from './file.js';

const TIMEOUT_MS = 20_000;

/** The attributes that find the item of token NAME. Pure. */
export function secretToolAttributes(name: string): string[] {
  return ['service', 'agent-secret', 'token', name];
}

/** argv for `secret-tool lookup|store|clear` of token NAME (the token itself is never in it). Pure. */
export function secretToolArgs(action: 'lookup' | 'store' | 'clear', name: string): string[] {
  if (action === 'store') return ['store', '--label', `agent-secret token ${name}`, ...secretToolAttributes(name)];
  return [action, ...secretToolAttributes(name)];
}

/** `lookup`'s stdout → the token, or null when it printed nothing usable. Pure. */
export function parseLookup(stdout: string): string | null {
  return normalizeToken(stdout);
}

function locate(env: Readonly<Record<string, string | undefined>>): string {
  const path = findProgram('secret-tool', env.PATH);
  if (path === null) {
    throw new AgentSecretError('provider.missing', 'secret-tool (the Secret Service command-line tool) was not found on PATH', {
      hint: 'install it (Debian/Ubuntu: apt install libsecret-tools), or keep the token in a file: token: {file: /absolute/path}',
    });
  }
  return path;
}

async function run(action: 'lookup' | 'store' | 'clear', name: string, env: Readonly<Record<string, string | undefined>>, input?: string): Promise<HelperResult> {
  return runHelper({ file: locate(env), args: secretToolArgs(action, name), env: helperEnv(env), ...(input === undefined ? {} : { input }), timeoutMs: TIMEOUT_MS, maxStdout: 64 * 1024 });
}

/** The token of NAME, or null when the Secret Service has none. */
export async function readSecretService(name: string, env: Readonly<Record<string, string | undefined>>): Promise<SecretValue | null> {
  const result = await run('lookup', name, env);
  if (result.exitCode !== 0) {
    if (result.exitCode === 1 && result.stdout === '') return null;
    throw new AgentSecretError('provider.failed', `secret-tool could not look up token ${name} (it ${result.timedOut ? 'timed out' : `exited with code ${result.exitCode ?? 'none'}`})`, {
      hint: 'make sure the keyring is unlocked (a desktop session with GNOME Keyring or KWallet), then retry',
    });
  }
  const token = parseLookup(result.stdout);
  return token === null ? null : new SecretValue(token);
}

export async function writeSecretService(name: string, token: SecretValue, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const result = await run('store', name, env, token.reveal());
  if (result.exitCode !== 0) {
    throw new AgentSecretError('provider.failed', `secret-tool could not store token ${name}`, { hint: 'make sure the keyring is unlocked, then retry' });
  }
}

export async function removeSecretService(name: string, env: Readonly<Record<string, string | undefined>>): Promise<'removed' | 'missing'> {
  const present = (await readSecretService(name, env)) !== null;
  if (!present) return 'missing';
  const result = await run('clear', name, env);
  if (result.exitCode !== 0) throw new AgentSecretError('provider.failed', `secret-tool could not remove token ${name}`, { hint: 'make sure the keyring is unlocked, then retry' });
  return 'removed';
}
