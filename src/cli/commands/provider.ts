// `agent-secret provider token set|status|remove TARGET`: the human manages the tokens agent-secret
// uses to reach a store without a desktop app: a Bitwarden Secrets Manager machine account's
// access token (`bws` for the default source, `bws/SOURCE`) and a 1Password service account's
// token (`op/ACCOUNT`, an account listed under providers.op.service_accounts). The token is read
// from the terminal (not echoed) or from stdin, never from argv, and is never printed: status
// says where it is kept and whether it is there, nothing more. Where it is kept is the user
// config's choice (a 0600 file by default, the Secret Service, the macOS Keychain).

import { isatty } from 'node:tty';
import { loadUserConfig } from '../../config/user-config.js';
import { providersOf, type TokenSource } from '../../config/user-providers.js';
import { AgentSecretError } from '../../core/errors.js';
import { SecretValue } from '../../core/secret-value.js';
import { describeSource, removeToken, tokenState, writeToken } from '../../provider/token/store.js';
import { normalizeToken, MAX_TOKEN_BYTES } from '../../provider/token/file.js';
import { dirsInput, type CliContext } from '../context.js';
import { writeJson, writeLines } from '../render/output.js';

/** The test seam: where `set` reads the token (default process.stdin) and whether it is a terminal. */
export interface TokenInput {
  input: NodeJS.ReadStream | NodeJS.ReadableStream;
  isTerminal: boolean;
}

interface Target {
  /** As typed, normalised: `bws/default`, `op/my.1password.com`. */
  name: string;
  provider: 'bws' | 'op';
  /** The bws source or the 1Password account. */
  entry: string;
  source: TokenSource;
}

const USAGE_HINT = 'name bws (the default source), bws/SOURCE, or op/ACCOUNT (an account under providers.op.service_accounts in ~/.config/agent-secret/config.yml)';

/** Which token a TARGET names, in the user config's terms. */
async function targetOf(ctx: CliContext, text: string): Promise<Target> {
  const config = await loadUserConfig(dirsInput(ctx));
  const providers = providersOf(config);
  const slash = text.indexOf('/');
  const provider = slash === -1 ? text : text.slice(0, slash);
  const entry = slash === -1 ? '' : text.slice(slash + 1);
  if (provider === 'bws') {
    const source = entry === '' ? providers.bws.defaultSource : entry;
    const settings = providers.bws.sources[source];
    if (settings === undefined) {
      throw new AgentSecretError('usage.invalid', `bws source ${source} is not declared in ${config.path}`, {
        hint: `declared: ${Object.keys(providers.bws.sources).join(', ') || '(none)'}; add providers.bws.sources.${source} to the user config first (docs/providers.md)`,
      });
    }
    return { name: `bws/${source}`, provider: 'bws', entry: source, source: settings.token };
  }
  if (provider === 'op' && entry !== '') {
    const settings = providers.op.serviceAccounts[entry];
    if (settings === undefined) {
      throw new AgentSecretError('usage.invalid', `1Password account ${entry} is not listed under providers.op.service_accounts in ${config.path}`, {
        hint: 'add it there first (docs/providers.md, "1Password service accounts"); accounts not listed use the desktop app and need no token',
      });
    }
    return { name: `op/${entry}`, provider: 'op', entry, source: settings.token };
  }
  throw new AgentSecretError('usage.invalid', `unknown token target: ${text.slice(0, 80)}`, { hint: USAGE_HINT });
}

function what(target: Target): string {
  return target.provider === 'bws' ? `the access token of bws source ${target.entry}` : `the service-account token of 1Password account ${target.entry}`;
}

