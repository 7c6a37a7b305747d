// Who is asking, for the prompt queue's fairness and its per-caller caps. The daemon cannot read
// the peer's credentials, and every caller is the same user, so the caller is derived from the
// requesting process's pid (as the request carries it): on Linux its Unix session id from
// /proc/<pid>/stat — one terminal tab, tmux pane or agent that starts its commands without a new
// session, however many shells and `agent-secret` processes it runs — else the parent process.
// Each exec is a new process, so the pid itself would make every request a caller of its own.
// A process can lie about its pid: this keeps well-meaning callers apart, it is no boundary.

import { readFileSync } from 'node:fs';
import type { Requester } from '../request/types.js';

/** The session id from the text of /proc/<pid>/stat (`pid (comm) state ppid pgrp session …`), or null. Pure. */
export function sessionOfStat(text: string): number | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const session = text.slice(close + 1).trim().split(' ')[3];
  return session !== undefined && /^[0-9]{1,10}$/.test(session) && Number(session) > 0 ? Number(session) : null;
}

/** The caller key of a requester: `sid:N` on Linux, else `parent:N`, else `pid:N`. Never throws. */
export function callerOf(requester: Requester, platform: NodeJS.Platform, readStat: (pid: number) => string = defaultReadStat): string {
  if (platform === 'linux' && requester.pid > 0) {
    try {
      const session = sessionOfStat(readStat(requester.pid));
      if (session !== null) return `sid:${session}`;
    } catch {
      // Gone already, or not readable: fall back below.
    }
  }
  const parent = requester.chain[0]?.pid;
  return parent !== undefined && parent > 1 ? `parent:${parent}` : `pid:${requester.pid}`;
}

function defaultReadStat(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8');
}
