// Turns any thrown value into one or two stderr lines (or a JSON error object) and an exit
// code. AgentSecretError messages are value-free by construction; anything else is an
// internal error whose message is NOT shown (it could hold third-party text), and whose
// stack appears only when AGENT_SECRET_DEBUG=1.

import { AgentSecretError, exitCodeFor, type ErrorDetails } from '../../core/errors.js';
import { SCHEMA_VERSION } from './output.js';

export interface RenderedError {
  exitCode: number;
  /** Lines for stderr, without trailing newlines. */
  lines: string[];
  /** The --json error document. */
  json: { schema_version: string; ok: false; error: { code: string; message: string; hint: string | null; exit_code: number; details: ErrorDetails } };
}

/** Renders an error for the user. `debug` adds the stack of unexpected errors. */
export function renderError(error: unknown, options: { debug: boolean }): RenderedError {
  if (error instanceof AgentSecretError) {
    const lines = [`agent-secret: ${oneLine(error.message)}`];
    if (error.hint !== undefined) lines.push(`hint: ${oneLine(error.hint)}`);
    if (options.debug && error.stack !== undefined) lines.push(error.stack);
    return {
      exitCode: error.exitCode,
      lines,
      json: {
        schema_version: SCHEMA_VERSION,
        ok: false,
        error: { code: error.code, message: error.message, hint: error.hint ?? null, exit_code: error.exitCode, details: error.details },
      },
    };
  }
  const message = 'internal error; rerun with AGENT_SECRET_DEBUG=1 to see where, and report it';
  const lines = [`agent-secret: ${message}`];
  if (options.debug && error instanceof Error && error.stack !== undefined) lines.push(error.stack);
  return {
    exitCode: exitCodeFor('internal'),
    lines,
    json: { schema_version: SCHEMA_VERSION, ok: false, error: { code: 'internal', message, hint: null, exit_code: exitCodeFor('internal'), details: {} } },
  };
}

// A message is one line per entry; embedded newlines would let text pose as another line.
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
