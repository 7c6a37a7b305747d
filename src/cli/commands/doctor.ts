// `agent-secret doctor [--json]`: can exec work here? Checks node, every provider (op: found,
// version, signed in, the mode of each account, without ever prompting; bws and its sources'
// tokens; each provider program), the project config, the user config and approver, and the
// audit log. Every failing check says how to fix it; exit 1 when something blocks exec.

import { checkTouchId, describeApprover, type TouchIdStatus } from '../../approval/index.js';
import { checkAuditPath } from '../../audit/index.js';
import { loadUserConfig, type UserConfig } from '../../config/user-config.js';
import { AgentSecretError } from '../../core/errors.js';
import { userInfo } from 'node:os';
import { auditLogPath, userConfigPath } from '../../platform/dirs.js';
import { createRegistry } from '../../provider/index.js';
import { dirsInput, type CliContext } from '../context.js';
import { writeJson, writeLines } from '../render/output.js';
import { inspectProjectConfig } from './project-config.js';
import { VERSION } from '../../version.js';

type Status = 'ok' | 'warn' | 'fail';
interface Check {
  name: string;
  status: Status;
  detail: string;
  hint: string | null;
}

/** The fix when the native module behind Touch ID did not build (npm 12 runs no install script it was not allowed to). */
/** doctor's pointer to the one check it cannot do without a human: answering a prompt. */
export const APPROVER_TEST_HINT = 'agent-secret approver test shows you a sample request (nothing is read)';

/** doctor's note under an installed Codex guard (Codex skips a hook nobody trusted, silently). */
export const CODEX_TRUST_NOTE = 'Codex runs its hooks only once trusted: open /hooks in codex and trust the agent-secret guard (doctor cannot see that trust)';

export const TOUCH_ID_FIX = `reinstall with its build allowed: in the clone, npm pack, then npm install -g --allow-scripts=node-mac-auth ./agent-secret-${VERSION}.tgz (npm ci there is allowed to build it); or set touch_id: false in the user config`;

/** The doctor line for Touch ID, or null where it does not apply. */
export function touchIdCheck(status: TouchIdStatus): { status: Status; detail: string; hint: string | null } | null {
  switch (status) {
    case 'not-darwin':
      return null;
    case 'available':
      return { status: 'ok', detail: 'Touch ID follows "Allow" in the dialog', hint: null };
    case 'cannot-prompt':
      return { status: 'warn', detail: 'this Mac cannot prompt for Touch ID (no sensor, none enrolled, or the lid is closed); the dialog alone approves', hint: 'enrol a fingerprint in System Settings > Touch ID & Password, or set touch_id: false in the user config' };
    case 'module-missing':
      return { status: 'warn', detail: 'Touch ID is unavailable: the native module node-mac-auth did not build or load, so the dialog alone approves', hint: TOUCH_ID_FIX };
  }
}

