// examples/providers/pass-provider.mjs: its reference rules and value picking (pure), and the
// program itself behind agent-secret's provider-program provider, with a fake `pass` that
// answers from a temp directory with pass's own texts.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseProviders } from '../../../src/config/user-providers.js';
import { AgentSecretError } from '../../../src/core/errors.js';
import { createRegistry, prepareResolution } from '../../../src/provider/index.js';
import type { SecretSpec } from '../../../src/request/types.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/providers/pass-provider.mjs', import.meta.url));
// The example is plain JavaScript with no types of its own.
const { parsePassRef, pickValue } = (await import(EXAMPLE)) as {
  parsePassRef(ref: string): { path: string; field: string | null } | null;
  pickValue(text: string, field: string | null): string | null;
};

describe('parsePassRef', () => {
  it.each([
    ['pass://work/aws', { path: 'work/aws', field: null }],
    ['pass://work/aws#login', { path: 'work/aws', field: 'login' }],
    ['pass://email/me@example.com', { path: 'email/me@example.com', field: null }],
  ])('%s', (ref, parsed) => expect(parsePassRef(ref)).toEqual(parsed));
  it.each(['pass://', 'pass://../etc/passwd', 'pass://a/../b', 'pass://a;rm -rf', 'pass://-rf', 'vault://a', 'pass://a#', 'pass://a#f\nx'])('refuses %j', (ref) => expect(parsePassRef(ref)).toBeNull());
});

describe('pickValue', () => {
  const entry = 'first-line-password\nlogin: alice\nURL: https://example.com\n';
  it('takes the first line, or a FIELD: line (case-insensitive)', () => {
    expect(pickValue(entry, null)).toBe('first-line-password');
    expect(pickValue(entry, 'login')).toBe('alice');
    expect(pickValue(entry, 'url')).toBe('https://example.com');
    expect(pickValue(entry, 'otp')).toBeNull();
  });
});

describe('the pass example behind agent-secret', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-secret-pass-'));
    const store = join(dir, 'store');
    mkdirSync(join(store, 'work'), { recursive: true });
    writeFileSync(join(store, 'work', 'aws.txt'), 'CANARY-pass-aws-secret-1b7e\nlogin: deploy-bot\n');
    const fakePass = join(dir, 'pass');
    writeFileSync(
      fakePass,
      `#!/bin/sh\n[ "$1" = show ] && [ "$2" = -- ] || exit 2\nf="${store}/$3.txt"\nif [ -f "$f" ]; then cat "$f"; else echo "Error: $3 is not in the password store." >&2; exit 1; fi\n`,
    );
    chmodSync(fakePass, 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const resolveAll = async (refs: string[]) => {
    const providers = parseProviders({ pass: { command: [EXAMPLE] } }, join(dir, 'config.yml'));
    const registry = createRegistry(
      { path: join(dir, 'config.yml'), opPath: undefined, providers: providers.value },
      { env: { PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(':'), PASS_PROGRAM: join(dir, 'pass') }, platform: process.platform, uid: process.getuid?.() ?? -1, brokerName: 'test' },
    );
    const specs: SecretSpec[] = refs.map((ref, i) => ({ alias: `S${i}`, ref, provider: 'pass', account: null, source: 'flag' }));
    const resolution = await prepareResolution(specs, registry);
    return resolution.resolve(specs, { requestId: 'req_pass', deadline: Date.now() + 15_000, timeoutMs: 15_000 });
  };

  it('answers the password line and a field through the provider-program protocol', async () => {
    const values = await resolveAll(['pass://work/aws', 'pass://work/aws#login']);
    expect(values.get('S0')?.reveal()).toBe('CANARY-pass-aws-secret-1b7e');
    expect(values.get('S1')?.reveal()).toBe('deploy-bot');
  });

  it('a missing entry fails the whole request, named, without a value in the message', async () => {
    const error = (await resolveAll(['pass://work/aws', 'pass://work/nope']).then(
      () => expect.fail('should fail'),
      (e: unknown) => e,
    )) as AgentSecretError;
    expect(error).toBeInstanceOf(AgentSecretError);
    expect(error.message).toContain('S1 (pass://work/nope)');
    expect(error.message).toContain('work/nope is not in the password store');
    expect(error.message).not.toContain('CANARY');
  });
});
