import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { parseItemRef } from '../../../src/core/ref.js';
import { checkItemRef, describeItem, parseItemJson, resolveSecrets, type ItemDescription } from '../../../src/provider/index.js';
import { CANARIES, FAKE_VAULT_PATH } from '../../helpers/canaries.js';
import { createFakeOpWorld, FAKE_OP, type FakeOpWorld } from './fake-op-env.js';

// describeItem against the fake op: one `op item get` per call, metadata only, references that
// op resolves to exactly the field they describe, op's failures as our own messages.

const MY = 'my.1password.com';

interface VaultField {
  id: string;
  label?: string;
  value?: string;
  section?: string;
}
interface VaultItem {
  id: string;
  title: string;
  fields?: VaultField[];
  files?: Array<{ id: string; name: string; content?: string }>;
}
interface VaultData {
  accounts: Array<{ url: string; shorthand: string; vaults: Array<{ id: string; name: string; items: VaultItem[] }> }>;
}
const vaultData = JSON.parse(readFileSync(FAKE_VAULT_PATH, 'utf8')) as VaultData;
const myVaults = vaultData.accounts.find((a) => a.url === MY)?.vaults ?? [];

let world: FakeOpWorld;
beforeEach(() => {
  world = createFakeOpWorld();
});
afterEach(() => world.cleanup());

// Everything describeItem returned or threw in this file is scanned for values at the end.
const outputs: string[] = [];
afterAll(() => {
  expect(outputs.length).toBeGreaterThan(20);
  for (const text of outputs) {
    expect(text).not.toMatch(/CANARY/i);
    for (const canary of CANARIES) expect(text).not.toContain(canary);
    // The OTP codes, the password strength and the URL of the fixture are not canaries but values too.
    for (const other of ['482913', '739104', 'FANTASTIC', 'otpauth', 'github.com/login', 'hooks.example.com']) expect(text).not.toContain(other);
  }
});

async function describeOk(itemRef: string, account: string | null = null, env: Record<string, string> = {}): Promise<ItemDescription> {
  const desc = await describeItem({ itemRef, account, opPath: FAKE_OP, env: { ...world.env, ...env }, timeoutMs: 20_000 });
  outputs.push(JSON.stringify(desc));
  return desc;
}

