#!/usr/bin/env node
// agent-secret entry point: checks the Node version, answers --version without loading the
// CLI, enables the compile cache where Node has it, then hands over to dist/cli/main.js.

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`agent-secret: Node.js >=20.19 is required (this is ${process.versions.node})\n`);
  process.exitCode = 1;
} else {
  const args = process.argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    const { VERSION } = await import('../dist/version.js');
    process.stdout.write(`${VERSION}\n`);
  } else {
    const { enableCompileCache } = await import('node:module');
    if (typeof enableCompileCache === 'function') {
      try {
        enableCompileCache();
      } catch {
        // The cache is an optimisation only.
      }
    }
    const { main } = await import('../dist/cli/main.js');
    process.exitCode = await main(args);
  }
}
