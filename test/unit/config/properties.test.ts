// Properties of the two untrusted-text parsers: (a) any input gives a result or a returned
// issue/AgentSecretError, never a throw; (b) a canary secret placed anywhere in the text never
// appears in an issue message, key or hint. Profile names are names and are shown by design,
// so inputs where the canary ends up inside a profile name are set aside.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, parseDocument } from 'yaml';
import { parseConfigText, parseEnvFileText, type ConfigIssue } from '../../../src/config/index.js';
import { AgentSecretError } from '../../../src/core/errors.js';

const CANARY = 'CANARY-s3cr3t-9f2c';
const RUNS = { numRuns: 400 };

const CONFIG_TEMPLATE = [
  'version: 1',
  'account: team.1password.com',
  'default_profile: deploy',
  'profiles:',
  '  base: &base',
  '    reason: "Shared access"',
  '    ttl: 2m',
  '    account: base.1password.com',
  '    secrets:',
  '      DB_PASSWORD: op://Dev/Postgres/password',
  '      API_TOKEN: { ref: "op://Dev/API/token?attribute=otp", account: other }',
  '  deploy:',
  '    include: [base]',
  "    reason: 'Deploy it'",
  '    secrets:',
  '      FLY_TOKEN: op://Deploy/Fly/credential',
  '  copy: *base',
  '',
].join('\n');

const ENV_TEMPLATE = [
  '# comment',
  'export API_TOKEN=op://Dev/API/token',
  'DB="op://Dev/Postgres/password" # db',
  "PLAIN='value'",
  'OTHER=plain value # note',
  'ESCAPED="a\\tb\\$c"',
  'OTP=op://Dev/GitHub/one-time password?attribute=otp',
  '',
].join('\n');

// Fragments that make YAML and dotenv parsers take interesting paths.
const YAML_BITS = ['version: 1\n', 'profiles:\n', '  p:\n', '    secrets:\n', '      A: ', 'op://v/i/f', '&a ', '*a', '{', '}', '[', ']', ':', '- ', '"', "'", '\\', '\n', '\t', '  ', '#', '!tag ', '---\n', '? ', 'ttl: ', 'reason: ', 'include: ', ','];
const ENV_BITS = ['export ', 'A', '_B', '=', '"', "'", '\\', '\\n', '#', ' ', '\t', '\n', '\r\n', 'op://', 'v/i/f', '?attribute=', '$', '\u0000'];

const fromBits = (bits: string[]) => fc.array(fc.oneof(fc.constantFrom(...bits), fc.string({ maxLength: 6 })), { maxLength: 40 }).map((parts) => parts.join(''));
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 300 }));

/** Inserts the canary at a position of the text (possibly replacing a few characters). */
const withCanary = (base: fc.Arbitrary<string>) =>
  fc.tuple(base, fc.nat(), fc.nat({ max: 4 })).map(([text, at, cut]) => {
    const i = text.length === 0 ? 0 : at % (text.length + 1);
    return text.slice(0, i) + CANARY + text.slice(i + cut);
  });

function issueText(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `${i.message}\n${i.key ?? ''}\n${i.hint ?? ''}\n${i.file}`).join('\n');
}

// True when the canary ended up inside a profile name, which messages show by design.
function canaryInProfileName(text: string): boolean {
  try {
    const doc = parseDocument(text, { logLevel: 'error', uniqueKeys: false });
    const profiles = isMap(doc.contents) ? doc.contents.get('profiles', true) : undefined;
    if (!isMap(profiles)) return false;
    return profiles.items.some((pair) => isScalar(pair.key) && String(pair.key.value).toLowerCase().includes(CANARY.toLowerCase()));
  } catch {
    return false;
  }
}

describe('parseConfigText properties', () => {
  it('never throws on arbitrary or YAML-like text', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fromBits(YAML_BITS), withCanary(fc.constant(CONFIG_TEMPLATE))), (text) => {
        const result = parseConfigText(text, 'agent-secret.yml');
        if (!result.ok) {
          expect(result.issues.length).toBeGreaterThan(0);
          for (const issue of result.issues) expect(issue.message.startsWith('agent-secret.yml:')).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('never repeats a canary placed anywhere in the file', () => {
    const inputs = fc.oneof(
      withCanary(fc.constant(CONFIG_TEMPLATE)),
      withCanary(fc.constant(CONFIG_TEMPLATE.replace('ttl: 2m', 'ttl: '))),
      withCanary(fc.constant(CONFIG_TEMPLATE.replace('op://Dev/Postgres/password', 'op://Dev/Postgres/password?attribute='))),
      withCanary(fromBits(YAML_BITS)),
      withCanary(anyText),
    );
    fc.assert(
      fc.property(inputs, (text) => {
        fc.pre(!canaryInProfileName(text));
        const result = parseConfigText(text, 'agent-secret.yml');
        if (!result.ok) expect(issueText(result.issues).toLowerCase()).not.toContain(CANARY.toLowerCase());
      }),
      { numRuns: 1500 },
    );
  });

  it('the canary sweep covers every position of the template', () => {
    for (let i = 0; i <= CONFIG_TEMPLATE.length; i += 1) {
      const text = CONFIG_TEMPLATE.slice(0, i) + CANARY + CONFIG_TEMPLATE.slice(i);
      if (canaryInProfileName(text)) continue;
      const result = parseConfigText(text, 'agent-secret.yml');
      if (!result.ok) expect(issueText(result.issues).toLowerCase(), `canary at offset ${i}`).not.toContain(CANARY.toLowerCase());
    }
  });
});

describe('parseEnvFileText properties', () => {
  it('never throws; failures are env_file.invalid AgentSecretErrors with file:line', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fromBits(ENV_BITS), withCanary(fc.constant(ENV_TEMPLATE))), (text) => {
        const result = parseEnvFileText(text, '.env');
        if (!result.ok) {
          expect(result.error).toBeInstanceOf(AgentSecretError);
          expect(result.error.code).toBe('env_file.invalid');
          expect(result.error.message).toMatch(/^\.env:\d+: /);
        }
      }),
      RUNS,
    );
  });

  it('never repeats a canary placed anywhere in the file', () => {
    const inputs = fc.oneof(withCanary(fc.constant(ENV_TEMPLATE)), withCanary(fromBits(ENV_BITS)), withCanary(anyText));
    fc.assert(
      fc.property(inputs, (text) => {
        const result = parseEnvFileText(text, '.env');
        if (!result.ok) {
          const shown = `${result.error.message}\n${result.error.hint ?? ''}\n${JSON.stringify(result.error.details)}`;
          expect(shown.toLowerCase()).not.toContain(CANARY.toLowerCase());
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('the canary sweep covers every position of the template', () => {
    for (let i = 0; i <= ENV_TEMPLATE.length; i += 1) {
      const result = parseEnvFileText(ENV_TEMPLATE.slice(0, i) + CANARY + ENV_TEMPLATE.slice(i), '.env');
      if (!result.ok) expect(`${result.error.message} ${result.error.hint ?? ''}`.toLowerCase(), `canary at offset ${i}`).not.toContain(CANARY.toLowerCase());
    }
  });
});
