// The fake vaults' canary values, for leak scans: every secret in test/fixtures/op-vault.json,
// bws-vault.json (its access tokens too) and program-vault.json carries a `CANARY…` token, and
// finding any token in output means a value leaked (a whole value or one line of it). Reads
// only the committed fixtures; exports names, no logic.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Path of the default vault the fake op answers from. */
export const FAKE_VAULT_PATH = fileURLToPath(new URL('../fixtures/op-vault.json', import.meta.url));

const TOKEN = /CANARY[A-Za-z0-9_-]+/g;
/** Keys whose strings are secret or derived from a secret (a login's additional_information is its username; a URL may embed a token). */
const VALUE_KEYS = new Set(['value', 'content', 'href', 'additional_information']);

/** Every string under a `value`, `content`, `href`, `additional_information` or `ssh_formats` key, walked recursively. */
function secretStrings(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap((child) => secretStrings(child));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, child]) => {
    if (VALUE_KEYS.has(key) && typeof child === 'string') return [child];
    if (key === 'ssh_formats' && child !== null && typeof child === 'object') {
      return Object.values(child).filter((v): v is string => typeof v === 'string');
    }
    return secretStrings(child);
  });
}

/** The fake bws's data (secrets and machine-account access tokens) and the fake provider program's. */
export const FAKE_BWS_VAULT_PATH = fileURLToPath(new URL('../fixtures/bws-vault.json', import.meta.url));
export const FAKE_PROGRAM_VAULT_PATH = fileURLToPath(new URL('../fixtures/program-vault.json', import.meta.url));

/** Full secret values of the fake vaults (non-empty), exactly as the fakes return them; bws access tokens included. */
export const CANARY_VALUES: readonly string[] = [
  ...new Set(
    [FAKE_VAULT_PATH, FAKE_BWS_VAULT_PATH, FAKE_PROGRAM_VAULT_PATH]
      .flatMap((path) => secretStrings(JSON.parse(readFileSync(path, 'utf8')) as unknown))
      .filter((v) => v !== ''),
  ),
];

/** Distinct `CANARY…` tokens across all vault values: scan output for each of these. */
export const CANARIES: string[] = [...new Set(CANARY_VALUES.flatMap((value) => value.match(TOKEN) ?? []))].sort();

/** The first canary token found in text, or null. */
export function findCanary(text: string): string | null {
  return CANARIES.find((canary) => text.includes(canary)) ?? null;
}
