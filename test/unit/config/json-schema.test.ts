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
    const schema = configJsonSchema() as Record<string, any>;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['version', 'profiles']);
    const profiles = schema.properties.profiles;
    expect(profiles.minProperties).toBe(1);
    expect(profiles.propertyNames.pattern).toBe('^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');
    expect(profiles.additionalProperties.additionalProperties).toBe(false);
    const secretObject = profiles.additionalProperties.properties.secrets.additionalProperties.anyOf[1];
    expect(secretObject.additionalProperties).toBe(false);
    expect(Object.keys(secretObject.properties)).toEqual(['ref', 'account']);
  });
});