export async function runProviderTokenSet(ctx: CliContext, text: string, options: { json?: boolean }, io: TokenInput = { input: process.stdin, isTerminal: isatty(0) }): Promise<number> {
  const target = await targetOf(ctx, text);
  const raw = io.isTerminal ? await readHidden(io.input as NodeJS.ReadStream, ctx, `Paste ${what(target)} (input hidden), then Enter: `) : await readAll(io.input);
  const normalized = normalizeToken(raw);
  if (normalized === null) {
    throw new AgentSecretError('usage.invalid', `no token was given for ${target.name} (or it spans more than one line)`, {
      hint: `paste the token at the prompt, or pipe it: agent-secret provider token set ${target.name} < token-file`,
    });
  }
  const token = new SecretValue(normalized);
  await writeToken(target.source, token, hostOf(ctx));
  const where = describeSource(target.source);
  if (options.json === true) writeJson(ctx.stdout, { target: target.name, stored: true, store: where });
  else writeLines(ctx.stdout, [`stored ${what(target)} in ${where}`, 'check it with: agent-secret doctor']);
  return 0;
}

export async function runProviderTokenStatus(ctx: CliContext, text: string, options: { json?: boolean }): Promise<number> {
  const target = await targetOf(ctx, text);
  const state = await tokenState(target.source, hostOf(ctx));
  if (options.json === true) {
    writeJson(ctx.stdout, { target: target.name, state: state.state, detail: state.detail, ...(state.state === 'bad' ? { fix: state.fix } : {}) });
  } else {
    const line = state.state === 'present' ? `${target.name}: token present (${state.detail})` : `${target.name}: ${state.state === 'missing' ? 'no token' : 'token unusable'}: ${state.detail}`;
    const next = state.state === 'missing' ? `store it with: agent-secret provider token set ${target.name}` : state.state === 'bad' ? state.fix : null;
    writeLines(ctx.stdout, next === null ? [line] : [line, next]);
  }
  return state.state === 'present' ? 0 : 1;
}

export async function runProviderTokenRemove(ctx: CliContext, text: string, options: { json?: boolean }): Promise<number> {
  const target = await targetOf(ctx, text);
  const outcome = await removeToken(target.source, hostOf(ctx));
  const where = describeSource(target.source);
  if (options.json === true) writeJson(ctx.stdout, { target: target.name, removed: outcome === 'removed', store: where });
  else writeLines(ctx.stdout, [outcome === 'removed' ? `removed ${what(target)} from ${where}` : `${target.name} had no token in ${where}`]);
  return 0;
}

function hostOf(ctx: CliContext) {
  return { env: ctx.env, platform: ctx.platform, uid: ctx.uid };
}

// Piped or redirected: the whole input, at most 64 KiB.
async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_TOKEN_BYTES) throw new AgentSecretError('usage.invalid', `the token on stdin is larger than ${MAX_TOKEN_BYTES / 1024} KiB`, { hint: 'pipe only the token' });
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// A terminal: raw mode, nothing echoed, one line; Ctrl-C or Ctrl-D cancels.
async function readHidden(input: NodeJS.ReadStream, ctx: CliContext, prompt: string): Promise<string> {
  ctx.stderr.write(prompt);
  input.setRawMode?.(true);
  input.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (chunk: Buffer | string) => {
        for (const char of chunk.toString()) {
          if (char === '\r' || char === '\n') {
            input.off('data', onData);
            resolve(text);
            return;
          }
          if (char === '\u0003' || char === '\u0004') {
            input.off('data', onData);
            reject(new AgentSecretError('usage.invalid', 'cancelled; no token was stored'));
            return;
          }
          if (char === '\u007f' || char === '\b') text = [...text].slice(0, -1).join('');
          else text += char;
          if (text.length > MAX_TOKEN_BYTES) {
            input.off('data', onData);
            reject(new AgentSecretError('usage.invalid', `the token is larger than ${MAX_TOKEN_BYTES / 1024} KiB`));
            return;
          }
        }
      };
      input.on('data', onData);
    });
  } finally {
    input.setRawMode?.(false);
    input.pause();
    ctx.stderr.write('\n');
  }
}