async function describeFails(itemRef: string, options: { account?: string | null; env?: Record<string, string>; timeoutMs?: number; signal?: AbortSignal; opPath?: string } = {}) {
  const error = await describeItem({
    itemRef,
    account: options.account ?? null,
    opPath: options.opPath ?? FAKE_OP,
    env: { ...world.env, ...options.env },
    timeoutMs: options.timeoutMs ?? 20_000,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  }).then(
    () => expect.fail('describeItem should have rejected'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentSecretError);
  const e = error as AgentSecretError;
  outputs.push([e.message, e.hint ?? '', JSON.stringify(e.details), String(e), e.stack ?? '', String(e.cause ?? '')].join('\n'));
  return e;
}

/** Each field's value in the fixture, by item ID and field (or file) ID. */
function fixtureValue(itemId: string, fieldId: string): string {
  for (const vault of myVaults) {
    const item = vault.items.find((i) => i.id === itemId);
    const field = item?.fields?.find((f) => f.id === fieldId);
    if (field !== undefined) return field.value ?? '';
    const file = item?.files?.find((f) => f.id === fieldId);
    if (file !== undefined) return file.content ?? '';
  }
  throw new Error(`no fixture field ${itemId}/${fieldId}`);
}

describe('describeItem', () => {
  it('runs exactly one op item get and returns labels, types, sections and references of a login', async () => {
    const desc = await describeOk('op://Infra/GitHub');
    const calls = world.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.argv).toEqual(['item', 'get', 'GitHub', '--vault', 'Infra', '--format', 'json', '--no-color']);
    expect(desc.vault).toEqual({ id: 'k7qmv3xnhb2wrt5yzlc4pd8fja', name: 'Infra' });
    expect(desc.item).toEqual({ id: 'ghub7kqz2mxv4wbn8hry5ldaqc', title: 'GitHub', category: 'LOGIN' });
    expect(desc.fields.map((f) => [f.label, f.type, f.section, f.concealed, f.reference])).toEqual([
      ['username', 'STRING', null, false, 'op://Infra/GitHub/username'],
      ['password', 'CONCEALED', null, true, 'op://Infra/GitHub/password'],
      ['notesPlain', 'STRING', null, false, 'op://Infra/GitHub/notesPlain'],
      ['personal access token', 'CONCEALED', 'API', true, 'op://Infra/GitHub/API/personal access token'],
      ['one-time password', 'OTP', 'API', true, 'op://Infra/GitHub/API/one-time password'],
      // Two sections are labelled Backup: their fields are addressed through the section ID.
      ['recovery code', 'CONCEALED', 'Backup', true, 'op://Infra/GitHub/Section_b5d2a8e1c6f0/recovery code'],
      ['recovery code', 'CONCEALED', 'Backup', true, 'op://Infra/GitHub/Section_e7f3c9a1d4b2/recovery code'],
      ['path', 'STRING', 'add more', false, 'op://Infra/GitHub/add more/path'],
      ['', 'CONCEALED', null, true, 'op://Infra/GitHub/9F3A6C1E2B7D4A58B0C1D2E3F4A5B6C7'],
      ['client/secret', 'STRING', null, false, 'op://Infra/GitHub/slsh7kqz2mxv4wbn8hry5ldaqc'],
      ['naïve \u202egnp.exe', 'STRING', null, false, 'op://Infra/GitHub/bidi7kqz2mxv4wbn8hry5ldaqc'],
      ['webhook', 'URL', null, false, 'op://Infra/GitHub/webhook'],
      ['recovery-codes.txt', 'FILE', 'Backup', true, 'op://Infra/GitHub/Section_b5d2a8e1c6f0/recovery-codes.txt'],
    ]);
    expect(desc.fields.filter((f) => f.purpose !== undefined).map((f) => [f.label, f.purpose])).toEqual([
      ['username', 'USERNAME'],
      ['password', 'PASSWORD'],
      ['notesPlain', 'NOTES'],
    ]);
    expect(desc.fields[7]).toMatchObject({ section: 'add more', sectionId: 'add more' });
    // Only the documented keys: nothing op printed beyond them survives.
    for (const field of desc.fields) {
      expect(Object.keys(field).sort()).toEqual(['concealed', 'id', 'label', 'reference', 'section', 'sectionId', 'type', ...(field.purpose === undefined ? [] : ['purpose'])].sort());
    }
    expect(Object.keys(desc).sort()).toEqual(['fields', 'item', 'vault']);
  });

  it('gives references op resolves to exactly the field they describe, for every item of the fake vault', async () => {
    let checked = 0;
    for (const vault of myVaults) {
      for (const item of vault.items) {
        // By ID: some titles are shared (Dup) or unusable in a reference (Legacy (v1)/Old).
        const desc = await describeOk(`op://${vault.id}/${item.id}`);
        const references = desc.fields.map((f) => f.reference.toLowerCase());
        expect(new Set(references).size, `${item.title}: references are unique`).toBe(references.length);
        expect(desc.fields).toHaveLength((item.fields ?? []).length + (item.files ?? []).length);
        // Through the path exec uses: one op inject for all of the item's references.
        const specs = desc.fields.map((field, index) => ({ alias: `F${index}`, ref: field.reference, provider: 'op', account: null, source: 'flag' as const }));
        const values = await resolveSecrets(specs, { opPath: FAKE_OP, env: world.env });
        desc.fields.forEach((field, index) => {
          expect(values.get(`F${index}`)?.reveal(), `${item.title}/${field.label}`).toBe(fixtureValue(item.id, field.id));
          checked += 1;
        });
      }
    }
    expect(checked).toBeGreaterThan(40);
  }, 60_000);

  it('addresses an item given by ID by its ID, so a shared title cannot make a reference ambiguous', async () => {
    const desc = await describeOk('op://Infra/dup2itm7kqz2mxv4wbn8hry5lda');
    expect(desc.fields.map((f) => f.reference)).toEqual(['op://Infra/dup2itm7kqz2mxv4wbn8hry5lda/password']);
    const legacy = await describeOk('op://infra/LGCYITM7KQZ2MXV4WBN8HRY5LDA');
    expect(legacy.fields.map((f) => f.reference)).toEqual([
      'op://Infra/lgcyitm7kqz2mxv4wbn8hry5lda/password',
      'op://Infra/lgcyitm7kqz2mxv4wbn8hry5lda/add more/hu4vwo3bjkawq2uw2fkn5pkjzu',
    ]);
  });

  it('accepts op://vault/item/*, names the account to op, and reads that account', async () => {
    const desc = await describeOk('op://Infra/Cloudflare/*', 'work');
    expect(world.calls()[0]?.argv).toEqual(['item', 'get', 'Cloudflare', '--vault', 'Infra', '--format', 'json', '--no-color', '--account', 'work']);
    expect(desc.item.id).toBe('wcftkn7kqz2mxv4wbn8hry5lda');
    expect(desc.fields.map((f) => f.reference)).toEqual(['op://Infra/Cloudflare/token']);
  });

  it('refuses references that are not exactly op://vault/item before starting op', async () => {
    const cases: Array<[string, string]> = [
      ['op://Infra', "too few '/'"],
      ['op://Infra/GitHub/password', "too many '/'"],
      ['op://Infra/GitHub/API/password', "too many '/'"],
      ['op://Infra/GitHub?attribute=otp', 'no query'],
      ['Infra/GitHub', 'must start with op://'],
      ['op://Infra/Git(Hub)', 'refer to anything else by its ID'],
      ['op://Infra/-', 'op flag'],
      ['op://--vault/GitHub', 'op flag'],
      ['op://Infra/', 'must not be empty'],
      [' op://Infra/GitHub', 'whitespace'],
    ];
    for (const [ref, fragment] of cases) {
      const error = await describeFails(ref);
      expect(error.code, ref).toBe('ref.invalid');
      expect(error.exitCode).toBe(2);
      expect(error.message, ref).toContain(fragment);
      expect(() => checkItemRef(ref)).toThrow(AgentSecretError);
    }
    const badAccount = await describeFails('op://Infra/GitHub', { account: 'has space' });
    expect(badAccount.code).toBe('account.invalid');
    expect(world.calls()).toHaveLength(0);
  });
});

