import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderPrompt } from '../../../src/approval/display.js';
import { runInNewContext } from 'node:vm';
import { chosenAll, chosenReuse, createMacosApprover } from '../../../src/approval/macos/approver.js';
import { dialogResultFromOutcome, parseDialogOutput, type DialogResult } from '../../../src/approval/macos/dialog.js';
import { buildDialogScript, toScriptLiteral } from '../../../src/approval/macos/dialog-script.js';
import { loadTouchId, type TouchIdGate } from '../../../src/approval/macos/touch-id.js';
import { buildPrompt } from '../../../src/approval/prompt.js';
import type { ApprovalPrompt } from '../../../src/approval/types.js';
import { NOW, samplePrompt, sampleWire } from './sample-prompt.js';

function itemPrompt(): ApprovalPrompt {
  return buildPrompt(sampleWire({ secrets: [{ alias: 'GitHub', ref: 'op://Private/GitHub', provider: 'op', account: null }] }), { id: 'req_item', expiresAt: new Date(NOW + 120_000), operation: 'item_describe' });
}

// Every line of the script except the two string-literal assignments.
function skeleton(script: string): string[] {
  return script.split('\n').filter((line) => !line.startsWith('var title = ') && !line.startsWith('var text = '));
}

function literalOf(script: string, name: 'title' | 'text'): string {
  const line = script.split('\n').find((l) => l.startsWith(`var ${name} = `)) ?? '';
  return line.slice(`var ${name} = `.length, -1);
}

describe('buildDialogScript', () => {
  it('produces this exact script for a fixed request', () => {
    const script = buildDialogScript(samplePrompt({ secrets: [{ alias: 'TOKEN', ref: 'op://v/i/f', provider: 'op', account: null }], command: ['deploy'] }), {
      now: NOW,
      deadline: NOW + 119_400,
    });
    expect(script).toMatchInlineSnapshot(`
      "'use strict';
      var app = Application.currentApplication();
      app.includeStandardAdditions = true;
      var title = "agent-secret: secret access request";
      var text = "Allow this command to use this secret?\\n\\nReason (the agent's own words):\\n  deploy the staging stack\\n\\nSecrets (1):\\n  TOKEN = op://v/i/f (default account)\\n\\nCommand: deploy\\nExecutable: /usr/bin/terraform\\nWorking directory: /home/dev/infra\\nAccount: default account\\nProfile: deploy\\nScope: same exact command only\\n\\nRequested by (pid reported by the caller): agent-secret (pid 4242) ← bash (pid 4000) ← claude (pid 3000)\\nExpires: in 2 minutes (request ttl 2m)";
      var answer;
      try {
        app.activate();
        var result = app.displayDialog(text, { withTitle: title, buttons: ["Deny", "Allow once", "Allow again…"], defaultButton: "Deny", cancelButton: "Deny", givingUpAfter: 119 });
        answer = { button: String(result.buttonReturned), gaveUp: result.gaveUp === true };
        if (answer.button === "Allow again…" && !answer.gaveUp) {
          var durations = ["2 minutes", "1 minute"];
          var uses = ["3", "5", "10", "20"];
          var howLong = app.chooseFromList(durations, { withTitle: title, withPrompt: "Allow this exact request again for how long? At most 2 minutes.", defaultItems: [durations[0]], okButtonName: "Next", cancelButtonName: "Deny", multipleSelectionsAllowed: false, emptySelectionAllowed: false });
          var howMany = howLong === false ? false : app.chooseFromList(uses, { withTitle: title, withPrompt: "How many runs in total, this one included?", defaultItems: [uses[0]], okButtonName: "Allow again", cancelButtonName: "Deny", multipleSelectionsAllowed: false, emptySelectionAllowed: false });
          answer = howMany === false ? { button: "Deny", gaveUp: false } : { button: answer.button, gaveUp: false, duration: String(howLong[0]), uses: String(howMany[0]) };
        }
      } catch (error) {
        answer = error.errorNumber === -128 ? { button: "Deny", gaveUp: false } : { error: Number(error.errorNumber) || 0 };
      }
      JSON.stringify(answer);
      "
    `);
  });

  it('offers only Deny and Allow when the prompt allows no reuse', () => {
    const script = buildDialogScript(itemPrompt(), { now: NOW, deadline: NOW + 60_000 });
    expect(script).toContain('buttons: ["Deny", "Allow"], defaultButton: "Deny", cancelButton: "Deny", givingUpAfter: 60 });');
    expect(script).not.toContain('chooseFromList');
    expect(script).not.toContain('Allow again');
  });

  it('keeps a hostile reason inside one JSON string literal', () => {
    const reason = '"); app.doShellScript("touch /tmp/pwned"); ("\u2028\u2029\\" + `${x}` </script>';
    const prompt = samplePrompt({ reason });
    const script = buildDialogScript(prompt, { now: NOW, deadline: NOW + 60_000 });
    const clean = buildDialogScript(samplePrompt(), { now: NOW, deadline: NOW + 60_000 });
    expect(skeleton(script)).toEqual(skeleton(clean));
    expect(script).not.toMatch(/[\u2028\u2029]/u);
    expect(script.split('\n')).toHaveLength(clean.split('\n').length);
    const literal = literalOf(script, 'text');
    expect(JSON.parse(literal)).toBe(renderPrompt(prompt, { now: NOW }).lines.join('\n'));
    expect(literal).toContain('\\"); app.doShellScript(\\"touch /tmp/pwned\\"); (\\"');
  });

  it('never lets any request text change the code around its literals', () => {
    const clean = skeleton(buildDialogScript(samplePrompt(), { now: NOW, deadline: NOW + 60_000 }));
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 4 }), (reason, command) => {
        const script = buildDialogScript(samplePrompt({ reason, command }), { now: NOW, deadline: NOW + 60_000 });
        expect(skeleton(script)).toEqual(clean);
        expect(typeof JSON.parse(literalOf(script, 'text'))).toBe('string');
      }),
      { numRuns: 200 },
    );
  });

  it('escapes U+2028 and U+2029 in literals', () => {
    expect(toScriptLiteral('a\u2028b\u2029c"')).toBe('"a\\u2028b\\u2029c\\""');
  });

  it('gives up at the deadline, never under one second', () => {
    expect(buildDialogScript(samplePrompt(), { now: NOW, deadline: NOW + 500 })).toContain('givingUpAfter: 1 }');
  });
});

