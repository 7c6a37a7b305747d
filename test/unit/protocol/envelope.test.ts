// The protocol envelope: what parseFrame accepts and refuses (table), that it never throws
// anything but daemon.protocol and never quotes its input (fast-check), and that encodeFrame
// round-trips and enforces the 1 MiB limit.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { CLIENT_FRAME_TYPES, MAX_FRAME_BYTES, encodeFrame, parseDaemonFrame, parseFrame, type Frame } from '../../../src/protocol/envelope.js';

const line = (text: string) => Buffer.from(text, 'utf8');
const ok = (type = 'exec.argv', body: Record<string, unknown> = {}, id = 'c1') => JSON.stringify({ v: 1, id, type, body });

function protocolErrorOf(fn: () => unknown): AgentSecretError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AgentSecretError);
    expect((error as AgentSecretError).code).toBe('daemon.protocol');
    return error as AgentSecretError;
  }
  throw new Error('expected a daemon.protocol error');
}

describe('parseFrame accepts well-formed client frames', () => {
  it.each(CLIENT_FRAME_TYPES.map((type) => [type]))('type %s', (type) => {
    expect(parseFrame(line(ok(type)), CLIENT_FRAME_TYPES)).toEqual({ v: 1, id: 'c1', type, body: {} });
  });

  it.each([
    ['a 64-character id of every allowed class', ok('hello', {}, `${'aZ09_-'.repeat(10)}abcd`)],
    ['a nested body', ok('exec.argv', { request: { argv: ['a'], n: 1, x: null } })],
    ['keys in another order', '{"body":{},"type":"hello","id":"x","v":1}'],
    ['surrounding whitespace and a CR', ' {"v":1,"id":"x","type":"hello","body":{}} \r'],
    ['non-ASCII text in the body', ok('hello', { note: 'grüße ✓' })],
  ])('%s', (_name, text) => {
    expect(parseFrame(line(text), CLIENT_FRAME_TYPES).v).toBe(1);
  });
});

