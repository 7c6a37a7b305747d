// Bitwarden Secrets Manager behind the provider interface: bws://SECRET_ID and
// bws://SOURCE/SECRET_ID, resolved with `bws secret get ID --output json` (bws has no call for
// several IDs, so each unique secret is one bws process, run in parallel). Each source's
// machine-account access token is read from its store (user config `providers.bws.sources`) at
// resolution and put in the environment of the bws processes only, as BWS_ACCESS_TOKEN (a
// `reveal()` site); no other process, the child included, ever gets it. bws's stdout is parsed
// for `value` and dropped; its stderr is classified and never shown.

import { AgentSecretError } from '../../core/errors.js';
import { parseBwsRef } from '../../core/ref.js';
import { SecretValue } from '../../core/secret-value.js';
import type { ProvidersConfig } from '../../config/user-providers.js';
import type { SecretSpec } from '../../request/types.js';
import { describeEntries, detailsFor, eachBounded, type BatchEntry } from '../batch.js';
import { locateProgram } from '../find-program.js';
import { describeEnd, helperEnv, runHelper, type HelperResult } from '../run-process.js';
import { describeSource, readToken, tokenState } from '../token/store.js';
import type { DoctorCheck, Provider, ProviderHost, ResolveOptions } from '../types.js';
import { classifyBwsFailure, parseBwsVersion, parseSecretJson, type BwsErrorKind } from './errors.js';

/**
 * Where bws is looked for without providers.bws.path: the system's install directories, never
 * the daemon's PATH. The daemon inherits the environment of whichever command started it (an
 * agent's), and the bws that runs is given the machine account's token: a PATH entry the agent
 * put first must not decide which program that is.
 */
export const BWS_SEARCH_PATH = ['/opt/homebrew/bin', '/usr/local/bin', '/usr/bin', '/bin'].join(':');

/** bws processes run at the same time for one request (one per unique secret). */
export const MAX_PARALLEL_BWS = 32;
/** Largest `secret get` answer accepted, in bytes. */
const MAX_STDOUT = 1024 * 1024;
const DOCTOR_TIMEOUT_MS = 15_000;

export type BwsConfig = ProvidersConfig['bws'];

export interface BwsHost extends ProviderHost {
  /** Who is looking for bws, for the message when it is missing ("the agent-secret daemon"). */
  brokerName: string;
  /** Whether the user config has a `providers.bws` section (doctor reports bws then, or when bws is installed). */
  configured: boolean;
}

interface Lookup {
  source: string;
  secretId: string;
  entry: BatchEntry;
}

/** The `--server-url` flag for a source, if it names one. Pure. */
export function bwsArgs(secretId: string, serverUrl: string | undefined): string[] {
  return ['secret', 'get', secretId, '--output', 'json', '--color', 'no', ...(serverUrl === undefined ? [] : ['--server-url', serverUrl])];
}

/** bws's environment: the broker's without any BWS_* variable, plus the source's token and NO_COLOR. */
export function bwsEnv(env: Readonly<Record<string, string | undefined>>, token: SecretValue): Record<string, string> {
  return helperEnv(env, { BWS_ACCESS_TOKEN: token.reveal(), NO_COLOR: '1' }, (name) => name.startsWith('BWS_'));
}

export function tokenHint(source: string, defaultSource: string): string {
  const target = source === defaultSource ? 'bws' : `bws/${source}`;
  return `the human stores the machine account's access token with \`agent-secret provider token set ${target}\` (never in chat or a file the agent writes); then run \`agent-secret doctor\``;
}

const MISSING_HINT = 'install bws (https://bitwarden.com/help/secrets-manager-cli/) in /usr/local/bin or /opt/homebrew/bin, or set providers.bws.path in ~/.config/agent-secret/config.yml (never found on PATH); then run `agent-secret doctor`';

