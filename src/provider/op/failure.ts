// Turns a failed op call into the AgentSecretError the user sees: which aliases and references
// failed, op's sanitised reason, and the next step. Input is op's untrusted stderr and exit
// status; stdout is never read here, so no value can reach a message, hint or detail.

import { AgentSecretError, type ErrorDetails } from '../../core/errors.js';
import { parseRef } from '../../core/ref.js';
import { ambiguousItems, interpretOpFailure, type OpErrorKind, type OpFailure } from './errors.js';
import { pinpointRefs } from './pinpoint.js';
import type { OpRunResult } from './run-op.js';

import { describeEntries, detailsFor, type BatchEntry } from '../batch.js';

export { describeEntries, type BatchEntry };

export interface FailureContext {
  readonly account: string | null;
  readonly entries: readonly BatchEntry[];
  readonly timeoutMs: number;
  /** op ran with the account's service-account token, not the desktop app. */
  readonly serviceAccount?: boolean;
}

export const HINT_MISSING = 'install the 1Password CLI (op), or set op_path in ~/.config/agent-secret/config.yml; then run `agent-secret doctor`';
export const HINT_SIGNED_OUT = 'unlock the 1Password app (Settings > Developer > Integrate with 1Password CLI) or run `op signin`; then run `agent-secret doctor`';
export const HINT_NO_ACCOUNTS =
  'turn on the 1Password app integration (Settings > Developer > Integrate with 1Password CLI) or add an account with `op account add`; then run `agent-secret doctor`';
const HINT_UNKNOWN_ACCOUNT = 'check the account in the profile, --account or OP_ACCOUNT; `op account list` shows the accounts op knows';
const HINT_DECLINED = 'approve the 1Password authorization prompt when it appears (it may be behind other windows), then retry';
const HINT_TRANSIENT = 'make sure the 1Password app is running and unlocked, then retry';
const HINT_RATE_LIMITED = "the service account's request quota is used up; wait as op says before retrying";
const HINT_PERMISSION = 'the signed-in account or service account may not read this vault; check its access in 1Password';
const HINT_TIMEOUT = 'if a 1Password authorization prompt is open, approve it; otherwise check that the 1Password app is running, then retry';
const HINT_UNKNOWN = 'run `agent-secret doctor` to check op and the sign-in';

/**
 * The next step for a reference op could not resolve: `agent-secret item describe` on its item
 * lists the field names and references (never values). Not `op item list`: agents must not run
 * op, and the skill says so.
 */
export function badRefHint(ref: string | undefined, account: string | null): string {
  const parsed = ref === undefined ? null : parseRef(ref);
  if (parsed === null || !parsed.ok) return 'check the vault, item and field names (or use IDs); `agent-secret item describe op://VAULT/ITEM` lists the fields of an item';
  const item = shellWord(`op://${parsed.ref.vault}/${parsed.ref.item}`);
  const flag = account === null ? '' : ` --account ${shellWord(account)}`;
  return `run \`agent-secret item describe ${item}${flag}\` to see its field names and references (never values); if that item is not found either, ask the human for the vault and item names`;
}

