import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../../src/core/secret-value.js';

const CANARY = 'CANARY-unit-secret-value-4d1f';

describe('SecretValue', () => {
  const value = new SecretValue(CANARY);
  const renderings: Array<[string, () => string]> = [
    ['String()', () => String(value)],
    ['template literal', () => `${value}`],
    ['concatenation', () => 'x' + value],
    ['JSON.stringify', () => JSON.stringify({ value })],
    ['util.inspect', () => inspect(value)],
    ['util.inspect nested', () => inspect({ deep: { value } }, { depth: 5 })],
    ['Error message', () => new Error(`failed with ${value}`).message],
    ['Object.keys', () => Object.keys(value).join(',')],
  ];
  for (const [name, render] of renderings) {
    it(`redacts in ${name}`, () => expect(render()).not.toContain(CANARY));
  }
  it('reveals only on request', () => expect(value.reveal()).toBe(CANARY));
});

describe('SecretValue from bytes', () => {
  const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x43, 0x41, 0x4e, 0x41, 0x52, 0x59, 0x0a, 0x80]);
  it('keeps the exact bytes, also after the source buffer is wiped', () => {
    const source = Buffer.from(bytes);
    const value = new SecretValue(source);
    source.fill(0);
    expect(value.revealBytes().equals(bytes)).toBe(true);
    // A fresh copy each time: wiping one does not touch the value.
    value.revealBytes().fill(0);
    expect(value.revealBytes().equals(bytes)).toBe(true);
  });
  it('reveals the UTF-8 decoding as text, and text as its UTF-8 bytes', () => {
    expect(new SecretValue(Buffer.from('naïve ✓', 'utf8')).reveal()).toBe('naïve ✓');
    expect(new SecretValue('naïve ✓').revealBytes().toString('utf8')).toBe('naïve ✓');
  });
  it('redacts like a text value', () => {
    const value = new SecretValue(Buffer.from('CANARY-bytes-value-77aa'));
    expect(`${value} ${JSON.stringify({ value })} ${inspect(value)}`).not.toContain('CANARY');
  });
});
