// The fast path's delivery: how the caller starts the child (exec.deliver `spawn`), built by the
// daemon from its plan and checked by hand in the client. A round trip keeps the spec; anything
// malformed is refused (null), never half-read.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { childSpecOf } from '../../../src/plan/exec-plan.js';
import type { ExecPlan } from '../../../src/plan/exec-plan.js';
import { readExecDeliver, readSpawnSpec, spawnBody } from '../../../src/protocol/codec.js';
import { ExecDeliverBodySchema } from '../../../src/protocol/messages.js';
import type { ApprovalRequest } from '../../../src/request/types.js';

const identity = { dev: 2049, ino: 131, size: 35664, mtimeMs: 1663687647000.5, ctimeMs: 1663687647000, mode: 0o100755, uid: 0 };

function plan(overrides: Partial<ExecPlan> = {}): ExecPlan {
  const request = {
    reason: 'wire test',
    command: ['terraform', 'plan', '-out', 'x y'],
    executable: '/usr/bin/terraform',
    executableIdentity: identity,
    cwd: '/work/infra',
    secrets: [
      { alias: 'CF_TOKEN', ref: 'op://Infra/Cloudflare/token', account: null, source: 'flag', delivery: 'env', file: null },
      { alias: 'KUBECONFIG', ref: 'op://Infra/prod-cluster/kubeconfig', account: null, source: 'flag', delivery: 'file', file: { name: 'kubeconfig', mode: 'file', maxReads: null } },
    ],
    templates: [
      {
        alias: 'NPM_CONFIG_USERCONFIG',
        path: '/work/infra/npmrc.tmpl',
        sha256: 'c'.repeat(64),
        text: '//registry.npmjs.org/:_authToken={{ op://Infra/npm/token }}\n',
        refs: ['op://Infra/npm/token'],
        account: null,
        source: 'flag',
        file: { name: 'npmrc', mode: 'fifo', maxReads: 2 },
      },
    ],
    ttlSeconds: 120,
    overrideEnv: false,
    allowMutableExecutable: false,
    pristine: true,
    overriddenAliases: [],
    warnings: [],
    requester: { pid: 42, chain: [] },
    profile: null,
    configPath: null,
    plainEnvNames: ['REGION'],
    scripts: [{ path: '/work/infra/main.sh', dev: 2049, ino: 7, size: 12, mtimeMs: 1.5, ctimeMs: 2, sha256: 'a'.repeat(64) }],
  } as unknown as ApprovalRequest;
  return { request, plain: [{ key: 'REGION', value: 'eu-west-1' }], removeNames: ['DEPLOY_USER'], mask: true, ...overrides };
}

describe('spawnBody / readSpawnSpec', () => {
  it('round-trips the child part of a plan through JSON', () => {
    for (const p of [plan(), plan({ plain: [], removeNames: [], mask: false })]) {
      expect(readSpawnSpec(JSON.parse(JSON.stringify(spawnBody(p))))).toEqual(childSpecOf(p));
    }
  });

  it('leaves the hash out for a settled file only: the caller checks its identity, and hashes a fresh file again', () => {
    const twoScripts = plan();
    const request = { ...twoScripts.request, scripts: [...twoScripts.request.scripts, { path: '/work/infra/vars.sh', dev: 2049, ino: 8, size: 3, mtimeMs: 1, ctimeMs: 1, sha256: 'b'.repeat(64) }] } as ApprovalRequest;
    const spec = readSpawnSpec(JSON.parse(JSON.stringify(spawnBody({ ...twoScripts, request, settledScripts: new Set(['/work/infra/main.sh']) }))));
    expect(spec?.scripts.map((s) => [s.path, s.sha256])).toEqual([
      ['/work/infra/main.sh', null],
      ['/work/infra/vars.sh', 'b'.repeat(64)],
    ]);
    expect(spec?.scripts[0]).toMatchObject({ ino: 7, size: 12, mtimeMs: 1.5, ctimeMs: 2 });
  });

  const good = () => JSON.parse(JSON.stringify(spawnBody(plan()))) as Record<string, unknown>;
  it.each<[string, (body: Record<string, unknown>) => unknown]>([
    ['not an object', () => null],
    ['an array', () => []],
    ['an empty command', (b) => ({ ...b, command: [] })],
    ['a command with a number', (b) => ({ ...b, command: ['ls', 1] })],
    ['a relative executable', (b) => ({ ...b, executable: 'bin/terraform' })],
    ['a relative cwd', (b) => ({ ...b, cwd: 'infra' })],
    ['pristine missing', (b) => ({ ...b, pristine: undefined })],
    ['mask as a string', (b) => ({ ...b, mask: 'yes' })],
    ['a plain entry without a value', (b) => ({ ...b, plain: [{ key: 'REGION' }] })],
    ['plain as an object', (b) => ({ ...b, plain: { REGION: 'x' } })],
    ['remove_names with a number', (b) => ({ ...b, remove_names: [7] })],
    ['a relative script path', (b) => ({ ...b, scripts: [{ path: 'main.sh', dev: 1, ino: 2, size: 3, mtime_ms: 4, ctime_ms: 5, sha256: null }] })],
    ['a script hash that is not hex', (b) => ({ ...b, scripts: [{ path: '/x', dev: 1, ino: 2, size: 3, mtime_ms: 4, ctime_ms: 5, sha256: 'xyz' }] })],
    ['scripts missing', (b) => ({ ...b, scripts: undefined })],
    ['an identity without ino', (b) => ({ ...b, executable_identity: { ...(b.executable_identity as object), ino: undefined } })],
    ['an identity with a string size', (b) => ({ ...b, executable_identity: { ...(b.executable_identity as object), size: '35664' } })],
    ['files missing', (b) => ({ ...b, files: undefined })],
    ['a file with an unknown mode', (b) => ({ ...b, files: [{ ...(b.files as object[])[0], mode: 'socket' }] })],
    ['a file with a fractional read limit', (b) => ({ ...b, files: [{ ...(b.files as object[])[0], max_reads: 1.5 }] })],
    ['a file template without refs', (b) => ({ ...b, files: [{ ...(b.files as object[])[1], template: { text: 'x' } }] })],
    ['a file with an extra key', (b) => ({ ...b, files: [{ ...(b.files as object[])[0], path: '/tmp/x' }] })],
  ])('refuses %s', (_name, mutate) => {
    expect(readSpawnSpec(mutate(good()))).toBeNull();
  });
});

