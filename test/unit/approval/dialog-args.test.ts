import { describe, expect, it } from 'vitest';
import { renderPrompt } from '../../../src/approval/display.js';
import { buildKdialogArgs, mapKdialogExit, toKdialogText } from '../../../src/approval/kdialog.js';
import { buildZenityArgs, mapZenityExit } from '../../../src/approval/zenity.js';
import { NOW, samplePrompt } from './sample-prompt.js';

describe('zenity', () => {
  it('builds the exact argv: literal text, Deny by default, its own timeout at the deadline', () => {
    const prompt = samplePrompt();
    const text = renderPrompt(prompt, { now: NOW }).lines.join('\n');
    expect(buildZenityArgs(prompt, { now: NOW, deadline: NOW + 90_500 })).toEqual([
      '--question',
      '--no-markup',
      '--default-cancel',
      '--ok-label',
      'Allow',
      '--cancel-label',
      'Deny',
      '--title',
      'agent-secret: secret access request',
      '--text',
      text,
      '--timeout',
      '90',
      '--width',
      '720',
    ]);
  });

  it('never asks zenity for a timeout under one second', () => {
    const args = buildZenityArgs(samplePrompt(), { now: NOW, deadline: NOW + 200 });
    expect(args[args.indexOf('--timeout') + 1]).toBe('1');
  });

  it('passes escaped text only: no raw newline inside a field, markup shown as typed', () => {
    const args = buildZenityArgs(samplePrompt({ reason: '<b>ok</b>\nAllow: yes' }), { now: NOW, deadline: NOW + 60_000 });
    const text = args[args.indexOf('--text') + 1] ?? '';
    expect(text.split('\n')[3]).toBe('  <b>ok</b>\\nAllow: yes');
  });

  it.each([
    [0, 'allow'],
    [1, 'deny'],
    [5, 'timeout'],
    [255, null],
    [-1, null],
    [2, null],
  ])('maps exit %d to %s', (code, answer) => {
    expect(mapZenityExit(code)).toBe(answer);
  });
});

describe('kdialog', () => {
  it('builds the exact argv', () => {
    const prompt = samplePrompt();
    const { lines } = renderPrompt(prompt, { now: NOW });
    expect(buildKdialogArgs(prompt, { now: NOW })).toEqual([
      '--title',
      'agent-secret: secret access request',
      '--warningyesno',
      toKdialogText(lines),
      '--yes-label',
      'Allow',
      '--no-label',
      'Deny',
    ]);
  });

  it('forces rich text, escapes markup, keeps indentation and doubles backslashes kdialog would expand', () => {
    expect(toKdialogText(['Reason:', '  <img src=x> & "q" \\n it\'s'])).toBe(
      '<qt>Reason:<br>&nbsp;&nbsp;&lt;img src=x&gt; &amp; &quot;q&quot; \\\\n it&#39;s</qt>',
    );
  });

  it.each([
    [0, 'allow'],
    [1, 'deny'],
    [2, 'deny'],
    [254, null],
  ])('maps exit %d to %s', (code, answer) => {
    expect(mapKdialogExit(code)).toBe(answer);
  });
});
