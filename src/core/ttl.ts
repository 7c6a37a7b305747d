// Request TTL: how long a prompt may wait, how long resolution may take, and the window of a
// reusable approval. Written like Go durations (`90s`, `2m`, `1m30s`), 10s..10m inclusive.

export const DEFAULT_TTL_SECONDS = 120;
export const MIN_TTL_SECONDS = 10;
export const MAX_TTL_SECONDS = 600;

export type TtlResult = { ok: true; seconds: number } | { ok: false; message: string };

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Parses a duration such as `90s`, `2m` or `1m30s` and checks the allowed range. Pure. */
export function parseTtl(text: string): TtlResult {
  const trimmed = text.trim();
  const match = DURATION.exec(trimmed);
  if (trimmed.length === 0 || match === null) {
    return { ok: false, message: `"${clip(trimmed)}" is not a duration; write it like 90s, 2m or 1m30s` };
  }
  const [, h = '0', m = '0', s = '0'] = match;
  const seconds = Number(h) * 3600 + Number(m) * 60 + Number(s);
  return checkTtlRange(seconds);
}

export function checkTtlRange(seconds: number): TtlResult {
  if (!Number.isInteger(seconds) || seconds < MIN_TTL_SECONDS || seconds > MAX_TTL_SECONDS) {
    return { ok: false, message: `ttl must be between 10s and 10m (got ${formatTtl(seconds)})` };
  }
  return { ok: true, seconds };
}

/** Formats seconds as the shortest duration string (`2m`, `1m30s`, `45s`). */
export function formatTtl(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const whole = Math.trunc(seconds);
  const m = Math.trunc(whole / 60);
  const s = whole % 60;
  if (m === 0) return `${s}s`;
  return s === 0 ? `${m}m` : `${m}m${s}s`;
}

function clip(text: string): string {
  return (text.length > 32 ? `${text.slice(0, 32)}…` : text).replace(/[^\x20-\x7e]/g, '?');
}
