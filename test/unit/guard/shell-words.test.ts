// The guard's shell reader: simple commands after quote removal (nested ones included), the
// program a wrapper really runs, and what makes an env file secret. Pure functions, tables.

import { describe, expect, it } from 'vitest';
import { opSecretVerb } from '../../../src/guard/op-verbs.js';
import { hasSecretAssignments, holdsSecrets, secretFileKind } from '../../../src/guard/secret-files.js';
import { parseShell } from '../../../src/guard/shell-words.js';
import { effectiveCommand } from '../../../src/guard/wrappers.js';

const programs = (source: string) => parseShell(source).commands.map((command) => command.words.map((word) => word.text));

describe('parseShell', () => {
  const table: Array<[string, string[][]]> = [
    ['ls -la', [['ls', '-la']]],
    ["echo 'a b' \"c d\" e\\ f", [['echo', 'a b', 'c d', 'e f']]],
    ["o''p read", [['op', 'read']]],
    ['a && b || c; d | e & f', [['a'], ['b'], ['c'], ['d'], ['e'], ['f']]],
    ['echo $(op read x)', [['op', 'read', 'x'], ['echo', '$(op read x)']]],
    ['echo `op read x`', [['op', 'read', 'x'], ['echo', '`op read x`']]],
    ['(cd a && make)', [['cd', 'a'], ['make']]],
    ['diff <(sort a) b', [['sort', 'a'], ['diff', '<(…)', 'b']]],
    ['echo "${X:-$(op read y)}"', [['op', 'read', 'y'], ['echo', '${X:-$(op read y)}']]],
    ["echo $'\\x6fp'", [['echo', 'op']]],
    ['cat <<EOF\n$(op read z)\nEOF', [['cat'], ['op', 'read', 'z']]],
    ["cat <<'EOF'\n$(op read z)\nEOF", [['cat']]],
    ['echo hi # op read x', [['echo', 'hi']]],
    ['echo a#b', [['echo', 'a#b']]],
  ];
  for (const [source, expected] of table) {
    it(source.replaceAll('\n', '\\n'), () => expect(programs(source)).toEqual(expected));
  }
  it('keeps redirections apart from words, without the fd number', () => {
    const [command] = parseShell('cmd 2>&1 < in.txt >> out.txt').commands;
    expect(command!.words.map((word) => word.text)).toEqual(['cmd']);
    expect(command!.redirects.map((redirect) => [redirect.op, redirect.target.text])).toEqual([
      ['>&', '1'],
      ['<', 'in.txt'],
      ['>>', 'out.txt'],
    ]);
  });
  it('marks unclosed quotes and substitutions as incomplete', () => {
    expect(parseShell("echo 'abc").complete).toBe(false);
    expect(parseShell('echo $(ls').complete).toBe(false);
    expect(parseShell('echo ok').complete).toBe(true);
  });
  it('marks globs, braces, tildes and expansions', () => {
    const [command] = parseShell('x *.env .env{,.local} ~/.npmrc $HOME "a*"').commands;
    expect(command!.words.slice(1).map((word) => [word.glob, word.tilde, word.expanded])).toEqual([
      [true, false, false],
      [true, false, false],
      [false, true, false],
      [false, false, true],
      [false, false, false],
    ]);
  });
});

describe('effectiveCommand', () => {
  const run = (source: string) => {
    const result = effectiveCommand(parseShell(source).commands.at(-1)!.words);
    return { words: result.words.map((word) => word.text), scripts: result.scripts };
  };
  const table: Array<[string, string[], string[]]> = [
    ['sudo -u deploy -E op read x', ['op', 'read', 'x'], []],
    ['env -i A=1 B=2 op read x', ['op', 'read', 'x'], []],
    ["env -S 'op read x'", [], ['op read x']],
    ['FOO=1 nice -n 5 timeout -s KILL 10 op run', ['op', 'run'], []],
    ['xargs -I{} op read {}', ['op', 'read', '{}'], []],
    ["bash -lc 'op read x'", ['bash', '-lc', 'op read x'], ['op read x']],
    ['bash script.sh', ['bash', 'script.sh'], []],
    ["su root -c 'op read x'", ['su', 'root', '-c', 'op read x'], ['op read x']],
    ['ssh -p 22 host op read x', ['ssh', '-p', '22', 'host', 'op', 'read', 'x'], ['op read x']],
    ["eval 'op read x'", ['eval', 'op read x'], ['op read x']],
    ["watch -n 5 'op item list'", [], ['op item list']],
    ['command -v op', [], []],
    ['command op read x', ['op', 'read', 'x'], []],
    ['if true', ['true'], []],
  ];
  for (const [source, words, scripts] of table) {
    it(source, () => expect(run(source)).toEqual({ words, scripts }));
  }
});

