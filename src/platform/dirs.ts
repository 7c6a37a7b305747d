// Per-user directories, computed from an injected environment and platform so that tests
// and the broker (which plans with the caller's environment) never depend on the real HOME. Pure.

import { dirname, join } from 'node:path';

export interface DirsInput {
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  homedir: string;
}

function nonEmptyAbsolute(value: string | undefined): string | undefined {
  return value !== undefined && value.startsWith('/') ? value : undefined;
}

function home(input: DirsInput): string {
  return nonEmptyAbsolute(input.env.HOME) ?? input.homedir;
}

/** `$XDG_CONFIG_HOME/agent-secret` (default `~/.config/agent-secret`), on macOS too. */
export function userConfigDir(input: DirsInput): string {
  return join(nonEmptyAbsolute(input.env.XDG_CONFIG_HOME) ?? join(home(input), '.config'), 'agent-secret');
}

/** The user's own config file: the only place an approver can be chosen. */
export function userConfigPath(input: DirsInput): string {
  return join(userConfigDir(input), 'config.yml');
}

/** Audit directory: `~/Library/Logs/agent-secret` on macOS, `$XDG_STATE_HOME/agent-secret` elsewhere. */
export function auditDir(input: DirsInput): string {
  if (input.platform === 'darwin') return join(home(input), 'Library', 'Logs', 'agent-secret');
  return join(nonEmptyAbsolute(input.env.XDG_STATE_HOME) ?? join(home(input), '.local', 'state'), 'agent-secret');
}

export function auditLogPath(input: DirsInput): string {
  return join(auditDir(input), 'audit.jsonl');
}

/** Daemon socket directory (issue: daemon): private, per user. */
export function runtimeDir(input: DirsInput): string {
  if (input.platform === 'darwin') return join(home(input), 'Library', 'Application Support', 'agent-secret');
  const xdg = nonEmptyAbsolute(input.env.XDG_RUNTIME_DIR);
  if (xdg !== undefined) return join(xdg, 'agent-secret');
  return join(nonEmptyAbsolute(input.env.XDG_STATE_HOME) ?? join(home(input), '.local', 'state'), 'agent-secret', 'run');
}

/** DirsInput from anything that carries the caller's environment, platform and home. */
export function dirsInput(ctx: { env: DirsInput['env']; platform: NodeJS.Platform; homedir: string }): DirsInput {
  return { env: ctx.env, platform: ctx.platform, homedir: ctx.homedir };
}

/** The user's policy file (next to config.yml): rules that decide requests without asking. */
export function policyPath(input: DirsInput): string {
  return policyPathBeside(userConfigPath(input));
}

/** policy.yml beside a given config.yml: where the policy is, or goes once written. */
export function policyPathBeside(configPath: string): string {
  return join(dirname(configPath), 'policy.yml');
}

/** The registered agents (names and token hashes, never tokens), next to config.yml. */
export function agentsPath(input: DirsInput): string {
  return join(userConfigDir(input), 'agents.json');
}
