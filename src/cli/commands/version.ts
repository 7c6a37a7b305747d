// `agent-secret version [--json]`.

import { VERSION } from '../../version.js';
import type { CliContext } from '../context.js';
import { writeJson, writeLines } from '../render/output.js';

/** Prints the version. */
export async function runVersion(ctx: CliContext, options: { json?: boolean }): Promise<number> {
  if (options.json === true) {
    writeJson(ctx.stdout, { cli: 'agent-secret', version: VERSION, node: process.versions.node, platform: `${ctx.platform}/${process.arch}` });
  } else {
    writeLines(ctx.stdout, [VERSION]);
  }
  return 0;
}
