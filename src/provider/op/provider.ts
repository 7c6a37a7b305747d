// 1Password behind the provider interface: op:// references, one identity per 1Password
// account. An account the user config lists under providers.op.service_accounts runs op with
// its service-account token (read from its store at resolution, for that op call only);
// every other account goes through the desktop app, as before. Doctor says which mode each
// account uses.

import { AgentSecretError } from '../../core/errors.js';
import { parseRef } from '../../core/ref.js';
import type { SecretValue } from '../../core/secret-value.js';
import type { ProvidersConfig } from '../../config/user-providers.js';
import type { SecretSpec } from '../../request/types.js';
import { describeSource, readToken, tokenState } from '../token/store.js';
import type { DoctorCheck, Provider, ProviderHost, ResolveOptions, Resolver } from '../types.js';
import { serviceTokenHint } from './failure.js';
import { describeItem, type ItemDescription } from './item.js';
import { resolveSecrets } from './resolve.js';
import { checkOp, findOp } from './status.js';

export interface OpProviderConfig {
  /** op_path from the user config. */
  opPath: string | undefined;
  serviceAccounts: ProvidersConfig['op']['serviceAccounts'];
}

/** The op provider prepared for one request: op's path, and item descriptions (item describe). */
export interface OpResolver extends Resolver {
  readonly opPath: string;
  describe(itemRef: string, account: string | null, opts: ResolveOptions): Promise<ItemDescription>;
}

/** Who is looking for op, for the message when it is missing ("the agent-secret daemon"). */
export interface OpHost extends ProviderHost {
  brokerName: string;
}

export function opProvider(config: OpProviderConfig, host: OpHost): Provider & { prepare(specs: readonly SecretSpec[]): Promise<OpResolver> } {
  const serviceAccount = (account: string | null) => (account === null ? undefined : config.serviceAccounts[account]);

  // Service-account tokens for the accounts of these specs, read now and dropped after the call.
  async function tokensFor(accounts: ReadonlyArray<string | null>, aliasOf: (account: string) => string | undefined): Promise<Map<string, SecretValue>> {
    const tokens = new Map<string, SecretValue>();
    for (const account of new Set(accounts)) {
      const settings = serviceAccount(account);
      if (account === null || settings === undefined) continue;
      const token = await readToken(settings.token, host);
      if (token === null) {
        tokens.clear();
        const alias = aliasOf(account);
        throw new AgentSecretError('provider.signed_out', `no service-account token for 1Password account ${account}: ${describeSource(settings.token)} has none`, {
          hint: serviceTokenHint(account),
          details: { account, ...(alias === undefined ? {} : { alias }) },
        });
      }
      tokens.set(account, token);
    }
    return tokens;
  }

  return {
    scheme: 'op',
    label: '1Password (op)',
    identity: 'account',
    parse(ref) {
      const parsed = parseRef(ref);
      return parsed.ok ? { ok: true } : { ok: false, message: parsed.message };
    },
    async prepare() {
      const opPath = findOp({ explicitPath: config.opPath, pathEnv: host.env.PATH });
      if (opPath === null) {
        throw new AgentSecretError('provider.missing', `the 1Password CLI (op) was not found by ${host.brokerName}`, {
          hint: 'install op, or set op_path in ~/.config/agent-secret/config.yml; then run agent-secret doctor',
        });
      }
      return {
        opPath,
        async resolve(specs, opts) {
          const tokens = await tokensFor(
            specs.map((s) => s.account),
            (account) => specs.find((s) => s.account === account)?.alias,
          );
          try {
            return await resolveSecrets(specs, { opPath, env: host.env, timeoutMs: opts.timeoutMs, ...(opts.signal === undefined ? {} : { signal: opts.signal }), serviceTokens: tokens });
          } finally {
            tokens.clear();
          }
        },
        async describe(itemRef, account, opts) {
          const tokens = await tokensFor([account], () => undefined);
          try {
            return await describeItem({ itemRef, account, opPath, env: host.env, timeoutMs: opts.timeoutMs, ...(opts.signal === undefined ? {} : { signal: opts.signal }), serviceTokens: tokens });
          } finally {
            tokens.clear();
          }
        },
      };
    },
    async doctor() {
      return opDoctor(config, host);
    },
  };
}

/** op's doctor lines: found, version, the desktop-app sign-in, and each service-account account's token. */
export async function opDoctor(config: OpProviderConfig, host: ProviderHost): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (name: string, status: DoctorCheck['status'], detail: string, hint: string | null = null) => checks.push({ name, status, detail, hint });
  const accounts = Object.entries(config.serviceAccounts);
  const opPath = findOp({ explicitPath: config.opPath, pathEnv: host.env.PATH });
  const op = await checkOp({ opPath, env: host.env, timeoutMs: 10_000 });
  if (!op.found) {
    add('op', 'fail', op.error?.message ?? 'op was not found', op.error?.hint ?? 'install the 1Password CLI or set op_path in the user config');
    return checks;
  }
  add('op', 'ok', `${op.path ?? 'op'} ${op.version ?? '(unknown version)'}`);
  if (op.signedIn === true) {
    add('op_signed_in', 'ok', op.accounts.length > 0 ? `accounts: ${op.accounts.join(', ')}` : 'signed in');
  } else {
    // On a headless host the service accounts are the way in; the desktop app is then optional.
    const status = accounts.length > 0 ? 'warn' : 'fail';
    const detail = op.error?.message ?? 'op is not signed in';
    add('op_signed_in', status, accounts.length > 0 ? `${detail} (only accounts without a service-account token need the app)` : detail, op.error?.hint ?? 'unlock the 1Password app (Settings > Developer > Integrate with 1Password CLI) or run op signin');
  }
  for (const [account, settings] of accounts) {
    const state = await tokenState(settings.token, host);
    if (state.state === 'present') add(`op_account ${account}`, 'ok', `service account: token in ${state.detail}`);
    else if (state.state === 'missing') add(`op_account ${account}`, 'fail', `service account: ${state.detail}`, `the human runs \`agent-secret provider token set op/${account}\``);
    else add(`op_account ${account}`, 'fail', `service account: ${state.detail}`, state.fix);
  }
  if (accounts.length > 0) add('op_accounts', 'ok', `${accounts.map(([a]) => a).join(', ')}: service account; every other account: the 1Password desktop app`);
  return checks;
}
