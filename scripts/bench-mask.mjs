#!/usr/bin/env node
// Masking throughput: 200 MB of realistic mixed log text (timestamps, JSON, hashes, base64, a few
// embedded secrets in raw, encoded and escaped forms or cut to a 14-character prefix), 20
// secrets. Two settings, each pumped the way exec pumps a child's output (exec/pump.ts) through
// (a) a filter that passes chunks as they are vs (b) the masker, alternating, median of 5:
//   1. in process: 64 KiB chunks copied fresh from memory (stream machinery only; the strictest
//      baseline, no I/O at all);
//   2. OS pipe: a child process writes the text to its stdout, as the child of `exec` does, and
//      the parent pumps it through the filter (the setting the masker runs in).
// Prints MB/s and ratios (target >= 0.50), and the time the first compile of the patterns takes
// (what the first masked output of an exec waits for). Imports the compiled masker from dist/.
// Secrets here are generated canaries; nothing real is read.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { compileMaskPatterns, createMasker, MASK_TEXT } = await import(`${root}dist/mask/masker.js`);
const { pumpThrough } = await import(`${root}dist/exec/pump.js`);

const TOTAL = 200 * 1024 * 1024;
const CHUNK = 64 * 1024;
const RUNS = 5;

// Deterministic PRNG (mulberry32) so every run sees the same text.
let seed = 0x5eed1234;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];
const chars = (alphabet, n) => Array.from({ length: n }, () => pick(alphabet)).join('');
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';

const secrets = [
  ...Array.from({ length: 5 }, () => `ghp_${chars(ALNUM, 36)}`),
  ...Array.from({ length: 4 }, () => `sk_live_${chars(ALNUM, 24)}`),
  ...Array.from({ length: 3 }, () => `AKIA${chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`),
  ...Array.from({ length: 3 }, () => chars(`${ALNUM}/+`, 40)),
  ...Array.from({ length: 3 }, () => chars(`${ALNUM}!@#$%^&*-_`, 16)),
  ...Array.from({ length: 2 }, () => `xoxb-${chars('0123456789', 12)}-${chars(ALNUM, 24)}`),
];

function encodedForm(value) {
  const bytes = Buffer.from(value);
  const lowerUrl = encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (s) => s.toLowerCase());
  return pick([value, value, bytes.toString('base64'), bytes.toString('hex'), encodeURIComponent(value), lowerUrl, JSON.stringify(value).slice(1, -1).replaceAll('/', '\\/'), value.slice(0, 14)]);
}

function logLine(i) {
  const ts = `2026-03-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z`;
  const kind = random();
  if (kind < 0.45) {
    return `${ts} ${pick(['INFO ', 'DEBUG', 'WARN ', 'INFO '])} [${pick(['http', 'worker-1', 'worker-2', 'db', 'cache'])}] ${pick(['GET', 'POST', 'PUT'])} /api/v1/${pick(['users', 'orders', 'items', 'sessions'])}/${Math.floor(random() * 100000)} ${pick(['200', '201', '304', '404', '500'])} ${Math.floor(random() * 900)}ms req=${chars(HEX, 8)}-${chars(HEX, 4)}-${chars(HEX, 4)}`;
  }
  if (kind < 0.7) {
    return JSON.stringify({ level: pick(['info', 'debug', 'error']), time: Date.UTC(2026, 2, 1) + i * 13, msg: pick(['cache miss', 'request completed', 'retrying connection', 'job finished']), user: `u_${Math.floor(random() * 1e6)}`, duration_ms: Math.floor(random() * 5000) });
  }
  if (kind < 0.8) return `    at ${pick(['Object.<anonymous>', 'processTicksAndRejections', 'Server.handle', 'Module._compile'])} (/srv/app/${pick(['src', 'node_modules/express/lib'])}/${pick(['index', 'router', 'layer'])}.js:${Math.floor(random() * 400)}:${Math.floor(random() * 80)})`;
  if (kind < 0.88) return `commit ${chars(HEX, 40)} ${pick(['Merge branch main', 'Fix flaky test', 'Bump deps', 'Refactor config loader'])}`;
  if (kind < 0.94) return `payload: ${Buffer.from(chars(ALNUM + ' ', 60)).toString('base64')}`;
  return `${ts} npm ${pick(['http fetch GET 200', 'timing reify', 'sill placeDep'])} https://registry.npmjs.org/${pick(['react', 'zod', 'vitest', 'left-pad'])} ${Math.floor(random() * 300)}ms (cache ${pick(['hit', 'miss', 'revalidated'])})`;
}