describe('the script under a simulated JXA', () => {
  // Runs the script with a stand-in for Application: the buttons and lists answer as given, and
  // every call is recorded (so the test also sees what the dialogs were asked to show).
  function simulate(script: string, answers: { button: string; gaveUp?: boolean; lists?: Array<string[] | false> }) {
    const calls: Array<{ fn: string; args: unknown[] }> = [];
    const lists = [...(answers.lists ?? [])];
    const app = {
      includeStandardAdditions: false,
      activate: () => undefined,
      displayDialog: (...args: unknown[]) => {
        calls.push({ fn: 'displayDialog', args });
        if (answers.button === 'Deny') throw Object.assign(new Error('cancel'), { errorNumber: -128 });
        return { buttonReturned: answers.button, gaveUp: answers.gaveUp === true };
      },
      chooseFromList: (...args: unknown[]) => {
        calls.push({ fn: 'chooseFromList', args });
        return lists.shift() ?? false;
      },
    };
    const out = runInNewContext(script, { Application: { currentApplication: () => app } }) as string;
    return { result: parseDialogOutput(out), calls };
  }

  const script = () => buildDialogScript(samplePrompt(), { now: NOW, deadline: NOW + 60_000 });

  it.each<[{ button: string; gaveUp?: boolean; lists?: Array<string[] | false> }, DialogResult]>([
    [{ button: 'Allow once' }, { kind: 'allow' }],
    [{ button: 'Deny' }, { kind: 'deny' }],
    [{ button: '', gaveUp: true }, { kind: 'timeout' }],
    [{ button: 'Allow again…', lists: [['1 minute'], ['10']] }, { kind: 'allow_again', duration: '1 minute', uses: '10' }],
    [{ button: 'Allow again…', lists: [false] }, { kind: 'deny' }],
    [{ button: 'Allow again…', lists: [['2 minutes'], false] }, { kind: 'deny' }],
  ])('%j → %j', (answers, expected) => {
    expect(simulate(script(), answers).result).toEqual(expected);
  });

  it('shows the duration list (default: the ttl) and then the runs list (default: 3), both cancelling to Deny', () => {
    const { calls } = simulate(script(), { button: 'Allow again…', lists: [['2 minutes'], ['3']] });
    expect(calls.map((c) => c.fn)).toEqual(['displayDialog', 'chooseFromList', 'chooseFromList']);
    expect(calls[1]?.args[0]).toEqual(['2 minutes', '1 minute']);
    expect(calls[1]?.args[1]).toMatchObject({ defaultItems: ['2 minutes'], cancelButtonName: 'Deny', multipleSelectionsAllowed: false, emptySelectionAllowed: false });
    expect(calls[2]?.args[0]).toEqual(['3', '5', '10', '20']);
    expect(calls[2]?.args[1]).toMatchObject({ defaultItems: ['3'], okButtonName: 'Allow again', cancelButtonName: 'Deny' });
    expect(calls[0]?.args[1]).toMatchObject({ defaultButton: 'Deny', cancelButton: 'Deny' });
  });
});

