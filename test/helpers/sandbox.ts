// A constructed world for end-to-end tests: temp HOME and XDG dirs, a project directory,
// the fake op and fake approver first on PATH, and an environment scrubbed of the
// developer's own OP_*, AGENT_SECRET_*, NODE_OPTIONS and CI settings.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { daemonPaths } from '../../src/protocol/paths.js';
import { auditLogPath } from '../../src/platform/dirs.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURE_BIN = join(REPO_ROOT, 'test', 'fixtures', 'bin');
export const BIN = join(REPO_ROOT, 'bin', 'agent-secret.js');

export interface Sandbox {
  root: string;
  home: string;
  project: string;
  env: Record<string, string>;
  opLog: string;
  approverLog: string;
  auditPath: string;
  /** Where this sandbox's daemon keeps its socket and pid file (as the product computes it, per platform). */
  daemonDir: string;
  daemonPidFile: string;
  /** Writes the user config choosing the fake approver in the given mode. */
  useApprover(mode: string, extra?: Record<string, unknown>): void;
  /** Writes a file relative to the project directory. */
  write(relative: string, content: string, mode?: number): string;
  opCalls(): Array<{ argv: string[] }>;
  prompts(): Array<Record<string, unknown>>;
  auditEvents(): Array<Record<string, unknown>>;
  cleanup(): void;
}

/** Creates a sandbox; call cleanup() in afterEach. */
export function createSandbox(): Sandbox {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'agent-secret-e2e-')));
  const home = join(root, 'home');
  const project = join(root, 'project');
  for (const dir of [home, project, join(root, 'tmp'), join(root, 'config'), join(root, 'state'), join(root, 'runtime')]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const opLog = join(root, 'op.log');
  const approverLog = join(root, 'approver.log');
  const env: Record<string, string> = {
    HOME: home,
    USER: 'agent',
    LANG: 'C.UTF-8',
    PATH: [FIXTURE_BIN, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    TMPDIR: join(root, 'tmp'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_STATE_HOME: join(root, 'state'),
    XDG_RUNTIME_DIR: join(root, 'runtime'),
    FAKE_OP_LOG: opLog,
    FAKE_APPROVER_LOG: approverLog,
    // A safety net: a daemon left behind by a test exits on its own (cleanup() stops it anyway).
    AGENT_SECRET_DAEMON_IDLE_MS: '30000',
  };
  // Computed as the product does, so macOS (~/Library/...) and Linux (XDG dirs) both match.
  const dirs = { env, platform: process.platform, homedir: home };
  const auditPath = auditLogPath(dirs);
  const daemon = daemonPaths(dirs);
  const readJsonl = (path: string) =>
    existsSync(path)
      ? readFileSync(path, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [];

  return {
    root,
    home,
    project,
    env,
    opLog,
    approverLog,
    auditPath,
    daemonDir: daemon.dir,
    daemonPidFile: daemon.pidFile,
    useApprover(mode, extra = {}) {
      const dir = join(root, 'config', 'agent-secret');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const config = {
        version: 1,
        approver: { command: [join(FIXTURE_BIN, 'approver'), mode] },
        op_path: join(FIXTURE_BIN, 'op'),
        ...extra,
      };
      writeFileSync(join(dir, 'config.yml'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    },
    write(relative, content, mode = 0o644) {
      const path = join(project, relative);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content, { mode });
      return path;
    },
    opCalls: () => readJsonl(opLog) as Array<{ argv: string[] }>,
    prompts: () => readJsonl(approverLog),
    auditEvents: () => readJsonl(auditPath),
    cleanup() {
      stopSandboxDaemon(daemon.pidFile);
      // A deep sandbox path moves the daemon to a short /tmp directory of its own: remove it too.
      if (daemon.fallback) rmSync(daemon.dir, { recursive: true, force: true });
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Stops the daemon a sandbox started (its pid file): SIGTERM, a short wait, then SIGKILL. */
function stopSandboxDaemon(pidFile: string): void {
  let pid: unknown;
  try {
    pid = (JSON.parse(readFileSync(pidFile, 'utf8')) as { pid?: unknown }).pid;
  } catch {
    return;
  }
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid || !isDaemonProcess(pid)) return;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + 3_000;
    while (isDaemonProcess(pid) && Date.now() < deadline) Atomics.wait(cell, 0, 0, 20);
    if (!isDaemonProcess(pid)) return;
  }
}

// Alive, not a zombie, and (where /proc tells) an `agent-secret daemon serve`: never signal a reused pid.
function isDaemonProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!existsSync('/proc/self/stat')) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('daemon') && argv.includes('serve');
  } catch {
    return false;
  }
}