describe('parseFrame refuses', () => {
  it.each([
    ['an empty line', ''],
    ['not JSON', 'hello'],
    ['truncated JSON', '{"v":1,"id":"x"'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"frame"'],
    ['null', 'null'],
    ['version 2', JSON.stringify({ v: 2, id: 'x', type: 'hello', body: {} })],
    ['version "1"', JSON.stringify({ v: '1', id: 'x', type: 'hello', body: {} })],
    ['a missing version', JSON.stringify({ id: 'x', type: 'hello', body: {} })],
    ['an empty id', JSON.stringify({ v: 1, id: '', type: 'hello', body: {} })],
    ['a 65-character id', JSON.stringify({ v: 1, id: 'a'.repeat(65), type: 'hello', body: {} })],
    ['an id with a space', JSON.stringify({ v: 1, id: 'a b', type: 'hello', body: {} })],
    ['an id with a newline escape', JSON.stringify({ v: 1, id: 'a\nb', type: 'hello', body: {} })],
    ['a numeric id', JSON.stringify({ v: 1, id: 7, type: 'hello', body: {} })],
    ['an unknown type', JSON.stringify({ v: 1, id: 'x', type: 'exec.deliver', body: {} })],
    ['a type that only looks close', JSON.stringify({ v: 1, id: 'x', type: 'Hello', body: {} })],
    ['a missing type', JSON.stringify({ v: 1, id: 'x', body: {} })],
    ['a missing body', JSON.stringify({ v: 1, id: 'x', type: 'hello' })],
    ['an array body', JSON.stringify({ v: 1, id: 'x', type: 'hello', body: [] })],
    ['a null body', JSON.stringify({ v: 1, id: 'x', type: 'hello', body: null })],
    ['a string body', JSON.stringify({ v: 1, id: 'x', type: 'hello', body: 'x' })],
    ['an extra envelope field', JSON.stringify({ v: 1, id: 'x', type: 'hello', body: {}, extra: 1 })],
    ['a __proto__ envelope field', '{"v":1,"id":"x","type":"hello","body":{},"__proto__":{}}'],
    ['two frames on one line', `${ok()}${ok()}`],
  ])('%s', (_name, text) => {
    protocolErrorOf(() => parseFrame(line(text), CLIENT_FRAME_TYPES));
  });

  it('invalid UTF-8', () => {
    const bytes = Buffer.concat([line('{"v":1,"id":"x","type":"hello","body":{"a":"'), Buffer.from([0xff, 0xfe]), line('"}}')]);
    protocolErrorOf(() => parseFrame(bytes, CLIENT_FRAME_TYPES));
  });

  it('a line over 1 MiB, before parsing it', () => {
    const big = line(ok('hello', { pad: 'x'.repeat(MAX_FRAME_BYTES) }));
    expect(protocolErrorOf(() => parseFrame(big, CLIENT_FRAME_TYPES)).message).toContain('1 MiB');
  });

  it('a type not in the allowed list given', () => {
    protocolErrorOf(() => parseFrame(line(ok('exec.argv')), ['hello']));
  });
});

describe('parseFrame properties', () => {
  const anyBytes = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.string({ maxLength: 200 }).map(line),
    fc.json().map(line),
    fc
      .record({ v: fc.oneof(fc.constant(1), fc.anything()), id: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.anything()), type: fc.oneof(fc.constantFrom(...CLIENT_FRAME_TYPES), fc.string()), body: fc.oneof(fc.object(), fc.anything()) }, { requiredKeys: [] })
      .map((value) => line(JSON.stringify(value) ?? '')),
  );

  it('never throws anything but daemon.protocol, and never quotes the input', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        try {
          const frame = parseFrame(bytes, CLIENT_FRAME_TYPES);
          expect(CLIENT_FRAME_TYPES as readonly string[]).toContain(frame.type);
        } catch (error) {
          expect(error).toBeInstanceOf(AgentSecretError);
          expect((error as AgentSecretError).code).toBe('daemon.protocol');
          const text = bytes.toString('utf8');
          if (text.trim().length >= 16) expect((error as AgentSecretError).message).not.toContain(text);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips every frame encodeFrame writes', () => {
    const frame = fc.record({
      v: fc.constant(1 as const),
      id: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
      type: fc.constantFrom(...CLIENT_FRAME_TYPES),
      body: fc.dictionary(fc.string(), fc.jsonValue()),
    });
    fc.assert(
      fc.property(frame, (f: Frame) => {
        const bytes = encodeFrame(f);
        expect(bytes.at(-1)).toBe(0x0a);
        expect(bytes.subarray(0, -1).includes(0x0a)).toBe(false);
        expect(parseFrame(bytes.subarray(0, -1), CLIENT_FRAME_TYPES)).toEqual(JSON.parse(JSON.stringify(f)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('encodeFrame', () => {
  it('refuses a frame over the limit with daemon.protocol', () => {
    const frame: Frame = { v: 1, id: 'x', type: 'exec.deliver', body: { pad: 'x'.repeat(MAX_FRAME_BYTES) } };
    protocolErrorOf(() => encodeFrame(frame));
  });

  it('accepts a frame of exactly the limit', () => {
    const overhead = encodeFrame({ v: 1, id: 'x', type: 'exec.deliver', body: { pad: '' } }).length - 1;
    const frame: Frame = { v: 1, id: 'x', type: 'exec.deliver', body: { pad: 'x'.repeat(MAX_FRAME_BYTES - overhead) } };
    expect(encodeFrame(frame).length).toBe(MAX_FRAME_BYTES + 1);
  });

  it('writes only the envelope fields', () => {
    const frame = { v: 1, id: 'x', type: 'hello', body: {}, extra: 'no' } as Frame;
    expect(encodeFrame(frame).toString()).toBe('{"v":1,"id":"x","type":"hello","body":{}}\n');
  });
});

describe('parseDaemonFrame', () => {
  it.each(['hello.ok', 'exec.deliver', 'approvals.list.ok', 'error', 'daemon.status.ok'])('accepts the daemon type %s', (type) => {
    expect(parseDaemonFrame(line(ok(type))).type).toBe(type);
  });

  it.each(['', 'Error', 'a..b', '.ok', 'a.b.c.d.e', 'x y', `a${'b'.repeat(40)}`])('refuses the type %j', (type) => {
    protocolErrorOf(() => parseDaemonFrame(line(ok(type))));
  });
});
