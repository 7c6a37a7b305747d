#!/usr/bin/env node
// agent-secret entry point. CommonJS on purpose (bin/package.json): `--version` is answered
// from dist/version.cjs without starting the ES module loader, which keeps it within a few
// milliseconds of a bare `node` start. Everything else goes to dist/cli/main.js.
'use strict';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`agent-secret: Node.js >=20.19 is required (this is ${process.versions.node})\n`);
  process.exitCode = 1;
} else {
  const args = process.argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    process.stdout.write(`${require('../dist/version.cjs')}\n`);
  } else {
    const { enableCompileCache } = require('node:module');
    if (typeof enableCompileCache === 'function') {
      try {
        enableCompileCache();
      } catch {
        // The cache is an optimisation only.
      }
    }
    import('../dist/cli/main.js')
      .then(({ main }) => main(args))
      .then((code) => {
        process.exitCode = code;
      })
      .catch(() => {
        process.stderr.write('agent-secret: cannot load dist/; run `npm run build` in the agent-secret checkout\n');
        process.exitCode = 1;
      });
  }
}
