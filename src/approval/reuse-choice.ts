// The "allow this exact request again for a while" choice every interactive approver offers:
// the duration presets (never longer than the request ttl; the ttl itself is the default), the
// use-count presets (default 3; 1..20), their labels, and the bounds check every answer goes
// through. Pure; the labels are our own text, never agent input.

import { formatRemaining } from './display.js';
import type { ApprovalPrompt, ReuseGrant } from './types.js';

export const REUSE_LIMITS = {
  minTtlSeconds: 1,
  minUses: 1,
  /** The daemon stores at most this many uses (docs/daemon.md). */
  maxUses: 20,
  defaultUses: 3,
} as const;

/** Duration presets in seconds (1, 2, 5, 10 minutes), clipped to the request ttl. */
export const REUSE_DURATION_PRESETS: readonly number[] = [60, 120, 300, 600];

/** Use-count presets; the first delivery counts as one of them. */
export const REUSE_USE_PRESETS: readonly number[] = [3, 5, 10, 20];

/** One offered value and the label a dialog shows for it. */
export interface ReuseOption {
  value: number;
  label: string;
}

/** The durations and use counts offered for one prompt, defaults first. */
export interface ReuseChoices {
  durations: ReuseOption[];
  uses: ReuseOption[];
  defaults: ReuseGrant;
}

/** True when the prompt may offer the reusable choice: an exec prompt with a usable whole-second ttl. Pure. */
export function offersReuse(prompt: Pick<ApprovalPrompt, 'operation' | 'allows_reusable' | 'ttl_seconds'>): boolean {
  return prompt.operation === 'exec' && prompt.allows_reusable && Number.isSafeInteger(prompt.ttl_seconds) && prompt.ttl_seconds >= REUSE_LIMITS.minTtlSeconds;
}

/**
 * The choices for a request ttl: the ttl itself (the default), then each preset shorter than
 * it, longest first; use counts 3, 5, 10, 20 with 3 first. Pure.
 */
export function reuseChoices(ttlSeconds: number): ReuseChoices {
  const ttl = Number.isSafeInteger(ttlSeconds) && ttlSeconds >= REUSE_LIMITS.minTtlSeconds ? ttlSeconds : REUSE_LIMITS.minTtlSeconds;
  const seconds = [ttl, ...REUSE_DURATION_PRESETS.filter((s) => s < ttl).sort((a, b) => b - a)];
  return {
    durations: seconds.map((value) => ({ value, label: durationLabel(value) })),
    uses: REUSE_USE_PRESETS.map((value) => ({ value, label: String(value) })),
    defaults: { ttlSeconds: ttl, maxUses: REUSE_LIMITS.defaultUses },
  };
}

/** `10 minutes`, `1 min 30 sec`, `45 sec`. Pure. */
export function durationLabel(seconds: number): string {
  return formatRemaining(seconds * 1000);
}

/** `3 runs (this one and 2 more)`, `1 run (this one only)`. Pure. */
export function usesLabel(uses: number): string {
  if (uses === 1) return '1 run (this one only)';
  return `${uses} runs (this one and ${uses - 1} more)`;
}

/** The answer if both parts are whole numbers within the bounds (ttl ≤ the request ttl, uses 1..20), else null. Pure. */
export function checkReuse(grant: ReuseGrant, requestTtlSeconds: number): ReuseGrant | null {
  const { ttlSeconds, maxUses } = grant;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < REUSE_LIMITS.minTtlSeconds || ttlSeconds > requestTtlSeconds) return null;
  if (!Number.isSafeInteger(maxUses) || maxUses < REUSE_LIMITS.minUses || maxUses > REUSE_LIMITS.maxUses) return null;
  return { ttlSeconds, maxUses };
}

/**
 * Reads a duration a person typed: empty is the default; `90s`, `5m`, `1m30s` (also with
 * spaces or `sec`/`min`) within 1 s .. the request ttl; anything else is null. Pure.
 */
export function parseTypedDuration(text: string, ttlSeconds: number): number | null {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === '') return ttlSeconds;
  const match = /^(?:(\d{1,4})\s*(?:m|min|mins|minutes?))?\s*(?:(\d{1,5})\s*(?:s|sec|secs|seconds?))?$/.exec(trimmed);
  if (match === null || (match[1] === undefined && match[2] === undefined)) return null;
  const seconds = Number(match[1] ?? '0') * 60 + Number(match[2] ?? '0');
  return seconds >= REUSE_LIMITS.minTtlSeconds && seconds <= ttlSeconds ? seconds : null;
}

/** Reads a use count a person typed: empty is the default (3); a whole number 1..20; anything else is null. Pure. */
export function parseTypedUses(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return REUSE_LIMITS.defaultUses;
  if (!/^\d{1,2}$/.test(trimmed)) return null;
  const uses = Number(trimmed);
  return uses >= REUSE_LIMITS.minUses && uses <= REUSE_LIMITS.maxUses ? uses : null;
}
