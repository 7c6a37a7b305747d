// `agent-secret guard --agent X` for every agent, through the built binary: each agent's recorded
// hook payloads (test/fixtures/hooks/<agent>.json, one file per agent) must get that agent's deny
// or allow answer, exactly as its hook contract reads it. The sandbox .env holds a canary value;
// Cursor's beforeReadFile payload even carries the file's content, and no answer may repeat it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANARIES, CANARY_VALUES } from '../helpers/canaries.js';
import { runClean, type CliResult } from '../helpers/run-cli.js';
import { createSandbox, REPO_ROOT, type Sandbox } from '../helpers/sandbox.js';

const AGENTS = ['claude', 'codex', 'cursor', 'gemini'] as const;
type Agent = (typeof AGENTS)[number];

interface HookCase {
  name: string;
  expect: 'deny' | 'allow';
  reason_contains?: string;
  payload: unknown;
}

const SECRET = CANARY_VALUES.find((value) => !/\s/.test(value) && CANARIES.some((canary) => value.includes(canary)))!;

let sb: Sandbox;
beforeAll(() => {
  sb = createSandbox();
  sb.write('.env', `API_TOKEN=op://Engineering/Deploy/token\nSTRIPE_SECRET_KEY=${SECRET}\n`);
  sb.write('backend/.env.local', `DATABASE_URL=${SECRET}\n`);
  sb.write('.env.example', 'API_TOKEN=\nSTRIPE_SECRET_KEY=<your key>\n');
  sb.write('README.md', '# app\n');
  sb.write('src/app.ts', 'export const useState = 1;\n');
});
afterAll(() => sb.cleanup());

function load(agent: Agent): HookCase[] {
  const file = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'hooks', `${agent}.json`), 'utf8')) as { agent: string; cases: HookCase[] };
  expect(file.agent).toBe(agent);
  return file.cases;
}

// Placeholders: {{PROJECT}}, {{HOME}}, {{CONTENT:relative}} (that file's text, as Cursor sends it).
function fill(value: unknown): unknown {
  if (typeof value === 'string') {
    const content = /^\{\{CONTENT:(.+)\}\}$/.exec(value);
    if (content !== null) return readFileSync(join(sb.project, content[1]!), 'utf8');
    return value.replaceAll('{{PROJECT}}', sb.project).replaceAll('{{HOME}}', sb.home);
  }
  if (Array.isArray(value)) return value.map(fill);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, fill(inner)]));
  return value;
}

/** Reads the guard's answer in the agent's contract: the decision and the text the model gets. */
function answerOf(agent: Agent, result: CliResult): { decision: 'deny' | 'allow'; reason: string } {
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  switch (agent) {
    case 'claude': {
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      if (lines.length === 0) return { decision: 'allow', reason: '' };
      expect(lines).toHaveLength(1);
      const out = JSON.parse(lines[0]!) as { hookSpecificOutput: Record<string, string> };
      expect(Object.keys(out)).toEqual(['hookSpecificOutput']);
      expect(out.hookSpecificOutput).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'deny' });
      return { decision: 'deny', reason: out.hookSpecificOutput.permissionDecisionReason! };
    }
    case 'codex': {
      expect(result.stdout).toBe('');
      if (result.code === 0) {
        expect(result.stderr).toBe('');
        return { decision: 'allow', reason: '' };
      }
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).not.toBe('');
      return { decision: 'deny', reason: result.stderr.trim() };
    }
    case 'cursor': {
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      expect(lines).toHaveLength(1);
      const out = JSON.parse(lines[0]!) as Record<string, string>;
      if (out.permission === 'allow') {
        expect(out).toEqual({ permission: 'allow' });
        return { decision: 'allow', reason: '' };
      }
      expect(Object.keys(out).sort()).toEqual(['agent_message', 'permission', 'user_message']);
      expect(out.permission).toBe('deny');
      expect(out.user_message).toContain('agent-secret guard blocked');
      return { decision: 'deny', reason: out.agent_message! };
    }
    case 'gemini': {
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      expect(lines).toHaveLength(1);
      const out = JSON.parse(lines[0]!) as Record<string, string>;
      if (Object.keys(out).length === 0) return { decision: 'allow', reason: '' };
      expect(Object.keys(out).sort()).toEqual(['decision', 'reason']);
      expect(out.decision).toBe('deny');
      return { decision: 'deny', reason: out.reason! };
    }
  }
}

for (const agent of AGENTS) {
  describe(`agent-secret guard --agent ${agent}: recorded hook payloads`, () => {
    const cases = load(agent);
    it('the table has deny and allow cases', () => {
      expect(cases.filter((c) => c.expect === 'deny').length).toBeGreaterThanOrEqual(4);
      expect(cases.filter((c) => c.expect === 'allow').length).toBeGreaterThanOrEqual(4);
    });
    for (const hookCase of cases) {
      it(`${hookCase.expect}s ${hookCase.name}`, async () => {
        const result = await runClean(sb, ['guard', '--agent', agent], { input: JSON.stringify(fill(hookCase.payload)), cwd: sb.root });
        const answer = answerOf(agent, result);
        expect(answer.decision).toBe(hookCase.expect);
        if (hookCase.reason_contains !== undefined) expect(answer.reason).toContain(fill(hookCase.reason_contains));
        // Names and paths only: never a value, never the file's content.
        expect(result.stdout + result.stderr).not.toContain(SECRET);
        expect(result.stdout + result.stderr).not.toContain('STRIPE_SECRET_KEY=');
      });
    }

    for (const [name, input] of [
      ['empty stdin', ''],
      ['not JSON', 'op read op://a/b/c'],
      ['a JSON array', '[1,2]'],
      ['an object with nothing to check', '{"hook_event_name":"SessionStart"}'],
    ] as const) {
      it(`answers malformed input (${name}) with its allow`, async () => {
        const result = await runClean(sb, ['guard', '--agent', agent], { input });
        expect(answerOf(agent, result).decision).toBe('allow');
      });
    }
  });
}

describe('agent-secret guard: the agent option', () => {
  it('defaults to Claude Code', async () => {
    const payload = load('claude')[0]!.payload;
    const result = await runClean(sb, ['guard'], { input: JSON.stringify(fill(payload)) });
    expect(answerOf('claude', result).decision).toBe('deny');
  });

  it('an unknown agent is a non-blocking hook error: exit 1, one stderr line naming the choices, nothing on stdout', async () => {
    const result = await runClean(sb, ['guard', '--agent', 'copilot'], { input: '{}' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('use one of claude, codex, cursor, gemini');
  });
});
