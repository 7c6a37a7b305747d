// pumpThrough with the real masker: a value split over many chunks, output that cannot start a
// secret passed on at once, a held partial match released only at the end, backpressure, a
// failing filter (the rest dropped, never passed on unfiltered) and read errors. Test canaries.

import { PassThrough, Writable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pumpThrough, type OutputFilter } from '../../../src/exec/index.js';
import { createMasker, MASK_TEXT } from '../../../src/mask/masker.js';

const CANARY = 'canary-7f3a-do-not-print';

function sink(opts: { highWaterMark?: number; slow?: boolean } = {}) {
  const chunks: Buffer[] = [];
  let asked = 0;
  const stream = new Writable({
    highWaterMark: opts.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      if (opts.slow === true) setImmediate(callback);
      else callback();
    },
  });
  return {
    destination: () => {
      asked += 1;
      return stream;
    },
    text: () => Buffer.concat(chunks).toString(),
    asked: () => asked,
  };
}

describe('pumpThrough', () => {
  it('masks a value and its encoded form however the output is chunked (property)', async () => {
    const text = `log 1\ntoken=${CANARY}\n${Buffer.from(CANARY).toString('base64')}\nend\n`;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: text.length }), { maxLength: 12 }), async (cuts) => {
        const source = new PassThrough();
        const out = sink();
        const done = pumpThrough(source, { filter: createMasker([CANARY]), destination: out.destination });
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        let from = 0;
        for (const to of [...points, text.length]) {
          source.write(Buffer.from(text.slice(from, to)));
          from = to;
        }
        source.end();
        await done;
        expect(out.text()).toBe(`log 1\ntoken=${MASK_TEXT}\n${MASK_TEXT}\nend\n`);
      }),
      { numRuns: 50 },
    );
  });

  it('passes on a prompt at once, without waiting for more output or a timer', async () => {
    const source = new PassThrough();
    const out = sink();
    const done = pumpThrough(source, { filter: createMasker([CANARY]), destination: out.destination });
    source.write(Buffer.from('Continue? [y/N] '));
    await tick();
    expect(out.text()).toBe('Continue? [y/N] ');
    source.end();
    await done;
  });

  it('keeps a live partial match until the output resolves it or ends', async () => {
    const source = new PassThrough();
    const out = sink();
    const done = pumpThrough(source, { filter: createMasker([CANARY]), destination: out.destination });
    source.write(Buffer.from('x canary-7f'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(out.text()).toBe('x ');
    source.end();
    await done;
    expect(out.text()).toBe('x canary-7f');
  });

  it('asks for no destination when there is nothing to write', async () => {
    const source = new PassThrough();
    const out = sink();
    const done = pumpThrough(source, { filter: createMasker([CANARY]), destination: out.destination });
    source.end();
    await done;
    expect(out.asked()).toBe(0);
  });

  it('holds the source back while a slow destination is full, and delivers every byte', async () => {
    const source = new PassThrough({ highWaterMark: 1024 });
    const out = sink({ highWaterMark: 1024, slow: true });
    const done = pumpThrough(source, { filter: createMasker([CANARY]), destination: out.destination });
    const chunk = Buffer.from('0123456789abcdef'.repeat(256));
    let refused = 0;
    for (let i = 0; i < 64; i += 1) {
      if (!source.write(chunk)) {
        refused += 1;
        await new Promise((resolve) => source.once('drain', resolve));
      }
    }
    source.end();
    await done;
    expect(refused).toBeGreaterThan(0);
    expect(out.text()).toBe(chunk.toString().repeat(64));
  });

  it('drops the rest of the output when the filter fails, and still drains the source', async () => {
    let calls = 0;
    const filter: OutputFilter = {
      push: (chunk) => {
        calls += 1;
        if (calls > 1) throw new Error('filter broke');
        return chunk;
      },
      end: () => Buffer.from('tail'),
    };
    const source = new PassThrough();
    const out = sink();
    const done = pumpThrough(source, { filter, destination: out.destination });
    source.write(Buffer.from('first '));
    await tick();
    source.write(Buffer.from(CANARY));
    source.write(Buffer.from(' more'));
    source.end();
    await done;
    expect(out.text()).toBe('first ');
    expect(source.readableEnded).toBe(true);
  });

  it('says the reader went away and closes the source when the destination fails, also while waiting for drain', async () => {
    for (const highWaterMark of [16 * 1024, 1]) {
      const source = new PassThrough();
      let fail: ((error: Error) => void) | null = null;
      const broken = new Writable({
        highWaterMark,
        write(_chunk: Buffer, _encoding, callback) {
          // The first write fails at once; with highWaterMark 1 the pump is paused for drain first.
          if (highWaterMark === 1) fail = callback;
          else callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
        },
      });
      const failures: string[] = [];
      const done = pumpThrough(source, { filter: createMasker([CANARY]), destination: () => broken }, (code) => failures.push(code));
      source.write(Buffer.from('some output\n'));
      source.write(Buffer.from('more output\n'));
      await tick();
      if (highWaterMark === 1) {
        expect(source.isPaused()).toBe(true);
        (fail as unknown as (error: Error) => void)(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      }
      await done;
      expect(source.destroyed).toBe(true);
      expect(failures).toEqual(['EPIPE']);
    }
  });

  it('resolves on a read error, dropping what the filter held back', async () => {
    const source = new PassThrough();
    const out = sink();
    const done = pumpThrough(source, { filter: createMasker([CANARY]), destination: out.destination });
    source.write(Buffer.from('ok canary-7f'));
    await tick();
    source.destroy(new Error('read failed'));
    await done;
    expect(out.text()).toBe('ok ');
  });
});
