// Finds and loads the project config for the commands that inspect it (profile, doctor,
// agent-context), reporting problems as data instead of failing.

import { AgentSecretError } from '../../core/errors.js';
import { discoverConfig } from '../../config/discover.js';
import type { ProjectConfig } from '../../config/index.js';

// The YAML parser and schema load only when a config file was found.
async function loadConfig(path: string): Promise<ProjectConfig> {
  return (await import('../../config/load.js')).loadConfig(path);
}
import type { CliContext } from '../context.js';

export interface ProjectConfigSummary {
  source_path: string | null;
  default_profile: string | null;
  profiles: Array<{ name: string; default: boolean }>;
  error: { code: string; message: string } | null;
}

/** Discovers (or takes --config) and loads the project config; throws config.not_found if there is none. */
export async function requireProjectConfig(ctx: CliContext, explicitPath: string | undefined): Promise<ProjectConfig> {
  const path = await discoverConfig({ cwd: ctx.cwd, explicitPath });
  if (path === null) {
    throw new AgentSecretError('config.not_found', 'no agent-secret.yml or .agent-secret.yml in this directory or any parent', {
      hint: 'create one (see profiles.example.yaml) or pass --config PATH',
    });
  }
  return loadConfig(path);
}

/** Summarises the project config for agent-context and doctor; null when none is found. */
export async function inspectProjectConfig(ctx: CliContext, explicitPath: string | undefined): Promise<ProjectConfigSummary | null> {
  let path: string | null = null;
  try {
    path = await discoverConfig({ cwd: ctx.cwd, explicitPath });
    if (path === null) return null;
    const config = await loadConfig(path);
    return {
      source_path: config.path,
      default_profile: config.defaultProfile ?? null,
      profiles: config.profileNames.map((name) => ({ name, default: name === config.defaultProfile })),
      error: null,
    };
  } catch (error) {
    if (!(error instanceof AgentSecretError)) throw error;
    return { source_path: path, default_profile: null, profiles: [], error: { code: error.code, message: error.message } };
  }
}
