// Chooses the approver from the user config only (never a flag, env var or project file):
// `auto` is macOS's dialog on darwin, else zenity, else kdialog when a desktop display is
// present; `tty` and `console` are never chosen by `auto`. Host facts are injected; describing
// never prompts. The `console` approver needs the daemon's channel to the attached console.

import { AgentSecretError } from '../core/errors.js';
import type { UserConfig } from '../config/user-config.js';
import { policyPathBeside } from '../platform/dirs.js';
import { TRUSTED_BIN_DIRS } from './approver-env.js';
import { findProgram, isTrustedExecutable } from './find-program.js';
import { createKdialogApprover } from './kdialog.js';
import { createProgramApprover } from './program.js';
import { createConsoleApprover, type ConsoleChannel } from './console.js';
import { canOpenTty, createTtyApprover, openTty } from './tty.js';
import type { Approver, HostInfo } from './types.js';
import { createZenityApprover } from './zenity.js';

/** Test seams; production callers pass nothing. */
export interface SelectOptions {
  /** Where zenity/kdialog are looked for (default: TRUSTED_BIN_DIRS, never $PATH). */
  searchDirs?: readonly string[];
  /** The terminal the tty approver opens (default /dev/tty). */
  ttyPath?: string;
  now?: () => number;
  /** The daemon's channel to the attached approval console; without it the console approver is unavailable. */
  console?: ConsoleChannel;
}

export interface ApproverDescription {
  name: string;
  available: boolean;
  detail: string;
  hint?: string;
}

export const NO_APPROVER_HINT = 'set approver in ~/.config/agent-secret/config.yml (console, tty, or command: [/path/to/program]); see README "Approvers"';

/** The way forward on a Linux host without a desktop (SSH, servers). */
export const HEADLESS_HINT = 'without a desktop (SSH, a server), put `approver: console` in ~/.config/agent-secret/config.yml and run `agent-secret approve` in a terminal of your own; see docs/approvers.md';

interface Resolution extends ApproverDescription {
  create?: () => Promise<Approver>;
}

/** Returns the configured approver, or throws approval.unavailable with a hint. */
export async function selectApprover(config: UserConfig, host: HostInfo, options: SelectOptions = {}): Promise<Approver> {
  const resolution = await resolveApprover(config, host, options);
  if (!resolution.available || resolution.create === undefined) {
    throw new AgentSecretError('approval.unavailable', `no approver available: ${resolution.detail}`, { hint: resolution.hint ?? NO_APPROVER_HINT });
  }
  return resolution.create();
}

/** Says which approver would be used and whether it can work here; never prompts (for `doctor`). */
export async function describeApprover(config: UserConfig, host: HostInfo, options: SelectOptions = {}): Promise<ApproverDescription> {
  const { name, available, detail, hint } = await resolveApprover(config, host, options);
  return hint === undefined ? { name, available, detail } : { name, available, detail, hint };
}

