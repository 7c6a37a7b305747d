// Is a coding agent running this exec? Agent harnesses often run commands under a pseudo-
// terminal (`script -qc …`, a PTY of their own), so "stdout is a terminal" no longer means a
// human is watching: the output goes back into the agent's context. Each harness leaves a
// marker in the environment of the commands it runs, or is itself an ancestor process. The one
// list of markers is here; the mask decision (exec-plan.ts) keeps masking on when one is found.
// Invariant: pure.

export interface HarnessMarker {
  readonly harness: string;
  /** Environment variables the harness sets for the commands it runs (any non-empty value). */
  readonly env: readonly string[];
  /** Its process name, as the requester chain shows it. */
  readonly processes: readonly string[];
}

export const HARNESS_MARKERS: readonly HarnessMarker[] = [
  { harness: 'Claude Code', env: ['CLAUDECODE', 'CLAUDE_CODE_ENTRYPOINT'], processes: ['claude'] },
  { harness: 'Codex', env: ['CODEX_SANDBOX', 'CODEX_SANDBOX_NETWORK_DISABLED', 'CODEX_THREAD_ID'], processes: ['codex'] },
  { harness: 'Cursor', env: ['CURSOR_AGENT'], processes: ['cursor-agent'] },
  { harness: 'Gemini CLI', env: ['GEMINI_CLI'], processes: ['gemini'] },
];

/** The harness found in the caller's environment or requester chain (nearest first), or null. */
export function detectHarness(env: Readonly<Record<string, string | undefined>>, chain: ReadonlyArray<{ readonly name: string }>): string | null {
  for (const marker of HARNESS_MARKERS) {
    if (marker.env.some((name) => (env[name] ?? '') !== '')) return marker.harness;
  }
  for (const process of chain) {
    const name = process.name.toLowerCase();
    const found = HARNESS_MARKERS.find((marker) => marker.processes.includes(name));
    if (found !== undefined) return found.harness;
  }
  return null;
}
