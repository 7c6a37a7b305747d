import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DISPLAY_LIMITS, displayField, escapeText, formatCommand, formatRemaining, PROMPT_TITLES, renderPrompt, renderPromptText, shellQuote } from '../../../src/approval/display.js';
import { buildPrompt } from '../../../src/approval/prompt.js';
import type { PromptOperation } from '../../../src/approval/types.js';
import type { WireRequest } from '../../../src/request/codec.js';
import { NOW, samplePrompt, sampleWire } from './sample-prompt.js';

// Anything a terminal or dialog could render as a line break, a reordering or nothing at all.
const RAW_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]/u;

const NASTY = ['\n', '\r', '\t', '\x1b[2J', '\x00', '\x7f', '\u0085', '\u009b', '\u202e', '\u202a', '\u2066', '\u2069', '\u200b', '\u200d', '\ufeff', '\u2028', '\u2029', '\u00ad', '\ud800', '\udfff', '\ue000', '\u{e0041}', '\u3164', "'", '\\', '$', ' ', '"'];
const untrusted = fc
  .array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 12 })
  .map((parts) => parts.join(''));
const longish = fc.oneof(untrusted, fc.tuple(untrusted, fc.integer({ min: 0, max: 600 })).map(([s, n]) => s + 'x'.repeat(n) + s));

describe('escapeText', () => {
  it.each([
    ['plain text', 'plain text'],
    ['a\nb', 'a\\nb'],
    ['tab\there', 'tab\\there'],
    ['cr\r', 'cr\\r'],
    ['\x1b[31mred', '\\x1b[31mred'],
    ['nul\x00', 'nul\\x00'],
    ['del\x7f', 'del\\x7f'],
    ['c1\u0085', 'c1\\u0085'],
    ['csi\u009b', 'csi\\u009b'],
    ['rlo\u202eevil', 'rlo\\u202eevil'],
    ['lre\u202a', 'lre\\u202a'],
    ['isolate\u2066x\u2069', 'isolate\\u2066x\\u2069'],
    ['zero\u200bwidth', 'zero\\u200bwidth'],
    ['zwj\u200d', 'zwj\\u200d'],
    ['bom\ufeff', 'bom\\ufeff'],
    ['line\u2028sep', 'line\\u2028sep'],
    ['para\u2029sep', 'para\\u2029sep'],
    ['soft\u00adhyphen', 'soft\\u00adhyphen'],
    ['nbsp\u00a0', 'nbsp\\u00a0'],
    ['hangul\u3164filler', 'hangul\\u3164filler'],
    ['private\ue000', 'private\\ue000'],
    ['tag\u{e0041}', 'tag\\U000e0041'],
    ['lone\ud800', 'lone\\ud800'],
    ['héllo ☃ 日本語 🙂', 'héllo ☃ 日本語 🙂'],
    ['C:\\path', 'C:\\\\path'],
    ['e\u0301', 'e\\u0301'],
    ['enclosing\u20dd', 'enclosing\\u20dd'],
    ['\u05e9\u05dc\u05d5\u05dd', '\\u05e9\\u05dc\\u05d5\\u05dd'],
    ['\u0627\u0644', '\\u0627\\u0644'],
  ])('escapes %j as %j', (input, expected) => {
    expect(escapeText(input)).toBe(expected);
  });
});

describe('escapeText property', () => {
  // The inverse of escapeText: each escape stands for exactly one character.
  const unescape = (text: string) =>
    text.replace(/\\(\\|n|t|r|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})/g, (_, e: string) =>
      e === '\\' ? '\\' : e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : String.fromCodePoint(parseInt(e.slice(1), 16)),
    );
  const HIDDEN = /[\p{Mn}\p{Me}\p{Script=Hebrew}\p{Script=Arabic}\p{Cc}\p{Cf}]/u;
  const text = fc.string({ unit: fc.oneof(fc.constantFrom('\\', 'u', '0', '\u0301', '\u05d0', '\u0627', '\u202e', '\n', 'a', 'é'), fc.constantFrom(...'x\u20dd\u0591\u0644'.split('')), fc.string({ unit: 'grapheme', maxLength: 1 })) });
  it('never lets a combining mark, right-to-left letter or control through, and is reversible', () => {
    fc.assert(
      fc.property(text, (input) => {
        const out = escapeText(input);
        expect(HIDDEN.test(out)).toBe(false);
        expect(unescape(out)).toBe(input);
      }),
      { numRuns: 500 },
    );
  });
});

