// The prompt's warning about what the command itself can do: it sees through wrapper programs
// (timeout, nice, env -i, sudo -u, xargs, nohup, stdbuf, command) and finds interpreters given
// inline code, in every spelling the table lists.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inlineCodeOf, unwrapAll } from '../../../src/core/command-line.js';
import { commandRiskWarning, COMMAND_WARNINGS } from '../../../src/request/warnings.js';

const { envPrinter, shell, inlineCode } = COMMAND_WARNINGS;

// [argv, expected warning]; the executable is argv[0] unless the row says otherwise.
const TABLE: Array<[string[], string | null, string?]> = [
  [['timeout', '5', 'sh', '-c', 'x'], shell],
  [['timeout', '-k', '1', '-s', 'KILL', '5', 'bash', 'run.sh'], shell],
  [['nice', '-n', '5', 'python3', '-c', 'print(1)'], inlineCode],
  [['nice', 'python3.12', '-c', 'print(1)'], inlineCode],
  [['env', '-i', 'FOO=1', 'bash'], shell],
  [['env', '-u', 'HOME', '--', 'zsh'], shell],
  [['env', '-S', 'sh -c x'], shell],
  [['env'], envPrinter],
  [['env', '-i'], envPrinter],
  [['env', 'FOO=1', 'node', 'app.js'], null],
  [['xargs', 'sh', '-c', 'echo $0'], shell],
  [['xargs', '-n', '1', '-P', '4', 'printenv'], envPrinter],
  [['sudo', '-u', 'x', 'printenv'], envPrinter],
  [['sudo', 'FOO=1', 'ruby', '-e', 'p ENV'], inlineCode],
  [['sudo', '-s'], shell],
  [['sudo', '-u', 'root', '-i'], shell],
  [['nohup', 'perl', '-E', 'say 1'], inlineCode],
  [['stdbuf', '-o', 'L', 'node', '--eval', 'x'], inlineCode],
  [['stdbuf', '-oL', 'node', '--eval=x'], inlineCode],
  [['command', 'dash'], shell],
  [['command', '-v', 'sh'], null],
  [['exec', '-a', 'name', 'ksh'], shell],
  [['time', '-f', '%e', 'fish'], shell],
  [['busybox', 'sh'], shell],
  [['/usr/bin/timeout', '5', '/bin/sh', '-c', 'x'], shell],
  [['python3', '-c', 'x'], inlineCode],
  [['python3.12', '-Ic', 'x'], inlineCode],
  [['python3', '-W', 'ignore', '-c', 'x'], inlineCode],
  [['python3', '-m', 'http.server'], null],
  [['python3', 'script.py', '-c', 'x'], null],
  [['node', '-e', 'x'], inlineCode],
  [['node', '-p', 'process.env'], inlineCode],
  [['node', '-r', 'dotenv/config', '-e', 'x'], inlineCode],
  [['node', 'server.js'], null],
  [['nodejs', '--print', 'x'], inlineCode],
  [['perl', '-ne', 'print', 'file'], inlineCode],
  [['perl', '-e', 'x'], inlineCode],
  [['ruby', '-e', 'x'], inlineCode],
  [['php', '-r', 'echo 1;'], inlineCode],
  [['php', '-c', 'php.ini', 'app.php'], null],
  [['deno', 'eval', 'console.log(Deno.env.toObject())'], inlineCode],
  [['deno', 'run', 'main.ts'], null],
  [['bun', '-e', 'x'], inlineCode],
  [['awk', 'BEGIN { for (k in ENVIRON) print k, ENVIRON[k] }'], envPrinter],
  [['gawk', '-F', ':', '{ print ENVIRON["TOKEN"] }', 'file'], envPrinter],
  [['awk', '{ print $1 }', 'file'], null],
  [['awk', '-f', 'prog.awk', 'ENVIRON'], null],
  [['printenv'], envPrinter],
  [['fly', 'deploy'], null],
  [['timeout', '5'], null],
  // A symlink named innocently that resolves to an interpreter: the executable's name counts too.
  [['py', '-c', 'x'], inlineCode, '/usr/bin/python3.11'],
  [['tool', '-c', 'x'], null, '/usr/local/bin/tool'],
];

describe('commandRiskWarning', () => {
  it.each(TABLE)('%j → %s', (argv, expected, executable) => {
    expect(commandRiskWarning(argv, executable ?? argv[0]!)).toBe(expected);
  });

  it('the most severe finding wins between the typed name and the executable', () => {
    expect(commandRiskWarning(['x', '-c', 'y'], '/bin/bash')).toBe(shell);
    expect(commandRiskWarning(['printenv'], '/usr/bin/python3')).toBe(envPrinter);
  });
});

describe('unwrapAll and inlineCodeOf', () => {
  it('unwraps nested wrappers to the program', () => {
    expect(unwrapAll(['sudo', '-u', 'x', 'env', '-i', 'A=1', 'nice', '-n', '5', 'timeout', '9', 'python3', '-c', 'x'])).toEqual(['python3', '-c', 'x']);
    expect(unwrapAll(['fly', 'deploy'])).toEqual(['fly', 'deploy']);
  });

  it('returns the code given inline', () => {
    expect(inlineCodeOf(['perl', '-e', 'a', '-e', 'b'])).toEqual(['a', 'b']);
    expect(inlineCodeOf(['python3', '-c', 'code', '-e'])).toEqual(['code']);
    expect(inlineCodeOf(['node', 'app.js', '-e', 'x'])).toBeNull();
  });
});

// Wrapper prefixes a human would recognise as "runs the rest".
const WRAPPERS: string[][] = [
  ['timeout', '5'],
  ['timeout', '-s', 'KILL', '10s'],
  ['nice'],
  ['nice', '-n', '5'],
  ['env', '-i', 'FOO=1'],
  ['env', '--'],
  ['sudo', '-u', 'x'],
  ['xargs'],
  ['xargs', '-n', '1'],
  ['nohup'],
  ['stdbuf', '-oL'],
  ['command'],
  ['setsid'],
  ['time'],
];
const WARNED: string[][] = TABLE.filter(([, expected, executable]) => expected !== null && executable === undefined).map(([argv]) => argv);

describe('property', () => {
  it('wrapping any warned command in wrappers keeps its warning', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WARNED), fc.array(fc.constantFrom(...WRAPPERS), { minLength: 1, maxLength: 4 }), (argv, prefixes) => {
        const wrapped = [...prefixes.flat(), ...argv];
        expect(commandRiskWarning(wrapped, wrapped[0]!)).toBe(commandRiskWarning(argv, argv[0]!));
      }),
    );
  });

  it.each([['toString'], ['constructor'], ['__proto__'], ['hasOwnProperty'], ['valueOf']])(
    'a program named after an Object.prototype key (%s) is no wrapper or interpreter, and nothing throws',
    (name) => {
      expect(commandRiskWarning([name, '-S', '-c', 'x'], `/usr/bin/${name}`)).toBeNull();
      expect(commandRiskWarning(['timeout', '5', name, '-e', 'x'], '/usr/bin/timeout')).toBeNull();
    },
  );

  it('never throws and always returns a known warning or null, whatever the argv', () => {
    const known = new Set<string | null>([envPrinter, shell, inlineCode, null]);
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom('env', 'sudo', 'timeout', '-c', '-e', '--', 'sh', 'python3', 'awk', 'ENVIRON', '-S', '-u'), fc.string()), { maxLength: 12 }), fc.string(), (argv, exe) => {
        expect(known.has(commandRiskWarning(argv, exe))).toBe(true);
      }),
    );
  });
});