describe('the hand readers accept exactly what the schemas accept (one shape, both sides)', () => {
  const deliver = (): Record<string, unknown> => ({
    request_id: `req_${'ab'.repeat(16)}`,
    env: { CF_TOKEN: 'not-a-secret' },
    file_values: { KUBECONFIG: Buffer.from('not-a-secret').toString('base64'), 'NPM_CONFIG_USERCONFIG#0': 'AAEC/w==' },
    approval_id: null,
    reused: false,
    spawn: JSON.parse(JSON.stringify(spawnBody(plan()))) as unknown,
  });
  // Values each field might take: right and wrong types, out-of-shape strings, extra keys.
  const values = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string(),
    fc.constantFrom('/abs', 'rel', `req_${'0'.repeat(32)}`, 'appr_x'),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.constant([]),
    fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string(), fc.integer()), { maxKeys: 2 }),
  );
  const paths = [
    ['request_id'], ['env'], ['file_values'], ['file_values', 'KUBECONFIG'], ['approval_id'], ['reused'], ['spawn'], ['extra'],
    ['spawn', 'command'], ['spawn', 'executable'], ['spawn', 'cwd'], ['spawn', 'pristine'], ['spawn', 'plain'],
    ['spawn', 'remove_names'], ['spawn', 'mask'], ['spawn', 'extra'], ['spawn', 'executable_identity'],
    ['spawn', 'executable_identity', 'ino'], ['spawn', 'executable_identity', 'mode'], ['spawn', 'executable_identity', 'extra'],
    ['spawn', 'files'], ['spawn', 'files', '0'], ['spawn', 'files', '0', 'mode'], ['spawn', 'files', '0', 'max_reads'], ['spawn', 'files', '0', 'name'],
    ['spawn', 'files', '1', 'template'], ['spawn', 'files', '1', 'template', 'refs'], ['spawn', 'files', '1', 'template', 'text'], ['spawn', 'files', '1', 'extra'],
  ];
  const mutation = fc.array(fc.tuple(fc.constantFrom(...paths), values), { maxLength: 3 });

  it('for exec.deliver with up to three fields changed', () => {
    fc.assert(
      fc.property(mutation, (changes) => {
        const body = deliver();
        for (const [path, value] of changes) {
          let at = body as Record<string, unknown>;
          for (const key of path.slice(0, -1)) {
            if (typeof at[key] !== 'object' || at[key] === null) break;
            at = at[key] as Record<string, unknown>;
          }
          const last = path[path.length - 1] as string;
          if (value === undefined) delete at[last];
          // A copy: fc.constant([]) hands out one array, which two changes could nest into itself.
          else at[last] = structuredClone(value);
        }
        const wire = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
        expect(readExecDeliver(wire) !== null).toBe(ExecDeliverBodySchema.safeParse(wire).success);
      }),
      { numRuns: 2000 },
    );
  });

  it('for the unchanged body: both accept it', () => {
    expect(readExecDeliver(deliver())).not.toBeNull();
    expect(ExecDeliverBodySchema.safeParse(deliver()).success).toBe(true);
  });
});
