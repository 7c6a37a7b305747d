import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateAlias } from '../../../src/core/alias.js';
import { AgentSecretError } from '../../../src/core/errors.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import { buildChildEnv, findEnvConflicts } from '../../../src/exec/index.js';

const CANARY = 'canary-7f3a-do-not-print';
const secrets = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k, new SecretValue(v)]));

function thrown(fn: () => unknown): AgentSecretError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AgentSecretError);
    return error as AgentSecretError;
  }
  throw new Error('expected a throw');
}

describe('findEnvConflicts', () => {
  it('returns the aliases already set in base, sorted and once each', () => {
    const base = { ZED: 'z', API_TOKEN: 't', UNSET: undefined, PATH: '/bin' };
    expect(findEnvConflicts(base, ['ZED', 'NEW', 'API_TOKEN', 'ZED', 'UNSET'])).toEqual(['API_TOKEN', 'ZED']);
    expect(findEnvConflicts(base, [])).toEqual([]);
  });

  it('does not count inherited object properties as present', () => {
    expect(findEnvConflicts({}, ['constructor', 'toString'])).toEqual([]);
  });
});

describe('buildChildEnv', () => {
  it.each([
    ['keeps the base', { base: { A: '1', B: '2' }, plain: [] }, { A: '1', B: '2' }],
    ['drops undefined base entries', { base: { A: '1', B: undefined }, plain: [] }, { A: '1' }],
    ['lets plain entries override the base', { base: { A: '1', B: '2' }, plain: [{ key: 'B', value: 'plain' }] }, { A: '1', B: 'plain' }],
    ['removes removeNames from the base', { base: { A: '1', TOKEN: 'old' }, plain: [], removeNames: ['TOKEN'] }, { A: '1' }],
    ['lets a later plain entry of the same key win', { base: {}, plain: [{ key: 'K', value: '1' }, { key: 'K', value: '2' }] }, { K: '2' }],
  ])('%s', (_name, input, expected) => {
    expect(buildChildEnv({ ...input, secrets: new Map() })).toEqual(expected);
  });

  it('adds secrets after everything else, in sorted alias order, replacing same-named entries', () => {
    const env = buildChildEnv({
      base: { PATH: '/bin', ZETA: 'base' },
      plain: [{ key: 'ALPHA', value: 'plain' }],
      secrets: secrets({ ZETA: 'z-secret', ALPHA: 'a-secret', MID: 'm-secret' }),
    });
    expect(env).toEqual({ PATH: '/bin', ALPHA: 'a-secret', MID: 'm-secret', ZETA: 'z-secret' });
    expect(Object.keys(env)).toEqual(['PATH', 'ALPHA', 'MID', 'ZETA']);
  });

  it('sets extra entries last, over everything', () => {
    const env = buildChildEnv({
      base: { AGENT_SECRET_REQUEST_ID: 'parent' },
      plain: [],
      secrets: secrets({ TOKEN: 't' }),
      extra: { AGENT_SECRET_REQUEST_ID: 'req_1' },
    });
    expect(env).toEqual({ TOKEN: 't', AGENT_SECRET_REQUEST_ID: 'req_1' });
  });

  it('delivers an empty value as an empty variable', () => {
    expect(buildChildEnv({ base: {}, plain: [], secrets: secrets({ EMPTY: '' }) })).toEqual({ EMPTY: '' });
  });

  it('delivers multiline values byte for byte', () => {
    const pem = '-----BEGIN KEY-----\r\nAAAA\nBBBB  \n\t\n-----END KEY-----\n\n';
    const json = '{\n  "a": "ü 🔑",\n  "b": [1, 2]\n}';
    expect(buildChildEnv({ base: {}, plain: [], secrets: secrets({ PEM: pem, JSON_BLOB: json }) })).toEqual({ JSON_BLOB: json, PEM: pem });
  });

  it('keeps a base key named __proto__ as an ordinary entry', () => {
    const base = JSON.parse('{"__proto__":"x","A":"1"}') as Record<string, string>;
    const env = buildChildEnv({ base, plain: [], secrets: new Map() });
    expect(Object.hasOwn(env, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
  });

  it('refuses a secret with a NUL character, naming the alias but not the value', () => {
    const error = thrown(() => buildChildEnv({ base: {}, plain: [], secrets: secrets({ BLOB: `${CANARY}\0tail` }) }));
    expect(error.code).toBe('exec.spawn_failed');
    expect(error.message).toBe('secret BLOB contains a NUL character and cannot be passed in the environment');
    expect(error.details).toEqual({ alias: 'BLOB' });
    expect(JSON.stringify({ message: error.message, hint: error.hint, details: error.details, stack: error.stack })).not.toContain(CANARY);
  });

  it('refuses a plain entry with a NUL character or a bad name', () => {
    expect(thrown(() => buildChildEnv({ base: {}, plain: [{ key: 'P', value: 'a\0b' }], secrets: new Map() })).details).toEqual({ key: 'P' });
    expect(thrown(() => buildChildEnv({ base: { 'A=B': 'x' }, plain: [], secrets: new Map() })).code).toBe('exec.spawn_failed');
    expect(thrown(() => buildChildEnv({ base: {}, plain: [{ key: '', value: 'x' }], secrets: new Map() })).code).toBe('exec.spawn_failed');
  });

  it('refuses to deliver a secret under a loader or malformed name', () => {
    expect(thrown(() => buildChildEnv({ base: {}, plain: [], secrets: secrets({ LD_PRELOAD: CANARY }) })).code).toBe('alias.invalid');
    expect(thrown(() => buildChildEnv({ base: {}, plain: [], secrets: secrets({ 'A=B': CANARY }) })).code).toBe('alias.invalid');
  });

  it('is exactly base minus removed, then plain, then secrets, then extra (property)', () => {
    const key = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,6}$/);
    const alias = key.filter((k) => validateAlias(k).ok);
    const value = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((v) => !v.includes('\0'));
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.option(value, { nil: undefined })),
        fc.array(fc.record({ key, value })),
        fc.array(key),
        fc.dictionary(alias, value),
        fc.dictionary(key, value),
        (base, plain, removeNames, secretEntries, extra) => {
          const secretMap = secrets(secretEntries);
          const env = buildChildEnv({ base, plain, removeNames, secrets: secretMap, extra });
          const expected: Record<string, string> = {};
          for (const [k, v] of Object.entries(base)) if (v !== undefined && !removeNames.includes(k)) expected[k] = v;
          for (const p of plain) expected[p.key] = p.value;
          for (const [k, v] of Object.entries(secretEntries)) expected[k] = v;
          Object.assign(expected, extra);
          expect(env).toEqual(expected);
          // Every secret arrives, unless extra deliberately names the same variable.
          for (const [k, v] of Object.entries(secretEntries)) if (!(k in extra)) expect(env[k]).toBe(v);
        },
      ),
      { numRuns: 300 },
    );
  });
});
