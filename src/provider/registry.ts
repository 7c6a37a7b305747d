// The providers a user config gives, keyed by reference scheme: 1Password (`op`) and Bitwarden
// Secrets Manager (`bws`) always, and every provider program `providers:` declares. The broker
// goes through here only: check a request's references (each against its provider), make every
// provider the request uses ready before anyone is asked, and resolve the approved request all or
// nothing across providers: when one fails, the others are stopped and nothing is delivered.

import { AgentSecretError } from '../core/errors.js';
import { schemeOf } from '../core/ref.js';
import type { SecretValue } from '../core/secret-value.js';
import { providersOf, type ProvidersConfig } from '../config/user-providers.js';
import type { SecretSpec } from '../request/types.js';
import { bwsProvider } from './bws/provider.js';
import { opProvider, type OpResolver } from './op/provider.js';
import { programProvider } from './program/provider.js';
import type { Provider, ProviderHost, ResolveOptions, Resolver } from './types.js';

export interface RegistryHost extends ProviderHost {
  /** Who resolves, for messages ("the agent-secret daemon"). */
  brokerName: string;
}

/** The parts of a user config the registry reads. */
export interface RegistryConfig {
  path: string;
  opPath: string | undefined;
  providers?: ProvidersConfig | undefined;
}

export interface ProviderRegistry {
  get(scheme: string): Provider | undefined;
  /** Every scheme with a provider: op, bws, then the programs in the order the user config lists them. */
  readonly schemes: readonly string[];
  readonly providers: readonly Provider[];
}

/** The registry of a user config. Cheap: nothing is started or read until a provider is prepared. */
export function createRegistry(config: RegistryConfig, host: RegistryHost): ProviderRegistry {
  const settings = providersOf(config);
  const map = new Map<string, Provider>();
  map.set('op', opProvider({ opPath: config.opPath, serviceAccounts: settings.op.serviceAccounts }, host));
  map.set('bws', bwsProvider(settings.bws, { ...host, configured: settings.bws.declared }));
  for (const [scheme, program] of Object.entries(settings.programs)) map.set(scheme, programProvider(scheme, program, host));
  return { get: (scheme) => map.get(scheme), schemes: [...map.keys()], providers: [...map.values()] };
}

/** The error for a reference whose scheme no provider serves. */
export function unknownScheme(spec: Pick<SecretSpec, 'alias' | 'ref'>, registry: ProviderRegistry): AgentSecretError {
  const scheme = schemeOf(spec.ref) ?? '?';
  const programs = registry.schemes.filter((s) => s !== 'op' && s !== 'bws');
  return new AgentSecretError('ref.invalid', `${spec.alias}: no provider for ${scheme}:// references (known: ${registry.schemes.map((s) => `${s}://`).join(', ')})`, {
    hint:
      programs.length === 0
        ? `the human declares a provider program for ${scheme} under providers: in ~/.config/agent-secret/config.yml (docs/providers.md); a project file cannot`
        : `use one of the known schemes, or the human declares ${scheme} under providers: in ~/.config/agent-secret/config.yml (docs/providers.md)`,
    details: { alias: spec.alias, ref: spec.ref, provider: scheme },
  });
}

/**
 * Checks every secret of a request against the registry: a provider exists for its scheme, the
 * recorded provider is that scheme, and the provider accepts the reference. Throws ref.invalid
 * naming the alias and reference.
 */
export function checkSpecs(specs: readonly SecretSpec[], registry: ProviderRegistry): void {
  for (const spec of specs) {
    const scheme = schemeOf(spec.ref);
    const provider = scheme === null ? undefined : registry.get(scheme);
    if (provider === undefined) throw unknownScheme(spec, registry);
    if (spec.provider !== scheme) {
      throw new AgentSecretError('ref.invalid', `${spec.alias}: the request says provider ${spec.provider} for a ${scheme}:// reference`, { details: { alias: spec.alias, ref: spec.ref } });
    }
    const parsed = provider.parse(spec.ref);
    if (!parsed.ok) throw new AgentSecretError('ref.invalid', `${spec.alias}: invalid ${scheme}:// reference: ${parsed.message}`, { details: { alias: spec.alias, ref: spec.ref, provider: scheme } });
  }
}

/** Every provider a request uses, made ready: resolve through it once the human approved. */
export interface Resolution {
  /** The schemes it covers, in the order the request first uses them. */
  readonly schemes: readonly string[];
  /** The op resolver, when the request uses op (item describe goes through it). */
  readonly op: OpResolver | undefined;
  /** Resolves every spec, all or nothing across providers: one value per alias, in the request's order. */
  resolve(specs: readonly SecretSpec[], opts: ResolveOptions): Promise<Map<string, SecretValue>>;
}

/** Prepares the providers of these specs (each checks its program and configuration); throws before anyone is asked when one cannot work. */
export async function prepareResolution(specs: readonly SecretSpec[], registry: ProviderRegistry): Promise<Resolution> {
  checkKnown(specs, registry);
  const groups = groupByProvider(specs);
  const resolvers = new Map<string, Resolver>();
  for (const [scheme, group] of groups) {
    const provider = registry.get(scheme) as Provider;
    resolvers.set(scheme, await provider.prepare(group));
  }
  const op = resolvers.get('op') as OpResolver | undefined;
  return {
    schemes: [...groups.keys()],
    op,
    resolve: (approved, opts) => resolveAcross(approved, resolvers, opts),
  };
}

function checkKnown(specs: readonly SecretSpec[], registry: ProviderRegistry): void {
  for (const spec of specs) if (registry.get(spec.provider) === undefined || schemeOf(spec.ref) !== spec.provider) throw unknownScheme(spec, registry);
}

function groupByProvider(specs: readonly SecretSpec[]): Map<string, SecretSpec[]> {
  const groups = new Map<string, SecretSpec[]>();
  for (const spec of specs) {
    const group = groups.get(spec.provider);
    if (group === undefined) groups.set(spec.provider, [spec]);
    else group.push(spec);
  }
  return groups;
}

// Each provider resolves its own specs at the same time as the others. The first failure (in
// time) is the cause: it stops the others, every value already resolved is dropped, and it is
// what the caller sees.
async function resolveAcross(specs: readonly SecretSpec[], resolvers: ReadonlyMap<string, Resolver>, opts: ResolveOptions): Promise<Map<string, SecretValue>> {
  const groups = groupByProvider(specs);
  for (const scheme of groups.keys()) if (!resolvers.has(scheme)) throw new AgentSecretError('internal', `no prepared provider for ${scheme}://`);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted === true) stop.abort();
  let failed = false;
  let cause: unknown;
  try {
    const results = await Promise.all(
      [...groups].map(async ([scheme, group]) => {
        try {
          return await (resolvers.get(scheme) as Resolver).resolve(group, { ...opts, signal: stop.signal });
        } catch (error) {
          if (!failed) {
            failed = true;
            cause = error;
          }
          stop.abort();
          return null;
        }
      }),
    );
    if (failed) {
      for (const values of results) values?.clear();
      throw cause;
    }
    const byAlias = new Map<string, SecretValue>();
    for (const values of results) if (values !== null) for (const [alias, value] of values) byAlias.set(alias, value);
    // The request's order, every alias present: never a partial set.
    const ordered = new Map<string, SecretValue>();
    for (const spec of specs) {
      const value = byAlias.get(spec.alias);
      if (value === undefined) {
        byAlias.clear();
        throw new AgentSecretError('internal', `no value was resolved for ${spec.alias}`, { details: { alias: spec.alias } });
      }
      ordered.set(spec.alias, value);
    }
    return ordered;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