describe('parseDialogOutput', () => {
  it.each<[string, DialogResult]>([
    ['{"button":"Allow once","gaveUp":false}\n', { kind: 'allow' }],
    ['{"button":"Allow again…","gaveUp":false,"duration":"1 minute","uses":"5"}\n', { kind: 'allow_again', duration: '1 minute', uses: '5' }],
    ['{"button":"Allow again…","gaveUp":true,"duration":"1 minute","uses":"5"}\n', { kind: 'timeout' }],
    ['{"button":"Allow again…","gaveUp":false}\n', { kind: 'failed', reason: 'malformed approver output' }],
    ['{"button":"Allow again…","gaveUp":false,"duration":60,"uses":"5"}\n', { kind: 'failed', reason: 'malformed approver output' }],
    ['{"button":"Allow again","gaveUp":false,"duration":"1 minute","uses":"5"}\n', { kind: 'failed', reason: 'malformed approver output' }],
    ['{"button":"Allow","gaveUp":false}\n', { kind: 'allow' }],
    ['{"button":"Deny","gaveUp":false}\n', { kind: 'deny' }],
    ['{"button":"","gaveUp":true}\n', { kind: 'timeout' }],
    ['{"button":"Allow","gaveUp":true}\n', { kind: 'timeout' }],
    ['{"error":-1743}\n', { kind: 'failed', reason: 'dialog error -1743' }],
    ['button returned:Allow, gave up:false\n', { kind: 'allow' }],
    ['button returned:Deny, gave up:false\n', { kind: 'deny' }],
    ['button returned:, gave up:true\n', { kind: 'timeout' }],
    ['button returned:Allow\n', { kind: 'allow' }],
    ['button returned:Allow, gave up:false, extra:1\n', { kind: 'failed', reason: 'malformed approver output' }],
    ['{"button":"allow","gaveUp":false}', { kind: 'failed', reason: 'malformed approver output' }],
    ['{"button":"Allow"}', { kind: 'failed', reason: 'malformed approver output' }],
    ['{"button":"Allow",', { kind: 'failed', reason: 'malformed approver output' }],
    ['', { kind: 'failed', reason: 'malformed approver output' }],
    ['Allow', { kind: 'failed', reason: 'malformed approver output' }],
  ])('parses %j', (stdout, expected) => {
    expect(parseDialogOutput(stdout)).toEqual(expected);
  });

  it('maps how osascript ended', () => {
    expect(dialogResultFromOutcome({ kind: 'exited', exitCode: 1, stdout: '{"button":"Allow","gaveUp":false}' })).toEqual({ kind: 'failed', reason: 'approver exited 1' });
    expect(dialogResultFromOutcome({ kind: 'deadline' })).toEqual({ kind: 'timeout' });
    expect(dialogResultFromOutcome({ kind: 'signaled', signal: 'SIGKILL' })).toEqual({ kind: 'failed', reason: 'approver killed by SIGKILL' });
    expect(dialogResultFromOutcome({ kind: 'spawn_failed' })).toEqual({ kind: 'failed', reason: 'approver could not be started' });
  });
});

