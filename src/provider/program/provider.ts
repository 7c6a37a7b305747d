// A provider program behind the provider interface: the user config maps a scheme to an absolute
// program (`providers: {vault: {command: [/abs/prog, …]}}`); after approval it gets one request
// per identity (protocol.ts) and answers the values. Fail closed: a timeout, a non-zero exit, an
// answer that breaks the protocol or names a ref it was not asked for delivers nothing, names the
// aliases and refs, and never shows the program's stderr (it is not even read) or its stdout.

import { statSync } from 'node:fs';
import { AgentSecretError } from '../../core/errors.js';
import { parseProgramRef, schemeOf } from '../../core/ref.js';
import { SecretValue } from '../../core/secret-value.js';
import type { ProgramProviderConfig } from '../../config/user-providers.js';
import type { SecretSpec } from '../../request/types.js';
import { batchesOf, describeEntries, detailsFor, eachBounded, type BatchEntry, type IdentityBatch } from '../batch.js';
import { isExecutableFile } from '../find-program.js';
import { describeEnd, helperEnv, runHelper } from '../run-process.js';
import type { DoctorCheck, Provider, ProviderHost, ResolveOptions } from '../types.js';
import { buildProgramRequest, MAX_ANSWER_BYTES, parseProgramAnswer } from './protocol.js';

/** Identities resolved at the same time; each is one program process. */
export const MAX_PARALLEL_PROGRAM_CALLS = 4;

export function programProvider(scheme: string, config: ProgramProviderConfig, host: ProviderHost): Provider {
  const label = `provider program ${scheme}`;
  const program = config.command[0] as string;
  const hintFix = `the human checks providers.${scheme} in ~/.config/agent-secret/config.yml (docs/providers.md, "Provider programs"); then run \`agent-secret doctor\``;

  async function call(batch: IdentityBatch, opts: ResolveOptions, signal: AbortSignal): Promise<Map<string, SecretValue>> {
    const refs = batch.entries.map((e) => e.ref);
    const all = describeEntries(batch.entries);
    const details = detailsFor(batch.entries, batch.account, scheme);
    const fail = (message: string, hint: string, about: readonly BatchEntry[] = batch.entries) =>
      new AgentSecretError('provider.failed', `${message}; nothing was delivered`, { hint, details: detailsFor(about, batch.account, scheme) });
    const timeoutMs = Math.max(1, Math.min(config.timeoutMs, opts.timeoutMs));
    const request = buildProgramRequest({ id: opts.requestId, scheme, identity: batch.account, refs, deadline: Math.min(opts.deadline, Date.now() + timeoutMs) });
    const result = await runHelper({
      file: program,
      args: config.command.slice(1),
      env: helperEnv(host.env),
      input: `${JSON.stringify(request)}\n`,
      timeoutMs,
      signal,
      maxStdout: MAX_ANSWER_BYTES,
    });
    if (result.exitCode !== 0) {
      const end = describeEnd(result, timeoutMs);
      const hint = result.timedOut
        ? `the program may hang or be slow: ask the human to try it by hand (docs/providers.md) or raise providers.${scheme}.timeout; agents must not run the program themselves`
        : result.failedToStart
          ? hintFix
          : 'its stderr is not shown: ask the human to try the program by hand (docs/providers.md); agents must not run the program themselves';
      const error = new AgentSecretError(result.failedToStart ? 'provider.missing' : 'provider.failed', `${label} ${end} while resolving ${all}; nothing was delivered`, { hint, details });
      throw error;
    }
    const answer = parseProgramAnswer(result.stdout, refs);
    if (answer.kind === 'error') {
      const named = batch.entries.filter((e) => answer.errors.some((x) => x.ref === e.ref));
      const words = answer.errors[0]?.message ?? 'no reason given';
      throw fail(`${label} could not resolve ${describeEntries(named)}: the program says: ${words}`, 'check the reference with the human; agents must not run the program themselves', named);
    }
    if (answer.kind === 'malformed') {
      const named = answer.missing === undefined ? batch.entries : batch.entries.filter((e) => answer.missing?.includes(e.ref));
      throw fail(`${label} answered something agent-secret cannot use (it ${answer.problem}) while resolving ${describeEntries(named.length > 0 ? named : batch.entries)}`, 'the program breaks the provider protocol (docs/providers.md); fix the program, then retry', named.length > 0 ? named : batch.entries);
    }
    const byAlias = new Map<string, SecretValue>();
    for (const entry of batch.entries) {
      const value = new SecretValue(answer.values.get(entry.ref) ?? '');
      for (const alias of entry.aliases) byAlias.set(alias, value);
    }
    answer.values.clear();
    return byAlias;
  }

  return {
    scheme,
    label,
    identity: 'account',
    parse(ref) {
      if (schemeOf(ref) !== scheme) return { ok: false, message: `must start with ${scheme}://` };
      const parsed = parseProgramRef(ref);
      return parsed.ok ? { ok: true } : parsed;
    },
    async prepare() {
      if (!isExecutableFile(program)) {
        throw new AgentSecretError('provider.missing', `${label} (${program}) is not an executable file`, { hint: hintFix, details: { provider: scheme } });
      }
      return {
        async resolve(specs: readonly SecretSpec[], opts: ResolveOptions) {
          const batches = batchesOf(specs);
          const stop = new AbortController();
          const onAbort = () => stop.abort();
          opts.signal?.addEventListener('abort', onAbort, { once: true });
          if (opts.signal?.aborted === true) stop.abort();
          try {
            const outcomes = await eachBounded(batches, MAX_PARALLEL_PROGRAM_CALLS, stop, (batch) => call(batch, opts, stop.signal));
            if (!outcomes.complete) {
              for (const got of outcomes.values) got?.clear();
              if (outcomes.firstError !== undefined) throw outcomes.firstError;
              throw new AgentSecretError('provider.failed', `resolution through ${label} was cancelled; nothing was delivered`, { details: { provider: scheme } });
            }
            const values = new Map<string, SecretValue>();
            for (const got of outcomes.values) if (got !== undefined) for (const [alias, value] of got) values.set(alias, value);
            return values;
          } finally {
            opts.signal?.removeEventListener('abort', onAbort);
          }
        },
      };
    },
    async doctor(): Promise<DoctorCheck[]> {
      const name = `provider ${scheme}`;
      if (!isExecutableFile(program)) return [{ name, status: 'fail', detail: `${program} is not an executable file`, hint: hintFix }];
      const stats = statSync(program);
      const uid = host.uid;
      const writable = (stats.mode & 0o022) !== 0 || (uid >= 0 && stats.uid !== uid && stats.uid !== 0);
      const detail = `${program} (${scheme}:// references, timeout ${Math.round(config.timeoutMs / 1000)}s)`;
      if (writable) {
        return [{ name, status: 'warn', detail: `${detail}: writable by someone other than you or root, who could change what reads your secrets`, hint: `chmod go-w ${program} (and keep it owned by you or root)` }];
      }
      return [{ name, status: 'ok', detail, hint: null }];
    },
  };
}
