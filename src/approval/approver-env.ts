// Environments for approver child processes. The caller's environment belongs to the agent,
// and variables such as ZENITY_CANCEL=0, GTK_MODULES, LD_PRELOAD or NODE_OPTIONS would let it
// turn a "Deny" into an exit code 0 or load code into the approver. Dialogs get an allowlist;
// approver programs get the environment minus loader/code variables, and a fixed PATH.

import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { envRisk, refusedAsAlias } from '../core/env-risk.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Directories searched for zenity/kdialog and given to dialogs as PATH (never the caller's PATH). */
export const TRUSTED_BIN_DIRS: readonly string[] = ['/usr/bin', '/bin', '/usr/local/bin', '/run/current-system/sw/bin', '/snap/bin'];

/** PATH given to osascript. */
export const MACOS_BIN_DIRS: readonly string[] = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

// Session and locale facts a dialog needs to reach the user's display in their language.
const DIALOG_NAMES = new Set([
  'DISPLAY',
  'WAYLAND_DISPLAY',
  'XAUTHORITY',
  'XDG_RUNTIME_DIR',
  'XDG_SESSION_TYPE',
  'XDG_CURRENT_DESKTOP',
  'DBUS_SESSION_BUS_ADDRESS',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
]);

// Variables that load code, change how a program or its interpreter starts, or rewrite a
// dialog's exit codes, removed from an approver program's environment: every name the one risk
// list (core/env-risk.ts) refuses as an alias, except the locations HOME, TMPDIR and XDG_*
// (a program finds its own files there), plus these dialog and runtime families the risk list
// does not need for children (whole NODE_*, PERL*, RUBY*, GIT_* families, toolkits).
const PROGRAM_DENIED_NAMES = new Set(['TCLLIBPATH', 'PATH']);
const PROGRAM_DENIED_PREFIXES = [
  'NODE_',
  'PERL',
  'RUBY',
  'JAVA_',
  '_JAVA_',
  'LUA_',
  'GTK_',
  'GDK_',
  'GIO_',
  'QT_',
  'ZENITY_',
  'BASH_FUNC_',
  'DOTNET_',
  'CORECLR_',
  'GIT_',
  'AGENT_SECRET_',
];

function deniedForProgram(name: string): boolean {
  if (PROGRAM_DENIED_NAMES.has(name) || PROGRAM_DENIED_PREFIXES.some((p) => name.startsWith(p))) return true;
  return refusedAsAlias(name) && envRisk(name)?.category !== 'location';
}

/** Environment for zenity/kdialog/osascript: an allowlist, HOME from the user database, a fixed PATH. Pure. */
export function buildDialogEnv(env: Env, opts: { home: string; path: readonly string[] }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (DIALOG_NAMES.has(name) || name.startsWith('LC_')) out[name] = value;
  }
  out.HOME = opts.home;
  out.PATH = opts.path.join(':');
  return out;
}

/** Environment for an approver program: the caller's minus loader/code variables, plus the approval id. Pure. */
export function buildProgramEnv(env: Env, opts: { approvalId: string; nodeDir: string }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (deniedForProgram(name)) continue;
    out[name] = value;
  }
  // `#!/usr/bin/env node` finds the node that runs agent-secret, never one the agent put on PATH.
  out.PATH = [opts.nodeDir, ...TRUSTED_BIN_DIRS].join(':');
  out.AGENT_SECRET_APPROVAL_ID = opts.approvalId;
  return out;
}

/** The user's home from the user database (not $HOME, which the agent controls), else $HOME. */
export function trustedHome(env: Env): string {
  try {
    return userInfo().homedir;
  } catch {
    return env.HOME ?? '/';
  }
}

/** Directory of the node binary running agent-secret. */
export function nodeDir(): string {
  return dirname(process.execPath);
}
