// node:crypto, loaded on first use. The reused-exec fast path (cli/fast-exec.ts) shares modules
// that need it only now and then (a lock nonce, a hash for a fallback path); loading it up front
// costs about 2 ms of a start that is measured against a bare `node`.

import type * as NodeCrypto from 'node:crypto';

/** The node:crypto module. */
export function nodeCrypto(): typeof NodeCrypto {
  return process.getBuiltinModule('node:crypto');
}
