// SecretValue is the only holder of plaintext in agent-secret. Every way a value could be
// turned into text by accident (string coercion, JSON, util.inspect, template literals)
// yields a redaction marker; the plaintext leaves only through `reveal()`: for the child's
// environment and its output masker (exec/), and for the broker's deliver bodies (broker/ops/).

const REDACTED = '[redacted secret]';
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The plaintext. Call only where the value is handed to the approved child. */
  reveal(): string {
    return this.#value;
  }

  /** Length in UTF-16 code units; safe to log nowhere, but useful for masking thresholds. */
  get length(): number {
    return this.#value.length;
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
