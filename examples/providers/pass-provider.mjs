#!/usr/bin/env node
// agent-secret provider program for pass (https://www.passwordstore.org/), the standard Unix
// password manager. Declare it in ~/.config/agent-secret/config.yml:
//
//   providers:
//     pass:
//       command: ["/absolute/path/to/pass-provider.mjs"]
//
// References:
//   pass://PATH          the first line of `pass show PATH` (pass's convention: the password)
//   pass://PATH#FIELD    the value of the line `FIELD: value` in that entry (e.g. #login, #url)
//
// Protocol (docs/providers.md): one JSON request on stdin
//   {"version": 1, "id": "req_…", "scheme": "pass", "refs": [{"ref": "pass://…", "identity": null}], "deadline": "…"}
// and one JSON answer on stdout: {"values": {ref: value}} for every ref, or {"error": {ref: "words"}}.
// Values are written to stdout only, once; pass's own stderr is never passed on.
// Environment: PASS_PROGRAM (default: pass on PATH) and pass's own (PASSWORD_STORE_DIR, GNUPGHOME, …).

import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// No segment may start with '-' (an option to pass) or be . or ..; pass also gets `--` before it.
const PATH_RULE = /^[A-Za-z0-9._@+][A-Za-z0-9._@+-]*(\/[A-Za-z0-9._@+][A-Za-z0-9._@+ -]*)*$/;
const FIELD_RULE = /^[A-Za-z0-9._ -]{1,64}$/;

/** pass://PATH[#FIELD] → { path, field } or null. */
export function parsePassRef(ref) {
  if (typeof ref !== 'string' || !ref.startsWith('pass://')) return null;
  const rest = ref.slice('pass://'.length);
  const hash = rest.indexOf('#');
  const path = hash === -1 ? rest : rest.slice(0, hash);
  const field = hash === -1 ? null : rest.slice(hash + 1);
  if (!PATH_RULE.test(path) || path.split('/').some((part) => part === '.' || part === '..')) return null;
  if (field !== null && !FIELD_RULE.test(field)) return null;
  return { path, field };
}

/** The value a reference names in the text of `pass show`, or null. */
export function pickValue(text, field) {
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  if (field === null) return lines[0] ?? null;
  const prefix = `${field.toLowerCase()}:`;
  const line = lines.slice(1).find((l) => l.toLowerCase().startsWith(prefix));
  return line === undefined ? null : line.slice(prefix.length).trim();
}

function show(path, deadlineMs) {
  return new Promise((resolve) => {
    const program = process.env.PASS_PROGRAM || 'pass';
    const timeout = Math.max(1_000, Math.min(60_000, deadlineMs - Date.now()));
    execFile(program, ['show', '--', path], { encoding: 'utf8', timeout, maxBuffer: 1024 * 1024, shell: false }, (error, stdout) => {
      if (error) {
        // pass prints "Error: PATH is not in the password store." and exits 1; gpg failures differ.
        resolve({ ok: false, missing: error.code === 1 && typeof error.message === 'string' && error.message.includes('is not in the password store') });
        return;
      }
      resolve({ ok: true, text: stdout });
    });
  });
}

export async function answer(request) {
  if (request === null || typeof request !== 'object' || request.version !== 1 || !Array.isArray(request.refs)) {
    return { error: {} };
  }
  const deadline = Date.parse(request.deadline);
  const refs = [...new Set(request.refs.map((r) => r?.ref))];
  const values = {};
  const errors = {};
  const cache = new Map();
  for (const ref of refs) {
    const parsed = parsePassRef(ref);
    if (parsed === null) {
      errors[ref] = 'not a pass reference: expected pass://PATH or pass://PATH#FIELD';
      continue;
    }
    if (!cache.has(parsed.path)) cache.set(parsed.path, await show(parsed.path, Number.isFinite(deadline) ? deadline : Date.now() + 30_000));
    const shown = cache.get(parsed.path);
    if (!shown.ok) {
      errors[ref] = shown.missing ? `${parsed.path} is not in the password store` : `pass could not decrypt ${parsed.path} (is the gpg agent unlocked?)`;
      continue;
    }
    const value = pickValue(shown.text, parsed.field);
    if (value === null || value.includes('\0')) errors[ref] = parsed.field === null ? `${parsed.path} is empty` : `${parsed.path} has no "${parsed.field}:" line`;
    else values[ref] = value;
  }
  cache.clear();
  return Object.keys(errors).length > 0 ? { error: errors } : { values };
}

async function main() {
  let input = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) {
    input += chunk;
    if (input.length > 1024 * 1024) {
      process.exitCode = 2;
      return;
    }
  }
  let request;
  try {
    request = JSON.parse(input);
  } catch {
    process.exitCode = 2;
    return;
  }
  const result = await answer(request);
  if (result.error !== undefined && Object.keys(result.error).length === 0) {
    process.exitCode = 2;
    return;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// Run as a program (not when a test imports it).
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