describe('chosenReuse', () => {
  it.each([
    ['2 minutes', '3', { ttlSeconds: 120, maxUses: 3 }],
    ['1 minute', '20', { ttlSeconds: 60, maxUses: 20 }],
    ['5 minutes', '3', null],
    ['2 minutes', '4', null],
    ['', '', null],
  ])('%j, %j → %j (ttl 2m)', (duration, uses, grant) => {
    expect(chosenReuse(samplePrompt(), duration, uses)).toEqual(grant);
  });

  it('never grants a reuse on a prompt that does not allow it', () => {
    expect(chosenReuse(itemPrompt(), '2 minutes', '3')).toBeNull();
  });
});

describe('answering the identical requests waiting (macOS)', () => {
  const waiting = (count: number): ApprovalPrompt => ({ ...samplePrompt(), identical_waiting: count });
  function simulate(script: string, answers: { button: string; lists?: Array<string[] | false> }) {
    const calls: Array<{ fn: string; args: unknown[] }> = [];
    const lists = [...(answers.lists ?? [])];
    const app = {
      includeStandardAdditions: false,
      activate: () => undefined,
      displayDialog: (...args: unknown[]) => {
        calls.push({ fn: 'displayDialog', args });
        if (answers.button === 'Deny') throw Object.assign(new Error('cancel'), { errorNumber: -128 });
        return { buttonReturned: answers.button, gaveUp: false };
      },
      chooseFromList: (...args: unknown[]) => {
        calls.push({ fn: 'chooseFromList', args });
        return lists.shift() ?? false;
      },
    };
    const out = runInNewContext(script, { Application: { currentApplication: () => app } }) as string;
    return { result: parseDialogOutput(out), calls };
  }
  const script = (count: number) => buildDialogScript(waiting(count), { now: NOW, deadline: NOW + 60_000 });

  it('keeps three buttons: the third opens the list of further answers only when identical requests wait', () => {
    const { calls } = simulate(script(2), { button: 'More…', lists: [false] });
    expect(calls[0]?.args[1]).toMatchObject({ buttons: ['Deny', 'Allow once', 'More…'], defaultButton: 'Deny', cancelButton: 'Deny' });
    expect(calls[1]?.args[0]).toEqual(['Allow all 3 once', 'Deny all 3', 'Allow again…']);
    expect(calls[1]?.args[1]).toMatchObject({ defaultItems: ['Deny all 3'], cancelButtonName: 'Deny' });
    expect(script(0)).not.toContain('More…');
    expect(simulate(script(0), { button: 'Allow again…', lists: [false] }).calls[0]?.args[1]).toMatchObject({ buttons: ['Deny', 'Allow once', 'Allow again…'] });
  });

  it.each<[{ button: string; lists?: Array<string[] | false> }, DialogResult]>([
    [{ button: 'More…', lists: [['Allow all 3 once']] }, { kind: 'all', answer: 'allow', label: 'Allow all 3 once' }],
    [{ button: 'More…', lists: [['Deny all 3']] }, { kind: 'all', answer: 'deny', label: 'Deny all 3' }],
    [{ button: 'More…', lists: [false] }, { kind: 'deny' }],
    [{ button: 'More…', lists: [['Allow again…'], ['1 minute'], ['5']] }, { kind: 'allow_again', duration: '1 minute', uses: '5' }],
    [{ button: 'Allow once' }, { kind: 'allow' }],
  ])('%j → %j', (answers, expected) => {
    expect(simulate(script(2), answers).result).toEqual(expected);
  });

  it.each([
    [2, 'allow', 'Allow all 3 once', true],
    [2, 'deny', 'Deny all 3', true],
    [2, 'allow', 'Allow all 4 once', false],
    [2, 'deny', 'Allow all 3 once', false],
    [0, 'allow', 'Allow all 1 once', false],
  ] as const)('chosenAll with %d waiting: %s %j → %s', (count, answer, label, ok) => {
    expect(chosenAll(waiting(count), answer, label)).toBe(ok);
  });

  it('allow all goes through Touch ID; deny all does not need it; a label for another count fails', async () => {
    const confirm = vi.fn(async () => true);
    const run = (result: DialogResult) => createMacosApprover({ env: {}, touchId: true, runDialog: async () => result, loadTouchId: async () => ({ available: () => true, confirm }) });
    const deadline = Date.now() + 60_000;
    await expect(run({ kind: 'all', answer: 'deny', label: 'Deny all 3' }).decide(waiting(2), { deadline })).resolves.toEqual({ kind: 'deny', reason: 'denied by user', scope: 'all' });
    expect(confirm).not.toHaveBeenCalled();
    await expect(run({ kind: 'all', answer: 'allow', label: 'Allow all 9 once' }).decide(waiting(2), { deadline })).resolves.toEqual({ kind: 'failed', reason: 'malformed approver output' });
    expect(confirm).not.toHaveBeenCalled();
    await expect(run({ kind: 'all', answer: 'allow', label: 'Allow all 3 once' }).decide(waiting(2), { deadline })).resolves.toEqual({ kind: 'approve', scope: 'all' });
    expect(confirm).toHaveBeenCalledTimes(1);
  });
});

