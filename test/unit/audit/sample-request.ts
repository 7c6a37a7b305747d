// A frozen ApprovalRequest for audit tests: names, refs and paths only, like the real one.
import type { ApprovalRequest } from '../../../src/request/types.js';

export function sampleRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return Object.freeze({
    reason: 'deploy the staging stack',
    command: ['terraform', 'apply', '-auto-approve'],
    executable: '/usr/local/bin/terraform',
    executableIdentity: { dev: 1, ino: 2, size: 3, mtimeMs: 4, ctimeMs: 5, mode: 0o100755, uid: 0 },
    cwd: '/work/project',
    secrets: [
      { alias: 'AWS_SECRET_ACCESS_KEY', ref: 'op://Infra/aws/secret', provider: 'op', account: 'team.1password.com', source: 'profile' },
      { alias: 'TF_TOKEN', ref: 'op://Infra/terraform cloud/token', provider: 'op', account: null, source: 'flag' },
    ],
    ttlSeconds: 120,
    overrideEnv: false,
    allowMutableExecutable: false,
    pristine: false,
    mask: true,
    overriddenAliases: [],
    warnings: ['the command is a shell: it can run anything with these secrets'],
    requester: { pid: 4242, chain: [{ pid: 4241, name: 'claude' }, { pid: 4000, name: 'zsh' }] },
    profile: 'deploy',
    configPath: '/work/project/agent-secret.yml',
    plainEnvNames: ['TF_LOG'],
    scripts: [],
    ...overrides,
  } satisfies ApprovalRequest);
}
