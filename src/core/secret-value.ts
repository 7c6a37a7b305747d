// SecretValue is the only holder of plaintext in agent-secret. Every way a value could be
// turned into text by accident (string coercion, JSON, util.inspect, template literals)
// yields a redaction marker; the plaintext leaves only through `reveal()` (text) or
// `revealBytes()` (the exact bytes, for a delivered file): for the child's environment, its
// delivered files and its output masker (exec/), and for the broker's deliver bodies (broker/ops/).
// A value resolved as bytes (a binary document) keeps them exactly; as text it is their UTF-8
// decoding.

const REDACTED = '[redacted secret]';
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

export class SecretValue {
  #value: string | null;
  readonly #bytes: Buffer | null;

  /** From text, or from bytes (copied: the caller may wipe its buffer). */
  constructor(value: string | Uint8Array) {
    this.#value = typeof value === 'string' ? value : null;
    this.#bytes = typeof value === 'string' ? null : Buffer.from(value);
  }

  /** The plaintext as text (bytes decoded as UTF-8). Call only where the value is handed to the approved child. */
  reveal(): string {
    this.#value ??= (this.#bytes as Buffer).toString('utf8');
    return this.#value;
  }

  /** The plaintext's exact bytes, a fresh copy the caller may wipe. Call only where a delivered file is written. */
  revealBytes(): Buffer {
    return this.#bytes === null ? Buffer.from(this.#value as string, 'utf8') : Buffer.from(this.#bytes);
  }

  /** Length in UTF-16 code units of the text; safe to log nowhere, but useful for masking thresholds. */
  get length(): number {
    return this.reveal().length;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspectSymbol](): string {
    return REDACTED;
  }
}

export const REDACTION_MARKER = REDACTED;
