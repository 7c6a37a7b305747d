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
