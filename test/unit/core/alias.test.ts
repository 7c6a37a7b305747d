import { describe, expect, it } from 'vitest';
import { validateAlias } from '../../../src/core/alias.js';

const allowed = (alias: string) => () => expect(validateAlias(alias)).toEqual({ ok: true });
const refused = (alias: string, fragment: string) => () => {
  const result = validateAlias(alias);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.message).toContain(fragment);
};

describe('validateAlias', () => {
  it('API_TOKEN', allowed('API_TOKEN'));
  it('leading underscore', allowed('_PRIVATE'));
  it('digits after the first char', allowed('AWS_ACCESS_KEY_ID2'));
  it('lower case', refused('api_token', 'must match'));
  it('leading digit', refused('1TOKEN', 'must match'));
  it('dash', refused('API-TOKEN', 'must match'));
  it('empty', refused('', 'must match'));
  it('PATH', refused('PATH', 'controls what the child runs'));
  it('NODE_OPTIONS', refused('NODE_OPTIONS', 'controls what the child runs'));
  it('BASH_ENV', refused('BASH_ENV', 'controls'));
  it('ENV', refused('ENV', 'controls'));
  it('PYTHONSTARTUP', refused('PYTHONSTARTUP', 'controls'));
  it('PERL5OPT', refused('PERL5OPT', 'controls'));
  it('RUBYOPT', refused('RUBYOPT', 'controls'));
  it('LD_PRELOAD', refused('LD_PRELOAD', 'LD_'));
  it('LD_LIBRARY_PATH', refused('LD_LIBRARY_PATH', 'LD_'));
  it('DYLD_INSERT_LIBRARIES', refused('DYLD_INSERT_LIBRARIES', 'DYLD_'));
  it('reserved prefix', refused('AGENT_SECRET_REQUEST_ID', 'reserved'));
  it('does not echo control characters', () => {
    const result = validateAlias('A\u202eB');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).not.toContain('\u202e');
  });
});