describe('describeItem failures', () => {
  it('maps a missing item and a missing vault to op could not find …, one op call each', async () => {
    const item = await describeFails('op://Infra/Nope');
    expect(item).toMatchObject({ code: 'provider.failed', details: { ref: 'op://Infra/Nope' } });
    expect(item.message).toBe(`op could not find op://Infra/Nope: "Nope" isn't an item in the "Infra" vault`);
    expect(item.hint).toContain('check the vault and item names');
    expect(item.hint).not.toContain('op item list');
    expect(item.exitCode).toBe(13);
    const vault = await describeFails('op://Nowhere/GitHub', { account: 'my' });
    expect(vault.message).toBe(`op could not find op://Nowhere/GitHub in account my: "Nowhere" isn't a vault in this account`);
    expect(vault.details).toEqual({ ref: 'op://Nowhere/GitHub', provider: 'op', account: 'my' });
    expect(world.calls()).toHaveLength(2);
  });

  it('names the candidate IDs when the item title is ambiguous', async () => {
    const error = await describeFails('op://Infra/Dup');
    expect(error.message).toBe('more than one item matches op://Infra/Dup');
    expect(error.hint).toBe('name the item by its ID: op://Infra/dup1itm7kqz2mxv4wbn8hry5lda, op://Infra/dup2itm7kqz2mxv4wbn8hry5lda');
  });

  it('maps sign-in, authorization and quota problems like resolution does', async () => {
    const cases: Array<[Record<string, string>, string | null, string, RegExp]> = [
      [{ FAKE_OP_STATE: 'signed_out' }, null, 'provider.signed_out', /^op is not signed in to 1Password \(needed for op:\/\/Infra\/GitHub\): You are not currently signed in/],
      [{ FAKE_OP_STATE: 'no_accounts' }, null, 'provider.signed_out', /^op has no 1Password account configured \(needed for op:\/\/Infra\/GitHub\)$/],
      [{}, 'nobody.example.com', 'provider.signed_out', /^op does not know the 1Password account in account nobody\.example\.com/],
      [{ FAKE_OP_STATE: 'auth_timeout' }, null, 'provider.failed', /^1Password did not authorize op \(needed for op:\/\/Infra\/GitHub\): authorization timeout$/],
      [{ FAKE_OP_STATE: 'dismissed' }, null, 'provider.failed', /^1Password did not authorize op/],
      [{ FAKE_OP_STATE: 'desktop_timeout' }, null, 'provider.failed', /^op could not reach 1Password \(needed for op:\/\/Infra\/GitHub\)/],
      [{ FAKE_OP_STATE: 'rate_limited' }, null, 'provider.failed', /^1Password refused op \(needed for op:\/\/Infra\/GitHub\): \(429\) Too Many Requests/],
    ];
    for (const [env, account, code, message] of cases) {
      const before = world.calls().length;
      const error = await describeFails('op://Infra/GitHub', { env, account });
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      expect(error.hint).toBeTruthy();
      // No retry: a transient desktop-app failure is reported, not repeated.
      expect(world.calls().length - before).toBe(1);
    }
  });

  it('reports a missing op, a timeout and a cancellation', async () => {
    const missing = await describeFails('op://Infra/GitHub', { opPath: join(world.dir, 'no-such-op') });
    expect(missing.code).toBe('provider.missing');
    const slow = await describeFails('op://Infra/GitHub', { env: { FAKE_OP_DELAY_MS: '5000' }, timeoutMs: 300 });
    expect(slow.message).toBe('op did not finish within 1s while reading op://Infra/GitHub');
    const controller = new AbortController();
    controller.abort();
    const cancelled = await describeFails('op://Infra/GitHub', { signal: controller.signal });
    expect(cancelled.message).toContain('cancelled before op started');
    expect(world.calls().filter((c) => c.exit_code === 0)).toHaveLength(0);
  });
});

