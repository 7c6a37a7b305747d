import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decisionOf, firstLine, type DialogAnswer, type DialogExit } from '../../../src/approval/dialog-approver.js';
import { renderPrompt } from '../../../src/approval/display.js';
import {
  buildKdialogArgs,
  buildKdialogChoiceArgs,
  buildKdialogReuseArgs,
  KDIALOG_FLOW,
  readKdialogChoice,
  readKdialogRequest,
  readKdialogReuse,
  toKdialogText,
} from '../../../src/approval/kdialog.js';
import { buildPrompt } from '../../../src/approval/prompt.js';
import type { ApprovalPrompt } from '../../../src/approval/types.js';
import { buildZenityArgs, buildZenityReuseArgs, mapZenityExit, readZenityRequest, readZenityReuse, ZENITY_FLOW } from '../../../src/approval/zenity.js';
import { NOW, samplePrompt, sampleWire } from './sample-prompt.js';

// The same request as one that allows no reuse (item describe).
function itemPrompt(): ApprovalPrompt {
  return buildPrompt(sampleWire({ secrets: [{ alias: 'GitHub', ref: 'op://Private/GitHub', provider: 'op', account: null }] }), {
    id: 'req_item',
    expiresAt: new Date(NOW + 120_000),
    operation: 'item_describe',
  });
}

const exit = (exitCode: number, stdout = ''): DialogExit => ({ exitCode, stdout });

