// The masker as a Transform: whole pipelines, immediate release of bytes that cannot start a
// secret (no idle timer needed), a held partial match released only when resolved or at the end,
// and masker errors surfacing as stream errors. Values are test canaries.

import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AgentSecretError } from '../../../src/core/errors.js';
import { createMasker, MASK_TEXT } from '../../../src/mask/masker.js';
import { createMaskTransform } from '../../../src/mask/stream.js';

const CANARY = 'canary-7f3a-do-not-print';

function collect(transform: ReturnType<typeof createMaskTransform>): { text: () => string } {
  const chunks: Buffer[] = [];
  transform.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { text: () => Buffer.concat(chunks).toString() };
}

describe('createMaskTransform', () => {
  it('masks a value split over many chunks in a pipeline', async () => {
    const text = `log 1\ntoken=${CANARY}\n${Buffer.from(CANARY).toString('base64')}\nend\n`;
    const chunks = text.match(/[\s\S]{1,3}/g)!.map((part) => Buffer.from(part));
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(chunks),
      createMaskTransform(createMasker([CANARY])),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          out.push(chunk);
          callback();
        },
      }),
    );
    expect(Buffer.concat(out).toString()).toBe(`log 1\ntoken=${MASK_TEXT}\n${MASK_TEXT}\nend\n`);
  });

  it('forwards a prompt at once, without waiting for more output or a timer', async () => {
    const transform = createMaskTransform(createMasker([CANARY]));
    const received = collect(transform);
    transform.write(Buffer.from('Continue? [y/N] '));
    await tick();
    expect(received.text()).toBe('Continue? [y/N] ');
    transform.end();
  });

  it('keeps a live partial match until the stream resolves it or ends', async () => {
    const transform = createMaskTransform(createMasker([CANARY]));
    const received = collect(transform);
    const ended = new Promise((resolve) => transform.on('end', resolve));
    transform.write(Buffer.from('x canary-7f'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received.text()).toBe('x ');
    transform.end();
    await ended;
    expect(received.text()).toBe('x canary-7f');
  });

  it('turns a masker failure into a stream error', async () => {
    const masker = createMasker([CANARY]);
    masker.end();
    const transform = createMaskTransform(masker);
    const failed = new Promise((resolve) => transform.on('error', resolve));
    transform.write(Buffer.from('late output'));
    expect(await failed).toBeInstanceOf(AgentSecretError);
  });
});