describe('parseItemJson', () => {
  const ref = (raw: string) => {
    const parsed = parseItemRef(raw);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.ref;
  };
  const item = {
    id: 'abcdefghijklmnopqrstuvwxyz',
    title: 'Svc',
    category: 'PASSWORD',
    vault: { id: 'vvvvvvvvvvvvvvvvvvvvvvvvvv', name: 'Ops' },
    additional_information: 'CANARY-info-value-000001',
    urls: [{ href: 'https://x.example/?t=CANARY-url-value-000002', primary: true }],
    fields: [{ id: 'password', type: 'CONCEALED', purpose: 'PASSWORD', label: 'password', value: 'CANARY-pass-value-000003', reference: 'op://Ops/Svc/password', password_details: { strength: 'GOOD' } }],
  };

  it('keeps metadata only', () => {
    const desc = parseItemJson(JSON.stringify(item), ref('op://Ops/Svc'));
    outputs.push(JSON.stringify(desc));
    expect(desc).toEqual({
      vault: { id: 'vvvvvvvvvvvvvvvvvvvvvvvvvv', name: 'Ops' },
      item: { id: 'abcdefghijklmnopqrstuvwxyz', title: 'Svc', category: 'PASSWORD' },
      fields: [{ label: 'password', id: 'password', type: 'CONCEALED', purpose: 'PASSWORD', section: null, sectionId: null, concealed: true, reference: 'op://Ops/Svc/password' }],
    });
  });

  it('builds the reference when op gives none or one that does not parse, and ignores an op reference with a query', () => {
    const fields = [
      { id: 'a', type: 'STRING', label: 'alpha' },
      { id: 'b', type: 'STRING', label: 'beta', reference: 'not a reference CANARY-ref-value-000004' },
      { id: 'c', type: 'OTP', label: 'code', reference: 'op://Ops/Svc/code?attribute=otp' },
    ];
    const desc = parseItemJson(JSON.stringify({ ...item, fields }), ref('op://Ops/Svc'));
    outputs.push(JSON.stringify(desc));
    expect(desc.fields.map((f) => f.reference)).toEqual(['op://Ops/Svc/alpha', 'op://Ops/Svc/beta', 'op://Ops/Svc/code']);
  });

  it('refuses output it does not understand with a fixed message that quotes nothing', () => {
    const cases = ['', 'CANARY-garbage-value-000005', '{"value": "CANARY-partial-value-000006", ', JSON.stringify({ ...item, vault: 'CANARY-shape-value-000007' }), '[]', 'null'];
    for (const stdout of cases) {
      let error: unknown;
      try {
        parseItemJson(stdout, ref('op://Ops/Svc'));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AgentSecretError);
      const e = error as AgentSecretError;
      expect(e.message).toBe('op item get returned output agent-secret does not understand for op://Ops/Svc');
      expect(e.cause).toBeUndefined();
      outputs.push([e.message, e.hint, e.stack, JSON.stringify(e.details)].join('\n'));
    }
  });

  it('refuses an item other than the one named', () => {
    expect(() => parseItemJson(JSON.stringify(item), ref('op://Ops/Other'))).toThrow('op returned a different item than op://Ops/Other names');
    expect(() => parseItemJson(JSON.stringify(item), ref('op://Dev/Svc'))).toThrow('op returned a different item');
    expect(parseItemJson(JSON.stringify(item), ref('op://OPS/svc')).item.title).toBe('Svc');
  });
});
