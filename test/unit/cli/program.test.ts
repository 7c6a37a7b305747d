// Commander wiring: argv → the options object each command receives, with the command modules
// mocked so nothing runs. Also the edge rules of cli/main.ts (separator, exit codes).

import { beforeEach, describe, expect, it, vi } from 'vitest';

const calls: Array<{ command: string; args: unknown[] }> = [];
const record = (command: string) => async (...args: unknown[]) => {
  calls.push({ command, args: args.slice(1) });
  return 0;
};
vi.mock('../../../src/cli/commands/exec.js', () => ({ runExec: record('exec') }));
vi.mock('../../../src/cli/commands/profile.js', () => ({ runProfileList: record('profile list'), runProfileShow: record('profile show') }));
const doctorFailure: { next: Error | null } = { next: null };
vi.mock('../../../src/cli/commands/doctor.js', () => ({
  runDoctor: async (...args: unknown[]) => {
    if (doctorFailure.next !== null) throw doctorFailure.next;
    return record('doctor')(...args);
  },
}));

const { main } = await import('../../../src/cli/main.js');
const { parseExecOptions } = await import('../../../src/plan/exec-options.js');

function sink() {
  let text = '';
  return { out: { write: (s: string) => (text += s) }, text: () => text };
}

async function run(argv: string[]) {
  const stdout = sink();
  const stderr = sink();
  const code = await main(argv, { stdout: stdout.out, stderr: stderr.out, env: {} });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

beforeEach(() => {
  calls.length = 0;
});

describe('argv → command options', () => {
  const table: Array<[string[], string, unknown[]]> = [
    [['exec', '--profile', 'p', '--', 'ls'], 'exec', [{ profile: 'p' }]],
    [
      ['exec', '--secret', 'A=op://a/b/c', '--secret', 'B=op://a/b/d', '--only', 'A,B', '--only', 'C', '--', 'ls'],
      'exec',
      [{ secret: ['A=op://a/b/c', 'B=op://a/b/d'], only: ['A,B', 'C'] }],
    ],
    [['exec', '--env-file', 'a.env', '--env-file', 'b.env', '--', 'ls'], 'exec', [{ envFile: ['a.env', 'b.env'] }]],
    [['exec', '--dry-run', '--json', '--override-env', '--ttl', '90s', '--cwd', 'x', '--', 'ls'], 'exec', [{ dryRun: true, json: true, overrideEnv: true, ttl: '90s', cwd: 'x' }]],
    [['exec', '--reason=why', '--account=acct', '--config=c.yml', '--', 'ls'], 'exec', [{ reason: 'why', account: 'acct', config: 'c.yml' }]],
    [['profile', 'list', '--json'], 'profile list', [{ json: true }]],
    [['profile', 'show', 'deploy', '--config', 'c.yml'], 'profile show', ['deploy', { config: 'c.yml' }]],
    [['doctor', '--json'], 'doctor', [{ json: true }]],
  ];
  for (const [argv, command, args] of table) {
    it(argv.join(' '), async () => {
      const result = await run(argv);
      expect(result.stderr).toBe('');
      expect(calls).toEqual([{ command, args: args.map((a) => (typeof a === 'object' ? expect.objectContaining(a as object) : a)) }]);
    });
  }
});

describe('parseExecOptions: the daemon reads exec flags as the command table does', () => {
  const rows = [
    ['exec', '--profile', 'p', '--', 'ls'],
    ['exec', '--secret', 'A=op://a/b/c', '--secret', 'B=op://a/b/d', '--only', 'A,B', '--only', 'C', '--', 'ls'],
    ['exec', '--dry-run', '--json', '--override-env', '--ttl', '90s', '--cwd', 'x', '--', 'ls'],
    ['exec', '--reason=why', '--account=acct', '--config=c.yml', '--no-mask', '--reuse-only', '--force-refresh', '--pristine', '--', 'ls'],
    ['exec', '--mask', '--allow-mutable-executable', '--env-file', 'a.env', '--', 'ls'],
  ];
  for (const argv of rows) {
    it(argv.join(' '), async () => {
      await run(argv);
      expect(calls).toHaveLength(1);
      expect(parseExecOptions(argv.slice(1, argv.indexOf('--')))).toEqual(calls[0]?.args[0]);
    });
  }

  it.each([[['--bogus']], [['--help']], [['--ttl']], [['extra-argument']]])('throws for %j, printing nothing', (args) => {
    expect(() => parseExecOptions(args)).toThrow();
  });
});

describe('edge rules', () => {
  it('an unknown option is a usage error (exit 2) naming it', async () => {
    const result = await run(['exec', '--nope', '--', 'ls']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--nope'");
    expect(calls).toEqual([]);
  });
  it.each([
    [['agent', 'add'], "missing required argument 'name'", 'hint: see agent-secret agent add --help'],
    [['profile', 'show', '--bogus'], "unknown option '--bogus'", 'hint: see agent-secret profile show --help'],
    [['doctor', '--bogus'], "unknown option '--bogus'", 'hint: see agent-secret doctor --help'],
    [['frobnicate'], "unknown command 'frobnicate'", 'hint: see agent-secret --help'],
  ])('a usage error in %j hints that command\'s own --help', async (argv, message, hint) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain(hint);
  });
  it('-- after another command is refused', async () => {
    const result = await run(['doctor', '--', 'x']);
    expect(result.code).toBe(2);
    expect(calls).toEqual([]);
  });
  it('--help exits 0', async () => {
    expect((await run(['exec', '--help'])).code).toBe(0);
  });
  it('an unexpected error is internal (exit 1) without its message or a stack', async () => {
    doctorFailure.next = new Error('third-party text with CANARY-internal');
    const result = await run(['doctor']);
    doctorFailure.next = null;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('internal error');
    expect(result.stderr).not.toContain('CANARY-internal');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