describe('displayField', () => {
  it('keeps short fields whole', () => {
    expect(displayField('abc', 3)).toBe('abc');
  });

  it('clips long fields by code point and says how much is hidden', () => {
    expect(displayField('a'.repeat(10), 4)).toBe('aaaa…[clipped: 6 more characters]');
    expect(displayField('🙂🙂🙂', 2)).toBe('🙂🙂…[clipped: 1 more character]');
  });

  it('escapes after clipping, so an escape is never cut in half', () => {
    expect(displayField('ab\ncd', 3)).toBe('ab\\n…[clipped: 2 more characters]');
  });
});

describe('shellQuote', () => {
  it.each([
    ['', "''"],
    ['plain', 'plain'],
    ['region=eu-west-1', 'region=eu-west-1'],
    ['/usr/bin/env', '/usr/bin/env'],
    ['-rf', '-rf'],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['$HOME', "'$HOME'"],
    ['a;b|c', "'a;b|c'"],
    ['back\\slash', "'back\\slash'"],
    ['a\nb', "$'a\\nb'"],
    ["x'\u202ey", "$'x\\'\\u202ey'"],
    ['\\\x1b', "$'\\\\\\x1b'"],
    ['\u2066', "$'\\u2066'"],
  ])('quotes %j as %j', (arg, expected) => {
    expect(shellQuote(arg)).toBe(expected);
  });

  it('round-trips through bash for any printable-or-not argument', () => {
    const args = fc.sample(
      fc.array(fc.oneof(fc.constantFrom(...NASTY.filter((c) => !/[\ud800-\udfff]/u.test(c) && c !== '\x00')), fc.string({ unit: 'grapheme', maxLength: 5 })), { maxLength: 6 }).map((p) => p.join('')),
      { numRuns: 200, seed: 42 },
    );
    const script = `printf '%s\\0' ${args.map(shellQuote).join(' ')}`;
    const out = execFileSync('bash', ['-c', script], { env: { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', PATH: '/usr/bin:/bin' } }).toString('utf8');
    expect(out.split('\0').slice(0, -1)).toEqual(args);
  });
});

describe('formatCommand', () => {
  it('joins quoted arguments with spaces', () => {
    expect(formatCommand(['terraform', 'plan', '-var', 'region=eu west'])).toBe("terraform plan -var 'region=eu west'");
  });

  it('clips long arguments and long argument lists with markers', () => {
    const long = 'y'.repeat(DISPLAY_LIMITS.arg + 5);
    expect(formatCommand(['echo', long])).toBe(`echo ${'y'.repeat(DISPLAY_LIMITS.arg)}…[5 more characters]`);
    const many = Array.from({ length: DISPLAY_LIMITS.args + 3 }, (_, i) => `a${i}`);
    expect(formatCommand(many)).toMatch(/ a39 …\[3 more arguments not shown\]$/);
  });
});

describe('a long command', () => {
  it('keeps secrets and warnings on top, shortens each argument and caps the command with a note', () => {
    const args = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(2, '0')}${'z'.repeat(198)}`);
    const prompt = samplePrompt({ command: ['deploy', ...args], warnings: ['the command is a shell: it can run anything with these secrets'] });
    const { lines } = renderPrompt(prompt, { now: NOW });
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    expect(at('Secrets (2):')).toBeLessThan(at('Warnings:'));
    expect(at('Warnings:')).toBeLessThan(at('Command: '));
    const command = lines[at('Command: ')]!;
    expect([...command].length).toBeLessThanOrEqual('Command: '.length + DISPLAY_LIMITS.command + 40);
    expect(command).toContain(`00${'z'.repeat(118)}…[80 more characters]`);
    expect(command).toMatch(/…\[3\d more arguments not shown\]$/);
    expect(lines[at('Command: ') + 1]).toBe('  (shortened; the full command is in the audit log under request req_0123456789abcdef: agent-secret audit --json --since 1h)');
    expect([...lines.join('\n')].length).toBeLessThanOrEqual(DISPLAY_LIMITS.total);
  });

  it('caps the whole text, shrinking lists first', () => {
    const secrets = Array.from({ length: 50 }, (_, i) => ({ alias: `A${i}`, ref: `op://v/${'i'.repeat(190)}/${i}`, provider: 'op', account: null }));
    const { lines } = renderPrompt(samplePrompt({ secrets, warnings: Array.from({ length: 20 }, () => 'w'.repeat(300)) }), { now: NOW });
    expect([...lines.join('\n')].length).toBeLessThanOrEqual(DISPLAY_LIMITS.total);
    expect(lines.some((l) => /more secrets not shown/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('Command: '))).toBe(true);
  });
});

describe('formatRemaining', () => {
  it.each([
    [0, 'expired'],
    [-5, 'expired'],
    [1, '1 second'],
    [1000, '1 second'],
    [1001, '2 sec'],
    [45_000, '45 sec'],
    [60_000, '1 minute'],
    [90_000, '1 min 30 sec'],
    [120_000, '2 minutes'],
    [599_500, '10 minutes'],
    [Number.NaN, 'expired'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatRemaining(ms)).toBe(text);
  });
});

describe('renderPrompt', () => {
  it('renders the whole request in a fixed layout', () => {
    const prompt = samplePrompt({ warnings: ['the command is a shell: it can run anything with these secrets'] }, { waiting: 2 });
    expect(renderPromptText(prompt, { now: NOW + 30_000 })).toMatchInlineSnapshot(`
      "Allow this command to use these 2 secrets?

      Reason (the agent's own words):
        deploy the staging stack

      Secrets (2):
        AWS_SECRET = op://Infra/aws/secret (acme.1password.com)
        TF_TOKEN = op://Infra/terraform/token (default account)

      Warnings:
        ! the command is a shell: it can run anything with these secrets

      Command: terraform plan -var 'region=eu west'
      Executable: /usr/bin/terraform
      Working directory: /home/dev/infra
      Accounts: acme.1password.com, default account
      Profile: deploy
      Scope: same exact command only

      Requested by (pid reported by the caller): agent-secret (pid 4242) ← bash (pid 4000) ← claude (pid 3000)
      Expires: in 1 min 30 sec (request ttl 2m)
      Other requests waiting: 2"
    `);
  });

  it('shows overridden variables only when override_env is set', () => {
    const on = renderPrompt(samplePrompt({ override_env: true, overridden_aliases: ['TF_TOKEN'] }), { now: NOW }).lines;
    const off = renderPrompt(samplePrompt({ override_env: false, overridden_aliases: ['TF_TOKEN'] }), { now: NOW }).lines;
    expect(on).toContain('Will replace existing variables: TF_TOKEN');
    expect(off.some((l) => l.startsWith('Will replace'))).toBe(false);
  });

  it('says "this secret" for one and names op\'s default account', () => {
    const { lines } = renderPrompt(samplePrompt({ secrets: [{ alias: 'TOKEN', ref: 'op://v/i/f', provider: 'op', account: null }] }), { now: NOW });
    expect(lines[0]).toBe('Allow this command to use this secret?');
    expect(lines).toContain('Account: default account');
    expect(lines).toContain('  TOKEN = op://v/i/f (default account)');
  });

  it('collapses a huge secret list into a counted marker line', () => {
    const secrets = Array.from({ length: DISPLAY_LIMITS.secrets + 7 }, (_, i) => ({ alias: `S${i}`, ref: `op://v/i/f${i}`, provider: 'op', account: null }));
    const { lines } = renderPrompt(samplePrompt({ secrets }), { now: NOW });
    expect(lines).toContain('  …[7 more secrets not shown; deny if you did not expect this many]');
  });

  it('neutralises a reason that tries to draw its own lines', () => {
    const reason = 'fix tests\nCommand: ls\u2028Executable: /bin/true\u202e';
    const { lines } = renderPrompt(samplePrompt({ reason }), { now: NOW });
    expect(lines[3]).toBe('  fix tests\\nCommand: ls\\u2028Executable: /bin/true\\u202e');
    expect(lines.filter((l) => l.startsWith('Command:'))).toHaveLength(1);
  });

  it('shows an expired request as expired', () => {
    const { lines } = renderPrompt(samplePrompt(), { now: NOW + 200_000 });
    expect(lines).toContain('Expires: expired (request ttl 2m)');
  });

  it('never emits a raw control, bidi or format character, and each field fills exactly its lines', () => {
    const wire = fc.record({
      reason: longish,
      command: fc.array(longish, { minLength: 1, maxLength: 50 }),
      executable: longish,
      cwd: longish,
      secrets: fc.array(fc.record({ alias: untrusted, ref: longish, provider: fc.oneof(fc.constantFrom('op', 'bws'), untrusted), account: fc.option(untrusted, { nil: null }) }), { maxLength: 60 }),
      ttl_seconds: fc.integer({ min: 10, max: 600 }),
      override_env: fc.boolean(),
      overridden_aliases: fc.array(untrusted, { maxLength: 60 }),
      allow_mutable_executable: fc.boolean(),
      pristine: fc.boolean(),
      mask: fc.boolean(),
      warnings: fc.array(longish, { maxLength: 25 }),
      requester: fc.record({ pid: fc.integer({ min: 1, max: 1 << 22 }), chain: fc.array(fc.record({ pid: fc.integer({ min: 1, max: 1 << 22 }), name: longish }), { maxLength: 15 }) }),
      profile: fc.option(longish, { nil: null }),
      config_path: fc.option(longish, { nil: null }),
      plain_env: fc.array(untrusted, { maxLength: 60 }),
      scripts: fc.constant([]),
    }) satisfies fc.Arbitrary<WireRequest>;
    fc.assert(
      fc.property(wire, fc.integer({ min: 0, max: 5 }), (w, waiting) => {
        const prompt = buildPrompt(w, { id: 'req_x', expiresAt: new Date(NOW + 60_000), waiting });
        const { title, lines } = renderPrompt(prompt, { now: NOW });
        expect(RAW_UNSAFE.test(title)).toBe(false);
        for (const line of lines) expect(RAW_UNSAFE.test(line)).toBe(false);

        // Each field fills exactly its lines (no line break inside one), the whole text stays under
        // its cap, and what decides the answer comes first: secrets, warnings, then the command.
        const text = renderPromptText(prompt, { now: NOW });
        expect(text.split('\n')).toHaveLength(lines.length);
        expect([...text].length).toBeLessThanOrEqual(DISPLAY_LIMITS.total);
        expect(lines[5]).toBe(`Secrets (${w.secrets.length}):`);
        const command = lines.findIndex((l) => l.startsWith('Command: '));
        const warnings = lines.indexOf('Warnings:');
        if (command >= 0 && warnings >= 0) expect(warnings).toBeLessThan(command);
        if (command < 0) expect(lines.at(-1)).toMatch(/^…\[the rest of this request is not shown/);
        expect(lines[3]).toBe(`  ${displayField(w.reason, DISPLAY_LIMITS.reason)}`);
        if (command >= 0) {
          expect(lines[command]).toBe(`Command: ${formatCommand(w.command)}`);
          const at = command + (lines[command + 1]?.startsWith('  (shortened;') === true ? 2 : 1);
          expect(lines[at]).toBe(`Executable: ${displayField(w.executable, DISPLAY_LIMITS.path)}`);
          expect(lines[at + 1]).toBe(`Working directory: ${displayField(w.cwd, DISPLAY_LIMITS.path)}`);
        }
        w.secrets.slice(0, 3).forEach((s, i) => {
          expect(lines[6 + i]?.startsWith(`  ${displayField(s.alias, DISPLAY_LIMITS.alias)} = ${displayField(s.ref, DISPLAY_LIMITS.ref)} (`)).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('names the project config in use, escaped, and says when output is not masked (exec only)', () => {
    const plain = renderPrompt(samplePrompt(), { now: NOW }).lines;
    expect(plain.some((l) => l.startsWith('Config: ') || l.startsWith('Output: '))).toBe(false);
    const lines = renderPrompt(samplePrompt({ config_path: '/home/dev/infra/agent-secret.yml\u202e', mask: false }), { now: NOW }).lines;
    expect(lines[lines.indexOf('Profile: deploy') + 1]).toBe('Config: /home/dev/infra/agent-secret.yml\\u202e');
    expect(lines[lines.indexOf('Scope: same exact command only') + 1]).toBe(
      "Output: NOT masked (--no-mask, the profile's mask: false, or output to a terminal): the values can appear in what the command prints",
    );
    const session = buildPrompt(sampleWire({ mask: false }), { id: 'req_1', expiresAt: new Date(NOW + 60_000), operation: 'session_create', session: { max_reads: 1, ttl_seconds: 60, binding: 'zsh' } });
    expect(renderPrompt(session, { now: NOW }).lines.some((l) => l.startsWith('Output: '))).toBe(false);
  });

  it('builds the prompt in the documented key order without sharing arrays with the request', () => {
    const wire = sampleWire();
    const prompt = buildPrompt(wire, { id: 'req_1', expiresAt: new Date(NOW) });
    expect(Object.keys(prompt)).toEqual([
      'version', 'id', 'operation', 'allows_reusable', 'reason', 'command', 'executable', 'cwd', 'secrets', 'ttl_seconds',
      'override_env', 'overridden_aliases', 'allow_mutable_executable', 'pristine', 'mask', 'warnings', 'requester', 'profile', 'config_path', 'plain_env', 'scripts', 'expires_at', 'queue', 'identical_waiting',
    ]);
    expect(prompt).toMatchObject({ version: 1, operation: 'exec', allows_reusable: true, expires_at: '2030-01-02T03:04:05.000Z', queue: { waiting: 0 } });
    expect(prompt).not.toHaveProperty('session');
    expect(prompt.command).not.toBe(wire.command);
    expect(prompt.secrets[0]).not.toBe(wire.secrets[0]);
  });
});

describe('operations', () => {
  const session = { max_reads: 5, ttl_seconds: 300, binding: 'zsh (pid 123, /bin/zsh)' };
  const item = sampleWire({
    command: ['agent-secret', 'item', 'describe', 'op://Private/GitHub'],
    executable: '/usr/local/bin/node',
    secrets: [{ alias: 'GitHub', ref: 'op://Private/GitHub', provider: 'op', account: null }],
    profile: null,
  });

  it.each<[PromptOperation, boolean]>([
    ['exec', true],
    ['item_describe', false],
    ['session_create', false],
    ['approver_test', false],
  ])('%s prompts allow a reusable approval: %s', (operation, reusable) => {
    const prompt = buildPrompt(sampleWire(), { id: 'req_1', expiresAt: new Date(NOW), operation, session });
    expect(prompt.operation).toBe(operation);
    expect(prompt.allows_reusable).toBe(reusable);
  });

  it('keeps the session only on session_create, in the documented key order', () => {
    const created = buildPrompt(sampleWire(), { id: 'req_1', expiresAt: new Date(NOW), operation: 'session_create', session });
    expect(Object.keys(created).slice(-4)).toEqual(['session', 'expires_at', 'queue', 'identical_waiting']);
    expect(created.session).toEqual(session);
    expect(created.session).not.toBe(session);
    expect(buildPrompt(sampleWire(), { id: 'req_1', expiresAt: new Date(NOW), operation: 'item_describe', session })).not.toHaveProperty('session');
  });

  it('renders an approver test: its own title and question, no secrets, nothing to allow but an answer', () => {
    const prompt = buildPrompt({ ...item, command: ['agent-secret', 'approver', 'test'], secrets: [], reason: 'A test of your approver' }, { id: 'req_1', expiresAt: new Date(NOW + 60_000), operation: 'approver_test' });
    expect(prompt.allows_reusable).toBe(false);
    expect(renderPrompt(prompt, { now: NOW }).title).toBe('agent-secret: approver test (nothing is read)');
    const lines = renderPromptText(prompt, { now: NOW }).split('\n');
    expect(lines[0]).toBe('Is this how agent-secret asks you? Answer as you like: the answer is only reported back.');
    expect(lines).toContain('Secrets: none. This is a test: nothing is read from 1Password and nothing runs.');
    expect(lines).toContain('Command: agent-secret approver test');
    expect(lines).toContain('Scope: none; the answer is reported back to agent-secret approver test');
  });

  it('renders item describe: its own title and question, the item instead of secrets, no alias', () => {
    const prompt = buildPrompt(item, { id: 'req_1', expiresAt: new Date(NOW + 60_000), operation: 'item_describe' });
    const { title } = renderPrompt(prompt, { now: NOW });
    expect(title).toBe('agent-secret: item metadata request');
    expect(renderPromptText(prompt, { now: NOW })).toMatchInlineSnapshot(`
      "Allow this command to read the field names (never the values) of this 1Password item?

      Reason (the agent's own words):
        deploy the staging stack

      Item:
        op://Private/GitHub (default account)

      Command: agent-secret item describe op://Private/GitHub
      Executable: /usr/local/bin/node
      Working directory: /home/dev/infra
      Account: default account
      Profile: (none: one-off secrets)
      Scope: one read of field names, types and sections; every value is dropped

      Requested by (pid reported by the caller): agent-secret (pid 4242) ← bash (pid 4000) ← claude (pid 3000)
      Expires: in 1 minute (request ttl 2m)"
    `);
  });

  it('renders session create: who may read how often for how long, and the binding', () => {
    const prompt = buildPrompt(sampleWire(), { id: 'req_1', expiresAt: new Date(NOW + 60_000), operation: 'session_create', session });
    expect(renderPrompt(prompt, { now: NOW }).title).toBe('agent-secret: session access request');
    expect(renderPromptText(prompt, { now: NOW })).toMatchInlineSnapshot(`
      "Allow zsh (pid 123, /bin/zsh) to read these 2 secrets up to 5 times in the next 5 minutes?

      Reason (the agent's own words):
        deploy the staging stack

      Secrets (2):
        AWS_SECRET = op://Infra/aws/secret (acme.1password.com)
        TF_TOKEN = op://Infra/terraform/token (default account)

      Command: terraform plan -var 'region=eu west'
      Executable: /usr/bin/terraform
      Working directory: /home/dev/infra
      Accounts: acme.1password.com, default account
      Profile: deploy (reported by the caller)
      Scope: one session: up to 5 reads within 5 minutes of approval, from the bound process and this directory only
      Bound to: zsh (pid 123, /bin/zsh)

      Requested by (pid reported by the caller): agent-secret (pid 4242) ← bash (pid 4000) ← claude (pid 3000)
      Expires: in 1 minute (request ttl 2m)"
    `);
  });

  it.each([
    [{ max_reads: 1, ttl_seconds: 90, binding: 'bound to bash (pid 7)' }, 'Allow bash (pid 7) to read this secret up to once in the next 1 min 30 sec?'],
    [{ max_reads: 100, ttl_seconds: 10, binding: '' }, 'Allow the bound process to read this secret up to 100 times in the next 10 sec?'],
    [{ max_reads: 2, ttl_seconds: 60, binding: 'evil\n(pid 1)\u202e' }, 'Allow evil\\n(pid 1)\\u202e to read this secret up to 2 times in the next 1 minute?'],
  ])('session question for %j', (s, question) => {
    const prompt = buildPrompt(sampleWire({ secrets: [{ alias: 'T', ref: 'op://v/i/f', provider: 'op', account: null }] }), { id: 'r', expiresAt: new Date(NOW), operation: 'session_create', session: s });
    expect(renderPrompt(prompt, { now: NOW }).lines[0]).toBe(question);
  });

  it('says so when a session prompt lacks its session, and shows an unknown operation as an exec', () => {
    const missing = buildPrompt(sampleWire(), { id: 'r', expiresAt: new Date(NOW), operation: 'session_create' });
    expect(renderPrompt(missing, { now: NOW }).lines[0]).toBe('Allow a session to read these 2 secrets? (The session details are missing: deny.)');
    const odd = { ...buildPrompt(sampleWire(), { id: 'r', expiresAt: new Date(NOW) }), operation: 'delete_vault' as PromptOperation, allows_reusable: false };
    expect(renderPrompt(odd, { now: NOW }).title).toBe('agent-secret: secret access request');
    expect(renderPrompt(odd, { now: NOW }).lines).toContain('Scope: this run only');
  });

  it('escapes every agent-controlled field for every operation, and each field fills exactly its lines', () => {
    const wire = fc.record({
      reason: longish,
      command: fc.array(longish, { minLength: 1, maxLength: 5 }),
      executable: longish,
      cwd: longish,
      secrets: fc.array(fc.record({ alias: untrusted, ref: longish, provider: fc.oneof(fc.constantFrom('op', 'bws'), untrusted), account: fc.option(untrusted, { nil: null }) }), { minLength: 1, maxLength: 5 }),
      ttl_seconds: fc.integer({ min: 10, max: 600 }),
      override_env: fc.boolean(),
      overridden_aliases: fc.array(untrusted, { maxLength: 3 }),
      allow_mutable_executable: fc.boolean(),
      pristine: fc.boolean(),
      mask: fc.boolean(),
      warnings: fc.array(longish, { maxLength: 3 }),
      requester: fc.record({ pid: fc.integer({ min: 1, max: 1 << 22 }), chain: fc.array(fc.record({ pid: fc.integer({ min: 1, max: 1 << 22 }), name: longish }), { maxLength: 3 }) }),
      profile: fc.option(longish, { nil: null }),
      config_path: fc.option(longish, { nil: null }),
      plain_env: fc.array(untrusted, { maxLength: 3 }),
      scripts: fc.constant([]),
    }) satisfies fc.Arbitrary<WireRequest>;
    const sessionArb = fc.record({ max_reads: fc.integer({ min: 1, max: 100 }), ttl_seconds: fc.integer({ min: 10, max: 600 }), binding: longish });
    fc.assert(
      fc.property(wire, fc.constantFrom<PromptOperation>('exec', 'item_describe', 'session_create', 'approver_test'), sessionArb, (w, operation, s) => {
        const prompt = buildPrompt(w, { id: 'req_x', expiresAt: new Date(NOW + 60_000), operation, session: s });
        const { title, lines } = renderPrompt(prompt, { now: NOW });
        expect(title).toBe(PROMPT_TITLES[operation]);
        expect(RAW_UNSAFE.test(title)).toBe(false);
        for (const line of lines) expect(RAW_UNSAFE.test(line)).toBe(false);
        expect(renderPromptText(prompt, { now: NOW }).split('\n')).toHaveLength(lines.length);
        expect(lines[3]).toBe(`  ${displayField(w.reason, DISPLAY_LIMITS.reason)}`);
        expect(lines.filter((l) => l.startsWith('Scope: '))).toHaveLength(1);
        // The output line is an exec matter: the other operations run no command on approval.
        const out = operation === 'exec' && !w.mask ? 1 : 0;
        expect(lines.filter((l) => l.startsWith('Output: '))).toHaveLength(out);
        if (operation === 'session_create' && !lines.at(-1)!.startsWith('…[the rest')) {
          expect(lines.filter((l) => l.startsWith('Bound to: '))).toEqual([`Bound to: ${s.binding.replace(/^\s*bound to\s+/i, '').trim() === '' ? 'the bound process' : displayField(s.binding.replace(/^\s*bound to\s+/i, ''), DISPLAY_LIMITS.binding)}`]);
          expect(lines[0]?.endsWith(`in the next ${formatRemaining(s.ttl_seconds * 1000)}?`)).toBe(true);
        }
        expect(lines[5]).toBe(
          operation === 'item_describe'
            ? w.secrets.length === 1
              ? 'Item:'
              : `Items (${w.secrets.length}):`
            : operation === 'approver_test'
              ? 'Secrets: none. This is a test: nothing is read from 1Password and nothing runs.'
              : `Secrets (${w.secrets.length}):`,
        );
        expect([...renderPromptText(prompt, { now: NOW })].length).toBeLessThanOrEqual(DISPLAY_LIMITS.total);
      }),
      { numRuns: 300 },
    );
  });
});

describe('files and templates in the prompt', () => {
  it('says which secrets arrive as files and how, and lists every reference a template uses', () => {
    const prompt = samplePrompt({
      secrets: [
        { alias: 'KUBECONFIG', ref: 'op://Infra/prod-cluster/kubeconfig', provider: 'op', account: null, delivery: 'file', file: { name: 'KUBECONFIG', mode: 'file', max_reads: null } },
        { alias: 'TLS_KEY', ref: 'op://Infra/TLS/key', provider: 'op', account: null, delivery: 'file', file: { name: 'tls.key', mode: 'fifo', max_reads: 2 } },
        { alias: 'TF_TOKEN', ref: 'op://Infra/terraform/token', provider: 'op', account: null, delivery: 'env', file: null },
      ],
      templates: [
        { alias: 'NPM_CONFIG_USERCONFIG', path: '/home/dev/infra/npmrc.tmpl', sha256: 'ab'.repeat(32), refs: ['op://Infra/npm/token', 'op://Infra/npm/user'], account: null, file: { name: 'npmrc', mode: 'file', max_reads: null } },
      ],
    });
    const text = renderPromptText(prompt, { now: NOW });
    expect(text).toContain('KUBECONFIG = op://Infra/prod-cluster/kubeconfig (default account) as a file\n');
    expect(text).toContain('TLS_KEY = op://Infra/TLS/key (default account) as a file (named tls.key, a named pipe, 2 reads at most)');
    expect(text).toContain('TF_TOKEN = op://Infra/terraform/token (default account)\n');
    expect(text).toContain('Templates rendered into files (1):');
    expect(text).toContain(`NPM_CONFIG_USERCONFIG = /home/dev/infra/npmrc.tmpl (sha256 ${'ab'.repeat(6)}…) as a file (named npmrc)`);
    expect(text).toContain('uses op://Infra/npm/token (default account)');
    expect(text).toContain('uses op://Infra/npm/user (default account)');
    // Every value resolved counts: three secrets and the template's two references.
    expect(text).toContain('these 5 secrets');
  });
});

describe('logical names in the prompt', () => {
  it('a named secret shows its name before its reference; a name is escaped like any agent-facing text', () => {
    const text = renderPromptText(
      samplePrompt({
        secrets: [
          { alias: 'OPENAI_API_KEY', name: 'openai_key', ref: 'op://AI/OpenAI/credential', provider: 'op', account: null },
          { alias: 'PLAIN', ref: 'op://Dev/plain/credential', provider: 'op', account: null },
        ],
      }),
      { now: NOW },
    );
    expect(text).toContain('  OPENAI_API_KEY = openai_key → op://AI/OpenAI/credential (');
    expect(text).toContain('  PLAIN = op://Dev/plain/credential (');
  });
});
