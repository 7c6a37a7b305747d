#!/bin/sh
':' //; ulimit -S -c 0; exec node -- "$0" "$@"
// The two lines above are for sh (the command line runs this file through its shebang): `:`
// does nothing, `ulimit -S -c 0` turns core dumps off (this process receives secret values from
// the daemon and hands them to the child; the soft limit only, so a child that wants core files
// can raise it again), then node replaces the shell. For node they are a hashbang and a string
// expression followed by a comment. `node --` matters: Node 20 reads a `--env-file PATH`
// anywhere among the arguments before the first `--`, script arguments included, and applies the
// NODE_OPTIONS in that file (code such as --require) to this very process before it starts
// (nodejs/node#54232). `agent-secret exec --env-file .env` would run what a repository's .env
// says inside agent-secret, even with --dry-run. Invoking `node bin/agent-secret.js` directly,
// as the tests and the daemon do, bypasses this line; they pass no --env-file to node.
//
// agent-secret entry point. CommonJS on purpose (bin/package.json): `--version` is answered
// from dist/version.cjs without starting the ES module loader, which keeps it within a few
// milliseconds of a bare `node` start; `exec` tries dist/fast-exec.cjs first (same reason).
// Everything else goes to dist/cli/main.js.
'use strict';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`agent-secret: Node.js >=20.19 is required (this is ${process.versions.node})\n`);
  process.exitCode = 1;
} else {
  const args = process.argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    // A reader that left is nobody's error; any other failed write is (exit 1, no stack trace).
    process.stdout.on('error', (error) => {
      if (error.code === 'EPIPE') return;
      process.stderr.write(`agent-secret: could not write the version to stdout (${/^[A-Z][A-Z0-9_]{1,40}$/.test(String(error.code)) ? error.code : 'error'})\n`);
      process.exitCode = 1;
    });
    process.stdout.write(`${require('../dist/version.cjs')}\n`);
  } else {
    enablePrivateCompileCache();
    // exec goes first to the fast path (dist/fast-exec.cjs, one CommonJS file): with a daemon
    // running it does the whole exec; otherwise it answers null and the full CLI runs.
    const fast = args[0] === 'exec' ? loadFastExec() : null;
    (fast === null ? Promise.resolve(null) : fast(args))
      .then(
        (code) => (code === null ? runFullCli(args) : code),
        // Never retried through the full CLI: the request may already have been served.
        (error) => internalError('internal error in the exec fast path', error),
      )
      .then((code) => {
        process.exitCode = code;
      });
  }
}

function runFullCli(args) {
  return import('../dist/cli/main.js').then(
    ({ main }) =>
      // main() reports every error itself: one escaping it is a bug, not a missing build.
      main(args).catch((error) => internalError('internal error', error)),
    () => {
      process.stderr.write('agent-secret: cannot load dist/; run `npm run build` in the agent-secret checkout\n');
      return 1;
    },
  );
}

// One line, exit 1; the stack only when AGENT_SECRET_DEBUG=1 asks for it.
function internalError(what, error) {
  const debug = process.env.AGENT_SECRET_DEBUG === '1' && error instanceof Error ? `\n${error.stack}` : '';
  process.stderr.write(`agent-secret: ${what}; rerun with AGENT_SECRET_DEBUG=1 to see it, and report it${debug}\n`);
  return 1;
}

function loadFastExec() {
  try {
    return require('../dist/fast-exec.cjs').fastExec;
  } catch {
    return null;
  }
}

// Node 22+ can cache compiled code. Its default directory is under os.tmpdir(), which is shared
// on Linux: cached bytecode written by someone else would run in this process. So the cache is
// used only in a directory of our own (0700, owned by us, no symlink); anywhere else, not at all.
function enablePrivateCompileCache() {
  const { enableCompileCache } = require('node:module');
  if (typeof enableCompileCache !== 'function' || typeof process.getuid !== 'function') return;
  try {
    const { lstatSync, mkdirSync } = require('node:fs');
    const { homedir } = require('node:os');
    const { isAbsolute, join } = require('node:path');
    const home = isAbsolute(process.env.HOME || '') ? process.env.HOME : homedir();
    const xdg = process.env.XDG_CACHE_HOME;
    const base = process.platform === 'darwin' ? join(home, 'Library', 'Caches') : xdg && isAbsolute(xdg) ? xdg : join(home, '.cache');
    const dir = join(base, 'agent-secret', 'compile-cache');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stats = lstatSync(dir);
    if (!stats.isDirectory() || stats.uid !== process.getuid() || (stats.mode & 0o077) !== 0) return;
    enableCompileCache(dir);
  } catch {
    // The cache is an optimisation only.
  }
}
