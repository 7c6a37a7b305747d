// Where the command starts in exec's flags, and the usage error that gives the corrected
// command line: table-driven, plus a property (the corrected line's flags parse, and the
// command words come back in order after `--`).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { firstCommandWord, parseExecOptions } from '../../../src/plan/exec-options.js';

describe('firstCommandWord', () => {
  it.each([
    [['--profile', 'deploy', 'sh', '-c', 'x'], 2],
    [['--profile=deploy', 'npm', 'test'], 1],
    [['--dry-run', '--json', 'ls'], 2],
    [['--secret', 'A=op://v/i/f', '--no-mask', '--ttl', '1m', 'make'], 5],
    [['make'], 0],
    [['-'], 0],
    [['--profile', 'deploy'], -1],
    [['--bogus', 'ls'], -1],
    [['--profile', 'deploy', '-c', 'x'], -1],
  ])('%j -> %i', (args, want) => {
    expect(firstCommandWord(args)).toBe(want);
  });
});

function usageError(args: string[], command: string[] | null = null): AgentSecretError {
  try {
    parseExecOptions(args, command);
  } catch (error) {
    if (error instanceof AgentSecretError) return error;
    throw error;
  }
  throw new Error('parsed');
}

describe('the usage error for a command typed before --', () => {
  it.each([
    [['--profile', 'deploy', 'sh', '-c', 'echo hi'], null, "agent-secret exec --profile deploy -- sh -c 'echo hi'"],
    [['--profile', 'deploy', 'npm', 'test'], null, 'agent-secret exec --profile deploy -- npm test'],
    [['npm', 'test'], ['--watch'], 'agent-secret exec -- npm test -- --watch'],
    [['--reason', "it's late", 'ls', '$HOME'], null, "agent-secret exec --reason 'it'\\''s late' -- ls '$HOME'"],
  ])('%j', (args, command, hint) => {
    const error = usageError(args, command);
    expect(error.code).toBe('usage.invalid');
    expect(error.message).toContain('exec takes the command to run after --');
    expect(error.hint).toBe(hint);
  });

  it('a mistyped flag keeps commander\'s message', () => {
    expect(usageError(['--profile', 'deploy', '--frobnicate']).message).toBe("unknown option '--frobnicate'");
  });

  it('a very long command gets the generic form', () => {
    expect(usageError(['--profile', 'p', 'echo', 'x'.repeat(500)]).hint).toBe('agent-secret exec [flags] -- CMD [ARGS...]');
  });

  it('property: the flags before the command parse, and the words after -- are the ones typed', () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9 ']{0,8}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 2, maxLength: 5 }), (words) => {
        const error = usageError(['--profile', 'p', '--no-mask', ...words]);
        expect(error.hint).toMatch(/^agent-secret exec --profile p --no-mask -- /);
        expect(firstCommandWord(['--profile', 'p', '--no-mask', ...words])).toBe(3);
      }),
    );
  });
});
