// The directories a policy's bare program name may live in (`node` is /usr/bin/node, never
// /tmp/x/node). Data and one pure test.

/**
 * Where a bare program name in `executable:` or argv[0] of `argv:` may live: directories an
 * administrator writes (a package manager's on a Homebrew Mac, which belong to the user: see
 * docs/policy.md). `node` in a rule never matches `/tmp/x/node`; anything else is named by its
 * absolute path or a path glob. The policy matches bare names against this list, and
 * exec/resolve-executable.ts finds system links to a program in it.
 */
export const SYSTEM_PROGRAM_DIRS: readonly string[] = [
  '/usr/bin',
  '/bin',
  '/usr/sbin',
  '/sbin',
  '/usr/local/bin',
  '/usr/local/sbin',
  '/opt/homebrew/bin',
  '/opt/local/bin',
  '/nix/var/nix/profiles/default/bin',
  '/run/current-system/sw/bin',
];

/** Whether the absolute `path` is a file directly in one of SYSTEM_PROGRAM_DIRS. */
export function inSystemDir(path: string): boolean {
  const at = path.lastIndexOf('/');
  return at > 0 ? SYSTEM_PROGRAM_DIRS.includes(path.slice(0, at)) : at === 0 && SYSTEM_PROGRAM_DIRS.includes('/');
}
