// `agent-secret profile list|show`: the project's profiles with includes and accounts
// resolved. Shows references, their providers and accounts (or bws sources) only; values are
// never resolved here.

import { identityOf, schemeOf } from '../../core/ref.js';
import { formatTtl } from '../../core/ttl.js';
import { resolveProfile } from '../../config/index.js';
import type { CliContext } from '../context.js';
import { writeJson, writeLines } from '../render/output.js';
import { requireProjectConfig } from './project-config.js';

interface Options {
  config?: string;
  json?: boolean;
}

/** Lists profile names, marking the default. */
export async function runProfileList(ctx: CliContext, options: Options): Promise<number> {
  const config = await requireProjectConfig(ctx, options.config);
  if (options.json === true) {
    writeJson(ctx.stdout, {
      source_path: config.path,
      default_profile: config.defaultProfile ?? null,
      profiles: config.profileNames.map((name) => ({ name, default: name === config.defaultProfile })),
    });
    return 0;
  }
  writeLines(ctx.stdout, [
    `config: ${config.path}`,
    `default_profile: ${config.defaultProfile ?? '(none)'}`,
    'profiles:',
    ...config.profileNames.map((name) => `  ${name}${name === config.defaultProfile ? ' (default)' : ''}`),
  ]);
  return 0;
}

// The provider of a reference: its scheme (refs passed validation at load).
function providerOf(ref: string): string {
  return schemeOf(ref) ?? 'op';
}

/** Shows one profile, fully resolved. */
export async function runProfileShow(ctx: CliContext, name: string | undefined, options: Options): Promise<number> {
  const config = await requireProjectConfig(ctx, options.config);
  const profile = resolveProfile(config, name?.trim() === '' ? undefined : name);
  if (options.json === true) {
    writeJson(ctx.stdout, {
      source_path: config.path,
      profile: {
        name: profile.name,
        default: profile.isDefault,
        account: profile.account ?? null,
        reason: profile.reason ?? null,
        ttl_seconds: profile.ttlSeconds ?? null,
        include: profile.include,
        secrets: profile.secrets.map((s) => ({ alias: s.alias, ref: s.ref, provider: providerOf(s.ref), account: identityOf(s.ref, s.account, s.account) })),
      },
    });
    return 0;
  }
  writeLines(ctx.stdout, [
    `profile: ${profile.name}${profile.isDefault ? ' (default)' : ''}`,
    `config: ${config.path}`,
    `reason: ${profile.reason ?? '(none; pass --reason)'}`,
    `ttl: ${profile.ttlSeconds === undefined ? '2m (default)' : formatTtl(profile.ttlSeconds)}`,
    `account: ${profile.account ?? '(op default account, or --account / OP_ACCOUNT)'}`,
    ...(profile.include.length > 0 ? [`include: ${profile.include.join(', ')}`] : []),
    'secrets:',
    ...profile.secrets.map((s) => {
      const provider = providerOf(s.ref);
      const account = identityOf(s.ref, s.account, s.account);
      const identity = provider === 'bws' ? `  source=${account ?? '(default)'}` : account === null ? '' : `  account=${account}`;
      return `  ${s.alias} = ${s.ref}  provider=${provider}${identity}`;
    }),
  ]);
  return 0;
}
