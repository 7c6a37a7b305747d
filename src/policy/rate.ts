// Rate limits of allow rules: at most `max` deliveries in any window of `perSeconds`. A delivery
// takes its slot when the rule decides (synchronously, so requests deciding at the same time
// never share a slot) and gives it back if nothing was delivered after all. Time is injected. Pure.

import type { RateLimit } from './types.js';

export interface RateTicket {
  /** Nothing was delivered: the slot is free again. Idempotent. */
  release(): void;
}

export interface RateLimiter {
  /** A slot of `rule`'s window at `now`, or null when the limit is reached. */
  take(rule: string, limit: RateLimit, now: number): RateTicket | null;
  /** Slots of `rule` in use in the window ending at `now`. */
  used(rule: string, limit: RateLimit, now: number): number;
  /** A delivery of `rule` at `at` made before this limiter existed (rebuilt from the audit log at start). */
  seed(rule: string, at: number): void;
}

export function createRateLimiter(): RateLimiter {
  const slots = new Map<string, number[]>();
  const live = (rule: string, limit: RateLimit, now: number): number[] => {
    const since = now - limit.perSeconds * 1000;
    const kept = (slots.get(rule) ?? []).filter((at) => at > since);
    if (kept.length === 0) slots.delete(rule);
    else slots.set(rule, kept);
    return kept;
  };
  return {
    take(rule, limit, now) {
      const kept = live(rule, limit, now);
      if (kept.length >= limit.max) return null;
      kept.push(now);
      slots.set(rule, kept);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          const list = slots.get(rule);
          const at = list?.indexOf(now) ?? -1;
          if (list !== undefined && at !== -1) list.splice(at, 1);
        },
      };
    },
    used: (rule, limit, now) => live(rule, limit, now).length,
    seed(rule, at) {
      const list = slots.get(rule) ?? [];
      list.push(at);
      list.sort((a, b) => a - b);
      slots.set(rule, list);
    },
  };
}

/** Seconds in the largest unit that divides them (`1h`, `10m`, `90s`): parseDuration's inverse. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) if (seconds > 0 && seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}
