// The tty approver over injected streams: no terminal needed.
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { askOnStreams, createTtyApprover } from '../../../src/approval/tty.js';
import { NOW, samplePrompt } from './sample-prompt.js';

function streams() {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (chunk: Buffer) => {
    shown += chunk.toString('utf8');
  });
  return { input, output, shown: () => shown };
}

const later = () => Date.now() + 10_000;

describe('askOnStreams', () => {
  it.each([
    ['y\n', { kind: 'approve' }],
    ['Y\n', { kind: 'approve' }],
    ['yes\n', { kind: 'approve' }],
    ['  yes  \r', { kind: 'approve' }],
    ['n\n', { kind: 'deny', reason: 'denied by user' }],
    ['\n', { kind: 'deny', reason: 'denied by user' }],
    ['yep\n', { kind: 'deny', reason: 'denied by user' }],
    ['y es\n', { kind: 'deny', reason: 'denied by user' }],
  ])('answer %j → %j', async (typed, decision) => {
    const io = streams();
    const pending = askOnStreams(samplePrompt(), io, { deadline: later() });
    io.input.write(typed);
    await expect(pending).resolves.toEqual(decision);
  });

  it('prints the whole escaped request, then asks with deny as the default', async () => {
    const io = streams();
    const pending = askOnStreams(samplePrompt({ reason: 'hi\x1b[2J\u202e' }), io, { deadline: NOW + 60_000, now: () => NOW });
    io.input.write('n\n');
    await pending;
    const shown = io.shown();
    expect(shown).toContain('agent-secret: secret access request\n===================================\n');
    expect(shown).toContain('\n  hi\\x1b[2J\\u202e\n');
    expect(shown).toContain('Command: terraform plan -var \'region=eu west\'\n');
    expect(shown).toContain('\n\nAllow? [y/N] ');
    expect(shown).not.toContain('\x1b');
  });

  it('waits for a whole line even when it arrives in pieces', async () => {
    const io = streams();
    const pending = askOnStreams(samplePrompt(), io, { deadline: later() });
    io.input.write('y');
    await new Promise((r) => setTimeout(r, 20));
    io.input.write('es\n');
    await expect(pending).resolves.toEqual({ kind: 'approve' });
  });

  it('denies when the terminal closes before an answer', async () => {
    const io = streams();
    const pending = askOnStreams(samplePrompt(), io, { deadline: later() });
    io.input.end('y');
    await expect(pending).resolves.toEqual({ kind: 'deny', reason: 'terminal closed before an answer' });
  });

  it('times out at the deadline', async () => {
    const io = streams();
    await expect(askOnStreams(samplePrompt(), io, { deadline: Date.now() + 100 })).resolves.toEqual({ kind: 'timeout' });
    expect(io.shown()).toContain('No answer before the request expired; denied.');
  });

  it('ignores an answer typed after the deadline', async () => {
    const io = streams();
    const decision = await askOnStreams(samplePrompt(), io, { deadline: Date.now() + 50 });
    io.input.write('y\n');
    expect(decision).toEqual({ kind: 'timeout' });
  });

  it('does not ask when the request already expired', async () => {
    const io = streams();
    await expect(askOnStreams(samplePrompt(), io, { deadline: Date.now() - 1 })).resolves.toEqual({ kind: 'timeout' });
    expect(io.shown()).toBe('');
  });

  it('denies when aborted', async () => {
    const io = streams();
    const controller = new AbortController();
    const pending = askOnStreams(samplePrompt(), io, { deadline: later(), signal: controller.signal });
    controller.abort();
    await expect(pending).resolves.toEqual({ kind: 'deny', reason: 'cancelled' });
  });

  it('denies an endless line without a newline', async () => {
    const io = streams();
    const pending = askOnStreams(samplePrompt(), io, { deadline: later() });
    io.input.write('y'.repeat(300));
    await expect(pending).resolves.toEqual({ kind: 'deny', reason: 'denied by user' });
  });
});

describe('createTtyApprover', () => {
  it('opens the terminal per prompt and closes it afterwards', async () => {
    const io = streams();
    const close = vi.fn();
    const approver = createTtyApprover({ open: () => ({ input: io.input, output: io.output, close }) });
    expect(approver.name).toBe('tty');
    const pending = approver.decide(samplePrompt(), { deadline: later() });
    io.input.write('y\n');
    await expect(pending).resolves.toEqual({ kind: 'approve' });
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('denies when there is no terminal', async () => {
    const approver = createTtyApprover({
      open: () => {
        throw new Error('ENXIO');
      },
    });
    await expect(approver.decide(samplePrompt(), { deadline: later() })).resolves.toEqual({ kind: 'deny', reason: 'no terminal for the tty approver' });
  });
});
