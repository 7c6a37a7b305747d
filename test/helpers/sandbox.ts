// A constructed world for end-to-end tests: temp HOME and XDG dirs, a project directory,
// the fake op and fake approver first on PATH, and an environment scrubbed of the
// developer's own OP_*, AGENT_SECRET_*, NODE_OPTIONS and CI settings.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  };
  const auditPath = join(root, 'state', 'agent-secret', 'audit.jsonl');
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
      rmSync(root, { recursive: true, force: true });
    },
  };
}
