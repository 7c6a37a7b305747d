// `agent-secret daemon start|stop|status [--json]`, and the hidden `daemon serve` that a
// detached start runs. status never starts a daemon; it exits 1 when none runs.

import { exitCodeFor } from '../../core/errors.js';
import type { DaemonLog } from '../../daemon/server.js';
import { VERSION } from '../../version.js';
import { dirsInput, type CliContext } from '../context.js';
import { writeJson, writeLines } from '../render/output.js';

interface JsonOption {
  json?: boolean;
}

export const DEFAULT_IDLE_MS = 10 * 60_000;
const MIN_IDLE_MS = 50;
const MAX_IDLE_MS = 7 * 24 * 3_600_000;

/** `daemon start`: makes sure a daemon of this version runs, then reports it. */
export async function runDaemonStart(ctx: CliContext, options: JsonOption): Promise<number> {
  const { daemonStatus, openConversation } = await import('../../client/daemon.js');
  const dirs = dirsInput(ctx);
  const before = await daemonStatus(dirs);
  const conv = await openConversation({ dirs, env: { ...ctx.env }, autoStart: true, firstType: 'daemon.status', firstBody: {} });
  let body: Record<string, unknown>;
  try {
    body = (await conv.receive({ timeoutMs: 5_000 })).body;
  } finally {
    conv.close();
  }
  const pid = typeof body.pid === 'number' ? body.pid : undefined;
  const version = typeof body.version === 'string' ? body.version : VERSION;
  const startedAt = typeof body.started_at === 'string' ? body.started_at : undefined;
  const alreadyRunning = before.running && before.pid === pid;
  if (options.json === true) {
    writeJson(ctx.stdout, { running: true, already_running: alreadyRunning, pid: pid ?? null, version, started_at: startedAt ?? null, socket: await socketPath(ctx) });
  } else {
    writeLines(ctx.stdout, [runningLine(pid, version)]);
  }
  return 0;
}

/** `daemon stop`: stops the daemon and waits until it is gone; fine when none runs. */
export async function runDaemonStop(ctx: CliContext, options: JsonOption): Promise<number> {
  const { stopDaemon } = await import('../../client/daemon.js');
  const wasRunning = await stopDaemon(dirsInput(ctx));
  if (options.json === true) writeJson(ctx.stdout, { stopped: true, was_running: wasRunning });
  else writeLines(ctx.stdout, [wasRunning ? 'agent-secret daemon: stopped' : 'agent-secret daemon: stopped (it was not running)']);
  return 0;
}

/** `daemon status`: exit 0 when a daemon answers, 1 when none runs. Never starts one. */
export async function runDaemonStatus(ctx: CliContext, options: JsonOption): Promise<number> {
  const { daemonStatus } = await import('../../client/daemon.js');
  const status = await daemonStatus(dirsInput(ctx));
  if (options.json === true) {
    writeJson(ctx.stdout, {
      running: status.running,
      pid: status.pid ?? null,
      version: status.version ?? null,
      started_at: status.started_at ?? null,
      socket: await socketPath(ctx),
    });
  } else {
    writeLines(ctx.stdout, [status.running ? runningLine(status.pid, status.version) : 'agent-secret daemon: stopped']);
  }
  return status.running ? 0 : exitCodeFor('check.failed');
}

/** `daemon serve` (hidden): runs the daemon in the foreground until it stops. */
export async function runDaemonServe(ctx: CliContext): Promise<number> {
  const [{ serveDaemon }, { createBroker }] = await Promise.all([import('../../daemon/server.js'), import('../../broker/broker.js')]);
  const dirs = dirsInput(ctx);
  const hooks = createBroker({ dirs, env: ctx.env, platform: ctx.platform });
  const log: DaemonLog | undefined =
    ctx.env.AGENT_SECRET_DEBUG === '1' ? (event, fields = {}) => ctx.stderr.write(`${JSON.stringify({ daemon: event, ...fields })}\n`) : undefined;
  // The quiet period: AGENT_SECRET_DAEMON_IDLE_MS (tests), else daemon_idle_timeout in the user config, else 10 minutes.
  const { loadUserConfig } = await import('../../config/user-config.js');
  const configured = await loadUserConfig(dirs).then(
    (config) => config.daemonIdleMs,
    () => undefined,
  );
  const idleMs = ctx.env.AGENT_SECRET_DAEMON_IDLE_MS === undefined ? (configured ?? DEFAULT_IDLE_MS) : parseIdleMs(ctx.env.AGENT_SECRET_DAEMON_IDLE_MS);
  await serveDaemon({ dirs, version: VERSION, idleMs, hooks, ...(log === undefined ? {} : { log }) });
  // Every value was dropped at shutdown; a handle someone left open must not keep the process up.
  setTimeout(() => process.exit(0), 1_000).unref();
  return 0;
}

/** AGENT_SECRET_DAEMON_IDLE_MS: whole milliseconds, 50 ms .. 7 days; anything else means the default. */
export function parseIdleMs(value: string | undefined): number {
  if (value === undefined || !/^[0-9]{1,12}$/.test(value)) return DEFAULT_IDLE_MS;
  const ms = Number(value);
  return ms >= MIN_IDLE_MS && ms <= MAX_IDLE_MS ? ms : DEFAULT_IDLE_MS;
}

function runningLine(pid: number | undefined, version: string | undefined): string {
  return `agent-secret daemon: running (pid ${pid ?? 'unknown'}, version ${version ?? 'unknown'})`;
}

async function socketPath(ctx: CliContext): Promise<string> {
  const { daemonPaths } = await import('../../protocol/paths.js');
  return daemonPaths(dirsInput(ctx)).socket;
}
