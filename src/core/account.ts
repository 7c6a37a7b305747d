// 1Password account precedence for one secret. The account is part of the secret's identity:
// the same reference in two accounts is two secrets.

/** Where the account of a secret may come from, highest precedence first. */
export interface AccountSources {
  secret?: string | undefined;
  profile?: string | undefined;
  config?: string | undefined;
  flag?: string | undefined;
  /** AGENT_SECRET_1PASSWORD_ACCOUNT */
  agentSecretEnv?: string | undefined;
  /** OP_ACCOUNT */
  opEnv?: string | undefined;
}

export const ACCOUNT_PRECEDENCE = [
  'secret',
  'profile',
  'config',
  'flag',
  'agentSecretEnv',
  'opEnv',
] as const satisfies ReadonlyArray<keyof AccountSources>;

/** Picks the account for one secret; `null` means "op's default account". Pure. */
export function pickAccount(sources: AccountSources): string | null {
  for (const key of ACCOUNT_PRECEDENCE) {
    const value = sources[key]?.trim();
    if (value !== undefined && value.length > 0) return value;
  }
  return null;
}

const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9._@:/+-]{0,253}$/;

/** Checks an account string (shorthand, sign-in address, email, or ID) for shape only. */
export function validateAccount(account: string): { ok: true } | { ok: false; message: string } {
  if (!ACCOUNT.test(account)) {
    return { ok: false, message: 'account must be a sign-in address, shorthand, email or ID (letters, digits and . _ @ : / + -)' };
  }
  return { ok: true };
}
