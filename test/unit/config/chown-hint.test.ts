// The chown hint for a file owned by someone else: a command that works as written for the
// caller (root chowns directly; anyone else needs sudo) and survives any path.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../../src/core/display-text.js';
import { chownCommand } from '../../../src/config/file-trust.js';

describe('chownCommand', () => {
  it.each([
    [0, '/etc/agent-secret.yml', 'chown "$(id -un)" /etc/agent-secret.yml'],
    [1000, '/srv/a b/agent-secret.yml', `sudo chown "$(id -un)" '/srv/a b/agent-secret.yml'`],
    [undefined, "/tmp/it's", `sudo chown "$(id -un)" '/tmp/it'\\''s'`],
  ])('caller %s, %s', (uid, path, expected) => {
    expect(chownCommand(shellQuote(path), uid)).toBe(expected);
  });

  it('a shell reads the quoted path back as the path, whatever it holds', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\0')), (name) => {
        const hint = chownCommand(shellQuote(`/tmp/${name}`), 0);
        const words = execFileSync('bash', ['-c', 'eval "set -- $1"; printf "%s\\0" "$@"', 'bash', hint.replace('"$(id -un)"', 'USER')], { encoding: 'utf8' });
        expect(words.split('\0').slice(0, -1)).toEqual(['chown', 'USER', `/tmp/${name}`]);
      }),
      { numRuns: 60 },
    );
  });
});
