// A well-formed `request` body (the ApprovalRequest in its snake_case wire shape) for tests
// that talk to the broker directly: one secret from the fake vault, run in `cwd`. The
// executable identity is read from the file, so the daemon's re-validation accepts it.

import { realpathSync, statSync } from 'node:fs';

export function requestBodyFor(opts: { cwd: string; command: string[]; executable: string; reason: string }): Record<string, unknown> {
  const executable = realpathSync(opts.executable);
  const st = statSync(executable);
  return {
    reason: opts.reason,
    command: opts.command,
    executable,
    executable_identity: { dev: st.dev, ino: st.ino, size: st.size, mtime_ms: st.mtimeMs, ctime_ms: st.ctimeMs, mode: st.mode, uid: st.uid },
    cwd: opts.cwd,
    secrets: [{ alias: 'CF_TOKEN', ref: 'op://Infra/Cloudflare/token', provider: 'op', account: null, source: 'flag' }],
    ttl_seconds: 60,
    override_env: false,
    allow_mutable_executable: false,
    pristine: false,
    mask: true,
    overridden_aliases: [],
    warnings: [],
    requester: { pid: process.pid, chain: [] },
    profile: null,
    config_path: null,
    plain_env_names: [],
    scripts: [],
  };
}

/** The `request` of a session.create body: the same, without what the daemon fills in itself (command, executable, identity, warnings, requester, pinned files). */
export function sessionRequestBodyFor(opts: { cwd: string; reason: string }): Record<string, unknown> {
  const { command: _command, executable: _executable, executable_identity: _identity, warnings: _warnings, requester: _requester, scripts: _scripts, ...rest } = requestBodyFor({ ...opts, command: ['unused'], executable: process.execPath });
  return rest;
}
