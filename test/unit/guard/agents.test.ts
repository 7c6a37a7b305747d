// The agent hook contracts over the one decision core: each agent's payload shapes become the
// calls decide.ts reads (shell, file read, search), the answers follow each contract, and no
// input, however odd, makes readHookCall, decideHookCall or hookAnswer throw.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideHookCall, GUARD_AGENTS, isGuardAgent, readHookCall, type GuardAgent } from '../../../src/guard/agents.js';
import type { GuardHost } from '../../../src/guard/decide.js';
import { hookAnswer, toHookOutput } from '../../../src/guard/hook-output.js';

const FILES: Record<string, string> = {
  '/p/.env': 'API_TOKEN=op://Eng/Deploy/token\n',
  '/p/sub/.env.local': 'DB=op://Eng/DB/url\n',
  '/p/README.md': '# app\n',
};
const DIRS: Record<string, Array<{ name: string; dir: boolean }>> = {
  '/p': [{ name: '.env', dir: false }, { name: 'README.md', dir: false }, { name: 'sub', dir: true }],
  '/p/sub': [{ name: '.env.local', dir: false }],
};

// The host the guard command builds: relative paths from the call's cwd.
function hostAt(cwd: string): GuardHost {
  const at = (path: string) => (path.startsWith('/') ? path : `${cwd}/${path}`.replace(/\/\.$/, '').replace(/\/\.\//g, '/'));
  return {
    readFileHead: (path) => FILES[at(path)] ?? null,
    listDir: (path) => DIRS[at(path)]?.map((entry) => entry.name) ?? null,
    readDir: (path) => DIRS[at(path)] ?? null,
  };
}

function decide(agent: GuardAgent, payload: unknown) {
  const call = readHookCall(agent, payload);
  return decideHookCall(call, hostAt(call.cwd ?? '/p'));
}

const table: Array<[GuardAgent, string, unknown, 'deny' | 'allow']> = [
  ['claude', 'Bash op read', { hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'op read op://a/b/c' }, cwd: '/p' }, 'deny'],
  ['claude', 'Read .env', { hook_event_name: 'PreToolUse', tool_name: 'Read', tool_input: { file_path: '.env' }, cwd: '/p' }, 'deny'],
  ['claude', 'Read README', { hook_event_name: 'PreToolUse', tool_name: 'Read', tool_input: { file_path: 'README.md' }, cwd: '/p' }, 'allow'],
  ['codex', 'Bash cat .env', { hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'cat .env' }, cwd: '/p' }, 'deny'],
  ['codex', 'argv zsh -lc', { hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: ['/bin/zsh', '-lc', 'cat .env'] }, cwd: '/p' }, 'deny'],
  ['codex', 'argv without a shell', { hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: ['cat', '.env'] }, cwd: '/p' }, 'deny'],
  ['codex', 'a Read tool name (Codex has none)', { hook_event_name: 'PreToolUse', tool_name: 'Read', tool_input: { file_path: '.env' }, cwd: '/p' }, 'allow'],
  ['codex', 'apply_patch', { hook_event_name: 'PreToolUse', tool_name: 'apply_patch', tool_input: { command: 'cat .env' }, cwd: '/p' }, 'allow'],
  ['codex', 'PostToolUse', { hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'cat .env' }, cwd: '/p' }, 'allow'],
  ['cursor', 'beforeShellExecution', { hook_event_name: 'beforeShellExecution', command: 'cat .env', cwd: '/p' }, 'deny'],
  ['cursor', 'workspace root when cwd is empty', { hook_event_name: 'beforeShellExecution', command: 'cat .env', cwd: '', workspace_roots: ['/p'] }, 'deny'],
  ['cursor', 'beforeReadFile', { hook_event_name: 'beforeReadFile', file_path: '/p/.env', content: 'x' }, 'deny'],
  ['cursor', 'beforeReadFile README', { hook_event_name: 'beforeReadFile', file_path: '/p/README.md', content: '# app' }, 'allow'],
  ['cursor', 'a Claude-shaped call (not Cursor\'s)', { hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'cat .env' }, cwd: '/p' }, 'allow'],
  ['gemini', 'run_shell_command', { hook_event_name: 'BeforeTool', tool_name: 'run_shell_command', tool_input: { command: 'cat .env' }, cwd: '/p' }, 'deny'],
  ['gemini', 'run_shell_command in dir_path', { hook_event_name: 'BeforeTool', tool_name: 'run_shell_command', tool_input: { command: 'cat .env.local', dir_path: 'sub' }, cwd: '/p' }, 'deny'],
  ['gemini', 'the same without dir_path', { hook_event_name: 'BeforeTool', tool_name: 'run_shell_command', tool_input: { command: 'cat .env.local' }, cwd: '/p' }, 'allow'],
  ['gemini', 'read_file', { hook_event_name: 'BeforeTool', tool_name: 'read_file', tool_input: { file_path: '/p/.env' }, cwd: '/p' }, 'deny'],
  ['gemini', 'read_file (older absolute_path)', { hook_event_name: 'BeforeTool', tool_name: 'read_file', tool_input: { absolute_path: '/p/.env' }, cwd: '/p' }, 'deny'],
  ['gemini', 'read_many_files literal', { hook_event_name: 'BeforeTool', tool_name: 'read_many_files', tool_input: { include: ['README.md', '.env'] }, cwd: '/p' }, 'deny'],
  ['gemini', 'read_many_files glob', { hook_event_name: 'BeforeTool', tool_name: 'read_many_files', tool_input: { include: ['**/.env*'] }, cwd: '/p' }, 'deny'],
  ['gemini', 'read_many_files markdown', { hook_event_name: 'BeforeTool', tool_name: 'read_many_files', tool_input: { include: ['**/*.md'] }, cwd: '/p' }, 'allow'],
  ['gemini', 'grep_search content', { hook_event_name: 'BeforeTool', tool_name: 'grep_search', tool_input: { pattern: 'API' }, cwd: '/p' }, 'deny'],
  ['gemini', 'search_file_content (older name)', { hook_event_name: 'BeforeTool', tool_name: 'search_file_content', tool_input: { pattern: 'API' }, cwd: '/p' }, 'deny'],
  ['gemini', 'grep_search names only', { hook_event_name: 'BeforeTool', tool_name: 'grep_search', tool_input: { pattern: 'API', names_only: true }, cwd: '/p' }, 'allow'],
  ['gemini', 'AfterTool', { hook_event_name: 'AfterTool', tool_name: 'read_file', tool_input: { file_path: '/p/.env' }, cwd: '/p' }, 'allow'],
];

