// schema/agent-secret.schema.json is generated from the zod schema and committed for editors.
// If this fails after a schema change, regenerate the file with:
//   npx vitest run --project unit test/unit/config/json-schema.test.ts -u

import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../../src/config/index.js';

describe('configJsonSchema', () => {
  it('matches the committed schema/agent-secret.schema.json', async () => {
    await expect(`${JSON.stringify(configJsonSchema(), null, 2)}\n`).toMatchFileSnapshot('../../../schema/agent-secret.schema.json');
  });

  it('is strict at every level and requires version and profiles', () => {
    // Walks the generated JSON without typing every level of it.
    const at = (value: unknown, ...path: Array<string | number>): unknown =>
      path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], value);
    const schema = configJsonSchema();
    expect(at(schema, 'additionalProperties')).toBe(false);
    expect(at(schema, 'required')).toEqual(['version', 'profiles']);
    const profiles = at(schema, 'properties', 'profiles');
    expect(at(profiles, 'minProperties')).toBe(1);
    expect(at(profiles, 'propertyNames', 'pattern')).toBe('^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');
    expect(at(profiles, 'additionalProperties', 'additionalProperties')).toBe(false);
    const secretObject = at(profiles, 'additionalProperties', 'properties', 'secrets', 'additionalProperties', 'anyOf', 1);
    expect(at(secretObject, 'additionalProperties')).toBe(false);
    expect(Object.keys(at(secretObject, 'properties') as object)).toEqual(['ref', 'account']);
  });
});
