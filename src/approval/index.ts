// The public surface of approval/: how the human is asked. Other folders import only this
// file; the macOS leaves (approval/macos/*, node-mac-auth) stay out so Linux never loads them.
// Prompts hold agent-controlled text; decisions are values and never carry approver output.

export type { ApprovalPrompt, Approver, DecideOptions, Decision, HostInfo, PromptOperation, PromptSession, ReuseGrant } from './types.js';
export { buildPrompt, type BuildPromptOptions } from './prompt.js';
export { selectApprover, describeApprover, checkTouchId, NO_APPROVER_HINT, HEADLESS_HINT, type ApproverDescription, type SelectOptions, type TouchIdStatus } from './select.js';
export { renderPrompt, renderPromptText, escapeText, shellQuote, PROMPT_TITLES, type RenderedPrompt } from './display.js';
export { REUSE_LIMITS, checkReuse, reuseChoices, type ReuseChoices } from './reuse-choice.js';
export { parseProgramAnswer, ProgramAnswerSchema } from './decision.js';
export { parseConsoleAnswer, CONSOLE_WAITING_MESSAGE, MALFORMED_CONSOLE_ANSWER, type ConsoleChannel } from './console.js';
