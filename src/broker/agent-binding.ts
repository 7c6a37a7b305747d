// A registered agent's token bound to the process tree that holds it, like a session. The
// holder of a presented token is the topmost process of the unbroken run of the caller's
// ancestors (from the requesting process up) that were started with exactly that
// AGENT_SECRET_AGENT_TOKEN: the agent the orchestrator started, not a shell it spawned. The
// first granted request binds the agent to its holder; while that process lives, a request carrying
// the same token from outside its tree is refused. In memory only, one binding per agent, keyed
// by the agent's name and its token's hash, so a removed and re-added agent starts unbound.

import { nodeCrypto } from '../core/node-crypto.js';
import { ineligibility } from './binding.js';
import type { AncestryEntry } from '../platform/process-tree.js';

/**
 * The index in `ancestry` (0 = the requesting process, nearest first) of the token's holder: the
 * last entry of the run from index 0 in which every entry is eligible (pid > 1, the same uid and
 * gid as `self`, a known start time) and `holds` it. -1 when the requesting process itself does
 * not qualify. Pure.
 */
export function tokenHolder(ancestry: readonly AncestryEntry[], self: { uid: number; gid: number }, holds: (entry: AncestryEntry, index: number) => boolean): number {
  let holder = -1;
  for (let index = 0; index < ancestry.length; index += 1) {
    const entry = ancestry[index] as AncestryEntry;
    if (ineligibility(entry, self) !== null || !holds(entry, index)) break;
    holder = index;
  }
  return holder;
}

/** The same process for its whole life (an exec keeps it): pid and start time. Pure. */
export function sameProcess(a: AncestryEntry, b: AncestryEntry): boolean {
  return a.startTime !== '' && a.pid === b.pid && a.startTime === b.startTime;
}

/** The hex SHA-256 of a token: the key half that makes a re-added agent start fresh. */
export function tokenKey(token: string): string {
  return nodeCrypto().createHash('sha256').update(token).digest('hex');
}

/** What the daemon decided about a presented token: go on, or refused because another tree holds it. */
export type BindingCheck = { ok: true; boundTo: AncestryEntry | null } | { ok: false; anchor: AncestryEntry };

/** The host facts a check needs, injected so the decision is tested without processes. */
export interface BindingHost {
  /** The caller's ancestry, from the requesting process (depth 0) up. */
  ancestry: readonly AncestryEntry[];
  /** Index of the holder in `ancestry` (`tokenHolder`), -1 when none. */
  holder: number;
  /** Whether a process bound before still runs (same pid and start time). */
  alive: (anchor: AncestryEntry) => Promise<boolean>;
}

interface Binding {
  tokenKey: string;
  anchor: AncestryEntry;
}

// As many as agents can be registered (config/agents.ts); more means bindings of removed agents.
const MAX_BINDINGS = 256;

/** The in-memory table of agent bindings: at most one per agent name. */
export function createAgentBindings() {
  const byName = new Map<string, Binding>();
  // A removed agent's binding stays until its name is bound again: past the limit, the ones whose
  // process is gone are dropped.
  const sweep = async (alive: BindingHost['alive']) => {
    for (const [name, binding] of [...byName]) if (!(await alive(binding.anchor)) && byName.get(name) === binding) byName.delete(name);
  };
  return {
    /**
     * Checks a presented token of `agent` (its hash `key`) and binds it when it is free:
     *  - bound to a live process that is not in the caller's ancestry: refused;
     *  - bound to a process in the caller's ancestry: fine, unchanged;
     *  - no binding (or another token's, or its process is gone): bound to the holder, unless
     *    the holder is the requesting process itself (depth 0, or none), which ends with this
     *    request and leaves nothing to bind to.
     * With `bind` false the table is only read: the daemon checks before deciding and binds only
     * once the request is granted, so a denied request from a stolen token cannot squat it.
     */
    async check(agent: string, key: string, host: BindingHost, bind = true): Promise<BindingCheck> {
      for (;;) {
        const bound = byName.get(agent);
        const current = bound !== undefined && bound.tokenKey === key ? bound : undefined;
        if (current !== undefined && host.ancestry.some((entry) => sameProcess(current.anchor, entry))) return { ok: true, boundTo: current.anchor };
        if (current !== undefined && (await host.alive(current.anchor))) {
          // The table may have changed while the process was read: decide on what it holds now.
          if (byName.get(agent) !== bound) continue;
          return { ok: false, anchor: current.anchor };
        }
        if (byName.get(agent) !== bound) continue;
        const holder = host.holder >= 1 ? host.ancestry[host.holder] : undefined;
        if (!bind) return { ok: true, boundTo: null };
        if (holder === undefined) {
          if (bound !== undefined) byName.delete(agent);
          return { ok: true, boundTo: null };
        }
        byName.set(agent, { tokenKey: key, anchor: holder });
        if (byName.size > MAX_BINDINGS) await sweep(host.alive);
        return { ok: true, boundTo: holder };
      }
    },
    /** The process an agent's token is bound to, or null (for tests and diagnostics). */
    boundTo(agent: string): AncestryEntry | null {
      return byName.get(agent)?.anchor ?? null;
    },
    get size(): number {
      return byName.size;
    },
  };
}

export type AgentBindings = ReturnType<typeof createAgentBindings>;
