// Resolves exactly the approved references: one `op inject` per 1Password account (accounts
// in parallel, bounded), unique (reference, account) pairs resolved once and fanned out to
// every alias. Specs come from the frozen request and are re-validated here. All or nothing:
// any failure rejects with a value-free AgentSecretError and no value leaves this module.

import { validateAccount } from '../../core/account.js';
import { AgentSecretError } from '../../core/errors.js';
import { parseRef } from '../../core/ref.js';
import { SecretValue } from '../../core/secret-value.js';
import type { SecretSpec } from '../../request/types.js';
import { batchesOf, type IdentityBatch } from '../batch.js';
import { interpretOpFailure } from './errors.js';
import { toProviderError, type FailureContext } from './failure.js';
import { buildInjectTemplate, splitInjectBytes } from './inject-template.js';
import { DEFAULT_OP_TIMEOUT_MS, runOp, type OpOptions, type OpRunResult } from './run-op.js';

/** Accounts resolved at the same time; each is one op process. */
export const MAX_PARALLEL_ACCOUNTS = 4;

type Batch = IdentityBatch;

/** Checks every spec again (alias once, reference, account), then groups them one batch per account (batchesOf). Pure. */
export function planBatches(specs: readonly SecretSpec[]): Batch[] {
  const seenAliases = new Set<string>();
  for (const spec of specs) {
    if (seenAliases.has(spec.alias)) {
      throw new AgentSecretError('alias.invalid', `alias ${spec.alias} is given more than once`, { details: { alias: spec.alias } });
    }
    seenAliases.add(spec.alias);
    const parsed = parseRef(spec.ref);
    if (!parsed.ok) {
      throw new AgentSecretError('ref.invalid', `${spec.alias}: ${parsed.message}`, { details: { alias: spec.alias, ref: spec.ref } });
    }
    if (spec.account !== null) {
      const account = validateAccount(spec.account);
      if (!account.ok) throw new AgentSecretError('account.invalid', `${spec.alias}: ${account.message}`, { details: { alias: spec.alias } });
    }
  }
  return batchesOf(specs);
}

/** Number of op processes resolveSecrets would start for these specs (for docs/bench). */
export function countOpCalls(specs: readonly SecretSpec[]): number {
  return new Set(specs.map((s) => (s.account === null ? '' : `@${s.account}`))).size;
}

type BatchOutcome = { ok: true; values: Map<string, SecretValue> } | { ok: false; error: AgentSecretError; siblingStopped: boolean };

/** Resolves every spec; the map has one SecretValue per alias. Rejects with AgentSecretError. */
export async function resolveSecrets(specs: readonly SecretSpec[], opts: OpOptions): Promise<Map<string, SecretValue>> {
  const batches = planBatches(specs);
  if (batches.length === 0) return new Map();
  if (opts.signal?.aborted === true) {
    throw new AgentSecretError('provider.failed', 'resolution was cancelled before op started; nothing was delivered');
  }

  // A failure in one account stops the others: nothing will be delivered anyway.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const outcomes: BatchOutcome[] = new Array<BatchOutcome>(batches.length);
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const index = next;
      next += 1;
      const batch = batches[index] as Batch;
      const outcome = await resolveBatch(batch, { ...opts, signal: stop.signal }, () => stop.signal.aborted && opts.signal?.aborted !== true);
      outcomes[index] = outcome;
      if (!outcome.ok) stop.abort();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL_ACCOUNTS, batches.length) }, worker));
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }

  const failure = outcomes.find((o) => !o.ok && !o.siblingStopped) ?? outcomes.find((o) => !o.ok);
  if (failure !== undefined && !failure.ok) throw failure.error;

  const byAlias = new Map<string, SecretValue>();
  for (const outcome of outcomes) {
    if (outcome.ok) for (const [alias, value] of outcome.values) byAlias.set(alias, value);
  }
  // Keep the caller's order and check that every alias is present.
  const result = new Map<string, SecretValue>();
  for (const spec of specs) {
    const value = byAlias.get(spec.alias);
    if (value === undefined) throw new AgentSecretError('internal', `no value was resolved for ${spec.alias}`, { details: { alias: spec.alias } });
    result.set(spec.alias, value);
  }
  return result;
}

async function resolveBatch(batch: Batch, opts: OpOptions, stoppedBySibling: () => boolean): Promise<BatchOutcome> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_OP_TIMEOUT_MS;
  const serviceToken = batch.account === null ? undefined : opts.serviceTokens?.get(batch.account);
  const context: FailureContext = { account: batch.account, entries: batch.entries, timeoutMs, serviceAccount: serviceToken !== undefined };
  const aborted = () => opts.signal?.aborted === true;
  if (aborted()) {
    return { ok: false, error: toProviderError(canceledResult(), context), siblingStopped: stoppedBySibling() };
  }
  const template = buildInjectTemplate(batch.entries.map((e) => e.ref));
  // Bytes, not text: a document delivered as a file must keep every byte.
  const call = { args: ['inject'], account: batch.account, inFile: template.text, serviceToken, binary: true };

  let result: OpRunResult;
  try {
    result = await runOp(call, opts);
    // The desktop-app connection sometimes fails once and works on the next try.
    if (isTransient(result) && !aborted()) result = await runOp(call, opts);
  } catch (error) {
    if (error instanceof AgentSecretError) return { ok: false, error, siblingStopped: false };
    throw error;
  }

  if (result.exitCode !== 0 || result.timedOut || result.canceled || result.overflowed) {
    return { ok: false, error: toProviderError(result, context), siblingStopped: result.canceled && stoppedBySibling() };
  }
  const values = splitInjectBytes(result.stdoutBytes ?? new Uint8Array(), template);
  if (values === null) {
    const error = new AgentSecretError(
      'provider.failed',
      `op inject returned output that does not match the request${batch.account === null ? '' : ` in account ${batch.account}`}; nothing was delivered`,
      { hint: 'run `agent-secret doctor`; if op is current, report this with the op version' },
    );
    return { ok: false, error, siblingStopped: false };
  }
  const byAlias = new Map<string, SecretValue>();
  batch.entries.forEach((entry, index) => {
    const value = new SecretValue(values[index] ?? Buffer.alloc(0));
    for (const alias of entry.aliases) byAlias.set(alias, value);
  });
  // The SecretValues hold copies: the plaintext buffers go now, not at GC.
  for (const value of values) value.fill(0);
  result.stdoutBytes?.fill(0);
  return { ok: true, values: byAlias };
}

function isTransient(result: OpRunResult): boolean {
  return result.exitCode !== null && result.exitCode !== 0 && interpretOpFailure(result.stderr, result.exitCode).kind === 'transient';
}

function canceledResult(): OpRunResult {
  return { exitCode: null, stdout: '', stderr: '', timedOut: false, failedToStart: false, canceled: true, overflowed: false };
}