describe('opSecretVerb', () => {
  const table: Array<[string, string | null]> = [
    ['read op://a/b/c', 'read'],
    ['--account x read op://a/b/c', 'read'],
    ['--format=json item get x', 'item get'],
    ['item get --help', 'item get'],
    ['run -- make', 'run'],
    ['inject -i t', 'inject'],
    ['signin', 'signin'],
    ['get item x', 'get item'],
    ['document get x', 'document get'],
    ['item share x', 'item share'],
    ['connect token create x', 'connect token create'],
    ['whoami', null],
    ['--version', null],
    ['item list', null],
    ['vault list', null],
    ['account get', null],
    ['item create --title x', null],
  ];
  for (const [args, verb] of table) it(args, () => expect(opSecretVerb(args.split(' '))).toBe(verb));
});

describe('secret files', () => {
  const kinds: Array<[string, string | null]> = [
    ['.env', 'env'],
    ['.env.local', 'env'],
    ['prod.env', 'env'],
    ['.envrc', 'env'],
    ['environment.ts', null],
    ['id_rsa', 'ssh-key'],
    ['id_ed25519.pub', null],
    ['server.key', 'pem'],
    ['.npmrc', 'npmrc'],
    ['.netrc', 'login'],
    ['README.md', null],
  ];
  for (const [name, kind] of kinds) it(`${name} → ${kind}`, () => expect(secretFileKind(name)).toBe(kind));

  const envs: Array<[string, boolean]> = [
    ['API_TOKEN=op://a/b/c', true],
    ['STRIPE_SECRET_KEY=sk_live_abc', true],
    ['export GITHUB_TOKEN="ghp_0123456789abcdefghij"', true],
    ['DATABASE_URL=postgres://app:pw@db:5432/app', true],
    ['RANDOM_THING=Zx8Qw2Er5Ty7Ui9Op1As3', true],
    ['DB_PASSWORD=hunter2', true],
    ['API_TOKEN=', false],
    ['API_TOKEN=<your token>', false],
    ['PASSWORD=changeme', false],
    ['API_KEY=${API_KEY}', false],
    ['DATABASE_URL=postgres://localhost:5432/dev', false],
    ['AUTH_DOMAIN=example.auth0.com', false],
    ['TOKEN_TTL=3600', false],
    ['AUTH_ENABLED=true', false],
    ['GOOGLE_APPLICATION_CREDENTIALS=./creds.json', false],
    ['PORT=3000\nNODE_ENV=development', false],
    ['# API_TOKEN=sk_live_abc', false],
    ['PROJECT_ID=550e8400-e29b-41d4-a716-446655440000', false],
  ];
  for (const [text, secret] of envs) it(`${text.replaceAll('\n', '\\n')} → ${secret}`, () => expect(holdsSecrets('env', text)).toBe(secret));

  it('a PEM key file holds secrets only with a PRIVATE KEY block; .npmrc only with an auth token', () => {
    expect(holdsSecrets('pem', '-----BEGIN CERTIFICATE-----')).toBe(false);
    expect(holdsSecrets('pem', '-----BEGIN RSA PRIVATE KEY-----')).toBe(true);
    expect(holdsSecrets('npmrc', 'registry=https://registry.npmjs.org/')).toBe(false);
    expect(holdsSecrets('npmrc', '//registry.npmjs.org/:_authToken=abc')).toBe(true);
  });
  it('stays fast on a pathological line (no regex backtracking blow-up)', () => {
    const line = `A=${' '.repeat(60_000)}x`;
    expect(hasSecretAssignments(line)).toBe(false);
  });
});
