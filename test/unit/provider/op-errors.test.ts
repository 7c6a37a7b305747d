import { describe, expect, it } from 'vitest';
import {
  classifyOpError,
  interpretOpFailure,
  parseOpStderr,
  sanitizeOpText,
  shortenOpMessage,
  type OpErrorKind,
} from '../../../src/provider/op/errors.js';
import { pinpointRefs } from '../../../src/provider/op/pinpoint.js';

const TS = '2026/07/20 20:55:23';
const NO_ACCOUNTS = `No accounts configured for use with 1Password CLI.

 - Turn on the 1Password desktop app integration to sign in with the accounts you've added to the app: https://www.1password.dev/cli/app-integration/ for details.
 - Add an account manually with 'op account add' and sign in by entering your password on the command line.
[ERROR] ${TS} could not read secret 'op://x/y/z': error initializing client:
`;

// Recorded op stderr (shared/reference/op-cli.md §1.6, §4.2, §5.4, §7) → kind and shown reason.
const RECORDED: Array<[string, string, OpErrorKind, string]> = [
  [
    'item missing (read, 2.35)',
    `[ERROR] ${TS} could not read secret 'op://Employee/NoSuchItem/Username': could not get item Employee/NoSuchItem: "NoSuchItem" isn't an item in the "Employee" vault. Specify the item with its UUID, name, or domain.\n`,
    'bad_ref',
    `"NoSuchItem" isn't an item in the "Employee" vault`,
  ],
  [
    'vault missing (read, 2.35)',
    `[ERROR] ${TS} could not read secret 'op://NoSuchVault/Notion/Username': could not get item NoSuchVault/Notion: "NoSuchVault" isn't a vault in this account. Specify the vault with its ID or name.\n`,
    'bad_ref',
    `"NoSuchVault" isn't a vault in this account`,
  ],
  [
    'field missing (read)',
    `[ERROR] ${TS} could not read secret 'op://Employee/Notion/NoSuchField': item 'Employee/Notion' does not have a field 'NoSuchField'\n`,
    'bad_ref',
    `item 'Employee/Notion' does not have a field 'NoSuchField'`,
  ],
  [
    'too few segments (read)',
    `[ERROR] ${TS} could not read secret 'op://Employee/Notion': invalid secret reference 'op://Employee/Notion': too few '/': secret references should have at least vault, item and field specified\n`,
    'bad_ref',
    `too few '/': secret references should have at least vault, item and field specified`,
  ],
  [
    'too few segments (inject)',
    `[ERROR] ${TS} invalid secret reference 'op://': too few '/': secret references should have at least vault, item and field specified\n`,
    'bad_ref',
    `too few '/': secret references should have at least vault, item and field specified`,
  ],
  [
    'item missing (inject)',
    `[ERROR] ${TS} could not resolve item UUID for item this-item-does-not-exist-xyz: could not find item this-item-does-not-exist-xyz in vault 3krbvotxjulf6nvqm2k4xfb2p4\n`,
    'bad_ref',
    'could not resolve item UUID for item this-item-does-not-exist-xyz: could not find item this-item-does-not-exist-xyz in vault 3krbvotxjulf6nvqm2k4xfb2p4',
  ],
  [
    'older unquoted wording (2022)',
    `[ERROR] ${TS} could not read secret op://Systems-staging/.env.api/SOME_API_KEY: could not find field or file SOME_API_KEY on item .env.api in vault Systems-staging\n`,
    'bad_ref',
    'could not find field or file SOME_API_KEY on item .env.api in vault Systems-staging',
  ],
  [
    'double-quoted reference (2026)',
    `[ERROR] ${TS} could not read secret "op://Prod/Api/token": item 'Prod/Api' does not have a field 'token'\n`,
    'bad_ref',
    `item 'Prod/Api' does not have a field 'token'`,
  ],
  [
    'ambiguous item',
    `[ERROR] ${TS} More than one item matches "Delete Me". Try again and specify the item by its ID:\n\t* for the item "Delete Me" in vault Test Data: abc\n\t* for the item "Delete Me" in vault Test Data: def\n`,
    'bad_ref',
    'More than one item matches "Delete Me"',
  ],
  ['template syntax', `[ERROR] ${TS} parsing error at 4:53: only secret references or quoted strings can be enclosed in unescaped {{ }}s\n`, 'bad_ref', 'parsing error at 4:53: only secret references or quoted strings can be enclosed in unescaped {{ }}s'],
  [
    'signed out (read, 2.39)',
    `[ERROR] ${TS} could not read secret 'op://x/y/z': error initializing client: You are not currently signed in. Please run \`op signin --help\` for instructions\n`,
    'signed_out',
    'You are not currently signed in. Please run `op signin --help` for instructions',
  ],
  ['whoami signed out', `[ERROR] 2023/03/10 20:47:00 account is not signed in\n`, 'signed_out', 'account is not signed in'],
  ['no accounts (preamble)', NO_ACCOUNTS, 'signed_out', 'No accounts configured for use with 1Password CLI.'],
  ['no accounts (one line)', `[ERROR] ${TS} error initializing client: No accounts configured for use with 1Password CLI\n`, 'signed_out', 'No accounts configured for use with 1Password CLI'],
  ['unknown account', `[ERROR] ${TS} no account found for filter work\n`, 'signed_out', 'no account found for filter work'],
  ['session token (2022)', `[ERROR] ${TS} could not find session token for account my\n`, 'signed_out', 'could not find session token for account my'],
  ['authorization timeout', `[ERROR] ${TS} error initializing client: authorization timeout\n`, 'declined', 'authorization timeout'],
  ['prompt dismissed', `[ERROR] ${TS} could not read secret 'op://a/b/c': error initializing client: authorization prompt dismissed, please try again\n`, 'declined', 'authorization prompt dismissed, please try again'],
  [
    'desktop app timeout',
    `[ERROR] ${TS} error initializing client: connecting to desktop app: connecting to desktop app timed out\n`,
    'transient',
    'connecting to desktop app: connecting to desktop app timed out',
  ],
  ['deadline', `[ERROR] ${TS} could not read secret 'op://a/b/c': read: context deadline exceeded\n`, 'transient', 'read: context deadline exceeded'],
  [
    'rate limited',
    "[ERROR] 2023/06/26 11:55:32 (429) Too Many Requests: You've reached the maximum number of this type of requests this service account is allowed to make. Please retry in 58 minutes or try other requests.\n",
    'rate_limited',
    "(429) Too Many Requests: You've reached the maximum number of this type of requests this service account is allowed to make. Please retry in 58 minutes or try other requests",
  ],
  ['forbidden', `[ERROR] ${TS} (403) Forbidden: You aren't authorized to access this resource.\n`, 'permission', "(403) Forbidden: You aren't authorized to access this resource"],
  ['no timestamp', '[ERROR] something new went wrong\n', 'unknown', 'something new went wrong'],
];

