#!/usr/bin/env node
// The bench's floor: the least a client of the daemon protocol can do for a reused exec. It sends
// a prebuilt exec.argv body right behind hello (the broker plans it, as for any client), runs the
// child the delivery describes with inherited output and reports it, with no masking, no identity
// check and no error handling. Not a product path: it shows how much of a reused exec's time is
// node, the daemon and the child, whatever the client.
// Usage: bench-floor-client.cjs SOCKET BODY_JSON_FILE
'use strict';

const { connect } = require('node:net');
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');

const [socketPath, bodyFile] = process.argv.slice(2);
const body = JSON.parse(readFileSync(bodyFile, 'utf8'));
body.pid = process.pid;
const version = require('../dist/version.cjs');
const id = `floor-${process.pid}`;
const socket = connect({ path: socketPath });
const send = (type, frameBody) => socket.write(`${JSON.stringify({ v: 1, id, type, body: frameBody })}\n`);
let buffered = '';
socket.on('connect', () => {
  send('hello', { version, protocol: 1 });
  send('exec.argv', body);
});
socket.on('data', (chunk) => {
  buffered += chunk;
  for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
    const frame = JSON.parse(buffered.slice(0, newline));
    buffered = buffered.slice(newline + 1);
    if (frame.type === 'exec.deliver') {
      const { spawn: how } = frame.body;
      const child = spawn(how.executable, how.command.slice(1), { argv0: how.command[0], cwd: how.cwd, stdio: 'inherit', env: { ...process.env, ...frame.body.env } });
      child.on('spawn', () => send('exec.started', { pid: child.pid }));
      child.on('exit', (code) => send('exec.exited', { exit_code: code ?? 1, signal: null, duration_ms: 0 }));
    } else if (frame.type === 'exec.exited.ok') {
      socket.destroy();
    } else if (frame.type !== 'hello.ok') {
      process.exitCode = 1;
      socket.destroy();
    }
  }
});
