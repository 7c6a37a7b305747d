// Pure: an approval prompt → the JXA script `osascript -l JavaScript` runs to show it. All
// agent-controlled text enters the script only as JSON string literals (U+2028/U+2029 escaped
// too), so it cannot end a literal or add code. Deny is both default and cancel button; for
// exec a third button, "Allow again…", asks how long and how many runs in two short lists.
// A dialog has at most three buttons, so when identical requests wait behind this one the third
// button is "More…": a list of "Allow all N once", "Deny all N" (selected) and, for exec,
// "Allow again…"; its Cancel is Deny.

import { renderPrompt } from '../display.js';
import { allowAllLabel, denyAllLabel, identicalWaiting, offersAll } from '../answer-all.js';
import { durationLabel, offersReuse, reuseChoices } from '../reuse-choice.js';
import type { ApprovalPrompt } from '../types.js';

/** A string as a JavaScript string literal that no input can break out of. Pure. */
export function toScriptLiteral(text: string): string {
  return JSON.stringify(text).replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029');
}

/** The third button of an exec prompt. */
export const MACOS_AGAIN_BUTTON = 'Allow again…';

/** The third button when identical requests wait: it opens the list of further answers. */
export const MACOS_MORE_BUTTON = 'More…';

/**
 * Builds the JXA dialog script; it prints `{"button": …, "gaveUp": …}` (plus `duration` and
 * `uses`, the chosen labels, after "Allow again…") or `{"error": N}`. Deny is the default and
 * the cancel button; the two lists after "Allow again…" cancel to Deny. Pure.
 */
export function buildDialogScript(prompt: ApprovalPrompt, opts: { now: number; deadline: number }): string {
  const { title, lines } = renderPrompt(prompt, { now: opts.now });
  const givingUpAfter = Math.max(1, Math.floor((opts.deadline - opts.now) / 1000));
  const reusable = offersReuse(prompt);
  const all = offersAll(prompt);
  const buttons = all ? ['Deny', reusable ? 'Allow once' : 'Allow', MACOS_MORE_BUTTON] : reusable ? ['Deny', 'Allow once', MACOS_AGAIN_BUTTON] : ['Deny', 'Allow'];
  const more = [allowAllLabel(prompt), denyAllLabel(prompt), ...(reusable ? [MACOS_AGAIN_BUTTON] : [])];
  const choices = reuseChoices(prompt.ttl_seconds);
  const list = (items: readonly string[]) => `[${items.map(toScriptLiteral).join(', ')}]`;
  return [
    "'use strict';",
    'var app = Application.currentApplication();',
    'app.includeStandardAdditions = true;',
    `var title = ${toScriptLiteral(title)};`,
    `var text = ${toScriptLiteral(lines.join('\n'))};`,
    'var answer;',
    'try {',
    '  app.activate();',
    `  var result = app.displayDialog(text, { withTitle: title, buttons: ${list(buttons)}, defaultButton: "Deny", cancelButton: "Deny", givingUpAfter: ${givingUpAfter} });`,
    '  answer = { button: String(result.buttonReturned), gaveUp: result.gaveUp === true };',
    ...(all
      ? [
          `  if (answer.button === ${toScriptLiteral(MACOS_MORE_BUTTON)} && !answer.gaveUp) {`,
          `    var more = app.chooseFromList(${list(more)}, { withTitle: title, withPrompt: ${toScriptLiteral(`More answers (${identicalWaiting(prompt)} identical requests are waiting behind this one):`)}, defaultItems: [${toScriptLiteral(denyAllLabel(prompt))}], okButtonName: "OK", cancelButtonName: "Deny", multipleSelectionsAllowed: false, emptySelectionAllowed: false });`,
          '    answer = more === false ? { button: "Deny", gaveUp: false } : { button: String(more[0]), gaveUp: false };',
          '  }',
        ]
      : []),
    ...(reusable
      ? [
          `  if (answer.button === ${toScriptLiteral(MACOS_AGAIN_BUTTON)} && !answer.gaveUp) {`,
          `    var durations = ${list(choices.durations.map((d) => d.label))};`,
          `    var uses = ${list(choices.uses.map((u) => u.label))};`,
          `    var howLong = app.chooseFromList(durations, { withTitle: title, withPrompt: ${toScriptLiteral(`Allow this exact request again for how long? At most ${durationLabel(prompt.ttl_seconds)}.`)}, defaultItems: [durations[0]], okButtonName: "Next", cancelButtonName: "Deny", multipleSelectionsAllowed: false, emptySelectionAllowed: false });`,
          '    var howMany = howLong === false ? false : app.chooseFromList(uses, { withTitle: title, withPrompt: "How many runs in total, this one included?", defaultItems: [uses[0]], okButtonName: "Allow again", cancelButtonName: "Deny", multipleSelectionsAllowed: false, emptySelectionAllowed: false });',
          '    answer = howMany === false ? { button: "Deny", gaveUp: false } : { button: answer.button, gaveUp: false, duration: String(howLong[0]), uses: String(howMany[0]) };',
          '  }',
        ]
      : []),
    '} catch (error) {',
    '  answer = error.errorNumber === -128 ? { button: "Deny", gaveUp: false } : { error: Number(error.errorNumber) || 0 };',
    '}',
    'JSON.stringify(answer);',
    '',
  ].join('\n');
}
