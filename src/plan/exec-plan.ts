// Gathers everything `exec` needs before anyone is asked: config and profile, env files, the
// real cwd, the resolved executable and its identity, who is asking, and then the frozen
// ApprovalRequest from the pure builder. All local validation happens here, so a bad
// request fails before any prompt, op call or child.

import { realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { discoverConfig } from '../config/discover.js';
import type { EnvFileResult, ProjectConfig, ResolvedProfile } from '../config/index.js';
import { AgentSecretError } from '../core/errors.js';
import { BUILTIN_SCHEMES } from '../core/ref.js';
import type { ProviderRegistry } from '../provider/index.js';
import { findMutability, findProjectFiles, readIdentity, readScriptIdentities, resolveExecutable } from '../exec/index.js';
import { readRequesterChain } from '../platform/process-tree.js';
import { buildRequest, inheritedEnv, templateReads } from '../request/build.js';
import type { ApprovalRequest } from '../request/types.js';
import { fileSpecsOf } from '../request/template.js';
import type { BindingPolicy } from '../core/session-bind.js';
import { dirsInput } from '../platform/dirs.js';
import type { ChildSpec } from '../exec/run-child.js';
import type { PlanContext } from './context.js';
import { detectHarness } from './agent-harness.js';

export interface ExecOptions {
  profile?: string;
  secret?: string[];
  file?: string[];
  template?: string[];
  envFile?: string[];
  only?: string[];
  reason?: string;
  account?: string;
  config?: string;
  cwd?: string;
  ttl?: string;
  overrideEnv?: boolean;
  allowMutableExecutable?: boolean;
  pristine?: boolean;
  /** --mask (true) / --no-mask (false); undefined: mask when output is not a terminal. */
  mask?: boolean;
  reuseOnly?: boolean;
  forceRefresh?: boolean;
  dryRun?: boolean;
  json?: boolean;
  reuse?: boolean;
}

export interface ExecPlan {
  request: ApprovalRequest;
  /** Plain env-file entries for the child (not secrets, but never printed either). */
  plain: ReadonlyArray<{ key: string; value: string }>;
  /** Names removed from the caller's env before secrets are added (env-file secret aliases). */
  removeNames: readonly string[];
  /** Pipe the child's output through the masker: --mask/--no-mask, else the profile's `mask: false`, else when output is captured. */
  mask: boolean;
  /** The profile's `session.bind` (session create only; flags override it). */
  sessionBind?: BindingPolicy | null;
  /** Pinned files already settled when hashed: the check before spawn compares their identity only (exec/script-identity.ts). */
  settledScripts?: ReadonlySet<string>;
}

/**
 * Validates the exec flags and builds the approval request. For `session create` (target
 * 'session') there is no child: the command is agent-secret's own command line, the executable
 * is the running node, and no collision with the caller's environment is checked (the session's
 * later readers have their own environments).
 */
export async function planExec(ctx: PlanContext, options: ExecOptions, target: 'child' | 'session' = 'child'): Promise<ExecPlan> {
  if (target === 'session') return planWith(ctx, options, ['agent-secret', ...ctx.args], 'session');
  if (options.reuse === true) {
    throw new AgentSecretError('usage.invalid', '--reuse is not a flag: reusable approvals are chosen by the human in the approver');
  }
  if (options.json === true && options.dryRun !== true) {
    throw new AgentSecretError('usage.invalid', 'exec supports --json only with --dry-run', { details: { flag: '--json' } });
  }
  if (ctx.childArgv === null || ctx.childArgv.length === 0) {
    throw new AgentSecretError('usage.missing_separator', 'exec needs the command as argv after --', {
      hint: 'for example: agent-secret exec --profile deploy -- terraform plan',
    });
  }
  return planWith(ctx, options, ctx.childArgv, 'child');
}

async function planWith(ctx: PlanContext, options: ExecOptions, command: readonly string[], target: 'child' | 'session'): Promise<ExecPlan> {
  const only = splitOnly(options.only);

  const cwd = await resolveCwd(ctx, options.cwd);
  const secretFlags = options.secret ?? [];
  const fileFlags = options.file ?? [];
  const templateFlags = options.template ?? [];
  const envFilePaths = (options.envFile ?? []).map((p) => p.trim());
  if (envFilePaths.some((p) => p === '')) throw new AgentSecretError('usage.invalid', '--env-file needs a path', { details: { flag: '--env-file' } });

  // The default profile applies only when nothing else names secrets (reference behaviour);
  // a discovered config still supplies its top-level account to one-off and env-file refs.
  const wantsProfile = options.profile !== undefined || (secretFlags.length === 0 && fileFlags.length === 0 && templateFlags.length === 0 && envFilePaths.length === 0);
  const config = await findConfig(ctx, options.config, options.profile !== undefined);
  const profile = wantsProfile && config !== null ? await namesApplied(ctx, (await import('../config/resolve.js')).resolveProfile(config, options.profile)) : null;
  if (wantsProfile && config === null && options.profile === undefined) {
    throw new AgentSecretError('usage.invalid', 'no secrets requested and no agent-secret.yml found', {
      hint: 'pass --profile NAME, --secret ALIAS=op://vault/item/field, --file NAME=op://vault/item/field, --template NAME=PATH, or --env-file PATH',
    });
  }
  // Template files are read now, so a missing, malformed or reference-less one fails before any prompt.
  const templateTexts = await readTemplates(templateReads({ templateFlags, callerCwd: ctx.cwd, only, profile }));
  // Delivered files need a private RAM-backed directory in the caller's process: refused now when there is none.
  const wantsFiles = fileFlags.length > 0 || templateTexts.size > 0 || (profile?.secrets.some((s) => s.delivery === 'file' && (only === undefined || only.includes(s.alias))) ?? false);
  if (wantsFiles && target === 'child') await checkPrivateStorage(ctx.env, ctx.platform);

  // The YAML and schema code loads only when there is a file to read. An env file's references
  // are op://, bws:// and the schemes of the provider programs the user config declares.
  const envFile: EnvFileResult | null =
    envFilePaths.length > 0 ? await (await import('../config/env-file.js')).loadEnvFiles(envFilePaths, ctx.cwd, (await userProviders(ctx)).schemes) : null;
  const pristine = options.pristine === true;
  const baseEnv = childBaseEnv(inheritedEnv(ctx.env, pristine), envFile);
  const executable =
    target === 'session'
      ? { path: await realpath(process.execPath), identity: await readIdentity(await realpath(process.execPath)) }
      : await resolveExecutable(command[0] as string, { cwd, pathEnv: baseEnv.PATH });
  const mutability = target === 'session' ? [] : await mutabilityFindings(ctx, executable.path);
  // What argv names besides the program (`bash ./deploy.sh`): pinned, and warned about when replaceable.
  const scan = target === 'session' ? { scripts: [], truncated: false, settled: [] } : await readScriptIdentities(command, cwd);
  const scriptMutability = new Map(await Promise.all(scan.scripts.map(async (s) => [s.path, await mutabilityFindings(ctx, s.path)] as const)));
  const rootProjectFiles =
    target === 'child' && ctx.uid === 0 ? await findProjectFiles([executable.path, ...scan.scripts.map((s) => s.path)], { cwd, configPath: config?.path ?? null }) : [];
  const chain = await readRequesterChain({ pid: ctx.pid, platform: ctx.platform });
  // A session runs no command on approval: each with-session run masks by its own flags.
  const mask = target === 'session' ? true : maskDecision(options.mask, profile?.mask, ctx, chain);

  const request = buildRequest(
    {
      command,
      reason: options.reason,
      ttl: options.ttl,
      account: options.account,
      overrideEnv: options.overrideEnv === true,
      allowMutableExecutable: options.allowMutableExecutable === true,
      pristine,
      mask,
      secretFlags,
      fileFlags,
      templateFlags,
      callerCwd: ctx.cwd,
      templateTexts,
      platform: ctx.platform,
      only,
      profile,
      configPath: config?.path ?? null,
      configAccount: config?.account,
      envFile,
      env: target === 'session' ? {} : ctx.env,
    },
    {
      executable: executable.path,
      executableIdentity: executable.identity,
      cwd,
      requester: { pid: ctx.pid, chain },
      mutability,
      scripts: scan.scripts,
      scriptMutability,
      scriptsTruncated: scan.truncated,
      rootProjectFiles,
    },
  );
  // A provider program's reference needs its scheme declared in the user config (the broker checks again against its own).
  if (request.secrets.some((secret) => !BUILTIN_SCHEMES.includes(secret.provider))) {
    const { checkSpecs } = await import('../provider/index.js');
    checkSpecs(request.secrets, await userProviders(ctx));
  }
  return {
    request,
    plain: envFile?.plain.map((p) => ({ key: p.key, value: p.value })) ?? [],
    removeNames: envFile?.secrets.map((s) => s.alias) ?? [],
    mask,
    sessionBind: profile?.sessionBind ?? null,
    settledScripts: new Set(scan.settled),
  };
}

/**
 * Whether the child's output is masked: --mask/--no-mask, else the profile's `mask: false`, else
 * masked unless both streams are a terminal. A terminal under a coding agent (a harness marker
 * in the caller's environment or requester chain) is read by the agent, not a human: masked.
 */
export function maskDecision(flag: boolean | undefined, profileMask: boolean | undefined, ctx: Pick<PlanContext, 'env' | 'stdoutIsTTY' | 'stderrIsTTY'>, chain: ReadonlyArray<{ readonly name: string }>): boolean {
  if (flag !== undefined) return flag;
  if (profileMask === false) return false;
  if (!(ctx.stdoutIsTTY && ctx.stderrIsTTY)) return true;
  return detectHarness(ctx.env, chain) !== null;
}

// Findings that trusted_dirs in the user config do not excuse. The user config (YAML and its
// schema) is read only when there is a finding, which keeps it off the common path.
async function mutabilityFindings(ctx: PlanContext, path: string) {
  const findings = await findMutability(path, { uid: ctx.uid });
  if (findings.length === 0) return findings;
  const { loadUserConfig } = await import('../config/user-config.js');
  const { trustedDirs } = await loadUserConfig(dirsInput(ctx));
  return findings.filter((finding) => !trustedDirs.some((dir) => finding.path === dir || finding.path.startsWith(`${dir.replace(/\/+$/, '')}/`)));
}

/**
 * The profile with its named secrets' references from names: of the caller's user config (read
 * only when the profile has one; the broker checks them again against its own).
 */
export async function namesApplied(ctx: Pick<PlanContext, 'env' | 'platform' | 'homedir'>, profile: ResolvedProfile): Promise<ResolvedProfile> {
  if (!profile.secrets.some((s) => s.name !== undefined)) return profile;
  const { loadUserConfig } = await import('../config/user-config.js');
  const { applyNames } = await import('../config/user-names.js');
  const config = await loadUserConfig(dirsInput(ctx));
  return applyNames(profile, config.names ?? new Map(), config.path);
}

// The providers of the caller's user config (read only when a reference needs them).
async function userProviders(ctx: PlanContext): Promise<ProviderRegistry> {
  const { loadUserConfig } = await import('../config/user-config.js');
  const { createRegistry } = await import('../provider/index.js');
  const config = await loadUserConfig(dirsInput(ctx));
  return createRegistry(config, { env: ctx.env, platform: ctx.platform, uid: ctx.uid, brokerName: 'agent-secret' });
}

function splitOnly(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const items = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  if (items.some((v) => v === '')) {
    throw new AgentSecretError('usage.invalid', '--only must name non-empty aliases, comma-separated', { details: { flag: '--only' } });
  }
  return [...new Set(items)];
}

/** The working directory a flag names (default: the caller's), absolute and symlink-free; cwd.invalid otherwise. */
export async function resolveCwd(ctx: PlanContext, flag: string | undefined): Promise<string> {
  // An empty value (an unset shell variable, say) is not "here".
  if (flag === '') throw new AgentSecretError('cwd.invalid', '--cwd is empty; give a directory, or leave the flag out to use the current one', { details: { flag: '--cwd' } });
  const wanted = resolve(ctx.cwd, flag ?? '.');
  try {
    const real = await realpath(wanted);
    if ((await stat(real)).isDirectory()) return real;
  } catch {
    // Reported below without the system's wording.
  }
  throw new AgentSecretError('cwd.invalid', `working directory ${wanted} does not exist or is not a directory`, { details: { flag: '--cwd' } });
}

async function findConfig(ctx: PlanContext, explicitPath: string | undefined, required: boolean): Promise<ProjectConfig | null> {
  const path = await discoverConfig({ cwd: ctx.cwd, explicitPath });
  if (path === null) {
    if (!required) return null;
    throw new AgentSecretError('config.not_found', '--profile needs an agent-secret.yml, and none was found in this directory or any parent', {
      hint: 'create agent-secret.yml (see profiles.example.yaml) or pass --config PATH',
    });
  }
  const { loadConfig } = await import('../config/load.js');
  return loadConfig(path);
}

// The environment the child starts from, before secrets: inherited env, plain env-file entries
// on top, env-file secret aliases removed (the env file is what supplies them).
function childBaseEnv(env: Readonly<Record<string, string | undefined>>, envFile: EnvFileResult | null): Record<string, string | undefined> {
  const base: Record<string, string | undefined> = { ...env };
  for (const entry of envFile?.plain ?? []) base[entry.key] = entry.value;
  for (const secret of envFile?.secrets ?? []) delete base[secret.alias];
  return base;
}

// Each template's text (exact: BOM and all) and the SHA-256 of its bytes, by absolute path.
async function readTemplates(paths: readonly string[]): Promise<Map<string, { text: string; sha256: string }>> {
  const texts = new Map<string, { text: string; sha256: string }>();
  if (paths.length === 0) return texts;
  const { readSmallFile } = await import('../config/read-file.js');
  const { createHash } = await import('node:crypto');
  for (const path of paths) {
    const bytes = await readSmallFile(path, 'template');
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new AgentSecretError('template.invalid', `template is not UTF-8 text: ${path}`, { details: { file: path } });
    }
    texts.set(path, { text, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  return texts;
}

// Where the caller's process will put delivered files; refuses now (before any prompt) when there is no such place.
async function checkPrivateStorage(env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform): Promise<void> {
  const { privateBase } = await import('../exec/private-dir.js');
  await privateBase(env, platform);
}

/** The child part of an exec plan: what the process that runs it needs. Pure. */
export function childSpecOf(plan: ExecPlan): ChildSpec {
  const { request } = plan;
  return {
    command: request.command,
    executable: request.executable,
    identity: request.executableIdentity,
    cwd: request.cwd,
    pristine: request.pristine,
    plain: plan.plain,
    removeNames: plan.removeNames,
    mask: plan.mask,
    // A settled file's content cannot change without its identity: the caller need not hash it again.
    scripts: request.scripts.map((s) => (plan.settledScripts?.has(s.path) === true ? Object.freeze({ ...s, sha256: null }) : s)),
    files: fileSpecsOf(request),
  };
}
