// Test-side lookups in the fake vault: the value the fake op holds for a reference, and the
// digest report-env.mjs writes for a value. Used only to compare; never printed.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FAKE_VAULT_PATH } from './canaries.js';

interface VaultField { label: string; value?: string }
interface Vault { accounts: Array<{ url: string; vaults: Array<{ name: string; items: Array<{ title: string; fields?: VaultField[] }> }> }> }
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
