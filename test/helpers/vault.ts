// Test-side lookups in the fake vault: the value the fake op holds for a reference, and the
// digest report-env.mjs writes for a value. Used only to compare; never printed.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FAKE_VAULT_PATH } from './canaries.js';

interface VaultField { label: string; value?: string }
interface VaultFile { name: string; content?: string; content_base64?: string }
interface Vault { accounts: Array<{ url: string; vaults: Array<{ name: string; items: Array<{ title: string; fields?: VaultField[]; files?: VaultFile[] }> }> }> }
const vault = JSON.parse(readFileSync(FAKE_VAULT_PATH, 'utf8')) as Vault;

/** The value the fake op holds for a ref in an account. */
export function valueOf(ref: string, account = 'my.1password.com'): string {
  const [vaultName, item, field] = ref.replace('op://', '').split('/');
  const acct = vault.accounts.find((a) => a.url === account);
  const found = acct?.vaults.find((v) => v.name === vaultName)?.items.find((i) => i.title === item)?.fields?.find((f) => f.label === field);
  if (found === undefined) throw new Error(`no such test ref ${ref}`);
  return found.value ?? '';
}

/** What report-env.mjs writes for a variable holding value. */
export const digest = (value: string) => ({ set: true, length: value.length, sha256: createHash('sha256').update(value).digest('hex') });

/** The exact bytes the fake op holds for a field or file reference (binary documents included). */
export function bytesOf(ref: string, account = 'my.1password.com'): Buffer {
  const [vaultName, item, name] = ref.replace('op://', '').split('/');
  const found = vault.accounts.find((a) => a.url === account)?.vaults.find((v) => v.name === vaultName)?.items.find((i) => i.title === item);
  const file = found?.files?.find((f) => f.name === name);
  if (file !== undefined) return file.content_base64 !== undefined ? Buffer.from(file.content_base64, 'base64') : Buffer.from(file.content ?? '', 'utf8');
  return Buffer.from(valueOf(ref, account), 'utf8');
}
