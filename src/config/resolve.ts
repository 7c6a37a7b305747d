// Selects a profile of a validated config and applies its includes: later includes override
// earlier ones per alias, the profile's own secrets win last, and every secret keeps the
// account of the profile that defined it. The profile name comes from the agent's flags.

import { AgentSecretError } from '../core/errors.js';
import type { BindingPolicy } from '../core/session-bind.js';
import { byAlias, listNames } from './name-list.js';
import type { ProfileDefinition, ProjectConfig, ResolvedProfile, SecretEntry, TemplateEntry } from './types.js';

interface Inherited {
  reason: string | undefined;
  ttlSeconds: number | undefined;
  mask: boolean | undefined;
  sessionBind: BindingPolicy | undefined;
  /** By alias: a secret (env or file) or a template, whichever was defined last. */
  secrets: Map<string, SecretEntry | TemplateEntry>;
}

function isTemplate(entry: SecretEntry | TemplateEntry): entry is TemplateEntry {
  return 'path' in entry;
}

/** Resolves `name` (or the config's default_profile when undefined) with all its includes applied. */
export function resolveProfile(config: ProjectConfig, name: string | undefined): ResolvedProfile {
  const selected = name ?? config.defaultProfile;
  const names = listNames(config.profileNames);
  if (selected === undefined) {
    throw new AgentSecretError('profile.not_found', `no profile given and ${config.path} sets no default_profile`, {
      hint: `pass --profile NAME; profiles: ${names}`,
      details: { file: config.path },
    });
  }
  const profile = config.profiles.get(selected);
  if (profile === undefined) {
    throw new AgentSecretError('profile.not_found', `profile not found: "${printable(selected)}"; profiles: ${names}`, {
      hint: 'run agent-secret profile list',
      details: { file: config.path },
    });
  }
  const merged = merge(config, profile, new Map(), []);
  return {
    name: profile.name,
    isDefault: profile.name === config.defaultProfile,
    reason: merged.reason,
    ttlSeconds: merged.ttlSeconds,
    mask: merged.mask,
    ...(merged.sessionBind === undefined ? {} : { sessionBind: merged.sessionBind }),
    account: profile.account ?? config.account,
    include: [...profile.include],
    secrets: [...merged.secrets.values()]
      .filter((s): s is SecretEntry => !isTemplate(s))
      .map((s) => ({ ...s }))
      .sort(byAlias),
    templates: [...merged.secrets.values()]
      .filter(isTemplate)
      .map((t) => ({ ...t, file: { ...t.file } }))
      .sort(byAlias),
  };
}

// Load has rejected unknown includes, cycles and chains deeper than 16, so recursion is
// bounded; the checks here only keep a hand-built config from looping.
function merge(config: ProjectConfig, profile: ProfileDefinition, memo: Map<string, Inherited>, path: readonly string[]): Inherited {
  const cached = memo.get(profile.name);
  if (cached !== undefined) return cached;
  if (path.includes(profile.name)) {
    throw new AgentSecretError('config.invalid', `${config.path}: include cycle: ${[...path, profile.name].join(' -> ')}`, { details: { file: config.path } });
  }
  const result: Inherited = { reason: undefined, ttlSeconds: undefined, mask: undefined, sessionBind: undefined, secrets: new Map() };
  for (const includeName of profile.include) {
    const included = config.profiles.get(includeName);
    if (included === undefined) {
      throw new AgentSecretError('config.invalid', `${config.path}: profile "${profile.name}" includes unknown profile "${includeName}"`, {
        details: { file: config.path },
      });
    }
    const inherited = merge(config, included, memo, [...path, profile.name]);
    result.reason = inherited.reason ?? result.reason;
    result.ttlSeconds = inherited.ttlSeconds ?? result.ttlSeconds;
    result.mask = inherited.mask ?? result.mask;
    result.sessionBind = inherited.sessionBind ?? result.sessionBind;
    for (const [alias, secret] of inherited.secrets) result.secrets.set(alias, secret);
  }
  result.reason = profile.reason ?? result.reason;
  result.ttlSeconds = profile.ttlSeconds ?? result.ttlSeconds;
  result.mask = profile.mask ?? result.mask;
  result.sessionBind = profile.sessionBind ?? result.sessionBind;
  for (const secret of [...profile.secrets, ...profile.templates]) result.secrets.set(secret.alias, secret);
  memo.set(profile.name, result);
  return result;
}

// The name comes from a flag; keep it short and printable in the message.
function printable(text: string): string {
  return (text.length > 64 ? `${text.slice(0, 64)}…` : text).replace(/[^\x20-\x7e]/g, '?');
}
