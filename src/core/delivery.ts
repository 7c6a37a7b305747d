// How an approved value reaches the child: as an environment variable (the default), or as a
// file whose path the variable holds. The rules of a file delivery: its file name, its mode (a
// regular file on a RAM-backed filesystem, or a named pipe agent-secret serves) and its read
// limit, with the defaults per platform. Pure; names and numbers only, never a value.

/** env: the variable holds the value; file: the variable holds the path of a private file holding it. */
export type DeliveryKind = 'env' | 'file';

/** file: a regular file (on Linux on a RAM-backed filesystem); fifo: a named pipe agent-secret writes the value into. */
export type FileMode = 'file' | 'fifo';

export const FILE_MODES: readonly FileMode[] = Object.freeze(['file', 'fifo']);

/** How a file-delivered value is laid out for the child (part of the request the human approves). */
export interface FileDelivery {
  /** The file's name inside its private directory: one path component. */
  readonly name: string;
  readonly mode: FileMode;
  /** How many times a FIFO may be read (opened and read to the end); null: unlimited (regular files). */
  readonly maxReads: number | null;
}

/** The most reads a FIFO may allow. */
export const MAX_FILE_READS = 100;

/** Reads a FIFO allows when max_reads is not set. */
export const DEFAULT_FIFO_READS = 1;

/** The longest file name. */
export const MAX_FILE_NAME_LENGTH = 128;

const FILE_NAME = /^[A-Za-z0-9._-]+$/;

export type CheckResult = { ok: true } | { ok: false; message: string };

/** A delivered file's name: 1-128 letters, digits, ".", "_" or "-", not "." or "..". Pure. */
export function validateFileName(name: string): CheckResult {
  if (name.length === 0) return { ok: false, message: 'a file name must not be empty' };
  if (name.length > MAX_FILE_NAME_LENGTH) return { ok: false, message: `a file name is at most ${MAX_FILE_NAME_LENGTH} characters` };
  if (!FILE_NAME.test(name) || name === '.' || name === '..') {
    return { ok: false, message: 'a file name is letters, digits, ".", "_" or "-" (one path component, not "." or ".."), for example kubeconfig or id_ed25519' };
  }
  return { ok: true };
}

/** A read limit: a whole number 1..MAX_FILE_READS. Pure. */
export function validateMaxReads(value: unknown): CheckResult {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_FILE_READS) {
    return { ok: false, message: `max_reads must be a whole number from 1 to ${MAX_FILE_READS}` };
  }
  return { ok: true };
}

/** The mode a file delivery gets when none is set: a FIFO on macOS (no RAM-backed filesystem there), a regular file elsewhere. Pure. */
export function defaultFileMode(platform: NodeJS.Platform): FileMode {
  return platform === 'darwin' ? 'fifo' : 'file';
}

/** What a profile or flag asked for; unset parts take their defaults. */
export interface FileOptions {
  readonly name?: string | undefined;
  readonly mode?: FileMode | undefined;
  readonly maxReads?: number | undefined;
}

/**
 * The delivery for the given options: the default name, the platform's default mode, and the
 * read limit (1 for a FIFO unless set; a regular file cannot count its reads, so setting one
 * there is refused). Pure.
 */
export function fileDeliveryOf(options: FileOptions, defaults: { name: string; platform: NodeJS.Platform }): { ok: true; delivery: FileDelivery } | { ok: false; message: string } {
  const name = options.name ?? defaults.name;
  const checkedName = validateFileName(name);
  if (!checkedName.ok) return checkedName;
  const mode = options.mode ?? defaultFileMode(defaults.platform);
  if (!FILE_MODES.includes(mode)) return { ok: false, message: 'mode must be file or fifo' };
  if (options.maxReads !== undefined) {
    const reads = validateMaxReads(options.maxReads);
    if (!reads.ok) return reads;
    if (mode !== 'fifo') return { ok: false, message: 'max_reads needs mode: fifo (a regular file cannot count its reads)' };
  }
  return { ok: true, delivery: { name, mode, maxReads: mode === 'fifo' ? (options.maxReads ?? DEFAULT_FIFO_READS) : null } };
}

/**
 * The file name a template's output gets by default: the template's own name without a
 * `.tmpl`/`.template`/`.tpl` ending (`npmrc.tmpl` → `npmrc`, `.npmrc.tmpl` → `.npmrc`), else the
 * alias when that is not a valid name. Pure.
 */
export function templateFileName(templateBase: string, alias: string): string {
  const stripped = templateBase.replace(/\.(tmpl|template|tpl)$/i, '');
  return validateFileName(stripped).ok ? stripped : alias;
}
