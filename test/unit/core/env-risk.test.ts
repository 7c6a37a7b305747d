// The one risk list: matched in any letter case, and the alias denylist, the reuse fingerprint
// and the prompt warnings all agree with it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFingerprinted } from '../../../src/broker/reuse-key.js';
import { deniedAliasRules, validateAlias } from '../../../src/core/alias.js';
import { ENV_RISK_RULES, envRisk, refusedAsAlias } from '../../../src/core/env-risk.js';
import { envWarnings } from '../../../src/request/warnings.js';

describe('envRisk', () => {
  const cases: Array<[string, string | null]> = [
    ['PYTHONPATH', 'interpreter'],
    ['PYTHONUSERBASE', 'interpreter'],
    ['pythonpath', 'interpreter'],
    ['https_proxy', 'network-trust'],
    ['HTTPS_PROXY', 'network-trust'],
    ['npm_config_registry', 'package-manager'],
    ['NPM_CONFIG_SCRIPT_SHELL', 'package-manager'],
    ['GOFLAGS', 'build-tool'],
    ['RUSTC_WRAPPER', 'build-tool'],
    ['GIT_EXTERNAL_DIFF', 'git'],
    ['GIT_DIR', 'git'],
    ['GIT_CONFIG_COUNT', 'git'],
    ['KUBECONFIG', 'network-trust'],
    ['SSL_CERT_FILE', 'network-trust'],
    ['GCONV_PATH', 'loader'],
    ['LD_PRELOAD', 'loader'],
    ['ld_preload', 'loader'],
    ['HOME', 'location'],
    ['API_TOKEN', null],
    ['TF_LOG', null],
    ['PWD', null],
  ];
  it.each(cases)('%s -> %s', (name, category) => {
    expect(envRisk(name)?.category ?? null).toBe(category);
  });

  it('matches in any letter case (property)', () => {
    const names = ENV_RISK_RULES.map((r) => (r.prefix ? `${r.name}X` : r.name));
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), (name, flips) => {
        const mixed = [...name].map((ch, i) => (flips[i % flips.length] ? ch.toLowerCase() : ch.toUpperCase())).join('');
        expect(envRisk(mixed)).toEqual(envRisk(name));
        expect(refusedAsAlias(mixed)).toBe(refusedAsAlias(name));
      }),
      { numRuns: 300 },
    );
  });
});

describe('the lists agree', () => {
  const { names, prefixes } = deniedAliasRules();
  const denied: Array<[string]> = [...names.map((n) => [n] as [string]), ...prefixes.filter((p) => p !== 'AGENT_SECRET_').map((p) => [`${p}X`] as [string])];

  it.each(denied)('denylisted alias %s is on the risk list and fingerprinted', (name) => {
    expect(validateAlias(name).ok).toBe(false);
    expect(envRisk(name)).not.toBeNull();
    expect(isFingerprinted(name)).toBe(true);
  });

  it.each([['GCONV_PATH'], ['NODE_EXTRA_CA_CERTS'], ['NODE_TLS_REJECT_UNAUTHORIZED'], ['PYTHONINSPECT'], ['PERL5DB'], ['LESSOPEN'], ['BROWSER'], ['HOME'], ['TMPDIR']])(
    '%s (refused as an alias) is fingerprinted and warned about in an env file',
    (name) => {
      expect(validateAlias(name).ok).toBe(false);
      expect(isFingerprinted(name)).toBe(true);
      expect(envWarnings([name], []).join('\n')).toContain(name);
    },
  );

  it.each([['HTTPS_PROXY'], ['CARGO_REGISTRY_TOKEN'], ['GEM_HOST_API_KEY'], ['GIT_TOKEN'], ['PIP_INDEX_URL']])('%s may carry a secret (credentials) and is still fingerprinted', (name) => {
    expect(validateAlias(name).ok).toBe(true);
    expect(isFingerprinted(name)).toBe(true);
  });
});

describe('envWarnings', () => {
  it('names risky env-file entries with their category, any case, ambient ones included', () => {
    const [w] = envWarnings(['GOFLAGS', 'HOME', 'TF_LOG', 'https_proxy', 'npm_config_registry'], []);
    expect(w).toContain('GOFLAGS (build-tool)');
    expect(w).toContain('HOME (location)');
    expect(w).toContain('https_proxy (network-trust)');
    expect(w).toContain('npm_config_registry (package-manager)');
    expect(w).not.toContain('TF_LOG');
  });

  it("names the caller's risky variables with --pristine suggested, but not the ambient ones or those an env file replaces", () => {
    const warnings = envWarnings(['NODE_OPTIONS'], ['PATH', 'HOME', 'TMPDIR', 'SHELL', 'PYTHONPATH', 'NODE_OPTIONS', 'LANG']);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain("the caller's environment sets PYTHONPATH (interpreter)");
    expect(warnings[1]).toContain('--pristine');
    expect(warnings[1]).not.toMatch(/\bPATH \(|HOME|TMPDIR|SHELL|NODE_OPTIONS/);
  });

  it('says nothing of the editor and pager variables agent harnesses set (GIT_EDITOR=true), but names them in an env file', () => {
    expect(envWarnings([], ['PATH', 'HOME', 'GIT_EDITOR', 'GIT_PAGER', 'GIT_SEQUENCE_EDITOR', 'EDITOR', 'PAGER'])).toEqual([]);
    expect(envWarnings(['GIT_EDITOR'], []).join('\n')).toContain('an env file sets GIT_EDITOR (git)');
  });

  it('is empty for an ordinary environment', () => {
    expect(envWarnings(['TF_LOG', 'REGION'], ['PATH', 'HOME', 'USER', 'LANG', 'TERM', 'PWD', 'SHLVL'])).toEqual([]);
  });

  it('lists at most 8 names and counts the rest', () => {
    const names = Array.from({ length: 12 }, (_, i) => `PYTHONX${i}`);
    expect(envWarnings([], names)[0]).toContain('and 4 more');
  });
});
