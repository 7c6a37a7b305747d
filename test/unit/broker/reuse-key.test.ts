// The reuse key and the environment fingerprint: every field the human saw changes the key,
// who asked does not; variables that change what runs change the fingerprint, churn does not.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { environmentFingerprint, isFingerprinted, planFingerprint, REUSE_CHURN_NAMES, reuseKey, type FingerprintInput } from '../../../src/broker/reuse-key.js';
import { ENV_RISK_RULES } from '../../../src/core/env-risk.js';
import { PRISTINE_ENV_NAMES } from '../../../src/request/build.js';
import type { ApprovalRequest } from '../../../src/request/types.js';
import { sampleRequest } from '../audit/sample-request.js';

const FP = environmentFingerprint({ env: { PATH: '/usr/bin:/bin' }, pristine: false, plain: [] });

const callerEnv = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/home/dev',
  PWD: '/work/project',
  SHLVL: '2',
  TERM_SESSION_ID: 'w0t0p0:4C1B',
  NODE_OPTIONS: '--max-old-space-size=4096',
  LANG: 'en_US.UTF-8',
  TERM: 'xterm-256color',
};

function fingerprint(overrides: Partial<FingerprintInput> = {}): string {
  return environmentFingerprint({ env: callerEnv, pristine: false, plain: [], ...overrides });
}