describe('zenity', () => {
  it('builds the exact request argv for exec: Allow once, Deny by default, the extra button, its own timeout', () => {
    const prompt = samplePrompt();
    const text = renderPrompt(prompt, { now: NOW }).lines.join('\n');
    expect(buildZenityArgs(prompt, { now: NOW, deadline: NOW + 90_500 })).toEqual([
      '--question',
      '--no-markup',
      '--default-cancel',
      '--ok-label',
      'Allow once',
      '--cancel-label',
      'Deny',
      '--extra-button',
      'Allow again for a while...',
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

  it('builds the exact request argv for a prompt without reuse: Allow or Deny only', () => {
    const prompt = itemPrompt();
    expect(buildZenityArgs(prompt, { now: NOW, deadline: NOW + 60_000 })).toEqual([
      '--question',
      '--no-markup',
      '--default-cancel',
      '--ok-label',
      'Allow',
      '--cancel-label',
      'Deny',
      '--title',
      'agent-secret: item metadata request',
      '--text',
      renderPrompt(prompt, { now: NOW }).lines.join('\n'),
      '--timeout',
      '60',
      '--width',
      '720',
    ]);
  });

  it('builds the exact reuse form: two lists, defaults first, Deny as cancel, the remaining time', () => {
    expect(buildZenityReuseArgs(samplePrompt(), { now: NOW, deadline: NOW + 75_000 })).toEqual([
      '--forms',
      '--title',
      'agent-secret: secret access request',
      '--text',
      'Allow this exact request again without asking, for a while.\n' +
        'Only the same command, executable, directory, secrets and environment match.\n' +
        'This run counts as one. At most 2 minutes (the request ttl).\n' +
        'Untouched lists mean 2 minutes and 3 runs.',
      '--separator',
      '|',
      '--add-combo',
      'Allow again for',
      '--combo-values',
      '2 minutes|1 minute',
      '--add-combo',
      'Runs in total, this one included',
      '--combo-values',
      '3|5|10|20',
      '--ok-label',
      'Allow again',
      '--cancel-label',
      'Deny',
      '--timeout',
      '75',
    ]);
  });

  it('offers the longest presets under a 10 minute ttl', () => {
    const args = buildZenityReuseArgs(samplePrompt({ ttl_seconds: 600 }, { ttlMs: 600_000 }), { now: NOW, deadline: NOW + 600_000 });
    expect(args[args.indexOf('--combo-values') + 1]).toBe('10 minutes|5 minutes|2 minutes|1 minute');
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

  it.each<[DialogExit, DialogAnswer]>([
    [exit(0), { kind: 'allow' }],
    [exit(1), { kind: 'deny' }],
    [exit(1, '\n'), { kind: 'deny' }],
    [exit(1, 'Allow again for a while...\n'), { kind: 'next', stage: 'reuse' }],
    [exit(1, 'Allow again for a while...'), { kind: 'next', stage: 'reuse' }],
    [exit(1, 'Allow again\n'), { kind: 'malformed' }],
    [exit(1, 'allow again for a while...\n'), { kind: 'malformed' }],
    [exit(5), { kind: 'timeout' }],
    [exit(255), { kind: 'unexpected', exitCode: 255 }],
  ])('request dialog %j means %j', (answer, meaning) => {
    expect(readZenityRequest(answer, samplePrompt())).toEqual(meaning);
  });

  it('treats the extra button of a prompt without reuse as malformed', () => {
    expect(readZenityRequest(exit(1, 'Allow again for a while...\n'), itemPrompt())).toEqual({ kind: 'malformed' });
  });

  it.each<[DialogExit, DialogAnswer]>([
    [exit(0, '2 minutes|3\n'), { kind: 'allow_reuse', reuse: { ttlSeconds: 120, maxUses: 3 } }],
    [exit(0, '1 minute|20\n'), { kind: 'allow_reuse', reuse: { ttlSeconds: 60, maxUses: 20 } }],
    [exit(0, '|\n'), { kind: 'allow_reuse', reuse: { ttlSeconds: 120, maxUses: 3 } }],
    [exit(0, ' |10\n'), { kind: 'allow_reuse', reuse: { ttlSeconds: 120, maxUses: 10 } }],
    [exit(0, '1 minute|\n'), { kind: 'allow_reuse', reuse: { ttlSeconds: 60, maxUses: 3 } }],
    [exit(0, '5 minutes|3\n'), { kind: 'malformed' }],
    [exit(0, '2 minutes|4\n'), { kind: 'malformed' }],
    [exit(0, '2 minutes|3|x\n'), { kind: 'malformed' }],
    [exit(0, '2 minutes\n'), { kind: 'malformed' }],
    [exit(0, ''), { kind: 'malformed' }],
    [exit(1), { kind: 'deny' }],
    [exit(5), { kind: 'timeout' }],
    [exit(-1), { kind: 'unexpected', exitCode: -1 }],
  ])('reuse form %j means %j (ttl 2m)', (answer, meaning) => {
    expect(readZenityReuse(answer, samplePrompt())).toEqual(meaning);
  });

  it('walks request → reuse only through the extra button', () => {
    const prompt = samplePrompt();
    expect(ZENITY_FLOW.args('request', prompt, { now: NOW, deadline: NOW + 60_000 })).toEqual(buildZenityArgs(prompt, { now: NOW, deadline: NOW + 60_000 }));
    expect(ZENITY_FLOW.args('reuse', prompt, { now: NOW, deadline: NOW + 60_000 })).toEqual(buildZenityReuseArgs(prompt, { now: NOW, deadline: NOW + 60_000 }));
    expect(ZENITY_FLOW.read('choice', exit(0, 'once'), prompt)).toEqual({ kind: 'malformed' });
  });
});

describe('kdialog', () => {
  it('builds the exact request argv: nothing on it approves (Allow... opens the choice)', () => {
    const prompt = samplePrompt();
    const { lines } = renderPrompt(prompt, { now: NOW });
    expect(buildKdialogArgs(prompt, { now: NOW })).toEqual([
      '--title',
      'agent-secret: secret access request',
      '--warningcontinuecancel',
      toKdialogText(lines),
      '--continue-label',
      'Allow...',
      '--cancel-label',
      'Deny',
    ]);
  });

  it('builds the exact choice argv: Deny selected, Allow once, Allow again (exec only)', () => {
    expect(buildKdialogChoiceArgs(samplePrompt(), { now: NOW })).toEqual([
      '--title',
      'agent-secret: secret access request',
      '--radiolist',
      '<qt>Your answer to this request (Deny is selected):</qt>',
      'deny',
      'Deny',
      'on',
      'once',
      'Allow once',
      'off',
      'again',
      'Allow this exact request again for a while...',
      'off',
    ]);
    expect(buildKdialogChoiceArgs(itemPrompt(), { now: NOW })).toEqual([
      '--title',
      'agent-secret: item metadata request',
      '--radiolist',
      '<qt>Your answer to this request (Deny is selected):</qt>',
      'deny',
      'Deny',
      'on',
      'once',
      'Allow',
      'off',
    ]);
  });

  it('builds the exact reuse argv: every duration × run count, the default selected', () => {
    expect(buildKdialogReuseArgs(samplePrompt(), { now: NOW })).toEqual([
      '--title',
      'agent-secret: secret access request',
      '--radiolist',
      '<qt>Allow this exact request again without asking, for a while.<br>Only the same command, executable, directory, secrets and environment match.<br>This run counts as one. At most 2 minutes (the request ttl).</qt>',
      ...['120s-3', 'for 2 minutes, 3 runs (this one and 2 more)', 'on'],
      ...['120s-5', 'for 2 minutes, 5 runs (this one and 4 more)', 'off'],
      ...['120s-10', 'for 2 minutes, 10 runs (this one and 9 more)', 'off'],
      ...['120s-20', 'for 2 minutes, 20 runs (this one and 19 more)', 'off'],
      ...['60s-3', 'for 1 minute, 3 runs (this one and 2 more)', 'off'],
      ...['60s-5', 'for 1 minute, 5 runs (this one and 4 more)', 'off'],
      ...['60s-10', 'for 1 minute, 10 runs (this one and 9 more)', 'off'],
      ...['60s-20', 'for 1 minute, 20 runs (this one and 19 more)', 'off'],
    ]);
  });

  it('selects exactly one row in every list, for any ttl', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 600 }), (ttl) => {
        const prompt = samplePrompt({ ttl_seconds: ttl }, { ttlMs: ttl * 1000 });
        for (const args of [buildKdialogChoiceArgs(prompt, { now: NOW }), buildKdialogReuseArgs(prompt, { now: NOW })]) {
          const rows = args.slice(4);
          expect(rows.length % 3).toBe(0);
          expect(rows.filter((_, i) => i % 3 === 2 && rows[i] === 'on')).toHaveLength(1);
        }
      }),
    );
  });

  it('forces rich text, escapes markup, keeps indentation and doubles backslashes kdialog would expand', () => {
    expect(toKdialogText(['Reason:', '  <img src=x> & "q" \\n it\'s'])).toBe(
      '<qt>Reason:<br>&nbsp;&nbsp;&lt;img src=x&gt; &amp; &quot;q&quot; \\\\n it&#39;s</qt>',
    );
  });

  it.each<[DialogExit, DialogAnswer]>([
    [exit(0), { kind: 'next', stage: 'choice' }],
    [exit(1), { kind: 'deny' }],
    [exit(2), { kind: 'deny' }],
    [exit(254), { kind: 'unexpected', exitCode: 254 }],
  ])('request dialog %j means %j', (answer, meaning) => {
    expect(readKdialogRequest(answer)).toEqual(meaning);
  });

  it.each<[ApprovalPrompt, DialogExit, DialogAnswer]>([
    [samplePrompt(), exit(0, 'deny\n'), { kind: 'deny' }],
    [samplePrompt(), exit(0, 'once\n'), { kind: 'allow' }],
    [samplePrompt(), exit(0, 'again\n'), { kind: 'next', stage: 'reuse' }],
    [itemPrompt(), exit(0, 'again\n'), { kind: 'malformed' }],
    [itemPrompt(), exit(0, 'once\n'), { kind: 'allow' }],
    [samplePrompt(), exit(0, 'Allow once\n'), { kind: 'malformed' }],
    [samplePrompt(), exit(0, ''), { kind: 'malformed' }],
    [samplePrompt(), exit(1), { kind: 'deny' }],
    [samplePrompt(), exit(3), { kind: 'unexpected', exitCode: 3 }],
  ])('choice list (%#) %j means %j', (prompt, answer, meaning) => {
    expect(readKdialogChoice(answer, prompt)).toEqual(meaning);
  });

  it.each<[DialogExit, DialogAnswer]>([
    [exit(0, '120s-3\n'), { kind: 'allow_reuse', reuse: { ttlSeconds: 120, maxUses: 3 } }],
    [exit(0, '60s-20\n'), { kind: 'allow_reuse', reuse: { ttlSeconds: 60, maxUses: 20 } }],
    [exit(0, '300s-3\n'), { kind: 'malformed' }],
    [exit(0, '120s-4\n'), { kind: 'malformed' }],
    [exit(0, '120s-3 \n'), { kind: 'allow_reuse', reuse: { ttlSeconds: 120, maxUses: 3 } }],
    [exit(0, ''), { kind: 'malformed' }],
    [exit(1), { kind: 'deny' }],
    [exit(2), { kind: 'unexpected', exitCode: 2 }],
  ])('reuse list %j means %j (ttl 2m)', (answer, meaning) => {
    expect(readKdialogReuse(answer, samplePrompt())).toEqual(meaning);
  });

  it('walks request → choice → reuse', () => {
    const prompt = samplePrompt();
    const opts = { now: NOW, deadline: NOW + 60_000 };
    expect(KDIALOG_FLOW.args('request', prompt, opts)).toEqual(buildKdialogArgs(prompt, opts));
    expect(KDIALOG_FLOW.args('choice', prompt, opts)).toEqual(buildKdialogChoiceArgs(prompt, opts));
    expect(KDIALOG_FLOW.args('reuse', prompt, opts)).toEqual(buildKdialogReuseArgs(prompt, opts));
  });
});

describe('decisionOf', () => {
  it.each<[Exclude<DialogAnswer, { kind: 'next' }>, boolean, unknown]>([
    [{ kind: 'allow' }, false, { kind: 'approve' }],
    [{ kind: 'allow' }, true, { kind: 'timeout' }],
    [{ kind: 'allow_reuse', reuse: { ttlSeconds: 60, maxUses: 5 } }, false, { kind: 'approve', reuse: { ttlSeconds: 60, maxUses: 5 } }],
    [{ kind: 'allow_reuse', reuse: { ttlSeconds: 60, maxUses: 5 } }, true, { kind: 'timeout' }],
    [{ kind: 'allow_reuse', reuse: { ttlSeconds: 121, maxUses: 5 } }, false, { kind: 'failed', reason: 'malformed approver output' }],
    [{ kind: 'allow_reuse', reuse: { ttlSeconds: 60, maxUses: 21 } }, false, { kind: 'failed', reason: 'malformed approver output' }],
    [{ kind: 'deny' }, true, { kind: 'deny', reason: 'denied by user' }],
    [{ kind: 'timeout' }, false, { kind: 'timeout' }],
    [{ kind: 'unexpected', exitCode: 9 }, false, { kind: 'failed', reason: 'the approver dialog exited with code 9' }],
    [{ kind: 'malformed' }, false, { kind: 'failed', reason: 'malformed approver output' }],
  ])('%j (late: %s) → %j', (answer, late, decision) => {
    expect(decisionOf(answer, samplePrompt(), late)).toEqual(decision);
  });

  it('never grants a reuse on a prompt that does not allow it', () => {
    expect(decisionOf({ kind: 'allow_reuse', reuse: { ttlSeconds: 60, maxUses: 3 } }, itemPrompt(), false)).toEqual({ kind: 'failed', reason: 'malformed approver output' });
  });

  it('reads only the first line of a dialog answer', () => {
    expect(firstLine('a\r\nb')).toBe('a');
    expect(firstLine('a\nb')).toBe('a');
    expect(firstLine('a')).toBe('a');
    expect(firstLine('')).toBe('');
  });
});

describe('every dialog argv, for every operation', () => {
  const RAW_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]/u;
  const nasty = fc
    .array(fc.oneof(fc.constantFrom('\n', '\r', '\x1b[2J', '\u202e', '\u2028', '\u200b', '<b>', '&', '\\n', '"', "'"), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 8 })
    .map((parts) => parts.join(''));

  it('carries agent text only escaped: no raw control, bidi or separator character inside a line', () => {
    fc.assert(
      fc.property(
        nasty,
        fc.array(nasty, { minLength: 1, maxLength: 3 }),
        nasty,
        fc.constantFrom('exec', 'item_describe', 'session_create' as const),
        fc.integer({ min: 10, max: 600 }),
        (reason, command, binding, operation, ttl) => {
          const prompt = buildPrompt(sampleWire({ reason, command, ttl_seconds: ttl }), {
            id: 'req_p',
            expiresAt: new Date(NOW + ttl * 1000),
            operation,
            session: { max_reads: 3, ttl_seconds: ttl, binding },
          });
          const opts = { now: NOW, deadline: NOW + ttl * 1000 };
          const zenity = [...buildZenityArgs(prompt, opts), ...buildZenityReuseArgs(prompt, opts)];
          for (const arg of zenity) for (const line of arg.split('\n')) expect(RAW_UNSAFE.test(line)).toBe(false);
          const kdialog = [...buildKdialogArgs(prompt, opts), ...buildKdialogChoiceArgs(prompt, opts), ...buildKdialogReuseArgs(prompt, opts)];
          for (const arg of kdialog) expect(RAW_UNSAFE.test(arg)).toBe(false);
          // kdialog would expand a single backslash; every one we pass is doubled.
          expect(buildKdialogArgs(prompt, opts)[3]).not.toMatch(/(^|[^\\])(\\\\)*\\(?!\\)/u);
        },
      ),
      { numRuns: 200 },
    );
  });
});