describe('macOS approver', () => {
  const deadline = () => Date.now() + 60_000;
  const gate = (available: boolean, confirm: () => Promise<boolean>): (() => Promise<TouchIdGate>) => async () => ({ available: () => available, confirm });

  it('approves after Allow and a confirmed Touch ID', async () => {
    const confirm = vi.fn(async () => true);
    const approver = createMacosApprover({ env: {}, touchId: true, runDialog: async () => ({ kind: 'allow' }), loadTouchId: gate(true, confirm) });
    expect(approver.name).toBe('macos');
    await expect(approver.decide(samplePrompt(), { deadline: deadline() })).resolves.toEqual({ kind: 'approve' });
    expect(confirm).toHaveBeenCalledTimes(1);
  });

  it('approves with the chosen reuse after "Allow again…" and Touch ID', async () => {
    const confirm = vi.fn(async () => true);
    const approver = createMacosApprover({
      env: {},
      touchId: true,
      runDialog: async () => ({ kind: 'allow_again', duration: '1 minute', uses: '5' }),
      loadTouchId: gate(true, confirm),
    });
    await expect(approver.decide(samplePrompt(), { deadline: deadline() })).resolves.toEqual({ kind: 'approve', reuse: { ttlSeconds: 60, maxUses: 5 } });
    expect(confirm).toHaveBeenCalledTimes(1);
  });

  it('fails on labels it did not offer, and on a reuse on a prompt without reuse, before Touch ID', async () => {
    const confirm = vi.fn(async () => true);
    const odd = createMacosApprover({ env: {}, touchId: true, runDialog: async () => ({ kind: 'allow_again', duration: '1 hour', uses: '5' }), loadTouchId: gate(true, confirm) });
    await expect(odd.decide(samplePrompt(), { deadline: deadline() })).resolves.toEqual({ kind: 'failed', reason: 'malformed approver output' });
    const item = createMacosApprover({ env: {}, touchId: true, runDialog: async () => ({ kind: 'allow_again', duration: '2 minutes', uses: '3' }), loadTouchId: gate(true, confirm) });
    await expect(item.decide(itemPrompt(), { deadline: deadline() })).resolves.toEqual({ kind: 'failed', reason: 'malformed approver output' });
    expect(confirm).not.toHaveBeenCalled();
  });

  it('denies when Touch ID fails or is cancelled', async () => {
    const approver = createMacosApprover({ env: {}, touchId: true, runDialog: async () => ({ kind: 'allow' }), loadTouchId: gate(true, async () => false) });
    await expect(approver.decide(samplePrompt(), { deadline: deadline() })).resolves.toEqual({ kind: 'deny', reason: 'touch id not confirmed' });
  });

  it('times out when Touch ID never answers before the deadline', async () => {
    const approver = createMacosApprover({ env: {}, touchId: true, runDialog: async () => ({ kind: 'allow' }), loadTouchId: gate(true, () => new Promise<boolean>(() => undefined)) });
    await expect(approver.decide(samplePrompt(), { deadline: Date.now() + 100 })).resolves.toEqual({ kind: 'timeout' });
  });

  it('skips Touch ID when disabled in the user config or unavailable on this Mac', async () => {
    const confirm = vi.fn(async () => false);
    const off = createMacosApprover({ env: {}, touchId: false, runDialog: async () => ({ kind: 'allow' }), loadTouchId: gate(true, confirm) });
    const none = createMacosApprover({ env: {}, touchId: true, runDialog: async () => ({ kind: 'allow' }), loadTouchId: gate(false, confirm) });
    await expect(off.decide(samplePrompt(), { deadline: deadline() })).resolves.toEqual({ kind: 'approve' });
    await expect(none.decide(samplePrompt(), { deadline: deadline() })).resolves.toEqual({ kind: 'approve' });
    expect(confirm).not.toHaveBeenCalled();
  });

  it.each<[DialogResult, unknown]>([
    [{ kind: 'deny' }, { kind: 'deny', reason: 'denied by user' }],
    [{ kind: 'timeout' }, { kind: 'timeout' }],
    [{ kind: 'failed', reason: 'approver exited 1' }, { kind: 'failed', reason: 'approver exited 1' }],
  ])('maps dialog result %j without asking Touch ID', async (result, decision) => {
    const confirm = vi.fn(async () => true);
    const approver = createMacosApprover({ env: {}, touchId: true, runDialog: async () => result, loadTouchId: gate(true, confirm) });
    await expect(approver.decide(samplePrompt(), { deadline: deadline() })).resolves.toEqual(decision);
    expect(confirm).not.toHaveBeenCalled();
  });

  it('does not show a dialog for an already expired request', async () => {
    const show = vi.fn(async (): Promise<DialogResult> => ({ kind: 'allow' }));
    const approver = createMacosApprover({ env: {}, touchId: false, runDialog: show });
    await expect(approver.decide(samplePrompt(), { deadline: Date.now() - 1 })).resolves.toEqual({ kind: 'timeout' });
    expect(show).not.toHaveBeenCalled();
  });

  it('hands the dialog runner the script for this prompt and the deadline', async () => {
    const show = vi.fn(async (): Promise<DialogResult> => ({ kind: 'deny' }));
    const approver = createMacosApprover({ env: {}, touchId: false, runDialog: show, now: () => NOW });
    await approver.decide(samplePrompt(), { deadline: NOW + 30_000 });
    expect(show).toHaveBeenCalledWith(buildDialogScript(samplePrompt(), { now: NOW, deadline: NOW + 30_000 }), { deadline: NOW + 30_000, signal: undefined });
  });
});

describe('loadTouchId', () => {
  afterEach(() => {
    vi.doUnmock('node-mac-auth');
  });

  it('never loads the native module off macOS', async () => {
    await expect(loadTouchId('linux')).resolves.toBeNull();
  });

  it('wraps node-mac-auth on darwin: a rejection is not a confirmation', async () => {
    const promptTouchID = vi.fn(async () => {
      throw new Error('user cancelled');
    });
    const api = { canPromptTouchID: () => true, promptTouchID };
    vi.doMock('node-mac-auth', () => ({ ...api, default: api }));
    const gate = await loadTouchId('darwin');
    expect(gate?.available()).toBe(true);
    await expect(gate?.confirm('why')).resolves.toBe(false);
    expect(promptTouchID).toHaveBeenCalledWith({ reason: 'why' });
  });

  it('returns null when the native module cannot load', async () => {
    vi.doMock('node-mac-auth', () => {
      throw new Error('not built');
    });
    await expect(loadTouchId('darwin')).resolves.toBeNull();
  });
});