describe('interpretOpFailure on recorded op stderr', () => {
  it.each(RECORDED)('%s', (_name, stderr, kind, reason) => {
    const failure = interpretOpFailure(stderr, 1);
    expect(failure.kind).toBe(kind);
    expect(failure.reason).toBe(reason);
  });

  it('says so when op failed without an [ERROR] line (a Go panic)', () => {
    const failure = interpretOpFailure('panic: runtime error: index out of range\n\ngoroutine 1 [running]:\n', 2);
    expect(failure).toEqual({ kind: 'unknown', reason: 'op exited with code 2 without an error message', message: '' });
  });

  it('never classifies a vault or item name as an auth problem', () => {
    const stderr = `[ERROR] ${TS} could not read secret 'op://account is not signed in/x/y': could not get item account is not signed in/x: "account is not signed in" isn't a vault in this account.\n`;
    expect(interpretOpFailure(stderr, 1).kind).toBe('bad_ref');
  });
});

describe('parseOpStderr', () => {
  it('keeps preamble lines, messages and continuation lines apart', () => {
    const parsed = parseOpStderr(NO_ACCOUNTS + `[ERROR] ${TS} second\n\tmore\n`);
    expect(parsed.preamble[0]).toBe('No accounts configured for use with 1Password CLI.');
    expect(parsed.preamble).toHaveLength(3);
    expect(parsed.errors).toEqual([
      { message: "could not read secret 'op://x/y/z': error initializing client:", continuation: [] },
      { message: 'second', continuation: ['more'] },
    ]);
  });

  it('accepts CRLF line ends', () => {
    expect(parseOpStderr(`[ERROR] ${TS} a\r\n`).errors[0]?.message).toBe('a');
  });
});