function bwsFailure(kind: BwsErrorKind | 'malformed', result: HelperResult | null, lookups: readonly Lookup[], source: string, timeoutMs: number, defaultSource: string): AgentSecretError {
  const entries = lookups.map((l) => l.entry);
  const list = describeEntries(entries);
  const where = `in bws source ${source}`;
  const details = detailsFor(entries, source, 'bws');
  const failed = (message: string, hint: string, code: 'provider.failed' | 'provider.signed_out' = 'provider.failed') =>
    new AgentSecretError(code, `${message}; nothing was delivered`, { hint, details });
  if (result !== null && result.exitCode === null) {
    const end = describeEnd(result, timeoutMs);
    if (result.failedToStart) return new AgentSecretError('provider.missing', `bws could not be started ${where} (needed for ${list})`, { hint: MISSING_HINT, details });
    return failed(`bws ${end} while resolving ${list} ${where}`, result.timedOut ? 'check the network connection to Bitwarden, then retry' : 'retry');
  }
  switch (kind) {
    case 'not_found':
      return failed(`bws could not find ${list} ${where} (or its machine account may not read it)`, 'check the secret ID with the human (the Bitwarden web app shows it) and that the machine account can read its project');
    case 'token':
      return failed(`bws source ${source} refused its access token (needed for ${list})`, tokenHint(source, defaultSource), 'provider.signed_out');
    case 'rate_limited':
      return failed(`Bitwarden turned bws away ${where}: too many requests (needed for ${list})`, 'wait a minute, then retry');
    case 'permission':
      return failed(`bws may not read ${list} ${where}`, "the machine account has no access to this secret's project; the human can grant it in Bitwarden");
    case 'unreachable':
      return failed(`bws could not reach Bitwarden ${where} (needed for ${list})`, 'check the network connection (and providers.bws.sources.*.server_url), then retry');
    case 'usage':
      return failed(`bws did not accept the command line agent-secret gave it ${where} (needed for ${list})`, 'run `agent-secret doctor`; this bws may be older or newer than agent-secret supports');
    case 'malformed':
      return failed(`bws answered something that is not the requested secret ${where} (needed for ${list})`, 'run `agent-secret doctor`; if bws is current, report this with the bws version');
    default:
      return failed(`bws failed (exit code ${result?.exitCode ?? 'none'}) while resolving ${list} ${where}`, 'run `agent-secret doctor` to check bws and the token');
  }
}


export function bwsProvider(config: BwsConfig, host: BwsHost): Provider {
  const sourceOf = (spec: { ref: string }) => {
    const parsed = parseBwsRef(spec.ref);
    return parsed.ok ? (parsed.ref.source ?? config.defaultSource) : config.defaultSource;
  };

  return {
    scheme: 'bws',
    label: 'Bitwarden Secrets Manager (bws)',
    identity: 'source',
    parse(ref) {
      const parsed = parseBwsRef(ref);
      return parsed.ok ? { ok: true } : { ok: false, message: parsed.message };
    },
    async prepare(specs: readonly SecretSpec[]) {
      for (const spec of specs) {
        const source = sourceOf(spec);
        if (!Object.hasOwn(config.sources, source)) {
          const known = Object.keys(config.sources).join(', ') || '(none)';
          throw new AgentSecretError('ref.invalid', `${spec.alias}: ${spec.ref} names bws source ${source}, which the user config does not declare (sources: ${known})`, {
            hint: `the human adds providers.bws.sources.${source} to ~/.config/agent-secret/config.yml, or the reference uses a declared source`,
            details: { alias: spec.alias, ref: spec.ref, provider: 'bws' },
          });
        }
      }
      const bwsPath = locateProgram('bws', config.path, BWS_SEARCH_PATH);
      if (bwsPath === null) {
        throw new AgentSecretError('provider.missing', `the Bitwarden Secrets Manager CLI (bws) was not found by ${host.brokerName}`, { hint: MISSING_HINT, details: { provider: 'bws' } });
      }
      return {
        async resolve(specs: readonly SecretSpec[], opts: ResolveOptions) {
          // Unique (source, secret) pairs, each with every alias that asked for it.
          const lookups = new Map<string, Lookup>();
          for (const spec of specs) {
            const parsed = parseBwsRef(spec.ref);
            if (!parsed.ok) throw new AgentSecretError('ref.invalid', `${spec.alias}: ${parsed.message}`, { details: { alias: spec.alias, ref: spec.ref } });
            const source = parsed.ref.source ?? config.defaultSource;
            const key = `${source}\0${parsed.ref.secretId.toLowerCase()}`;
            const found = lookups.get(key);
            if (found === undefined) lookups.set(key, { source, secretId: parsed.ref.secretId, entry: { ref: spec.ref, aliases: [spec.alias] } });
            else (found.entry.aliases as string[]).push(spec.alias);
          }
          const all = [...lookups.values()];
          const tokens = new Map<string, SecretValue>();
          const stop = new AbortController();
          const onAbort = () => stop.abort();
          opts.signal?.addEventListener('abort', onAbort, { once: true });
          if (opts.signal?.aborted === true) stop.abort();
          try {
            for (const source of new Set(all.map((l) => l.source))) {
              const settings = config.sources[source];
              if (settings === undefined) continue;
              const token = await readToken(settings.token, host);
              if (token === null) {
                const mine = all.filter((l) => l.source === source);
                throw new AgentSecretError('provider.signed_out', `no access token for bws source ${source} (needed for ${describeEntries(mine.map((l) => l.entry))}): ${describeSource(settings.token)} has none; nothing was delivered`, {
                  hint: tokenHint(source, config.defaultSource),
                  details: detailsFor(mine.map((l) => l.entry), source, 'bws'),
                });
              }
              tokens.set(source, token);
            }
            const outcomes = await eachBounded(all, MAX_PARALLEL_BWS, stop, async (lookup) => {
              const settings = config.sources[lookup.source];
              const token = tokens.get(lookup.source);
              if (settings === undefined || token === undefined) throw new AgentSecretError('internal', 'a bws source lost its token');
              const timeoutMs = Math.max(1, opts.timeoutMs);
              const result = await runHelper({ file: bwsPath, args: bwsArgs(lookup.secretId, settings.serverUrl), env: bwsEnv(host.env, token), timeoutMs, signal: stop.signal, maxStdout: MAX_STDOUT, readStderr: true });
              if (result.exitCode !== 0) throw bwsFailure(classifyBwsFailure(result.stderr, result.exitCode), result, [lookup], lookup.source, timeoutMs, config.defaultSource);
              const value = parseSecretJson(result.stdout, lookup.secretId);
              if (value === null) throw bwsFailure('malformed', result, [lookup], lookup.source, timeoutMs, config.defaultSource);
              return new SecretValue(value);
            });
            if (!outcomes.complete) {
              if (outcomes.firstError !== undefined) throw outcomes.firstError;
              throw new AgentSecretError('provider.failed', 'resolution through bws was cancelled; nothing was delivered', { details: { provider: 'bws' } });
            }
            const values = new Map<string, SecretValue>();
            all.forEach((lookup, index) => {
              const value = outcomes.values[index];
              if (value !== undefined) for (const alias of lookup.entry.aliases) values.set(alias, value);
            });
            return values;
          } finally {
            tokens.clear();
            opts.signal?.removeEventListener('abort', onAbort);
          }
        },
      };
    },
    async doctor() {
      return bwsDoctor(config, host);
    },
  };
}

