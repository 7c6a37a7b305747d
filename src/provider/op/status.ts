// `agent-secret doctor`'s view of op: found where, which version, signed in, which accounts.
// Uses only commands that never prompt (`--version`, `account list`, `whoami`); never
// `account get` or `signin`. op's output is untrusted and only its shape is read; no value is shown.

import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { interpretOpFailure } from './errors.js';
import { HINT_MISSING, HINT_NO_ACCOUNTS, HINT_SIGNED_OUT } from './failure.js';
import { runOp, type OpOptions, type OpRunResult } from './run-op.js';

export interface OpStatus {
  found: boolean;
  path: string | null;
  version: string | null;
  signedIn: boolean | null;
  accounts: string[];
  error: { code: string; message: string; hint: string } | null;
}

const VERSION = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]{1,32})?$/;

/** Finds op: the explicit path (must be absolute and executable), else the first `op` on PATH. */
export function findOp(opts: { explicitPath?: string | undefined; pathEnv: string | undefined }): string | null {
  if (opts.explicitPath !== undefined) return isAbsolute(opts.explicitPath) && isExecutableFile(opts.explicitPath) ? opts.explicitPath : null;
  const name = process.platform === 'win32' ? 'op.exe' : 'op';
  for (const dir of (opts.pathEnv ?? '').split(delimiter)) {
    // Relative PATH entries would make the answer depend on the current directory.
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Checks op without prompting: version, accounts and sign-in. Never throws for op's failures. */
export async function checkOp(opts: Omit<OpOptions, 'opPath'> & { opPath: string | null }): Promise<OpStatus> {
  const status: OpStatus = { found: false, path: opts.opPath, version: null, signedIn: null, accounts: [], error: null };
  if (opts.opPath === null) {
    return { ...status, error: { code: 'provider.missing', message: 'the 1Password CLI (op) was not found on PATH or at op_path', hint: HINT_MISSING } };
  }
  const run = { ...opts, opPath: opts.opPath };

  const version = await runOp({ args: ['--version'] }, run);
  if (version.failedToStart) {
    return { ...status, error: { code: 'provider.missing', message: `${opts.opPath} could not be started`, hint: HINT_MISSING } };
  }
  const found = { ...status, found: true };
  const text = version.exitCode === 0 ? (version.stdout.split(/\r?\n/)[0] ?? '').trim() : '';
  if (!VERSION.test(text)) {
    return { ...found, error: { code: 'provider.failed', message: `${opts.opPath} --version did not print a version (${describeEnd(version)})`, hint: HINT_MISSING } };
  }
  if (!text.startsWith('2.')) {
    return { ...found, version: text, error: { code: 'provider.failed', message: `op ${text} is not supported; agent-secret needs op 2.x`, hint: 'install the current 1Password CLI (op 2)' } };
  }

  const [list, whoami] = await Promise.all([runOp({ args: ['account', 'list', '--format', 'json'] }, run), runOp({ args: ['whoami', '--format', 'json'] }, run)]);
  const accounts = list.exitCode === 0 ? parseAccounts(list.stdout) : [];
  const ready = { ...found, version: text, accounts };
  if (whoami.exitCode === 0) return { ...ready, signedIn: true };
  if (whoami.timedOut || whoami.canceled || whoami.exitCode === null) {
    return { ...ready, error: { code: 'provider.failed', message: `op whoami did not answer (${describeEnd(whoami)})`, hint: 'check that the 1Password app is running, then retry' } };
  }
  const failure = interpretOpFailure(whoami.stderr, whoami.exitCode);
  if (failure.kind === 'signed_out' || failure.kind === 'declined') {
    const none = list.exitCode === 0 && accounts.length === 0;
    return {
      ...ready,
      signedIn: false,
      error: none
        ? { code: 'provider.signed_out', message: 'op has no 1Password account configured', hint: HINT_NO_ACCOUNTS }
        : { code: 'provider.signed_out', message: `op is not signed in: ${failure.reason}`, hint: HINT_SIGNED_OUT },
    };
  }
  return { ...ready, error: { code: 'provider.failed', message: `op whoami failed: ${failure.reason}`, hint: 'run `op whoami` yourself to see the full message' } };
}

/** Sign-in addresses from `op account list --format json`, without scheme or trailing slash. */
export function parseAccounts(stdout: string): string[] {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  const urls = data.flatMap((entry: unknown) => {
    const url = entry !== null && typeof entry === 'object' ? (entry as { url?: unknown }).url : undefined;
    if (typeof url !== 'string') return [];
    const bare = url.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
    return /^[A-Za-z0-9.-]{1,253}$/.test(bare) ? [bare] : [];
  });
  return [...new Set(urls)];
}

function describeEnd(result: OpRunResult): string {
  if (result.timedOut) return 'timed out';
  if (result.canceled) return 'cancelled';
  return result.exitCode === null ? 'killed' : `exit code ${result.exitCode}`;
}
