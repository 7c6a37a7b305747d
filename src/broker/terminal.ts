// The one decision about where a request can be asked: the tty approver asks on the caller's
// terminal, which the daemon does not have, so such a request runs with an in-process broker
// (local.ts) in the caller's own process. Used by the CLI before it picks a broker, and by the
// daemon's broker when the caller's view of the user config differs from its own.

import type { UserConfig } from '../config/user-config.js';

/** Whether a broker of this kind must leave the request to one in the caller's process. */
export function needsCallerTerminal(userConfig: Pick<UserConfig, 'approver'>, inProcess = false): boolean {
  return userConfig.approver === 'tty' && !inProcess;
}