// Quotes a word for a command line to copy (names in refs hold spaces; accounts are validated).
function shellWord(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

function inAccount(account: string | null): string {
  return account === null ? '' : ` in account ${account}`;
}

/** The error for an op call that did not succeed. */
export function toProviderError(result: OpRunResult, context: FailureContext): AgentSecretError {
  const { account, entries } = context;
  const all = describeEntries(entries);
  const details = detailsFor(entries, account, 'op');
  if (result.failedToStart) {
    return new AgentSecretError('provider.missing', 'the 1Password CLI (op) could not be started', { hint: HINT_MISSING, details });
  }
  if (result.canceled) {
    return new AgentSecretError('provider.failed', `resolution of ${all}${inAccount(account)} was cancelled; nothing was delivered`, { details });
  }
  if (result.timedOut) {
    const seconds = Math.max(1, Math.round(context.timeoutMs / 1000));
    return new AgentSecretError('provider.failed', `op did not finish within ${seconds}s while resolving ${all}${inAccount(account)}; nothing was delivered`, {
      hint: HINT_TIMEOUT,
      details,
    });
  }
  if (result.overflowed) {
    return new AgentSecretError('provider.failed', `op printed more output than expected while resolving ${all}${inAccount(account)}; nothing was delivered`, {
      hint: HINT_UNKNOWN,
      details,
    });
  }
  return fromOpFailure(interpretOpFailure(result.stderr, result.exitCode), context);
}

/** The error for op's reported failure, naming the references it is about when it can tell. */
export function fromOpFailure(failure: OpFailure, context: FailureContext): AgentSecretError {
  const { account, entries } = context;
  // Auth and availability problems concern the whole batch; only reference errors name one.
  const specific = failure.kind === 'bad_ref' || failure.kind === 'permission' || failure.kind === 'unknown';
  const named = specific ? pinpointRefs(failure.message, entries.map((e) => e.ref)) : [];
  const about = named.length > 0 ? entries.filter((e) => named.includes(e.ref)) : entries;
  const list = describeEntries(about);
  const details = detailsFor(about, account, 'op');
  const where = inAccount(account);
  const reason = failure.reason;
  const failed = (message: string, hint: string) => new AgentSecretError('provider.failed', message, { hint, details });
  if (context.serviceAccount === true && account !== null && (failure.kind === 'signed_out' || failure.kind === 'declined' || failure.kind === 'transient' || failure.kind === 'unknown')) {
    // No desktop app is involved: the token (or its access) is what to look at.
    return new AgentSecretError('provider.signed_out', `op could not use the service-account token of account ${account} (needed for ${list}): ${reason}`, {
      hint: serviceTokenHint(account),
      details,
    });
  }
  const kinds: Record<OpErrorKind, () => AgentSecretError> = {
    bad_ref: () => failed(`op could not resolve ${list}${where}: ${reason}`, badRefHint(about[0]?.ref, account)),
    signed_out: () => signedOut(reason, list, where, details),
    declined: () => failed(`1Password did not authorize op${where} (needed for ${list}): ${reason}`, HINT_DECLINED),
    transient: () => failed(`op could not reach 1Password${where} (needed for ${list}): ${reason}`, HINT_TRANSIENT),
    rate_limited: () => failed(`1Password refused op${where} (needed for ${list}): ${reason}`, HINT_RATE_LIMITED),
    permission: () => failed(`op may not read ${list}${where}: ${reason}`, HINT_PERMISSION),
    unknown: () => failed(`op could not resolve ${list}${where}: ${reason}`, HINT_UNKNOWN),
  };
  return kinds[failure.kind]();
}

/** The next step when a service-account token is missing or refused. */
export function serviceTokenHint(account: string): string {
  return `the human checks the token with \`agent-secret provider token status op/${account}\` and replaces it with \`agent-secret provider token set op/${account}\`; then run \`agent-secret doctor\``;
}

function signedOut(reason: string, list: string, where: string, details: ErrorDetails): AgentSecretError {
  const lower = reason.toLowerCase();
  if (lower.includes('no account found for filter') && lower.replace('no account found for filter', '').trim() !== '') {
    return new AgentSecretError('provider.signed_out', `op does not know the 1Password account${where} (needed for ${list}): ${reason}`, {
      hint: HINT_UNKNOWN_ACCOUNT,
      details,
    });
  }
  if (lower.includes('no accounts configured') || lower.includes('no account found for filter')) {
    return new AgentSecretError('provider.signed_out', `op has no 1Password account configured (needed for ${list})`, { hint: HINT_NO_ACCOUNTS, details });
  }
  return new AgentSecretError('provider.signed_out', `op is not signed in to 1Password${where} (needed for ${list}): ${reason}`, { hint: HINT_SIGNED_OUT, details });
}

/** What one `op item get` call was for (item describe). */
export interface ItemFailureContext {
  /** The item reference as the user gave it, normalised: op://vault/item. */
  readonly itemRef: string;
  /** Its vault segment, for the ID references suggested when the item name is ambiguous. */
  readonly vault: string;
  readonly account: string | null;
  readonly timeoutMs: number;
}

const HINT_BAD_ITEM = 'check the vault and item names (or use the item ID) with the human: the 1Password app shows them; agents must not run op to list items';

/** The error for an `op item get` call that did not succeed; like toProviderError, for one item. */
export function toItemError(result: OpRunResult, context: ItemFailureContext): AgentSecretError {
  const { itemRef, account } = context;
  const where = inAccount(account);
  const details: ErrorDetails = account === null ? { ref: itemRef, provider: 'op' } : { ref: itemRef, provider: 'op', account };
  const failed = (message: string, hint?: string) => new AgentSecretError('provider.failed', message, { ...(hint === undefined ? {} : { hint }), details });
  if (result.failedToStart) {
    return new AgentSecretError('provider.missing', 'the 1Password CLI (op) could not be started', { hint: HINT_MISSING, details });
  }
  if (result.canceled) return failed(`reading ${itemRef}${where} was cancelled`);
  if (result.timedOut) {
    const seconds = Math.max(1, Math.round(context.timeoutMs / 1000));
    return failed(`op did not finish within ${seconds}s while reading ${itemRef}${where}`, HINT_TIMEOUT);
  }
  if (result.overflowed) return failed(`op printed more output than expected for ${itemRef}${where}`, HINT_UNKNOWN);
  const failure = interpretOpFailure(result.stderr, result.exitCode);
  const reason = failure.reason;
  const kinds: Record<OpErrorKind, () => AgentSecretError> = {
    bad_ref: () => {
      const candidates = ambiguousItems(result.stderr);
      if (candidates.length === 0) return failed(`op could not find ${itemRef}${where}: ${reason}`, HINT_BAD_ITEM);
      const refs = candidates.map((c) => `op://${context.vault}/${c.id}`);
      return failed(`more than one item matches ${itemRef}${where}`, `name the item by its ID: ${refs.join(', ')}`);
    },
    signed_out: () => signedOut(reason, itemRef, where, details),
    declined: () => failed(`1Password did not authorize op${where} (needed for ${itemRef}): ${reason}`, HINT_DECLINED),
    transient: () => failed(`op could not reach 1Password${where} (needed for ${itemRef}): ${reason}`, HINT_TRANSIENT),
    rate_limited: () => failed(`1Password refused op${where} (needed for ${itemRef}): ${reason}`, HINT_RATE_LIMITED),
    permission: () => failed(`op may not read ${itemRef}${where}: ${reason}`, HINT_PERMISSION),
    unknown: () => failed(`op could not read ${itemRef}${where}: ${reason}`, HINT_UNKNOWN),
  };
  return kinds[failure.kind]();
}
