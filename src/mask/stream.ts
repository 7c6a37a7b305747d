// The masker as a Node Transform for a child's stdout or stderr. Input: untrusted child bytes.
// Release rule: Masker.push already returns every byte that no continuation of the stream can
// turn into part of an occurrence; what it holds back always starts at a live partial match (a
// proper prefix of some pattern, or a match that a longer pattern may still extend). By the
// masking contract such bytes must stay held until more output resolves them or the stream ends,
// so an idle-flush timer could release nothing more: there is none, and output that cannot be
// the start of a secret is forwarded in the same tick it arrives.

import { Transform } from 'node:stream';
import type { Masker } from './masker.js';

/** Wraps a masker in a Transform: chunks are masked as they arrive, the held tail on end. */
export function createMaskTransform(masker: Masker): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let out: Buffer;
      try {
        out = masker.push(chunk);
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback(null, out.length === 0 ? undefined : out);
    },
    flush(callback) {
      let out: Buffer;
      try {
        out = masker.end();
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback(null, out.length === 0 ? undefined : out);
    },
  });
}