describe('readHookCall + decideHookCall', () => {
  for (const [agent, name, payload, expected] of table) {
    it(`${agent}: ${name} → ${expected}`, () => {
      expect(decide(agent, payload).decision).toBe(expected);
    });
  }

  it('never throws and answers every agent for any JSON value', () => {
    fc.assert(
      fc.property(fc.constantFrom(...GUARD_AGENTS), fc.jsonValue(), (agent, value) => {
        const decision = decide(agent, value);
        expect(['allow', 'deny']).toContain(decision.decision);
        expect(hookAnswer(agent, decision).exitCode === 2).toBe(agent === 'codex' && decision.decision === 'deny');
      }),
    );
  });

  it('knows exactly the four agents', () => {
    expect(GUARD_AGENTS).toEqual(['claude', 'codex', 'cursor', 'gemini']);
    expect(isGuardAgent('codex')).toBe(true);
    expect(isGuardAgent('copilot')).toBe(false);
    expect(isGuardAgent(undefined)).toBe(false);
  });
});

describe('hookAnswer', () => {
  const deny = decide('claude', table[0]![2]);

  it('Claude Code: the PreToolUse deny line, nothing for an allow', () => {
    expect(JSON.parse(hookAnswer('claude', deny).stdout!)).toEqual({
      hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: (deny as { reason: string }).reason },
    });
    expect(hookAnswer('claude', { decision: 'allow' })).toEqual({ stdout: null, stderr: null, exitCode: 0 });
    expect(toHookOutput(deny)).toBe(hookAnswer('claude', deny).stdout);
  });

  it('Codex CLI: exit 2 with the reason on stderr, nothing for an allow', () => {
    expect(hookAnswer('codex', deny)).toEqual({ stdout: null, stderr: (deny as { reason: string }).reason, exitCode: 2 });
    expect(hookAnswer('codex', { decision: 'allow' })).toEqual({ stdout: null, stderr: null, exitCode: 0 });
  });

  it('Cursor: permission deny with user and agent messages, an explicit allow', () => {
    const out = JSON.parse(hookAnswer('cursor', deny).stdout!) as Record<string, string>;
    expect(out.permission).toBe('deny');
    expect(out.agent_message).toBe((deny as { reason: string }).reason);
    expect(out.user_message).toContain('`op read`');
    expect(hookAnswer('cursor', { decision: 'allow' })).toEqual({ stdout: '{"permission":"allow"}', stderr: null, exitCode: 0 });
  });

  it('Gemini CLI: decision deny with the reason, {} for an allow', () => {
    expect(JSON.parse(hookAnswer('gemini', deny).stdout!)).toEqual({ decision: 'deny', reason: (deny as { reason: string }).reason });
    expect(hookAnswer('gemini', { decision: 'allow' })).toEqual({ stdout: '{}', stderr: null, exitCode: 0 });
  });
});
