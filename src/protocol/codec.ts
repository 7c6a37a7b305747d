// The client's half of the protocol bodies, without zod: checking what the broker delivers, and
// the spawn body the broker builds from its plan. A reused exec loads this, not the schemas in
// messages.ts; test/unit/protocol/codec.test.ts proves these readers accept exactly what those
// schemas accept. Pure.

import type { ChildSpec } from '../exec/run-child.js';
import { childSpecOf, type ExecPlan } from '../plan/exec-plan.js';
import type { ExecutableIdentity } from '../request/types.js';
import type { z } from 'zod';
import { decodeFile, decodeScript, encodeFile, encodeIdentity, encodeScript, type ScriptBody } from '../request/codec.js';
import { MAX_FILE_NAME_LENGTH } from '../core/delivery.js';
import { TEMPLATE_LIMITS, type FileSpec } from '../request/template.js';
import type { SpawnBodySchema } from './messages.js';
import { MAX_SCRIPTS } from '../request/build.js';

/** A checked exec.deliver body. `env` and `file_values` hold values: never log it. */
export interface ExecDeliver {
  request_id: string;
  env: Record<string, string>;
  /** The values delivered as files, base64 (resolution key → bytes). */
  file_values: Record<string, string>;
  approval_id: string | null;
  reused: boolean;
  /** How to start the child. */
  spawn: ChildSpec;
}

/** Checks an exec.deliver body by hand; null when it is not one. Pure. */
export function readExecDeliver(body: Record<string, unknown>): ExecDeliver | null {
  if (!onlyKeys(body, DELIVER_KEYS)) return null;
  const { request_id: requestId, env, file_values: fileValues, approval_id: approvalId, reused } = body;
  if (typeof requestId !== 'string' || !/^req_[0-9a-f]{32}$/.test(requestId)) return null;
  const values = readStrings(env);
  const files = readStrings(fileValues);
  if (values === null || files === null || !Object.values(files).every(isBase64)) return null;
  if (approvalId !== null && typeof approvalId !== 'string') return null;
  if (typeof reused !== 'boolean') return null;
  const spawn = readSpawnSpec(body.spawn);
  if (spawn === null) return null;
  return { request_id: requestId, env: values, file_values: files, approval_id: approvalId, reused, spawn };
}

// A record of strings (env, file_values); null otherwise.
function readStrings(value: unknown): Record<string, string> | null {
  if (!isRecord(value)) return null;
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(value)) {
    if (typeof text !== 'string') return null;
    out[name] = text;
  }
  return out;
}

// Padded base64 as zod's z.base64() accepts it (its pattern).
function isBase64(text: string): boolean {
  return /^$|^(?:[0-9a-zA-Z+/]{4})*(?:(?:[0-9a-zA-Z+/]{2}==)|(?:[0-9a-zA-Z+/]{3}=))?$/.test(text);
}

/** How the caller starts the child of an exec the broker planned (exec.deliver's `spawn`; SpawnBodySchema in messages.ts). */
export type SpawnBody = z.infer<typeof SpawnBodySchema>;

/** ExecPlan → spawn body: the plan's child spec (plan/exec-plan.ts childSpecOf) on the wire. Pure. */
export function spawnBody(plan: ExecPlan): SpawnBody {
  const spec = childSpecOf(plan);
  return {
    command: [...spec.command],
    executable: spec.executable,
    executable_identity: encodeIdentity(spec.identity),
    cwd: spec.cwd,
    pristine: spec.pristine,
    plain: spec.plain.map((p) => ({ key: p.key, value: p.value })),
    remove_names: [...spec.removeNames],
    mask: spec.mask,
    scripts: spec.scripts.map(encodeScript),
    files: spec.files.map((f) => ({ alias: f.alias, ...encodeFile(f.file), template: f.template === null ? null : { text: f.template.text, refs: [...f.template.refs] } })),
  };
}

