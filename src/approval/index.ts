// The public surface of approval/: how the human is asked. Other folders import only this
// file; the macOS leaves (approval/macos/*, node-mac-auth) stay out so Linux never loads them.
// Prompts hold agent-controlled text; decisions are values and never carry approver output.

export type { ApprovalPrompt, Approver, DecideOptions, Decision, HostInfo } from './types.js';
export { buildPrompt } from './prompt.js';
export { selectApprover, describeApprover, NO_APPROVER_HINT, type ApproverDescription, type SelectOptions } from './select.js';
export { renderPrompt, renderPromptText, escapeText, shellQuote, type RenderedPrompt } from './display.js';
export { parseProgramAnswer, ProgramAnswerSchema } from './decision.js';
