// Which 1Password CLI (`op`) invocations put secret material where the agent can see it: reading
// or injecting values, running a child with them, signing in (session tokens), creating tokens.
// Input: the untrusted arguments after `op`. Invariant: pure; global flags are skipped, so
// `op --account x read …` is caught, while `op --version`, `op whoami`, `op item list` pass.

/** op global flags that take a separate value. */
const VALUE_FLAGS = new Set(['--account', '--session', '--config', '--encoding', '--format', '--cache-dir']);

/** Subcommand paths (after global flags) that reveal secrets. v1 spellings (`op get item`) included. */
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
  ['get', 'item'],
  ['get', 'document'],
  ['get', 'totp'],
];

/** The secret-revealing subcommand of an `op` call (e.g. "item get"), or null if it is harmless. */
export function opSecretVerb(args: readonly string[]): string | null {
  const positional: string[] = [];
  for (let i = 0; i < args.length && positional.length < 3; i += 1) {
    const arg = args[i]!;
    if (arg === '--') break;
    if (arg.startsWith('-')) {
      if (VALUE_FLAGS.has(arg)) i += 1;
      continue;
    }
    positional.push(arg);
  }
  const verb = SECRET_VERBS.find((path) => path.every((part, index) => positional[index] === part));
  return verb === undefined ? null : verb.join(' ');
}
