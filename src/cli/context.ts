// What a command may touch of the outside world, injected by cli/main.ts so that commands
// never read process.* themselves (tests pass their own). Planning needs only the PlanContext
// part; commands also get the output streams.

import type { PlanContext } from '../plan/context.js';
import type { Out } from './render/output.js';

export { dirsInput } from '../platform/dirs.js';

export interface CliContext extends PlanContext {
  readonly stdout: Out;
  readonly stderr: Out;
}
