// The hash chain of the audit trail. Every line carries `seq` (1, 2, 3 … across all files) and
// `prev_hash`: the SHA-256 (hex) of the previous line's exact bytes without its newline, or, for
// the first line of a trail, of GENESIS. Pure: bytes in, links and hashes out.

import { createHash } from 'node:crypto';

/** The fixed string whose SHA-256 is the `prev_hash` of the very first line of a trail. */
export const GENESIS = 'agent-secret audit trail genesis v1';

/** sha256(GENESIS), hex. */
export const GENESIS_HASH = sha256Hex(Buffer.from(GENESIS, 'utf8'));

/** What the next line must carry to continue the chain. */
export interface ChainLink {
  seq: number;
  prev_hash: string;
}

/** One line as the chain sees it: chained, written before the chain existed, or unreadable. */
export type ChainLine = { kind: 'chained'; seq: number; prevHash: string; event: string | null } | { kind: 'unchained' } | { kind: 'unparsable' };

const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** The SHA-256 of some bytes, as lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads the chain fields of one line (bytes without the newline). */
export function parseChainLine(bytes: Uint8Array): ChainLine {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return { kind: 'unparsable' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'unparsable' };
  const record = value as Record<string, unknown>;
  if (!('seq' in record) && !('prev_hash' in record)) {
    // A line from before the chain: an audit record with neither field.
    return typeof record.event === 'string' ? { kind: 'unchained' } : { kind: 'unparsable' };
  }
  const { seq, prev_hash: prevHash } = record;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return { kind: 'unparsable' };
  if (typeof prevHash !== 'string' || !HASH_PATTERN.test(prevHash)) return { kind: 'unparsable' };
  return { kind: 'chained', seq, prevHash, event: typeof record.event === 'string' ? record.event : null };
}

/** The link for the line after `last` (bytes of the last line), or the genesis link when there is none. */
export function nextLink(last: Uint8Array | null): ChainLink | null {
  if (last === null) return { seq: 1, prev_hash: GENESIS_HASH };
  const line = parseChainLine(last);
  if (line.kind === 'unparsable') return null;
  // The first chained line after lines from before the chain links to the last of them.
  return { seq: line.kind === 'chained' ? line.seq + 1 : 1, prev_hash: sha256Hex(last) };
}
