// The environments op and the other provider helpers run with: what the daemon's starter set
// that would change what they trust, run or who they are never reaches them; the rest does.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../../src/core/secret-value.js';
import { buildOpEnv, serviceAccountEnv } from '../../../src/provider/op/run-op.js';
import { CA_OVERRIDES, helperEnv } from '../../../src/provider/run-process.js';

const STARTER = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/u',
  HTTPS_PROXY: 'http://proxy.internal:3128',
  SSL_CERT_FILE: '/tmp/agent/ca.pem',
  SSL_CERT_DIR: '/tmp/agent/certs',
  CURL_CA_BUNDLE: '/tmp/agent/ca.pem',
  REQUESTS_CA_BUNDLE: '/tmp/agent/ca.pem',
  NODE_EXTRA_CA_CERTS: '/tmp/agent/ca.pem',
  NODE_OPTIONS: '--require /tmp/agent/hook.js',
  AGENT_SECRET_AGENT_TOKEN: 'asagent_x',
};

describe('provider environments', () => {
  it.each([
    ['op through the desktop app', () => buildOpEnv(STARTER)],
    ['op with a service-account token', () => serviceAccountEnv(STARTER, new SecretValue('ops_token'))],
    ['bws and provider programs', () => helperEnv(STARTER, { BWS_ACCESS_TOKEN: 'token' })],
  ])('%s: no certificate authority, code or identity of the starter; the proxy and the rest stay', (_name, build) => {
    const env = build();
    for (const name of [...CA_OVERRIDES, 'NODE_OPTIONS', 'AGENT_SECRET_AGENT_TOKEN']) expect(env[name]).toBeUndefined();
    expect(env).toMatchObject({ PATH: '/usr/bin:/bin', HOME: '/home/u', HTTPS_PROXY: 'http://proxy.internal:3128' });
  });

  it('whatever else the starter sets, no CA override gets through', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,15}$/), fc.string({ maxLength: 20 })), fc.constantFrom(...CA_OVERRIDES), (extra, ca) => {
        const env = { ...extra, [ca]: '/tmp/ca.pem' };
        expect(buildOpEnv(env)[ca]).toBeUndefined();
        expect(helperEnv(env)[ca]).toBeUndefined();
      }),
    );
  });
});
