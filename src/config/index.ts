// Public surface of the project config module: discovery, loading and validation of
// agent-secret.yml, profile resolution, and env files. Everything returned holds names and
// op:// references only (plus plain env-file values, which are never printed).

export { CONFIG_FILE_NAMES, discoverConfig } from './discover.js';
export { parseEnvFileText, loadEnvFiles } from './env-file.js';
export { loadConfig, parseConfigText, type ParseConfigResult } from './load.js';
export { resolveProfile } from './resolve.js';
export { configJsonSchema } from './schema.js';
export type {
  ConfigIssue,
  ConfigIssueCode,
  EnvFilePlain,
  EnvFileResult,
  EnvFileSecret,
  ProfileDefinition,
  ProjectConfig,
  ResolvedProfile,
  SecretEntry,
} from './types.js';
