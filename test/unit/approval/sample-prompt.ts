// A fixed approval prompt for approval tests, with overridable fields.

import { buildPrompt } from '../../../src/approval/prompt.js';
import type { ApprovalPrompt } from '../../../src/approval/types.js';
import type { WireRequest } from '../../../src/request/codec.js';

export const NOW = Date.parse('2030-01-02T03:04:05.000Z');

export function sampleWire(overrides: Partial<WireRequest> = {}): WireRequest {
  return {
    reason: 'deploy the staging stack',
    command: ['terraform', 'plan', '-var', 'region=eu west'],
    executable: '/usr/bin/terraform',
    cwd: '/home/dev/infra',
    secrets: [
      { alias: 'AWS_SECRET', ref: 'op://Infra/aws/secret', provider: 'op', account: 'acme.1password.com' },
      { alias: 'TF_TOKEN', ref: 'op://Infra/terraform/token', provider: 'op', account: null },
    ],
    ttl_seconds: 120,
    override_env: false,
    overridden_aliases: [],
    allow_mutable_executable: false,
    pristine: false,
    mask: true,
    warnings: [],
    requester: { pid: 4242, chain: [{ pid: 4242, name: 'agent-secret' }, { pid: 4000, name: 'bash' }, { pid: 3000, name: 'claude' }] },
    profile: 'deploy',
    config_path: null,
    plain_env: [],
    scripts: [],
    ...overrides,
  };
}

export function samplePrompt(overrides: Partial<WireRequest> = {}, opts: { id?: string; waiting?: number; ttlMs?: number } = {}): ApprovalPrompt {
  return buildPrompt(sampleWire(overrides), {
    id: opts.id ?? 'req_0123456789abcdef',
    expiresAt: new Date(NOW + (opts.ttlMs ?? 120_000)),
    ...(opts.waiting === undefined ? {} : { waiting: opts.waiting }),
  });
}
