// Where a provider's token is kept (the user config's `token:` of a bws source or a 1Password
// service account): read, written, checked and removed through one interface, whatever the
// store. A file of the user's everywhere; the Secret Service through secret-tool; the macOS
// Keychain through /usr/bin/security, loaded on darwin only. Tokens are SecretValues; every
// message names the store and the entry, never the token.

import { AgentSecretError } from '../../core/errors.js';
import type { SecretValue } from '../../core/secret-value.js';
import type { TokenSource } from '../../config/user-providers.js';
import { checkTokenFile, readTokenFile, removeTokenFile, writeTokenFile } from './file.js';

export interface TokenHost {
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  uid: number;
}

/** A token's state, for `provider token status` and doctor. */
export type TokenState = { state: 'present'; detail: string } | { state: 'missing'; detail: string } | { state: 'bad'; detail: string; fix: string };

/** Where the token is, in words: `file /path`, `Keychain item agent-secret/NAME`, `Secret Service item NAME`. Pure. */
export function describeSource(source: TokenSource): string {
  if (source.kind === 'file') return `file ${source.path}`;
  if (source.kind === 'keychain') return `Keychain item agent-secret/${source.name}`;
  return `Secret Service item ${source.name}`;
}

async function keychain(host: TokenHost) {
  if (host.platform !== 'darwin') {
    throw new AgentSecretError('user_config.invalid', 'token: {keychain: …} needs macOS; this system has no Keychain', {
      hint: 'use token: {secret_service: NAME} (with secret-tool) or token: {file: /absolute/path} in ~/.config/agent-secret/config.yml',
    });
  }
  return import('./keychain.js');
}

/** Reads the token; null when the store has none. Throws a value-free AgentSecretError when the store cannot be used. */
export async function readToken(source: TokenSource, host: TokenHost): Promise<SecretValue | null> {
  if (source.kind === 'file') return readTokenFile(source.path, host.uid);
  if (source.kind === 'secret_service') return (await import('./secret-tool.js')).readSecretService(source.name, host.env);
  return (await keychain(host)).readKeychain(source.name, host.env);
}

export async function writeToken(source: TokenSource, token: SecretValue, host: TokenHost): Promise<void> {
  if (source.kind === 'file') return writeTokenFile(source.path, token);
  if (source.kind === 'secret_service') return (await import('./secret-tool.js')).writeSecretService(source.name, token, host.env);
  return (await keychain(host)).writeKeychain(source.name, token, host.env);
}

export async function removeToken(source: TokenSource, host: TokenHost): Promise<'removed' | 'missing'> {
  if (source.kind === 'file') return removeTokenFile(source.path);
  if (source.kind === 'secret_service') return (await import('./secret-tool.js')).removeSecretService(source.name, host.env);
  return (await keychain(host)).removeKeychain(source.name, host.env);
}

/**
 * The token's state without showing it: a file is checked by its owner and mode only; the
 * Secret Service and the Keychain are asked for the entry (the value is read and dropped).
 */
export async function tokenState(source: TokenSource, host: TokenHost): Promise<TokenState> {
  const where = describeSource(source);
  if (source.kind === 'file') {
    const file = await checkTokenFile(source.path, host.uid);
    if (file.state === 'missing') return { state: 'missing', detail: `${where} does not exist` };
    if (file.state === 'bad') return { state: 'bad', detail: `${where} ${file.problem}`, fix: `${file.fix}: ${source.path}` };
    return { state: 'present', detail: `${where} (mode ${file.mode.toString(8).padStart(4, '0')})` };
  }
  try {
    const token = await readToken(source, host);
    if (token === null) return { state: 'missing', detail: `${where} does not exist` };
    return { state: 'present', detail: where };
  } catch (error) {
    if (!(error instanceof AgentSecretError)) throw error;
    return { state: 'bad', detail: `${where}: ${error.message}`, fix: error.hint ?? 'check the store, then retry' };
  }
}
