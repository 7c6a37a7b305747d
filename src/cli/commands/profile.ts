// `agent-secret profile list|show`: the project's profiles with includes and accounts
// resolved. Shows references, their providers and accounts (or bws sources) only; values are
// never resolved here.

import { basename } from 'node:path';
import { fileDeliveryOf, templateFileName, type FileOptions } from '../../core/delivery.js';
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
  // Named secrets shown with the references names: of the user config gives them, as exec would ask.
  const { namesApplied } = await import('../../plan/exec-plan.js');
  const profile = await namesApplied(ctx, resolveProfile(config, name?.trim() === '' ? undefined : name));
  const envSecrets = profile.secrets.filter((s) => s.delivery !== 'file');
  // The layout each file gets on this platform (unset options take their defaults).
  const files = profile.secrets
    .filter((s) => s.delivery === 'file')
    .map((s) => ({ alias: s.alias, ref: s.ref, name: s.name, account: s.account, file: layout(s.file ?? {}, s.alias, ctx.platform) }));
  const templates = profile.templates.map((t) => ({ alias: t.alias, path: t.path, account: t.account, file: layout(t.file, templateFileName(basename(t.path), t.alias), ctx.platform) }));
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
        secrets: envSecrets.map((s) => ({ alias: s.alias, ...(s.name === undefined ? {} : { name: s.name }), ref: s.ref, provider: providerOf(s.ref), account: identityOf(s.ref, s.account, s.account) })),
        files: files.map((f) => ({ alias: f.alias, ref: f.ref, provider: providerOf(f.ref), account: identityOf(f.ref, f.account, f.account), ...f.file })),
        templates: templates.map((t) => ({ alias: t.alias, path: t.path, account: t.account, ...t.file })),
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
    ...(envSecrets.length > 0 ? ['secrets:'] : []),
    ...envSecrets.map((s) => `  ${s.alias} = ${s.name === undefined ? '' : `${s.name} → `}${s.ref}  provider=${providerOf(s.ref)}${identityText(s.ref, s.account)}`),
    ...(files.length > 0 ? ['files (the variable holds the path of a private file):'] : []),
    ...files.map((f) => `  ${f.alias} = ${f.ref}  provider=${providerOf(f.ref)}${identityText(f.ref, f.account)}  ${layoutText(f.file)}`),
    ...(templates.length > 0 ? ['templates (rendered into a private file after approval):'] : []),
    ...templates.map((t) => `  ${t.alias} = ${t.path}${t.account === null ? '' : `  account=${t.account}`}  ${layoutText(t.file)}`),
  ]);
  return 0;
}

// A secret's identity as profile show prints it: a bws source, or an account when one is set.
function identityText(ref: string, own: string | null): string {
  const account = identityOf(ref, own, own);
  if (providerOf(ref) === 'bws') return `  source=${account ?? '(default)'}`;
  return account === null ? '' : `  account=${account}`;
}

type Layout = { name: string; mode: string; max_reads: number | null } | { invalid: string };

function layout(options: FileOptions, defaultName: string, platform: NodeJS.Platform): Layout {
  const result = fileDeliveryOf(options, { name: defaultName, platform });
  return result.ok ? { name: result.delivery.name, mode: result.delivery.mode, max_reads: result.delivery.maxReads } : { invalid: result.message };
}

function layoutText(file: Layout): string {
  if ('invalid' in file) return `(invalid: ${file.invalid})`;
  return `name=${file.name} mode=${file.mode}${file.max_reads === null ? '' : ` max_reads=${file.max_reads}`}`;
}