describe('classifyOpError', () => {
  it.each<[string, OpErrorKind]>([
    ["\"X\" isn't an item. Specify the item with its UUID, name, or domain.", 'bad_ref'],
    ['service account token set, but not authenticated yet', 'signed_out'],
    ['LostConnectionToApp', 'transient'],
    ['brand new failure', 'unknown'],
  ])('%s → %s', (text, kind) => expect(classifyOpError(text)).toBe(kind));
});

describe('shortenOpMessage and sanitizeOpText', () => {
  it('strips the read and item wrappers and op advice', () => {
    expect(shortenOpMessage(`could not get item Prod/Cloudflare: "Cloudflare" isn't an item in the "Prod" vault. Specify the item with its UUID, name, or domain.`)).toBe(
      `"Cloudflare" isn't an item in the "Prod" vault`,
    );
  });

  it('removes control, bidi and zero-width characters and folds lines', () => {
    expect(sanitizeOpText('a\u001b[31mb\nc\u202ed\u200be\tf')).toBe('a [31mb c d e f');
  });

  it('clips to 240 code points', () => {
    const clipped = sanitizeOpText('é'.repeat(500));
    expect([...clipped]).toHaveLength(240);
    expect(clipped.endsWith('…')).toBe(true);
  });
});

describe('pinpointRefs', () => {
  const refs = ['op://Prod/Cloudflare/token', 'op://Prod/Cloudflare/user', 'op://Prod/Stripe/secret key', 'op://Infra/Deploy/Security/one-time password?attribute=otp'];
  it.each<[string, string, string[]]>([
    ['quoted reference', `could not read secret 'op://Prod/Stripe/secret key': item 'Prod/Stripe' does not have a field 'secret key'`, ['op://Prod/Stripe/secret key']],
    ['item path', `could not get item Prod/Cloudflare: "Cloudflare" isn't an item in the "Prod" vault.`, ['op://Prod/Cloudflare/token', 'op://Prod/Cloudflare/user']],
    ['field of item', `item 'prod/cloudflare' does not have a field 'USER'`, ['op://Prod/Cloudflare/user']],
    ['section/field', `item 'Infra/Deploy' does not have a field 'one-time password'`, ['op://Infra/Deploy/Security/one-time password?attribute=otp']],
    ['inject item wording', 'could not resolve item UUID for item Stripe: could not find item Stripe in vault abc', ['op://Prod/Stripe/secret key']],
    ['vault only', `"Prod" isn't a vault in this account.`, ['op://Prod/Cloudflare/token', 'op://Prod/Cloudflare/user', 'op://Prod/Stripe/secret key']],
    ['names given by ID', `item 'Prod/k7qmv3xnhb2wrt5yzlc4pd8fja' does not have a field 'x'`, []],
    ['auth problem', 'error initializing client: authorization timeout', []],
  ])('%s', (_name, message, expected) => expect(pinpointRefs(message, refs)).toEqual(expected));

  it('does not take a reference for a longer one it prefixes', () => {
    expect(pinpointRefs(`could not read secret 'op://a/b/cd': x`, ['op://a/b/c', 'op://a/b/cd'])).toEqual(['op://a/b/cd']);
  });
});
