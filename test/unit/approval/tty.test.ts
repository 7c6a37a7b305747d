// The tty approver over injected streams: no terminal needed.
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { askOnStreams, createTtyApprover } from '../../../src/approval/tty.js';
import { buildPrompt } from '../../../src/approval/prompt.js';
import { NOW, samplePrompt, sampleWire } from './sample-prompt.js';

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
    ['o\n', { kind: 'approve' }],
    ['once\n', { kind: 'approve' }],
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
    expect(shown).toContain('\n\n  y  allow once\n  a  allow this exact request again for a while (you choose how long and how many runs)\n  N  deny (the default)\nAnswer [y/a/N]: ');
    expect(shown).not.toContain('\x1b');
  });

  it('asks a plain yes/no for a prompt that allows no reuse, and "a" denies there', async () => {
    const io = streams();
    const prompt = buildPrompt(sampleWire(), { id: 'req_1', expiresAt: new Date(NOW + 60_000), operation: 'item_describe' });
    const pending = askOnStreams(prompt, io, { deadline: later() });
    io.input.write('a\n');
    await expect(pending).resolves.toEqual({ kind: 'deny', reason: 'denied by user' });
    expect(io.shown()).toContain('agent-secret: item metadata request');
    expect(io.shown()).toContain('\n\nAllow? [y/N] Denied.\n');
    expect(io.shown()).not.toContain('Answer [y/a/N]');
  });

  it.each([
    ['a\n\n\n', { kind: 'approve', reuse: { ttlSeconds: 120, maxUses: 3 } }],
    ['again\n90s\n7\n', { kind: 'approve', reuse: { ttlSeconds: 90, maxUses: 7 } }],
    ['a\r\n1m\r\n20\r\n', { kind: 'approve', reuse: { ttlSeconds: 60, maxUses: 20 } }],
    ['A\n2m\n1\n', { kind: 'approve', reuse: { ttlSeconds: 120, maxUses: 1 } }],
    ['a\n3m\n', { kind: 'deny', reason: 'denied by user' }],
    ['a\n90\n', { kind: 'deny', reason: 'denied by user' }],
    ['a\n1m\n21\n', { kind: 'deny', reason: 'denied by user' }],
    ['a\n1m\n0\n', { kind: 'deny', reason: 'denied by user' }],
    ['a\n1m\nthree\n', { kind: 'deny', reason: 'denied by user' }],
  ])('allow again %j → %j', async (typed, decision) => {
    const io = streams();
    const pending = askOnStreams(samplePrompt(), io, { deadline: later() });
    io.input.write(typed);
    await expect(pending).resolves.toEqual(decision);
  });

  it('asks how long (up to the ttl) and how many runs, and says what was granted', async () => {
    const io = streams();
    const pending = askOnStreams(samplePrompt(), io, { deadline: later() });
    io.input.write('a\n');
    io.input.write('90s\n');
    io.input.write('5\n');
    await pending;
    expect(io.shown()).toContain(
      'Answer [y/a/N]: Allow again for how long? Up to 2 minutes, e.g. 2m, 1m [2 minutes]: ' +
        'How many runs in total, this one included? 1 to 20, e.g. 3, 5, 10, 20 [3]: ' +
        'Approved: 5 runs (this one and 4 more) of this exact command within 1 min 30 sec.\n',
    );
  });

  it('does not take the line feed of a CRLF split across chunks as an answer', async () => {
    const io = streams();
    const pending = askOnStreams(samplePrompt(), io, { deadline: later() });
    io.input.write('a\r');
    await new Promise((r) => setTimeout(r, 20));
    io.input.write('\n');
    await new Promise((r) => setTimeout(r, 20));
    io.input.write('bogus\n');
    await expect(pending).resolves.toEqual({ kind: 'deny', reason: 'denied by user' });
  });

  it('times out in the middle of the reuse questions', async () => {
    const io = streams();
    const pending = askOnStreams(samplePrompt(), io, { deadline: Date.now() + 150 });
    io.input.write('a\n1m\n');
    await expect(pending).resolves.toEqual({ kind: 'timeout' });
  });

  it('explains a wrong duration with the allowed range', async () => {
    const io = streams();
    const pending = askOnStreams(samplePrompt(), io, { deadline: later() });
    io.input.write('a\n5m\n');
    await pending;
    expect(io.shown()).toContain('Denied (not a duration from 1s to 2m).\n');
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

describe('askOnStreams with identical requests waiting', () => {
  const waiting = (count: number) => ({ ...samplePrompt(), identical_waiting: count });
  it.each([
    [2, 'all\n', { kind: 'approve', scope: 'all' }],
    [2, 'ALL\n', { kind: 'approve', scope: 'all' }],
    [2, 'deny all\n', { kind: 'deny', reason: 'denied by user', scope: 'all' }],
    [2, 'deny  all\r', { kind: 'deny', reason: 'denied by user', scope: 'all' }],
    [2, 'y\n', { kind: 'approve' }],
    [2, 'n\n', { kind: 'deny', reason: 'denied by user' }],
    // Nobody waits: "all" is no answer this prompt offered, so it denies.
    [0, 'all\n', { kind: 'deny', reason: 'denied by user' }],
    [0, 'deny all\n', { kind: 'deny', reason: 'denied by user' }],
  ])('identical %d, answer %j → %j', async (count, typed, decision) => {
    const io = streams();
    const pending = askOnStreams(waiting(count), io, { deadline: later() });
    io.input.write(typed);
    await expect(pending).resolves.toEqual(decision);
  });

  it('offers the answers for all only when identical requests wait', async () => {
    const io = streams();
    const pending = askOnStreams(waiting(2), io, { deadline: NOW + 60_000, now: () => NOW });
    io.input.write('n\n');
    await pending;
    expect(io.shown()).toContain('2 more identical requests are waiting');
    expect(io.shown()).toContain('  all  Allow all 3 once (this request and the identical ones waiting, each once)\n  deny all  Deny all 3\n  N    deny (the default)\nAnswer [y/a/all/deny all/N]: ');
  });
});
