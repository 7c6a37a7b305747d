// Pure: an approval prompt → the JXA script `osascript -l JavaScript` runs to show it. All
// agent-controlled text enters the script only as JSON string literals (U+2028/U+2029 escaped
// too), so it cannot end a literal or add code. Deny is both default and cancel button.

import { renderPrompt } from '../display.js';
import type { ApprovalPrompt } from '../types.js';

/** A string as a JavaScript string literal that no input can break out of. Pure. */
export function toScriptLiteral(text: string): string {
  return JSON.stringify(text).replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029');
}

/** Builds the JXA dialog script; it prints `{"button": …, "gaveUp": …}` or `{"error": N}`. Pure. */
export function buildDialogScript(prompt: ApprovalPrompt, opts: { now: number; deadline: number }): string {
  const { title, lines } = renderPrompt(prompt, { now: opts.now });
  const givingUpAfter = Math.max(1, Math.floor((opts.deadline - opts.now) / 1000));
  return [
    "'use strict';",
    'var app = Application.currentApplication();',
    'app.includeStandardAdditions = true;',
    `var title = ${toScriptLiteral(title)};`,
    `var text = ${toScriptLiteral(lines.join('\n'))};`,
    'var answer;',
    'try {',
    '  app.activate();',
    `  var result = app.displayDialog(text, { withTitle: title, buttons: ["Deny", "Allow"], defaultButton: "Deny", cancelButton: "Deny", givingUpAfter: ${givingUpAfter} });`,
    '  answer = { button: String(result.buttonReturned), gaveUp: result.gaveUp === true };',
    '} catch (error) {',
    '  answer = error.errorNumber === -128 ? { button: "Deny", gaveUp: false } : { error: Number(error.errorNumber) || 0 };',
    '}',
    'JSON.stringify(answer);',
    '',
  ].join('\n');
}
