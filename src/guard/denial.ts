// The guard's answers and the words of a deny: what was blocked, why, and the agent-secret
// command to use instead. Input: names and paths only (never file content), so no message can
// carry a value. Invariant: pure.

import type { SecretFileKind } from './secret-files.js';

export type GuardRule = 'op-secret-verb' | 'secret-file-read' | 'hidden-command' | 'human-only';

export type GuardDecision =
  | { readonly decision: 'allow' }
  | {
      readonly decision: 'deny';
      readonly rule: GuardRule;
      /** What was blocked, e.g. "op item get" or "cat .env". */
      readonly blocked: string;
      /** The command to use instead (placeholders in <>). */
      readonly suggestion: string;
      /** The full message for the agent. */
      readonly reason: string;
    };

export const ALLOW: GuardDecision = { decision: 'allow' };

export const CMD = '<command that needs it>';

/**
 * A deny for printing (or sourcing) a secret file. `search` adds how to leave the file out of a
 * search that only reached it by walking a directory.
 */
export function fileDenial(blocked: string, path: string, kind: SecretFileKind, how: 'read' | 'source', search?: string): GuardDecision {
  const shown = quote(path);
  let suggestion: string;
  let why: string;
  if (kind === 'agent-secret') {
    why = `${shown} is one of agent-secret's own stores (a provider token or a delivered secret file), which only agent-secret and the approved command read.`;
    suggestion = `agent-secret exec --profile <profile> -- ${CMD} (the approved command gets the value); ask the human about the token itself`;
  } else if (kind === 'env') {
    why = `${shown} holds 1Password references or secret values, and printing it puts them in this conversation.`;
    suggestion =
      how === 'source'
        ? `agent-secret exec --env-file ${shown} --reason "<why>" -- ${CMD}`
        : `agent-secret exec --dry-run --env-file ${shown} --reason "<why>" -- true (names and references, never values), then agent-secret exec --env-file ${shown} --reason "<why>" -- ${CMD}`;
  } else {
    why = `${shown} holds ${kind === 'ssh-key' || kind === 'pem' ? 'a private key' : 'credentials'}, and printing it puts them in this conversation.`;
    suggestion = `use the file by its path without printing it (to check it is there: test -s ${shown}); for 1Password secrets, agent-secret exec --profile <profile> -- ${CMD}`;
  }
  const narrow = search === undefined ? '' : ` To search code only, leave it out: ${search}.`;
  const reason = `agent-secret guard blocked \`${clip(blocked)}\`: ${why} Use instead: ${suggestion}.${narrow}`;
  return { decision: 'deny', rule: 'secret-file-read', blocked: clip(blocked), suggestion, reason };
}

/** A deny for code the guard cannot see before it runs (decoded into a shell). */
export function hiddenCommandDenial(blocked: string): GuardDecision {
  const suggestion = `run the decoded command as plain text, so it can be checked; for 1Password secrets, agent-secret exec --profile <profile> -- ${CMD}`;
  const reason = `agent-secret guard blocked \`${clip(blocked)}\`: decoding text into a shell or interpreter runs a command nobody can see before it runs. Use instead: ${suggestion}.`;
  return { decision: 'deny', rule: 'hidden-command', blocked: clip(blocked), suggestion, reason };
}

// Shell-quotes a word for a suggestion; control characters are shown as '?'.
export function quote(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  if (clean === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(clean)) return clean;
  return `'${clean.replaceAll("'", `'\\''`)}'`;
}

export function clip(text: string): string {
  return text.length <= 300 ? text : `${text.slice(0, 297)}…`;
}

/** A deny for a command that is the human's to run: it registers agents, stores tokens, or reads agent-secret's keyring entries. */
export function humanOnlyDenial(blocked: string, why: string): GuardDecision {
  const suggestion = 'ask the human to run it in their own terminal';
  const reason = `agent-secret guard blocked \`${clip(blocked)}\`: ${why} Use instead: ${suggestion}.`;
  return { decision: 'deny', rule: 'human-only', blocked: clip(blocked), suggestion, reason };
}
