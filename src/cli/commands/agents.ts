// `agent-secret agent add|list|remove`: registered agents. `add` prints the new token once (on
// stdout, for the human or orchestrator to hand to that agent as AGENT_SECRET_AGENT_TOKEN); only
// its hash is kept. `list` shows names and dates, never tokens or hashes.

import { AgentSecretError } from '../../core/errors.js';
import { dirsInput, type CliContext } from '../context.js';
import { writeJson, writeLines } from '../render/output.js';

export async function runAgentAdd(ctx: CliContext, name: string, options: { json?: boolean }): Promise<number> {
  const { addAgent, AGENT_TOKEN_VARIABLE } = await import('../../config/agents.js');
  const token = await addAgent(dirsInput(ctx), name);
  if (options.json === true) {
    writeJson(ctx.stdout, { name, token, variable: AGENT_TOKEN_VARIABLE });
    return 0;
  }
  writeLines(ctx.stdout, [
    `registered agent ${name}; its token (shown once, only its hash is kept):`,
    token,
    `give it to that agent only, as ${AGENT_TOKEN_VARIABLE}; policy rules match it with agent: ${name}`,
  ]);
  return 0;
}

export async function runAgentList(ctx: CliContext, options: { json?: boolean }): Promise<number> {
  const { listAgents } = await import('../../config/agents.js');
  const agents = await listAgents(dirsInput(ctx));
  if (options.json === true) {
    writeJson(ctx.stdout, { agents: agents.map((a) => ({ name: a.name, created_at: a.createdAt })) });
    return 0;
  }
  writeLines(ctx.stdout, agents.length === 0 ? ['no registered agents (agent-secret agent add NAME)'] : agents.map((a) => `${a.name}  added ${a.createdAt}`));
  return 0;
}

export async function runAgentRemove(ctx: CliContext, name: string, options: { json?: boolean }): Promise<number> {
  const { removeAgent } = await import('../../config/agents.js');
  const removed = await removeAgent(dirsInput(ctx), name);
  if (!removed) throw new AgentSecretError('usage.invalid', `no registered agent named ${name}`, { hint: 'agent-secret agent list shows the names' });
  if (options.json === true) writeJson(ctx.stdout, { removed: name });
  else writeLines(ctx.stdout, [`removed agent ${name}: its token no longer works`]);
  return 0;
}