/** Checks an exec.deliver `spawn` body by hand; null when it is not one. Pure. */
export function readSpawnSpec(value: unknown): ChildSpec | null {
  if (!isRecord(value) || !onlyKeys(value, SPAWN_KEYS)) return null;
  const { command, executable, executable_identity: id, cwd, pristine, plain, remove_names: removeNames, mask, scripts } = value;
  if (!isStrings(command) || command.length === 0 || !isStrings(removeNames)) return null;
  if (typeof executable !== 'string' || !executable.startsWith('/') || typeof cwd !== 'string' || !cwd.startsWith('/')) return null;
  if (typeof pristine !== 'boolean' || typeof mask !== 'boolean' || !Array.isArray(plain)) return null;
  const entries: Array<{ key: string; value: string }> = [];
  for (const entry of plain) {
    if (!isRecord(entry) || !onlyKeys(entry, ['key', 'value']) || typeof entry.key !== 'string' || typeof entry.value !== 'string') return null;
    entries.push({ key: entry.key, value: entry.value });
  }
  if (!isRecord(id) || !onlyKeys(id, IDENTITY_KEYS)) return null;
  const numbers = [id.dev, id.ino, id.size, id.mtime_ms, id.ctime_ms, id.mode, id.uid];
  if (!numbers.every((n) => typeof n === 'number' && Number.isFinite(n))) return null;
  if (!Number.isSafeInteger(id.mode) || !Number.isSafeInteger(id.uid)) return null;
  const [dev, ino, size, mtimeMs, ctimeMs, mode, uid] = numbers as number[];
  const checkedScripts = readScripts(scripts);
  if (checkedScripts === null) return null;
  const files = readFiles(value.files);
  if (files === null) return null;
  return {
    command,
    executable,
    identity: { dev, ino, size, mtimeMs, ctimeMs, mode, uid } as ExecutableIdentity,
    cwd,
    pristine,
    plain: entries,
    removeNames,
    mask,
    scripts: checkedScripts.map(decodeScript),
    files,
  };
}

// The files of a spawn body, as SpawnBodySchema's `files` accepts them; null otherwise.
function readFiles(value: unknown): FileSpec[] | null {
  if (!Array.isArray(value) || value.length > 220) return null;
  const out: FileSpec[] = [];
  for (const f of value) {
    if (!isRecord(f) || !onlyKeys(f, FILE_KEYS) || Object.keys(f).length !== FILE_KEYS.length) return null;
    const { alias, name, mode, max_reads: maxReads, template } = f;
    if (typeof alias !== 'string' || alias.length > 256 || typeof name !== 'string' || name.length > MAX_FILE_NAME_LENGTH) return null;
    if (mode !== 'file' && mode !== 'fifo') return null;
    if (maxReads !== null && !Number.isSafeInteger(maxReads)) return null;
    let checked: FileSpec['template'] = null;
    if (template !== null) {
      if (!isRecord(template) || !onlyKeys(template, ['text', 'refs']) || typeof template.text !== 'string' || template.text.length > TEMPLATE_LIMITS.maxBytes) return null;
      const refs = template.refs;
      if (!isStrings(refs) || refs.length > TEMPLATE_LIMITS.maxRefs || refs.some((r) => r.length > 4096)) return null;
      checked = { text: template.text, refs };
    }
    out.push({ alias, file: decodeFile({ name, mode, max_reads: maxReads as number | null }), template: checked });
  }
  return out;
}

// The files argv names, as SpawnBodySchema's `scripts` accepts them; null otherwise.
function readScripts(value: unknown): ScriptBody[] | null {
  if (!Array.isArray(value) || value.length > MAX_SCRIPTS) return null;
  const out: ScriptBody[] = [];
  for (const s of value) {
    if (!isRecord(s) || !onlyKeys(s, SCRIPT_KEYS) || Object.keys(s).length !== SCRIPT_KEYS.length) return null;
    const { path, dev, ino, size, mtime_ms: mtimeMs, ctime_ms: ctimeMs, sha256 } = s;
    if (typeof path !== 'string' || !path.startsWith('/') || path.length > 4096) return null;
    if (![dev, ino, size, mtimeMs, ctimeMs].every((n) => typeof n === 'number' && Number.isFinite(n))) return null;
    if (sha256 !== null && (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256))) return null;
    out.push({ path, dev: dev as number, ino: ino as number, size: size as number, mtime_ms: mtimeMs as number, ctime_ms: ctimeMs as number, sha256 });
  }
  return out;
}

// The keys each body may have: like the strict schemas in messages.ts, an unknown key refuses the body.
const DELIVER_KEYS = ['request_id', 'env', 'file_values', 'approval_id', 'reused', 'spawn'];
const SPAWN_KEYS = ['command', 'executable', 'executable_identity', 'cwd', 'pristine', 'plain', 'remove_names', 'mask', 'scripts', 'files'];
const FILE_KEYS = ['alias', 'name', 'mode', 'max_reads', 'template'];
const SCRIPT_KEYS = ['path', 'dev', 'ino', 'size', 'mtime_ms', 'ctime_ms', 'sha256'];
const IDENTITY_KEYS = ['dev', 'ino', 'size', 'mtime_ms', 'ctime_ms', 'mode', 'uid'];

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[]): boolean {
  return Object.keys(value).every((key) => allowed.includes(key));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