describe('reuseKey', () => {
  const base = sampleRequest();
  const baseKey = reuseKey(base, FP);

  it('has the versioned sha-256 shape and is deterministic', () => {
    expect(baseKey).toMatch(/^reuse-v1:[0-9a-f]{64}$/);
    expect(reuseKey(sampleRequest(), FP)).toBe(baseKey);
  });

  const id = base.executableIdentity;
  const changes: Array<[string, Partial<ApprovalRequest>]> = [
    ['reason', { reason: 'deploy the production stack' }],
    ['an argument', { command: ['terraform', 'apply'] }],
    ['argument boundaries', { command: ['terraform', 'apply -auto-approve'] }],
    ['executable', { executable: '/opt/bin/terraform' }],
    ['identity dev', { executableIdentity: { ...id, dev: 9 } }],
    ['identity ino', { executableIdentity: { ...id, ino: 9 } }],
    ['identity size', { executableIdentity: { ...id, size: 9 } }],
    ['identity mtime', { executableIdentity: { ...id, mtimeMs: 4.5 } }],
    ['identity ctime', { executableIdentity: { ...id, ctimeMs: 9 } }],
    ['identity mode', { executableIdentity: { ...id, mode: 0o100775 } }],
    ['identity uid', { executableIdentity: { ...id, uid: 1000 } }],
    ['cwd', { cwd: '/work/other' }],
    ['a secret ref', { secrets: [base.secrets[0]!, { ...base.secrets[1]!, ref: 'op://Infra/terraform cloud/other' }] }],
    ['a secret alias', { secrets: [base.secrets[0]!, { ...base.secrets[1]!, alias: 'TF_TOKEN_2' }] }],
    ['a secret account', { secrets: [base.secrets[0]!, { ...base.secrets[1]!, account: 'other.1password.com' }] }],
    ['a default account made explicit', { secrets: [{ ...base.secrets[0]!, account: null }, base.secrets[1]!] }],
    ['a secret dropped', { secrets: [base.secrets[0]!] }],
    ['a secret added', { secrets: [...base.secrets, { alias: 'EXTRA', ref: 'op://v/i/f', provider: 'op', account: null, source: 'flag' }] }],
    ['ttl', { ttlSeconds: 121 }],
    ['override_env', { overrideEnv: true }],
    ['overridden aliases', { overrideEnv: true, overriddenAliases: ['TF_TOKEN'] }],
    ['allow_mutable_executable', { allowMutableExecutable: true }],
    ['pristine', { pristine: true }],
    ['mask (a masked approval never serves an unmasked run)', { mask: false }],
  ];

  it.each(changes)('changes when %s changes', (_name, override) => {
    expect(reuseKey(sampleRequest(override), FP)).not.toBe(baseKey);
  });

  it('changes with any part of a pinned argv file: identity or content hash', () => {
    const script = { path: '/work/project/deploy.sh', dev: 1, ino: 2, size: 30, mtimeMs: 4, ctimeMs: 5, sha256: 'a'.repeat(64) };
    const withScript = reuseKey(sampleRequest({ scripts: [script] }), FP);
    expect(withScript).not.toBe(baseKey);
    expect(reuseKey(sampleRequest({ scripts: [{ ...script }] }), FP)).toBe(withScript);
    for (const change of [{ ino: 3 }, { size: 31 }, { mtimeMs: 6 }, { ctimeMs: 7 }, { dev: 9 }, { sha256: 'b'.repeat(64) }, { sha256: null }, { path: '/work/project/other.sh' }]) {
      expect(reuseKey(sampleRequest({ scripts: [{ ...script, ...change }] }), FP)).not.toBe(withScript);
    }
  });

  it('changes with the environment fingerprint', () => {
    expect(reuseKey(base, fingerprint())).not.toBe(reuseKey(base, fingerprint({ env: { ...callerEnv, PATH: '/tmp/evil:/usr/bin' } })));
  });

  const ignored: Array<[string, Partial<ApprovalRequest>]> = [
    ['the requester pid', { requester: { pid: 1, chain: base.requester.chain } }],
    ['the requester chain', { requester: { pid: base.requester.pid, chain: [{ pid: 7, name: 'codex' }] } }],
    ['the profile name', { profile: null }],
    ['the config path', { configPath: '/elsewhere/agent-secret.yml' }],
    ['the warnings', { warnings: [] }],
    ['the plain env names (their values count through the fingerprint)', { plainEnvNames: ['OTHER'] }],
    ['where a secret came from', { secrets: base.secrets.map((s) => ({ ...s, source: 'env_file' as const })) }],
    ['the secret order', { secrets: [...base.secrets].reverse() }],
    ['the overridden alias order', { overrideEnv: true, overriddenAliases: ['B', 'A'] }],
  ];

  it.each(ignored)('ignores %s', (_name, override) => {
    const reference = override.overriddenAliases === undefined ? baseKey : reuseKey(sampleRequest({ overrideEnv: true, overriddenAliases: ['A', 'B'] }), FP);
    expect(reuseKey(sampleRequest(override), FP)).toBe(reference);
  });

  it('does not confuse a null account with the text "null" or an empty account', () => {
    const keys = [null, 'null', ''].map((account) => reuseKey(sampleRequest({ secrets: [{ alias: 'A', ref: 'op://v/i/f', provider: 'op', account, source: 'flag' }] }), FP));
    expect(new Set(keys).size).toBe(3);
  });

  const secretArb = fc.record({
    alias: fc.constantFrom('A', 'B', 'TOKEN', 'DB_PASSWORD', 'Z_1'),
    ref: fc.constantFrom('op://v/i/f', 'op://v/i/g', 'op://w/x/y'),
    provider: fc.constant('op'),
    account: fc.constantFrom(null, 'a.1password.com', 'b.1password.com'),
    source: fc.constantFrom('profile' as const, 'flag' as const, 'env_file' as const),
  });

  it('is stable under any permutation of the secrets and overridden aliases (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(secretArb, { minLength: 1, maxLength: 8, selector: (s) => s.alias }),
        fc.uniqueArray(fc.constantFrom('A', 'B', 'TOKEN', 'X'), { maxLength: 4 }),
        fc.nat(),
        (secrets, overridden, seed) => {
          const shuffle = <X>(items: readonly X[]): X[] => {
            const out = [...items];
            let s = seed;
            for (let i = out.length - 1; i > 0; i -= 1) {
              s = (s * 1103515245 + 12345) % 2 ** 31;
              const j = s % (i + 1);
              [out[i], out[j]] = [out[j] as X, out[i] as X];
            }
            return out;
          };
          const a = reuseKey(sampleRequest({ secrets, overrideEnv: true, overriddenAliases: overridden }), FP);
          const b = reuseKey(sampleRequest({ secrets: shuffle(secrets), overrideEnv: true, overriddenAliases: shuffle(overridden) }), FP);
          expect(b).toBe(a);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('separates different argv and reasons made of the same characters (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 5 }), fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 5 }), (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(reuseKey(sampleRequest({ command: a }), FP)).not.toBe(reuseKey(sampleRequest({ command: b }), FP));
      }),
      { numRuns: 300 },
    );
  });
});

