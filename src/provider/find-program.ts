// Finds a provider's program: an explicit absolute path from the user config, else the first
// executable regular file of that name in the absolute directories of PATH (relative entries
// would make the answer depend on the current directory). The same rule op_path follows.

import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** The first executable `name` on `pathEnv`, or null. */
export function findProgram(name: string, pathEnv: string | undefined): string | null {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/** The configured absolute path when it is an executable file, else null; without one, findProgram. */
export function locateProgram(name: string, explicitPath: string | undefined, pathEnv: string | undefined): string | null {
  if (explicitPath !== undefined) return isAbsolute(explicitPath) && isExecutableFile(explicitPath) ? explicitPath : null;
  return findProgram(name, pathEnv);
}

/** True for an executable regular file (symlinks followed). */
export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
