// Which 1Password CLI (`op`) invocations put secret material where the agent can see it: reading
// or injecting values, running a child with them, signing in (session tokens), creating tokens.
// Input: the untrusted arguments after `op`. Invariant: pure. op (a cobra CLI) accepts a
// subcommand's flags before the subcommand too (`op --vault Infra item get X`), and a flag this
// module does not know may or may not take the next word as its value, so every reading counts:
// `op --vault Infra item get …` and `op -f -o out read …` are caught, while `op --version`,
// `op whoami` and `op item list` pass.

/** op flags known to take a separate value. */
const VALUE_FLAGS = new Set(['--account', '--session', '--config', '--encoding', '--format', '--cache-dir', '--vault', '--fields', '--out-file', '-o']);

/** op flags known to take no value. */
const BOOL_FLAGS = new Set(['--debug', '--no-color', '--iso-timestamps', '--version', '--reveal', '--force', '-f', '--no-newline', '-n', '--cache']);

/** Subcommand paths that reveal secrets. v1 spellings (`op get item`) included. */
const SECRET_VERBS: readonly (readonly string[])[] = [
  ['read'],
  ['run'],
  ['inject'],
  ['signin'],
  ['item', 'get'],
  ['items', 'get'],
  ['item', 'share'],
  ['document', 'get'],
  ['documents', 'get'],
  ['plugin', 'run'],
  ['connect', 'token', 'create'],
  ['service-account', 'create'],
  ['events-api', 'create'],
  ['get', 'item'],
  ['get', 'document'],
  ['get', 'totp'],
];

/** At most this many readings are tried; a longer chain of unknown flags counts as secret-revealing. */
const MAX_READINGS = 256;

/** The secret-revealing subcommand of an `op` call (e.g. "item get"), or null if it is harmless. */
export function opSecretVerb(args: readonly string[]): string | null {
  const readings: string[][] = [];
  collectReadings(args, 0, [], readings);
  if (readings.length > MAX_READINGS) return 'a command this guard cannot read';
  for (const positional of readings) {
    const verb = SECRET_VERBS.find((path) => path.every((part, index) => positional[index] === part));
    if (verb !== undefined) return verb.join(' ');
  }
  return null;
}

// The first words (up to three) of every way the arguments can be read.
function collectReadings(args: readonly string[], start: number, positional: readonly string[], out: string[][]): void {
  if (out.length > MAX_READINGS) return;
  const arg = args[start];
  if (positional.length >= 3 || arg === undefined || arg === '--') {
    out.push([...positional]);
    return;
  }
  if (!arg.startsWith('-') || arg === '-') {
    collectReadings(args, start + 1, [...positional, arg], out);
    return;
  }
  if (arg.includes('=') || BOOL_FLAGS.has(arg)) {
    collectReadings(args, start + 1, positional, out);
    return;
  }
  if (VALUE_FLAGS.has(arg)) {
    collectReadings(args, start + 2, positional, out);
    return;
  }
  // Unknown: with and without a value.
  collectReadings(args, start + 1, positional, out);
  collectReadings(args, start + 2, positional, out);
}