describe('environmentFingerprint', () => {
  const base = fingerprint();

  it('has the shape the protocol accepts and is deterministic', () => {
    expect(base).toMatch(/^env-v2:[0-9a-f]{64}$/);
    expect(fingerprint()).toBe(base);
  });

  const churn: Array<[string, Record<string, string | undefined>]> = [
    ['PWD', { PWD: '/work/project/sub' }],
    ['OLDPWD', { OLDPWD: '/tmp' }],
    ['SHLVL', { SHLVL: '3' }],
    ['TERM_SESSION_ID', { TERM_SESSION_ID: 'w1t0p0:99' }],
    ['an agent session id', { CLAUDE_CODE_SESSION_ID: 'abc', CODEX_SESSION_ID: 'x' }],
    ['terminal size', { COLUMNS: '200', LINES: '50' }],
    ['the SSH agent socket', { SSH_AUTH_SOCK: '/tmp/ssh-x/agent.1' }],
    ['a timestamp-like variable', { _: '/usr/bin/agent-secret', EPOCHREALTIME: '1700000000.1' }],
    ['an unrelated variable removed', { SHLVL: undefined }],
  ];

  it.each(churn)('ignores churn: %s', (_name, change) => {
    expect(fingerprint({ env: { ...callerEnv, ...change } })).toBe(base);
  });

  it('tells a nested request from a top-level one, whatever the enclosing request id', () => {
    const nested = fingerprint({ env: { ...callerEnv, AGENT_SECRET_REQUEST_ID: 'req_1' } });
    expect(nested).not.toBe(base);
    expect(fingerprint({ env: { ...callerEnv, AGENT_SECRET_REQUEST_ID: 'req_2' } })).toBe(nested);
  });

  const significant: Array<[string, Record<string, string | undefined>]> = [
    ['PATH', { PATH: '/tmp/evil:/usr/bin' }],
    ['HOME', { HOME: '/home/other' }],
    ['LANG and TERM', { LANG: 'C', TERM: 'dumb' }],
    ['HTTPS_PROXY added', { HTTPS_PROXY: 'http://127.0.0.1:8080' }],
    ['https_proxy added (lower case)', { https_proxy: 'http://127.0.0.1:8080' }],
    ['SSL_CERT_FILE added', { SSL_CERT_FILE: '/tmp/ca.pem' }],
    ['GCONV_PATH added', { GCONV_PATH: '/tmp' }],
    ['NODE_EXTRA_CA_CERTS added', { NODE_EXTRA_CA_CERTS: '/tmp/ca.pem' }],
    ['an unrelated variable added', { SOME_TOOL_SETTING: '1' }],
    ['PATH removed', { PATH: undefined }],
    ['NODE_OPTIONS', { NODE_OPTIONS: '--require /tmp/x.js' }],
    ['NODE_OPTIONS emptied (set but empty is not unset)', { NODE_OPTIONS: '' }],
    ['LD_PRELOAD added', { LD_PRELOAD: '/tmp/x.so' }],
    ['LD_LIBRARY_PATH added', { LD_LIBRARY_PATH: '/tmp' }],
    ['DYLD_INSERT_LIBRARIES added', { DYLD_INSERT_LIBRARIES: '/tmp/x.dylib' }],
    ['GIT_CONFIG_GLOBAL added', { GIT_CONFIG_GLOBAL: '/tmp/gitconfig' }],
    ['GIT_CONFIG_COUNT added', { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'core.sshCommand', GIT_CONFIG_VALUE_0: 'sh /tmp/x' }],
    ['PYTHONPATH added', { PYTHONPATH: '/tmp' }],
    ['BASH_ENV added', { BASH_ENV: '/tmp/rc' }],
    // Programs git, ssh, npm, cargo and go run on the approved command's behalf.
    ['GIT_PROXY_COMMAND added', { GIT_PROXY_COMMAND: '/tmp/x' }],
    ['GIT_EXTERNAL_DIFF added', { GIT_EXTERNAL_DIFF: '/tmp/x' }],
    ['GIT_PAGER added', { GIT_PAGER: '/tmp/x' }],
    ['PAGER added', { PAGER: '/tmp/x' }],
    ['GIT_EDITOR added', { GIT_EDITOR: '/tmp/x' }],
    ['GIT_SEQUENCE_EDITOR added', { GIT_SEQUENCE_EDITOR: '/tmp/x' }],
    ['EDITOR added', { EDITOR: '/tmp/x' }],
    ['VISUAL added', { VISUAL: '/tmp/x' }],
    ['SSH_ASKPASS added', { SSH_ASKPASS: '/tmp/x' }],
    ['npm_config_script_shell added', { npm_config_script_shell: '/tmp/x' }],
    ['NPM_CONFIG_NODE_OPTIONS added (npm reads these in any case)', { NPM_CONFIG_NODE_OPTIONS: '--require /tmp/x.js' }],
    ['RUSTC added', { RUSTC: '/tmp/x' }],
    ['RUSTC_WORKSPACE_WRAPPER added', { RUSTC_WORKSPACE_WRAPPER: '/tmp/x' }],
    ['GOTOOLCHAIN added', { GOTOOLCHAIN: 'go1.99.0' }],
  ];

  it.each(significant)('changes with %s', (_name, change) => {
    expect(fingerprint({ env: { ...callerEnv, ...change } })).not.toBe(base);
  });

  it.each(ENV_RISK_RULES.map((r) => [r.prefix ? `${r.name}ANYTHING` : r.name]))('changes when %s is set or changed', (name) => {
    const env = { ...callerEnv, [name]: `${callerEnv[name as keyof typeof callerEnv] ?? ''}/changed` };
    expect(fingerprint({ env })).not.toBe(base);
  });

  it('never treats a risk-list name as churn, in any letter case', () => {
    for (const rule of ENV_RISK_RULES) {
      expect(isFingerprinted(rule.name)).toBe(true);
      expect(isFingerprinted(rule.name.toLowerCase())).toBe(true);
    }
    for (const name of REUSE_CHURN_NAMES) expect(isFingerprinted(name)).toBe(false);
  });

  it('counts the plain env-file entries by name and value, the last duplicate winning', () => {
    const plain = fingerprint({ plain: [['TF_LOG', 'info']] });
    expect(plain).not.toBe(base);
    expect(fingerprint({ plain: [['TF_LOG', 'debug']] })).not.toBe(plain);
    expect(fingerprint({ plain: [['TF_LOG2', 'info']] })).not.toBe(plain);
    expect(fingerprint({ plain: [['TF_LOG', 'debug'], ['TF_LOG', 'info']] })).toBe(plain);
    expect(fingerprint({ plain: [['A', '1'], ['B', '2']] })).toBe(fingerprint({ plain: [['B', '2'], ['A', '1']] }));
  });

  it('keeps a plain entry apart from a caller variable of the same name and value', () => {
    const asCaller = fingerprint({ env: { ...callerEnv, PATH: '/x' } });
    const asPlain = fingerprint({ env: { ...callerEnv, PATH: '/x' }, plain: [['PATH', '/x']] });
    expect(asPlain).not.toBe(asCaller);
  });

  describe('with --pristine', () => {
    const pristine = (env: Record<string, string | undefined>) => fingerprint({ env, pristine: true });
    const pristineBase = pristine(callerEnv);

    it('differs from the same environment without --pristine', () => {
      expect(pristineBase).not.toBe(base);
    });

    it.each(PRISTINE_ENV_NAMES.map((name) => [name]))('counts the pristine name %s', (name) => {
      expect(pristine({ ...callerEnv, [name]: 'changed' })).not.toBe(pristineBase);
    });

    it('still ignores churn', () => {
      expect(pristine({ ...callerEnv, PWD: '/elsewhere', SHLVL: '9', TERM_SESSION_ID: 'z' })).toBe(pristineBase);
    });

    it('still counts loader variables: the client that receives the values inherits them', () => {
      expect(pristine({ ...callerEnv, LD_PRELOAD: '/tmp/x.so' })).not.toBe(pristineBase);
      expect(pristine({ ...callerEnv, NODE_OPTIONS: '--require /tmp/x.js' })).not.toBe(pristineBase);
    });
  });

  it('never contains a value in the clear (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (text) => {
        const value = `CANARY-${text}`;
        const out = fingerprint({ env: { ...callerEnv, NODE_OPTIONS: value }, plain: [['X', value]] });
        expect(out).toMatch(/^env-v2:[0-9a-f]{64}$/);
        expect(out.includes(value)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('counts any variable that is not churn, whatever its name and value (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 12 }), (name, value) => {
        fc.pre(!(name in callerEnv) && !['__proto__', 'constructor'].includes(name));
        const changed = fingerprint({ env: { ...callerEnv, [name]: value } });
        expect(changed === base).toBe(!isFingerprinted(name));
      }),
      { numRuns: 300 },
    );
  });
});

describe('planFingerprint', () => {
  it("is the environment fingerprint of a plan's pristine setting, overridden aliases and plain entries", () => {
    const env = { PATH: '/usr/bin', NODE_OPTIONS: '--x', API_TOKEN: 'old' };
    const plan = { request: { pristine: true }, plain: [{ key: 'REGION', value: 'eu' }] };
    expect(planFingerprint(env, plan)).toBe(
      environmentFingerprint({ env, pristine: true, plain: [['REGION', 'eu']] }),
    );
    expect(planFingerprint(env, { ...plan, plain: [] })).not.toBe(planFingerprint(env, plan));
  });
});
