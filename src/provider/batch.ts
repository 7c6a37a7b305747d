// Shared by every provider: a batch is the unique references of one identity (account, source)
// with the aliases that asked for each, and failures name them as `ALIAS (ref), …`. Pure.

import type { ErrorDetails } from '../core/errors.js';
import type { SecretSpec } from '../request/types.js';

/** One unique reference of a batch and every alias that asked for it. */
export interface BatchEntry {
  readonly ref: string;
  readonly aliases: readonly string[];
}

/** The references of one identity, unique, in first-seen order. */
export interface IdentityBatch {
  readonly account: string | null;
  readonly entries: readonly BatchEntry[];
}

const MAX_LISTED = 6;

/** Groups specs by identity (`account`), each reference once with its aliases, in first-seen order. Pure. */
export function batchesOf(specs: readonly SecretSpec[]): IdentityBatch[] {
  const batches = new Map<string, { account: string | null; refs: Map<string, string[]> }>();
  for (const spec of specs) {
    const key = spec.account === null ? '' : `@${spec.account}`;
    let batch = batches.get(key);
    if (batch === undefined) {
      batch = { account: spec.account, refs: new Map() };
      batches.set(key, batch);
    }
    const aliases = batch.refs.get(spec.ref);
    if (aliases === undefined) batch.refs.set(spec.ref, [spec.alias]);
    else aliases.push(spec.alias);
  }
  return [...batches.values()].map((b) => ({ account: b.account, entries: [...b.refs].map(([ref, aliases]) => ({ ref, aliases })) }));
}

/** An alias as a message names it: a template's reference (resolution key ALIAS#N, request/template.ts) is `template ALIAS`. Pure. */
export function shownAlias(alias: string): string {
  const hash = alias.indexOf('#');
  return hash < 0 ? alias : `template ${alias.slice(0, hash)}`;
}

/** "A (op://…), B, C (op://…)" for the given entries, clipped to a few. Pure. */
export function describeEntries(entries: readonly BatchEntry[]): string {
  const shown = entries.slice(0, MAX_LISTED).map((e) => `${[...new Set(e.aliases.map(shownAlias))].join(', ')} (${e.ref})`);
  const more = entries.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

/** The error details of a batch failure: its first alias and reference, and the identity. Pure. */
export function detailsFor(entries: readonly BatchEntry[], account: string | null, provider?: string): ErrorDetails {
  const first = entries[0];
  const details: ErrorDetails = {};
  if (first !== undefined) {
    const alias = first.aliases[0];
    if (alias !== undefined) details.alias = alias;
    details.ref = first.ref;
  }
  if (account !== null) details.account = account;
  if (provider !== undefined) details.provider = provider;
  return details;
}

/**
 * Runs `work` over items, at most `limit` at a time. The first failure (in time: the cause; the
 * failures after it were stopped by it) aborts `stop` and no new item starts. `values` is
 * complete only when nothing failed and nothing was stopped.
 */
export async function eachBounded<T, R>(items: readonly T[], limit: number, stop: AbortController, work: (item: T) => Promise<R>): Promise<{ values: Array<R | undefined>; complete: boolean; firstError: unknown }> {
  const values = new Array<R | undefined>(items.length);
  let done = 0;
  let failed = false;
  let firstError: unknown = undefined;
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop.signal.aborted) {
      const index = next;
      next += 1;
      try {
        values[index] = await work(items[index] as T);
        done += 1;
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
        }
        stop.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return { values, complete: !failed && done === items.length, firstError: failed ? firstError : undefined };
}
