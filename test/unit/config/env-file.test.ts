// The env-file parser, one line per case: comments, export, quotes, escapes, inline comments,
// classification into secrets and plain entries, and errors with their line numbers.

import { describe, expect, it } from 'vitest';
import { parseEnvFileText, type EnvFileResult } from '../../../src/config/index.js';

const FILE = '/project/.env';

function parsed(text: string): EnvFileResult {
  const result = parseEnvFileText(text, FILE);
  if (!result.ok) throw new Error(result.error.message);
  return result.result;
}

/** The single entry a one-line file produces, as `KEY=value` (plain) or `KEY->ref` (secret). */
function entry(text: string): string {
  const { secrets, plain } = parsed(text);
  return [...secrets.map((s) => `${s.alias}->${s.ref}`), ...plain.map((p) => `${p.key}=${p.value}`)].join(' | ');
}

describe('parseEnvFileText: values', () => {
  it.each([
    ['plain', 'A=b', 'A=b'],
    ['spaces around key and value', '  A  =   b c  ', 'A=b c'],
    ['export prefix', 'export A=b', 'A=b'],
    ['export with tabs', 'export\tA=b', 'A=b'],
    ['a key named export', 'export=1', 'export=1'],
    ['empty value', 'A=', 'A='],
    ['value with =', 'A=b=c', 'A=b=c'],
    ['inline comment after space', 'A=b # note', 'A=b'],
    ['inline comment after tab', 'A=b\t# note', 'A=b'],
    ['# inside a word is kept', 'A=b#c', 'A=b#c'],
    ['# at value start is a comment', 'A=#c', 'A='],
    ['single quotes are literal', "A='x \\n $HOME # y'", 'A=x \\n $HOME # y'],
    ['double quotes keep spaces', 'A="  b  "', 'A=  b  '],
    ['double-quote escapes', 'A="1\\n2\\r3\\t4\\\\5\\"6\\$7"', 'A=1\n2\r3\t4\\5"6$7'],
    ['comment after a quoted value', 'A="b" # c', 'A=b'],
    ['comment right after a quote', "A='b'#c", 'A=b'],
    ['no variable expansion', 'A=$HOME/${USER}', 'A=$HOME/${USER}'],
    ['unquoted quote inside a value', 'A=it"s', 'A=it"s'],
    ['ref becomes a secret', 'API_TOKEN=op://Dev/API/token', 'API_TOKEN->op://Dev/API/token'],
    ['quoted ref becomes a secret', 'API_TOKEN="op://Dev/My Item/token"', 'API_TOKEN->op://Dev/My Item/token'],
    ['ref with section and attribute', "OTP='op://Dev/GitHub/Security/one-time password?attribute=otp'", 'OTP->op://Dev/GitHub/Security/one-time password?attribute=otp'],
    ['ref with an inline comment', 'API_TOKEN=op://Dev/API/token # prod', 'API_TOKEN->op://Dev/API/token'],
    ['other schemes stay plain', 'URL=https://example.com/a', 'URL=https://example.com/a'],
    ['lowercase plain key', 'lower_case=1', 'lower_case=1'],
  ])('%s', (_name, text, expected) => {
    expect(entry(text)).toBe(expected);
  });

  it('skips blank lines and comments, accepts CRLF, and records line numbers', () => {
    const result = parsed('# header\r\n\r\n   # indented comment\r\nA=1\r\nB=op://v/i/f\r\n');
    expect(result).toEqual({
      secrets: [{ alias: 'B', ref: 'op://v/i/f', file: FILE, line: 5 }],
      plain: [{ key: 'A', value: '1', file: FILE, line: 4 }],
    });
  });

  it('a later line wins per key and may flip secret and plain', () => {
    expect(parsed('A=op://v/i/f\nB=1\nA=plain\nB=op://v/i/g\n')).toEqual({
      secrets: [{ alias: 'B', ref: 'op://v/i/g', file: FILE, line: 4 }],
      plain: [{ key: 'A', value: 'plain', file: FILE, line: 3 }],
    });
  });

  it('sorts secrets by alias and plain entries by key', () => {
    const result = parsed('Z=op://v/i/z\nA=op://v/i/a\nz=1\nB=2\n');
    expect(result.secrets.map((s) => s.alias)).toEqual(['A', 'Z']);
    expect(result.plain.map((p) => p.key)).toEqual(['B', 'z']);
  });
});

describe('parseEnvFileText: errors', () => {
  it.each([
    ['no =', 'A=1\nJUST_A_WORD', 2, 'expected KEY=VALUE'],
    ['empty key', '=value', 1, 'expected KEY=VALUE; the key is empty'],
    ['key starting with a digit', '1A=b', 1, 'the key must be letters, digits and _, and must not start with a digit'],
    ['key with a dash', 'MY-KEY=b', 1, 'the key must be letters, digits and _, and must not start with a digit'],
    ['unclosed double quote', 'A=1\n\nB="abc', 3, 'B: the quoted value is not closed on this line'],
    ['unclosed single quote', "B='abc", 1, 'B: the quoted value is not closed on this line'],
    ['multi-line value', 'B="line one\nline two"', 1, 'B: the quoted value is not closed on this line'],
    ['text after a closing quote', 'B="abc" def', 1, 'B: unexpected characters after the closing quote; only a # comment may follow'],
    ['unknown escape', 'B="C:\\Users"', 1, 'B: unknown escape in a double-quoted value; use \\n \\r \\t \\\\ \\" or \\$'],
    ['NUL in a value', 'B="a\u0000b"', 1, 'B: the value contains a NUL character, which an environment cannot hold'],
    ['ref with too few segments', 'A=1\nTOKEN=op://Dev/API', 2, "TOKEN: invalid reference: too few '/': expected op://vault/item[/section]/field"],
    ['ref with a variable', 'TOKEN=op://$ENV/API/token', 1, 'TOKEN: invalid reference: names may contain only letters, digits, space, ".", "-" and "_"; refer to anything else by its ID'],
    ['lowercase alias for a ref', 'token=op://v/i/f', 1, 'token: alias must match [A-Z_][A-Z0-9_]*, for example API_TOKEN (got "token")'],
    ['denied alias for a ref', 'LD_PRELOAD=op://v/i/f', 1, 'LD_PRELOAD: "LD_PRELOAD" controls what the child runs, loads or trusts (loader, like every name starting with LD_) and cannot carry a secret; pick another name'],
  ])('%s', (_name, text, line, problem) => {
    const result = parseEnvFileText(text, FILE);
    if (result.ok) throw new Error('expected an error');
    expect(result.error.code).toBe('env_file.invalid');
    expect(result.error.message).toBe(`${FILE}:${line}: ${problem}`);
    expect(result.error.details).toMatchObject({ file: FILE, line });
  });

  it('reports the first bad line', () => {
    const result = parseEnvFileText('A=1\nBAD\nC="x\n', FILE);
    expect(!result.ok && result.error.details.line).toBe(2);
  });

  it('hints at multi-line values and at variables in refs', () => {
    const unclosed = parseEnvFileText('B="abc', FILE);
    expect(!unclosed.ok && unclosed.error.hint).toBe('close the quote; multi-line values are not supported');
    const variable = parseEnvFileText('TOKEN=op://$ENV/API/token', FILE);
    expect(!variable.ok && variable.error.hint).toBe('variables are not expanded in env files; write the reference out');
  });
});