/** bws's doctor lines: found and its version, then each source's token, and whether Bitwarden accepts it (`bws project list`, no secret read). */
export async function bwsDoctor(config: BwsConfig, host: BwsHost): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (name: string, status: DoctorCheck['status'], detail: string, hint: string | null = null) => checks.push({ name, status, detail, hint });
  const bwsPath = locateProgram('bws', config.path, BWS_SEARCH_PATH);
  if (bwsPath === null) {
    if (host.configured) add('bws', 'fail', config.path === undefined ? 'bws was not found in /opt/homebrew/bin, /usr/local/bin, /usr/bin or /bin (PATH is not searched)' : `${config.path} is not an executable file`, 'install bws (https://bitwarden.com/help/secrets-manager-cli/) or fix providers.bws.path in ~/.config/agent-secret/config.yml');
    return checks;
  }
  const version = await runHelper({ file: bwsPath, args: ['--version'], env: helperEnv(host.env, { NO_COLOR: '1' }, (name) => name.startsWith('BWS_')), timeoutMs: DOCTOR_TIMEOUT_MS, maxStdout: 64 * 1024 });
  const text = version.exitCode === 0 ? parseBwsVersion(version.stdout) : null;
  if (text === null) {
    add('bws', 'fail', `${bwsPath} --version did not print a version (${describeEnd(version, DOCTOR_TIMEOUT_MS)})`, 'reinstall bws (https://bitwarden.com/help/secrets-manager-cli/)');
    return checks;
  }
  add('bws', 'ok', `${bwsPath} ${text}${host.configured ? '' : ' (no providers.bws in the user config: bws:// references use source default)'}`);
  for (const [name, source] of Object.entries(config.sources)) {
    const check = `bws_source ${name}${name === config.defaultSource ? ' (default)' : ''}`;
    const state = await tokenState(source.token, host);
    if (state.state === 'missing') {
      add(check, host.configured ? 'fail' : 'warn', `no access token: ${state.detail}`, tokenHint(name, config.defaultSource));
      continue;
    }
    if (state.state === 'bad') {
      add(check, 'fail', state.detail, state.fix);
      continue;
    }
    const token = await readToken(source.token, host).catch(() => null);
    if (token === null) {
      add(check, 'fail', `the token in ${state.detail} could not be read`, tokenHint(name, config.defaultSource));
      continue;
    }
    const args = ['project', 'list', '--output', 'json', '--color', 'no', ...(source.serverUrl === undefined ? [] : ['--server-url', source.serverUrl])];
    const probe = await runHelper({ file: bwsPath, args, env: bwsEnv(host.env, token), timeoutMs: DOCTOR_TIMEOUT_MS, maxStdout: 4 * 1024 * 1024, readStderr: true });
    if (probe.exitCode === 0) {
      add(check, 'ok', `token in ${state.detail}; Bitwarden accepts it`);
      continue;
    }
    const kind = probe.exitCode === null ? 'unreachable' : classifyBwsFailure(probe.stderr, probe.exitCode);
    const hints: Record<string, string> = {
      token: tokenHint(name, config.defaultSource),
      unreachable: 'check the network connection (and server_url), then run agent-secret doctor again',
    };
    add(check, 'fail', `token in ${state.detail}, but bws ${kind === 'token' ? 'says Bitwarden refuses it' : probe.exitCode === null ? describeEnd(probe, DOCTOR_TIMEOUT_MS) : `failed (exit code ${probe.exitCode})`}`, hints[kind] ?? 'run bws yourself with this token to see why');
  }
  return checks;
}
