// Registered agents: `agent-secret agent add NAME` prints a token once and keeps only its
// SHA-256 in agents.json beside config.yml (read with the same ownership and mode checks). An
// orchestrator gives the agent AGENT_SECRET_AGENT_TOKEN; the daemon hashes what a request
// carries and compares it with every stored hash in constant time. No token is ever stored,
// printed again, logged or audited; only the agent's name is.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { AgentSecretError } from '../core/errors.js';
import { nodeCrypto } from '../core/node-crypto.js';
import { agentsPath, type DirsInput } from '../platform/dirs.js';
import { readTrustedFile } from './user-config.js';

/** The environment variable an orchestrator sets for an agent. */
export const AGENT_TOKEN_VARIABLE = 'AGENT_SECRET_AGENT_TOKEN';
export const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TOKEN = /^asagent_[A-Za-z0-9_-]{43}$/;
const MAX_AGENTS = 256;

export interface RegisteredAgent {
  name: string;
  createdAt: string;
}

const FileSchema = z.strictObject({
  version: z.literal(1),
  agents: z
    .array(z.strictObject({ name: z.string().regex(AGENT_NAME), token_sha256: z.string().regex(/^[0-9a-f]{64}$/), created_at: z.string().max(40) }))
    .max(MAX_AGENTS),
});
type AgentsFile = z.infer<typeof FileSchema>;

async function readAgents(input: DirsInput): Promise<{ path: string; file: AgentsFile }> {
  const path = agentsPath(input);
  const text = await readTrustedFile(path);
  if (text === null) return { path, file: { version: 1, agents: [] } };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = null;
  }
  const parsed = FileSchema.safeParse(data);
  if (!parsed.success) {
    throw new AgentSecretError('user_config.invalid', `${path} is not a list of registered agents agent-secret wrote`, {
      hint: `remove it (every agent token stops working) and register the agents again with agent-secret agent add NAME`,
      details: { file: path },
    });
  }
  return { path, file: parsed.data };
}

function writeAgents(path: string, file: AgentsFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temp, path);
}

const sha256 = (text: string) => nodeCrypto().createHash('sha256').update(text).digest();

/** Registers NAME; returns the token, which is shown once and kept nowhere. */
export async function addAgent(input: DirsInput, name: string, now = new Date()): Promise<string> {
  if (!AGENT_NAME.test(name)) {
    throw new AgentSecretError('usage.invalid', 'an agent name is letters, digits, ".", "_" or "-" (at most 64), starting with a letter or digit', { hint: 'agent-secret agent add ci-builder' });
  }
  const { path, file } = await readAgents(input);
  if (file.agents.some((a) => a.name === name)) {
    throw new AgentSecretError('usage.invalid', `an agent named ${name} is already registered`, { hint: `agent-secret agent remove ${name} first to give it a new token` });
  }
  if (file.agents.length >= MAX_AGENTS) throw new AgentSecretError('usage.invalid', `at most ${MAX_AGENTS} agents can be registered`, { hint: 'agent-secret agent remove NAME' });
  const token = `asagent_${nodeCrypto().randomBytes(32).toString('base64url')}`;
  writeAgents(path, { version: 1, agents: [...file.agents, { name, token_sha256: sha256(token).toString('hex'), created_at: now.toISOString() }] });
  return token;
}

export async function listAgents(input: DirsInput): Promise<RegisteredAgent[]> {
  const { file } = await readAgents(input);
  return file.agents.map((a) => ({ name: a.name, createdAt: a.created_at }));
}

/** Removes NAME; its token stops working at once. False when no such agent. */
export async function removeAgent(input: DirsInput, name: string): Promise<boolean> {
  const { path, file } = await readAgents(input);
  const kept = file.agents.filter((a) => a.name !== name);
  if (kept.length === file.agents.length) return false;
  writeAgents(path, { version: 1, agents: kept });
  return true;
}

/**
 * The agent a presented token belongs to: its name, or null for a token that is no registered
 * agent's (forged, mistyped, removed). Every stored hash is compared, so the time taken does not
 * depend on which one matches.
 */
export async function agentOfToken(input: DirsInput, token: string): Promise<string | null> {
  const { file } = await readAgents(input);
  const presented = sha256(TOKEN.test(token) ? token : '');
  let found: string | null = null;
  for (const agent of file.agents) {
    const stored = Buffer.from(agent.token_sha256, 'hex');
    if (nodeCrypto().timingSafeEqual(presented, stored) && found === null && TOKEN.test(token)) found = agent.name;
  }
  return found;
}
