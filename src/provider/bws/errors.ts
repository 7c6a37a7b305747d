// Reads a failed bws call: bws (a Rust program using color-eyre) prints `Error: ` and then
// numbered causes (`   0: Received error message from server: [404 Not Found] {…}`) on stderr
// and exits 1; a command line it does not accept gets clap's `error: …` and exit 2. stderr is
// untrusted (a server message can quote anything): it is classified by substring here and never
// shown, not even in part. Pure.

export type BwsErrorKind = 'not_found' | 'token' | 'rate_limited' | 'permission' | 'unreachable' | 'usage' | 'unknown';

const MARKERS: ReadonlyArray<[BwsErrorKind, RegExp]> = [
  ['token', /missing access token|access token is not in a valid format|doesn't contain a decryption key|invalid_client|invalid_grant|\[401\b|unauthorized|is the wrong version/i],
  ['not_found', /\[404\b|resource not found|not found\./i],
  ['rate_limited', /\[429\b|too many requests/i],
  ['permission', /\[403\b|forbidden/i],
  ['unreachable', /error sending request|dns error|connection refused|connection reset|failed to connect|operation timed out|\[50[0-9]\b|tcp connect error/i],
];

/** The kind of a bws failure from its stderr and exit code. Pure. */
export function classifyBwsFailure(stderr: string, exitCode: number | null): BwsErrorKind {
  if (exitCode === 2 && /^error: /m.test(stderr)) return 'usage';
  for (const [kind, pattern] of MARKERS) if (pattern.test(stderr)) return kind;
  return 'unknown';
}

const VERSION = /^bws (\d+\.\d+\.\d+)\b/;

/** The version `bws --version` prints (`bws 1.0.0`), or null. Pure. */
export function parseBwsVersion(stdout: string): string | null {
  return VERSION.exec(stdout.trim())?.[1] ?? null;
}

/**
 * The value of `bws secret get ID --output json`: a JSON object whose `id` is the requested one
 * (bws prints UUIDs in lower case) and whose `value` is a string without NUL; null for anything
 * else. Only `value` is kept: key, note and project are dropped. Pure.
 */
export function parseSecretJson(stdout: string, secretId: string): string | null {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    return null;
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
  const { id, value } = data as { id?: unknown; value?: unknown };
  if (typeof id !== 'string' || id.toLowerCase() !== secretId.toLowerCase()) return null;
  if (typeof value !== 'string' || value.includes('\0')) return null;
  return value;
}