async function resolveApprover(config: UserConfig, host: HostInfo, options: SelectOptions): Promise<Resolution> {
  const setting = config.approver;
  const now = options.now === undefined ? {} : { now: options.now };
  if (typeof setting === 'object') {
    const argv = [...setting.command];
    const program = argv[0] ?? '';
    if (!program.startsWith('/') || !(await isTrustedExecutable(program))) {
      return {
        name: 'command',
        available: false,
        detail: `the approver program ${program} is missing, not executable, or writable by everyone`,
        hint: `check the path in ${config.path}; the program must be executable and not world-writable (chmod 755)`,
      };
    }
    return { name: 'command', available: true, detail: `program ${program}`, create: async () => createProgramApprover(argv, { env: host.env, ...now }) };
  }
  switch (setting) {
    case 'tty': {
      const ttyPath = options.ttyPath ?? '/dev/tty';
      if (!canOpenTty(ttyPath)) {
        return { name: 'tty', available: false, detail: 'no terminal (/dev/tty) to ask on', hint: 'run agent-secret from a terminal, or choose another approver in the user config' };
      }
      return { name: 'tty', available: true, detail: 'asks on the terminal (/dev/tty)', create: async () => createTtyApprover({ open: () => openTty(ttyPath), ...now }) };
    }
    case 'console': {
      const channel = options.console;
      const detail = 'asks in the approval console: run agent-secret approve in a terminal of your own';
      if (channel === undefined) return { name: 'console', available: true, detail };
      return { name: 'console', available: true, detail, create: async () => createConsoleApprover(channel) };
    }
    case 'none':
      // Doctor reports it as chosen on purpose; with no create(), selectApprover still refuses to ask.
      return {
        name: 'none',
        available: true,
        detail: 'approver is none (headless): nothing prompts; only what the policy allows runs',
        hint: `add a rule to ${config.policy?.path ?? policyPathBeside(config.path)} (agent-secret policy explain with the same flags -- CMD shows what decides), or choose an approver in ${config.path}`,
      };
    case 'macos':
      return resolveMacos(config, host, now);
    case 'zenity':
    case 'kdialog':
      return resolveDesktop([setting], host, options);
    case 'auto':
      if (host.platform === 'darwin') return resolveMacos(config, host, now);
      if (host.platform === 'win32') return { name: 'auto', available: false, detail: 'no dialog approver on this platform' };
      return resolveDesktop(['zenity', 'kdialog'], host, options);
  }
}

/** Whether Touch ID can follow "Allow" here: not macOS, node-mac-auth missing (did not build), no sensor or enrolment, or available. */
export type TouchIdStatus = 'not-darwin' | 'module-missing' | 'cannot-prompt' | 'available';

/** Checks Touch ID without prompting (for `doctor`): loads node-mac-auth on darwin only. */
export async function checkTouchId(platform: NodeJS.Platform, load?: () => Promise<{ available(): boolean } | null>): Promise<TouchIdStatus> {
  if (platform !== 'darwin') return 'not-darwin';
  const gate = await (load ?? (async () => (await import('./macos/touch-id.js')).loadTouchId(platform)))().catch(() => null);
  if (gate === null) return 'module-missing';
  return gate.available() ? 'available' : 'cannot-prompt';
}

function resolveMacos(config: UserConfig, host: HostInfo, now: { now?: () => number }): Resolution {
  if (host.platform !== 'darwin') {
    return { name: 'macos', available: false, detail: 'the macos approver needs macOS', hint: NO_APPROVER_HINT };
  }
  return {
    name: 'macos',
    available: true,
    detail: `osascript dialog${config.touchId ? ', then Touch ID when available' : ''}`,
    create: async () => {
      const { createMacosApprover } = await import('./macos/approver.js');
      return createMacosApprover({ env: host.env, touchId: config.touchId, ...now });
    },
  };
}

async function resolveDesktop(names: ReadonlyArray<'zenity' | 'kdialog'>, host: HostInfo, options: SelectOptions): Promise<Resolution> {
  const label = names.join('/');
  const name = names.length === 1 ? (names[0] as string) : 'auto';
  if (host.platform === 'darwin' || host.platform === 'win32') {
    return { name, available: false, detail: `${label} needs a Linux desktop`, hint: NO_APPROVER_HINT };
  }
  if (!nonEmpty(host.env.DISPLAY) && !nonEmpty(host.env.WAYLAND_DISPLAY)) {
    return { name, available: false, detail: `no desktop display for ${label} (neither DISPLAY nor WAYLAND_DISPLAY is set)`, hint: HEADLESS_HINT };
  }
  const dirs = options.searchDirs ?? TRUSTED_BIN_DIRS;
  const now = options.now === undefined ? {} : { now: options.now };
  for (const program of names) {
    const file = await findProgram(program, dirs);
    if (file === null) continue;
    const create = program === 'zenity' ? createZenityApprover : createKdialogApprover;
    return { name: program, available: true, detail: `${file} on the desktop display`, create: async () => create(file, { env: host.env, ...now }) };
  }
  return {
    name,
    available: false,
    detail: `${names.length === 1 ? `${label} is not` : 'neither zenity nor kdialog is'} installed in ${dirs.join(', ')}`,
    hint: `install zenity (or kdialog), or ${NO_APPROVER_HINT}`,
  };
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}
