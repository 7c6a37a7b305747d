// Answering the identical requests waiting together with the one on screen: the labels and the
// prompt line, the extra zenity buttons and kdialog choices (only when some wait), how each
// dialog's answer is read, and the Decision it becomes.

import { describe, expect, it } from 'vitest';
import { allowAllLabel, denyAllLabel, identicalLines, identicalWaiting, offersAll } from '../../../src/approval/answer-all.js';
import { decisionOf } from '../../../src/approval/dialog-approver.js';
import { renderPromptText } from '../../../src/approval/display.js';
import { buildKdialogChoiceArgs, readKdialogChoice } from '../../../src/approval/kdialog.js';
import type { ApprovalPrompt } from '../../../src/approval/types.js';
import { buildZenityArgs, readZenityRequest } from '../../../src/approval/zenity.js';
import { NOW, samplePrompt } from './sample-prompt.js';

const withIdentical = (count: number, operation: ApprovalPrompt['operation'] = 'exec'): ApprovalPrompt => ({ ...samplePrompt(), operation, identical_waiting: count });
const opts = { now: NOW, deadline: NOW + 60_000 };

describe('answer-all helpers', () => {
  it.each([
    [0, 0, false],
    [3, 3, true],
    [-1, 0, false],
    [1.5, 0, false],
    [Number.NaN, 0, false],
  ])('identical_waiting %d → %d waiting, offered %s', (count, waiting, offered) => {
    expect(identicalWaiting(withIdentical(count))).toBe(waiting);
    expect(offersAll(withIdentical(count))).toBe(offered);
  });

  it('is never offered for item describe or session create, nor by a prompt without the field', () => {
    expect(offersAll(withIdentical(3, 'item_describe'))).toBe(false);
    expect(offersAll(withIdentical(3, 'session_create'))).toBe(false);
    const { identical_waiting: _dropped, ...older } = withIdentical(3);
    expect(offersAll(older as ApprovalPrompt)).toBe(false);
  });

  it('labels count this request too, and the prompt says how many more wait', () => {
    const prompt = withIdentical(3);
    expect(allowAllLabel(prompt)).toBe('Allow all 4 once');
    expect(denyAllLabel(prompt)).toBe('Deny all 4');
    expect(identicalLines(prompt)).toEqual(['3 more identical requests are waiting (same command, directory, secrets and environment); you can answer all 4 at once']);
    expect(identicalLines(withIdentical(1))[0]).toMatch(/^1 more identical request is waiting/);
    expect(identicalLines(withIdentical(0))).toEqual([]);
    expect(renderPromptText(prompt, { now: NOW })).toContain('3 more identical requests are waiting');
    expect(renderPromptText(withIdentical(0), { now: NOW })).not.toContain('identical');
  });
});

describe('zenity', () => {
  it('adds the two buttons only when identical requests wait', () => {
    const args = buildZenityArgs(withIdentical(2), opts);
    expect(args).toEqual(expect.arrayContaining(['--extra-button', 'Allow all 3 once', 'Deny all 3']));
    expect(args.filter((a) => a === '--extra-button')).toHaveLength(3);
    expect(buildZenityArgs(withIdentical(0), opts).join('\n')).not.toMatch(/all \d/);
  });

  it.each([
    [2, 'Allow all 3 once\n', { kind: 'allow_all' }],
    [2, 'Deny all 3\n', { kind: 'deny_all' }],
    // A label for another count, or either label when nobody waits, is nothing we offered.
    [2, 'Allow all 4 once\n', { kind: 'malformed' }],
    [0, 'Allow all 1 once\n', { kind: 'malformed' }],
    [0, 'Deny all 1\n', { kind: 'malformed' }],
    [2, '', { kind: 'deny' }],
  ])('identical %d, exit 1 printing %j → %j', (count, stdout, expected) => {
    expect(readZenityRequest({ exitCode: 1, stdout }, withIdentical(count))).toEqual(expected);
  });
});

describe('kdialog', () => {
  it('lists the two answers only when identical requests wait, Deny still selected', () => {
    const args = buildKdialogChoiceArgs(withIdentical(2), opts);
    expect(args.slice(-6)).toEqual(['all-once', 'Allow all 3 once', 'off', 'deny-all', 'Deny all 3', 'off']);
    expect(args.slice(4, 7)).toEqual(['deny', 'Deny', 'on']);
    expect(buildKdialogChoiceArgs(withIdentical(0), opts)).not.toContain('all-once');
  });

  it.each([
    [2, 'all-once', { kind: 'allow_all' }],
    [2, 'deny-all', { kind: 'deny_all' }],
    [0, 'all-once', { kind: 'malformed' }],
    [0, 'deny-all', { kind: 'malformed' }],
  ])('identical %d, tag %s → %j', (count, tag, expected) => {
    expect(readKdialogChoice({ exitCode: 0, stdout: `${tag}\n` }, withIdentical(count))).toEqual(expected);
  });
});

describe('decisionOf for the answers for all', () => {
  it.each([
    [{ kind: 'allow_all' } as const, 2, false, { kind: 'approve', scope: 'all' }],
    [{ kind: 'allow_all' } as const, 2, true, { kind: 'timeout' }],
    [{ kind: 'deny_all' } as const, 2, true, { kind: 'deny', reason: 'denied by user', scope: 'all' }],
    [{ kind: 'allow_all' } as const, 0, false, { kind: 'failed', reason: 'malformed approver output' }],
    [{ kind: 'deny_all' } as const, 0, false, { kind: 'failed', reason: 'malformed approver output' }],
  ])('%j with %d waiting (late %s) → %j', (answer, count, late, expected) => {
    expect(decisionOf(answer, withIdentical(count), late)).toEqual(expected);
  });
});
