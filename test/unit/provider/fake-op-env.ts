// A private world for component tests of the provider against the fake op: a temp dir with
// the op invocation log and TMPDIR, a minimal PATH, and lookups of expected values straight
// from the fake vault JSON. Test-only; values read here stay inside assertions.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAKE_VAULT_PATH } from '../../helpers/canaries.js';

export const FAKE_OP = fileURLToPath(new URL('../../fixtures/bin/op', import.meta.url));

export interface OpLogLine {
  argv: string[];
  env_names: string[];
  pid: number;
  start: string;
  end: string;
  exit_code: number;
  refs: string[];
  signal?: string;
}

export interface FakeOpWorld {
  dir: string;
  tmp: string;
  env: Record<string, string | undefined>;
  calls(): OpLogLine[];
  cleanup(): void;
}

/** Creates the world; `extra` is merged into the env handed to op. */
export function createFakeOpWorld(extra: Record<string, string | undefined> = {}): FakeOpWorld {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'agent-secret-provider-')));
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { mode: 0o700 });
  const log = join(dir, 'op.log');
  return {
    dir,
    tmp,
    env: { PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(':'), HOME: dir, TMPDIR: tmp, FAKE_OP_LOG: log, ...extra },
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JSON.parse(l) as OpLogLine)
        : [],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Files left in the world's TMPDIR (the op template must be gone). */
export function leftovers(world: FakeOpWorld): string[] {
  return readdirSync(world.tmp);
}

interface VaultField {
  id: string;
  label?: string;
  value?: string;
  totp?: string;
}
interface VaultData {
  accounts: Array<{ url: string; vaults: Array<{ name: string; items: Array<{ title: string; fields?: VaultField[] }> }> }>;
}

/** The raw value of a field in the fake vault (by account url, vault name, item title, field label). */
export function vaultValue(account: string, vault: string, item: string, label: string): string {
  const data = JSON.parse(readFileSync(FAKE_VAULT_PATH, 'utf8')) as VaultData;
  const field = data.accounts
    .find((a) => a.url === account)
    ?.vaults.find((v) => v.name === vault)
    ?.items.find((i) => i.title === item)
    ?.fields?.find((f) => f.label === label);
  if (field === undefined) throw new Error(`no such fixture field ${account} ${vault}/${item}/${label}`);
  return field.value ?? '';
}
