// The CLI takes only the reply that answers its request: a daemon answering `approvals.list` or
// `session.list` with another frame type (as the broker split once did, sending
// 'core.approvals.list.ok') is a protocol error, not an empty or silently accepted answer.

import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runApprovalsList } from '../../../src/cli/commands/approvals.js';
import { runSessionList } from '../../../src/cli/commands/session.js';
import type { CliContext } from '../../../src/cli/context.js';
import { serveDaemon } from '../../../src/daemon/server.js';
import { VERSION } from '../../../src/version.js';

let root: string;
let stop: AbortController;
let served: Promise<void>;

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'as-reply-')));
  stop = new AbortController();
});
afterEach(async () => {
  stop.abort();
  await served;
  await rm(root, { recursive: true, force: true });
});

async function daemonReplying(type: (request: string) => string): Promise<CliContext> {
  const env = { HOME: root, XDG_RUNTIME_DIR: root };
  let listening!: () => void;
  const ready = new Promise<void>((resolve) => (listening = resolve));
  served = serveDaemon({
    dirs: { env, platform: process.platform, homedir: root },
    version: VERSION,
    idleMs: 60_000,
    handleSignals: false,
    stopSignal: stop.signal,
    onListening: () => listening(),
    hooks: {
      handler: async (conv) => conv.send(type(conv.first.type), conv.first.type === 'approvals.list' ? { approvals: [] } : { sessions: [] }),
      isIdle: () => true,
      shutdown: async () => undefined,
    },
  });
  await ready;
  const out = { write: () => true };
  return { args: [], childArgv: null, env, cwd: root, platform: process.platform, homedir: root, pid: process.pid, uid: process.getuid?.() ?? -1, stdout: out, stderr: out, stdoutIsTTY: false, stderrIsTTY: false };
}

describe('reply types', () => {
  it.each([
    ['approvals list', (ctx: CliContext) => runApprovalsList(ctx, {})],
    ['session list', (ctx: CliContext) => runSessionList(ctx, {})],
  ])('%s accepts its own reply type and refuses another', async (_name, run) => {
    const ctx = await daemonReplying((t) => `${t}.ok`);
    await expect(run(ctx)).resolves.toBe(0);
    stop.abort();
    await served;
    stop = new AbortController();
    const wrong = await daemonReplying((t) => `core.${t}.ok`);
    await expect(run(wrong)).rejects.toMatchObject({ code: 'daemon.protocol' });
  });
});