/** Runs every check and prints the report. */
export async function runDoctor(ctx: CliContext, options: { config?: string; json?: boolean }): Promise<number> {
  const checks: Check[] = [];
  const add = (name: string, status: Status, detail: string, hint: string | null = null) => checks.push({ name, status, detail, hint });

  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const nodeOk = major > 20 || (major === 20 && minor >= 19);
  add('node', nodeOk ? 'ok' : 'fail', `node ${process.versions.node}`, nodeOk ? null : 'install Node.js 20.19 or newer');

  let userConfig: UserConfig | null = null;
  try {
    userConfig = await loadUserConfig(dirsInput(ctx));
    add('user_config', 'ok', userConfig.exists ? userConfig.path : `${userConfig.path} (not present; defaults apply)`);
    // HOME and XDG_CONFIG_HOME are environment, which an agent can set: say when the user
    // config in use is not the one in this account's home directory.
    const accountDefault = userConfigPath({ env: {}, platform: ctx.platform, homedir: userInfo().homedir });
    if (userConfig.path !== accountDefault) {
      add('user_config_location', 'warn', `using ${userConfig.path}, not ${accountDefault}`, 'HOME or XDG_CONFIG_HOME points elsewhere; make sure you chose that approver yourself');
    }
  } catch (error) {
    if (!(error instanceof AgentSecretError)) throw error;
    add('user_config', 'fail', error.message, error.hint ?? 'fix the file or remove it to use the defaults');
  }

  // Every provider of the user config (its defaults when the file is broken): op, bws, programs.
  const registry = createRegistry(userConfig ?? { path: userConfigPath(dirsInput(ctx)), opPath: undefined }, {
    env: ctx.env,
    platform: ctx.platform,
    uid: ctx.uid,
    brokerName: 'agent-secret',
  });
  for (const provider of registry.providers) checks.push(...(await provider.doctor()));

  const project = await inspectProjectConfig(ctx, options.config);
  if (project === null) {
    add('project_config', 'warn', 'no agent-secret.yml here or in a parent', 'optional: add one (see profiles.example.yaml) so agents can use --profile');
  } else if (project.error !== null) {
    add('project_config', 'fail', project.error.message, 'fix the file; agent-secret profile list shows the same error');
  } else {
    add('project_config', 'ok', `${project.source_path} (profiles: ${project.profiles.map((p) => p.name).join(', ')})`);
  }

  if (userConfig !== null) {
    const approver = await describeApprover(userConfig, { platform: ctx.platform, env: ctx.env });
    // Available is not the same as working: the sample request shows the real prompt in a few seconds.
    add('approver', approver.available ? 'ok' : 'fail', `${approver.name}: ${approver.detail}`, approver.available ? APPROVER_TEST_HINT : (approver.hint ?? null));
    // The macOS dialog asks for Touch ID after "Allow" when node-mac-auth loads (never prompts here).
    if (approver.available && approver.name === 'macos' && userConfig.touchId) {
      const check = touchIdCheck(await checkTouchId(ctx.platform));
      if (check !== null) add('touch_id', check.status, check.detail, check.hint);
    }
  }

  const audit = await checkAuditPath(auditLogPath(dirsInput(ctx)));
  add('audit_log', audit.ok ? 'ok' : 'fail', audit.ok ? auditLogPath(dirsInput(ctx)) : (audit.problem ?? 'not writable'), audit.ok ? null : (audit.hint ?? null));

  // The daemon starts on demand; doctor only looks (never starts one) and checks its directory.
  try {
    const { daemonStatus } = await import('../../client/daemon.js');
    const { daemonPaths, prepareRuntimeDir } = await import('../../protocol/paths.js');
    const paths = daemonPaths(dirsInput(ctx));
    prepareRuntimeDir(paths, { create: false });
    const status = await daemonStatus(dirsInput(ctx));
    // exec is served with the daemon's user config and audit log, which came from the environment
    // it started in: say so when that is not what the checks above looked at.
    const mine = { user_config: userConfigPath(dirsInput(ctx)), audit_log: auditLogPath(dirsInput(ctx)) };
    const differs = (['user_config', 'audit_log'] as const).filter((key) => status[key] !== undefined && status[key] !== mine[key]);
    if (status.running && differs.length > 0) {
      add(
        'daemon',
        'warn',
        `running (pid ${status.pid ?? '?'}) with ${differs.map((key) => `${key.replace('_', ' ')} ${status[key]}`).join(' and ')}, not the one checked above`,
        'exec uses the running daemon\'s; agent-secret daemon stop, then the next command starts one with this environment',
      );
    } else {
      add(
        'daemon',
        'ok',
        status.running ? `running (pid ${status.pid ?? '?'}, version ${status.version ?? '?'})` : 'not running (starts on the first exec; agent-secret daemon start)',
      );
    }
  } catch (error) {
    if (!(error instanceof AgentSecretError)) throw error;
    add('daemon', 'fail', error.message, error.hint ?? 'agent-secret daemon stop, then retry');
  }

  // Which coding agents run the guard and have the skill (information: none of it blocks exec).
  const { agentInstallStatus } = await import('./agent-files.js');
  const { AGENT_TITLES } = await import('../../guard/agents.js');
  const agents = await agentInstallStatus(ctx);

  const ok = checks.every((c) => c.status !== 'fail');
  if (options.json === true) {
    writeJson(ctx.stdout, { ok, platform: `${ctx.platform}/${process.arch}`, checks, agents });
  } else {
    const width = Math.max(...checks.map((c) => c.name.length));
    writeLines(ctx.stdout, [
      ...checks.flatMap((c) => [
        `${c.status === 'ok' ? 'ok  ' : c.status === 'warn' ? 'warn' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`,
        ...(c.hint !== null ? [`      ${' '.repeat(width)}  ${c.status === 'ok' ? 'next' : 'fix'}: ${c.hint}`] : []),
      ]),
      'coding agents (guard hook, skill):',
      ...agents.map((a) => {
        const brokenIn = (scope: string) => a.guard_broken.find((b) => b.scope === scope);
        const guard = a.guard.length > 0 ? `guard: ${a.guard.map((scope) => { const b = brokenIn(scope); return b === undefined ? scope : `${scope} (broken: ${b.problems.join('; ')})`; }).join(' + ')}` : 'guard: -';
        const skill = a.skill.length > 0 ? `skill: ${a.skill.map((s) => `${s.scope}${s.current ? '' : ' (older version)'}`).join(' + ')}` : 'skill: -';
        const missing = [
          ...(a.guard.length === 0 ? [`agent-secret hook-install --agent ${a.agent}`] : []),
          ...a.guard_broken.map((b) => `agent-secret hook-install --agent ${a.agent}${b.scope === 'project' ? ' --project' : ''}`),
          ...(a.skill.length === 0 || a.skill.some((s) => !s.current) ? [`agent-secret skill-install --agent ${a.agent}${a.skill.some((s) => !s.current) ? ' --force' : ''}`] : []),
        ];
        const line = `  ${AGENT_TITLES[a.agent].padEnd(11)}  ${guard.padEnd(22)}  ${skill}${missing.length > 0 ? `   (${a.guard_broken.length > 0 ? 'to fix' : 'to add'}: ${missing.join('; ')})` : ''}`;
        // Codex keeps its trust in hooks to itself: doctor cannot tell whether this one runs.
        return a.agent === 'codex' && a.guard.length > 0 ? [line, `  ${' '.repeat(11)}  ${CODEX_TRUST_NOTE}`] : [line];
      }).flat(),
      ok ? 'agent-secret can run exec here.' : 'agent-secret exec will fail until the FAIL lines are fixed.',
    ]);
  }
  return ok ? 0 : 1;
}
