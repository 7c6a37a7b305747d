// `agent-secret item describe op://vault/item`: the field names, types, sections and ready-to-use
// references of one 1Password item, never a value. The daemon asks the human (operation
// item_describe, never reusable), runs one `op item get` and returns a value-free description;
// this process only renders it. The way for an agent to find references without `op item get`.

import type { z } from 'zod';
import { discoverConfig, loadConfig } from '../../config/index.js';
import { pickAccount, validateAccount } from '../../core/account.js';
import { AgentSecretError } from '../../core/errors.js';
import { parseReason } from '../../core/reason.js';
import { DEFAULT_TTL_SECONDS, parseTtl } from '../../core/ttl.js';
import { ItemDescriptionSchema } from '../../protocol/messages.js';
import { checkItemRef, type ItemDescription } from '../../provider/op/item.js';
import { checkEnvPrefix, formatItemDescription, ITEM_FORMATS, type ItemFormat } from '../render/item.js';
import { dirsInput, type CliContext } from '../context.js';

export interface ItemDescribeOptions {
  account?: string;
  config?: string;
  format?: string;
  /** Same as --format json (every command that prints data takes --json). */
  json?: boolean;
  prefix?: string;
  reason?: string;
  ttl?: string;
}

export const DEFAULT_ITEM_REASON = 'Inspect 1Password item metadata';


export async function runItemDescribe(ctx: CliContext, rawRef: string, options: ItemDescribeOptions): Promise<number> {
  const ref = checkItemRef(rawRef);
  if (options.json === true && options.format !== undefined && options.format !== 'text' && options.format !== 'json') {
    throw new AgentSecretError('usage.invalid', `--json prints the JSON format; it cannot be combined with --format ${options.format}`, { details: { flag: '--json' } });
  }
  const format = (options.json === true ? 'json' : (options.format ?? 'text')) as ItemFormat;
  if (!ITEM_FORMATS.includes(format)) {
    throw new AgentSecretError('usage.invalid', `--format must be one of: ${ITEM_FORMATS.join(', ')}`, { details: { flag: '--format' } });
  }
  const prefix = options.prefix === undefined ? undefined : checkEnvPrefix(options.prefix);
  const reason = parseReason(options.reason ?? DEFAULT_ITEM_REASON);
  if (!reason.ok) throw new AgentSecretError('reason.invalid', `invalid reason: ${reason.message}`, { details: { flag: '--reason' } });
  const ttl = options.ttl === undefined ? { ok: true as const, seconds: DEFAULT_TTL_SECONDS } : parseTtl(options.ttl);
  if (!ttl.ok) throw new AgentSecretError('ttl.invalid', `invalid --ttl: ${ttl.message}`, { details: { flag: '--ttl' } });
  const account = await chooseAccount(ctx, options);

  const { openConversation } = await import('../../client/daemon.js');
  const conv = await openConversation({
    dirs: dirsInput(ctx),
    env: { ...ctx.env },
    autoStart: true,
    firstType: 'item.describe',
    firstBody: {
      reason: reason.reason,
      ttl_seconds: ttl.seconds,
      // The daemon labels the command, names the program and reads our ancestors itself.
      cwd: ctx.cwd,
      pid: ctx.pid,
      ref: ref.raw,
      account,
    },
  });
  let description: ItemDescription;
  try {
    const frame = await conv.receive();
    const parsed = frame.type === 'item.describe.ok' ? ItemDescriptionSchema.safeParse(frame.body.description) : null;
    if (parsed === null || !parsed.success) throw new AgentSecretError('daemon.protocol', 'the agent-secret daemon sent an unreadable item description');
    description = stripUndefined(parsed.data);
  } finally {
    conv.close();
  }
  const text = formatItemDescription(description, { format, ...(prefix === undefined ? {} : { prefix }) });
  ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return 0;
}

// --account, else the project config's top-level account, else AGENT_SECRET_1PASSWORD_ACCOUNT / OP_ACCOUNT.
async function chooseAccount(ctx: CliContext, options: ItemDescribeOptions): Promise<string | null> {
  const path = await discoverConfig({ cwd: ctx.cwd, explicitPath: options.config });
  const config = path === null ? null : await loadConfig(path);
  // --account overrides here (it names the item's account, not a default for secrets).
  const account = pickAccount({
    secret: options.account,
    config: config?.account,
    agentSecretEnv: ctx.env.AGENT_SECRET_1PASSWORD_ACCOUNT,
    opEnv: ctx.env.OP_ACCOUNT,
  });
  if (account !== null && !validateAccount(account).ok) {
    throw new AgentSecretError('account.invalid', 'the 1Password account is not valid', { details: { flag: '--account' } });
  }
  return account;
}

function stripUndefined(desc: z.infer<typeof ItemDescriptionSchema>): ItemDescription {
  return {
    vault: desc.vault,
    item: desc.item,
    fields: desc.fields.map(({ purpose, ...rest }) => (purpose === undefined ? rest : { ...rest, purpose })),
  };
}