// About 16 MiB of text, cycled to 200 MB; one secret (some form) every ~400 lines.
const lines = [];
let size = 0;
let embedded = 0;
for (let i = 0; size < 16 * 1024 * 1024; i += 1) {
  let line = logLine(i);
  if (i % 400 === 199) {
    line = `${line} auth=${encodedForm(pick(secrets))} done`;
    embedded += 1;
  }
  lines.push(line);
  size += line.length + 1;
}
const corpus = Buffer.from(`${lines.join('\n')}\n`);

function source() {
  let sent = 0;
  return Readable.from(
    (function* generate() {
      while (sent < TOTAL) {
        const at = sent % (corpus.length - CHUNK);
        const chunk = Buffer.from(corpus.subarray(at, at + Math.min(CHUNK, TOTAL - sent)));
        sent += chunk.length;
        yield chunk;
      }
    })(),
    { objectMode: false },
  );
}

// The child for the pipe setting: writes TOTAL bytes of the corpus file to stdout, 64 KiB at a time.
const work = mkdtempSync(join(tmpdir(), 'agent-secret-bench-mask-'));
const corpusFile = join(work, 'corpus.txt');
const writerFile = join(work, 'writer.mjs');
writeFileSync(corpusFile, corpus);
writeFileSync(
  writerFile,
  `import { readFileSync } from 'node:fs';
const corpus = readFileSync(${JSON.stringify(corpusFile)});
const total = ${TOTAL};
let sent = 0;
function more() {
  while (sent < total) {
    const at = sent % (corpus.length - ${CHUNK});
    const chunk = corpus.subarray(at, at + Math.min(${CHUNK}, total - sent));
    sent += chunk.length;
    if (!process.stdout.write(chunk)) return process.stdout.once('drain', more);
  }
  process.stdout.end();
}
more();
`,
);

function childSource() {
  const child = spawn(process.execPath, [writerFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  return child.stdout;
}

async function measure(makeFilter, makeSource) {
  let bytes = 0;
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  const start = process.hrtime.bigint();
  await pumpThrough(makeSource(), { filter: makeFilter(), destination: () => sink });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (bytes !== TOTAL && makeFilter === passthrough) throw new Error(`short read: ${bytes}`);
  return TOTAL / 1e6 / seconds;
}

const passthrough = () => ({ push: (chunk) => chunk, end: () => Buffer.alloc(0) });
const masked = () => createMasker(secrets);

// What the first masked output of an exec pays before it is passed on: compiling the patterns
// (cold: the first call in this process).
const compileStart = process.hrtime.bigint();
compileMaskPatterns(secrets);
const compileMs = Number(process.hrtime.bigint() - compileStart) / 1e6;

// Sanity: the masker catches the embedded secrets in this corpus and leaves no value behind.
const probe = createMasker(secrets);
const once = Buffer.concat([probe.push(corpus), probe.end()]);
const masks = once.toString().split(MASK_TEXT).length - 1;
const leaked = secrets.filter((secret) => once.includes(secret)).length;
if (masks < embedded || leaked > 0) {
  console.error(`masking check failed: ${masks} masks for ${embedded} embedded secrets, ${leaked} values left`);
  process.exit(1);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
async function compare(makeSource) {
  await measure(passthrough, makeSource);
  await measure(masked, makeSource);
  const plain = [];
  const withMask = [];
  for (let run = 0; run < RUNS; run += 1) {
    plain.push(await measure(passthrough, makeSource));
    withMask.push(await measure(masked, makeSource));
  }
  return { a: median(plain), b: median(withMask) };
}

try {
  console.log(`masking throughput (200 MB mixed log text, ${secrets.length} secrets = ${probe.patternCount} patterns, ${masks} masks for ${embedded} embedded secrets per 16 MiB; median of ${RUNS}, alternating)`);
  console.log(`  compiling the patterns (first call, cold): ${compileMs.toFixed(1)} ms`);
  const memory = await compare(source);
  console.log(`  in process, 64 KiB chunks: plain ${memory.a.toFixed(0)} MB/s, masked ${memory.b.toFixed(0)} MB/s, ratio ${(memory.b / memory.a).toFixed(2)}x`);
  const piped = await compare(childSource);
  console.log(`  OS pipe from a child:      plain ${piped.a.toFixed(0)} MB/s, masked ${piped.b.toFixed(0)} MB/s, ratio ${(piped.b / piped.a).toFixed(2)}x   (target >= 0.50x)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
