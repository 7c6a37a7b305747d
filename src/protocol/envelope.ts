// The daemon protocol's envelope, version 1: one JSON object per line, at most 1 MiB of bytes
// (newline excluded), `{"v":1,"id":"…","type":"…","body":{…}}`. This module checks the envelope
// only; each type's body schema is in messages.ts. Pure. Every failure is an
// AgentSecretError('daemon.protocol') with a fixed message that quotes nothing it received.

import { AgentSecretError } from '../core/errors.js';

export const PROTOCOL_VERSION = 1;
export const MAX_FRAME_BYTES = 1024 * 1024;

/** Frame types a client may send to the daemon. */
export const CLIENT_FRAME_TYPES = [
  'hello',
  'exec.argv',
  'exec.started',
  'exec.exited',
  'exec.spawn_failed',
  'session.create',
  'session.resolve',
  'session.list',
  'session.destroy',
  'approvals.list',
  'approvals.revoke',
  'item.describe',
  'approver.test',
  'console.attach',
  'console.answer',
  'daemon.stop',
  'daemon.status',
] as const;

export interface Frame {
  v: 1;
  id: string;
  type: string;
  body: Record<string, unknown>;
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
// Daemon → client types are open-ended (`*.ok`, `exec.deliver`, `error`, …): the client checks
// their shape here and the exact type where it waits for one.
const TYPE_SHAPE = /^[a-z][a-z0-9_]{0,31}(\.[a-z][a-z0-9_]{0,31}){0,3}$/;
const ENVELOPE_KEYS = new Set(['v', 'id', 'type', 'body']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether a string can be a conversation id. */
export function isFrameId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}

/** Serializes a frame as one line (JSON + '\n'); refuses a frame over the limit. */
export function encodeFrame(frame: Frame): Buffer {
  const line = Buffer.from(JSON.stringify({ v: frame.v, id: frame.id, type: frame.type, body: frame.body }), 'utf8');
  if (line.length > MAX_FRAME_BYTES) throw protocolError('a frame is larger than the 1 MiB limit');
  return Buffer.concat([line, NEWLINE]);
}

const NEWLINE = Buffer.from('\n');

/** Whether a body of this type fits in one frame (with room for the envelope's id). */
export function fitsInFrame(type: string, body: Record<string, unknown>): boolean {
  return Buffer.byteLength(JSON.stringify({ v: PROTOCOL_VERSION, id: 'x'.repeat(64), type, body }), 'utf8') <= MAX_FRAME_BYTES;
}

/** Parses one line (without its newline) sent by a client; only `allowedTypes` are accepted. */
export function parseFrame(line: Buffer, allowedTypes: readonly string[]): Frame {
  return parseEnvelope(line, (type) => allowedTypes.includes(type));
}

/** Parses one line (without its newline) sent by the daemon: any well-formed type name. */
export function parseDaemonFrame(line: Buffer): Frame {
  return parseEnvelope(line, (type) => TYPE_SHAPE.test(type));
}

function parseEnvelope(line: Buffer, typeAllowed: (type: string) => boolean): Frame {
  if (line.length > MAX_FRAME_BYTES) throw protocolError('a frame is larger than the 1 MiB limit');
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    throw protocolError('a frame is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw protocolError('a frame is not valid JSON');
  }
  if (!isPlainObject(value)) throw protocolError('a frame is not a JSON object');
  for (const key of Object.keys(value)) {
    if (!ENVELOPE_KEYS.has(key)) throw protocolError('a frame has a field other than v, id, type and body');
  }
  if (value.v !== PROTOCOL_VERSION) throw protocolError(`a frame is not protocol version ${PROTOCOL_VERSION}`);
  if (!isFrameId(value.id)) throw protocolError('a frame id must be 1 to 64 letters, digits, "_" or "-"');
  if (typeof value.type !== 'string' || !typeAllowed(value.type)) throw protocolError('a frame has an unknown type');
  if (!isPlainObject(value.body)) throw protocolError('a frame body must be a JSON object');
  return { v: PROTOCOL_VERSION, id: value.id, type: value.type, body: value.body };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function protocolError(message: string): AgentSecretError {
  return new AgentSecretError('daemon.protocol', `the daemon protocol was broken: ${message}`, {
    hint: 'agent-secret and its daemon may be of different versions; run agent-secret daemon stop and retry',
  });
}
