// The guard's answers for a table of realistic Bash commands an agent sends (deny with the
// agent-secret command to use instead, or allow), Read tool calls, and the hook contract.
// Files live in a fake file system; the project is /p and the home directory /h.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideCommand, decideGuard, type GuardDecision, type GuardHost } from '../../../src/guard/decide.js';
import { toHookOutput } from '../../../src/guard/hook-output.js';

const CANARY = 'CANARYguardValue7Xq2Lm9Pw4';

const FILES: Record<string, string> = {
  '/p/.env': 'API_TOKEN=op://Engineering/Deploy/token\nPORT=3000\n',
  '/p/.env.local': `STRIPE_SECRET_KEY=${CANARY}\n`,
  '/p/.env.production': 'DATABASE_URL=postgres://app:hunter2pw@db.internal:5432/app\n',
  '/p/.env.example': 'API_TOKEN=\nSTRIPE_SECRET_KEY=<your key>\nPASSWORD=changeme\nPORT=3000\n',
  '/p/.env.plain': 'PORT=3000\nNODE_ENV=development\nDATABASE_URL=postgres://localhost:5432/dev\nAUTH_ENABLED=true\n',
  '/p/.env.op': 'DATABASE_URL=op://Dev/Postgres/url\n',
  '/p/sub/.env': `SUB_TOKEN=${CANARY}\n`,
  '/p/config/prod.env': `export GITHUB_TOKEN=${CANARY}\n`,
  '/p/README.md': 'op read op://x/y/z is how you would do it by hand\n',
  '/p/notes.md': '# notes\n',
  '/p/package.json': '{"version":"1.0.0"}\n',
  '/p/refs.txt': 'op://a/b/c\n',
  '/p/server.key': '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n',
  '/h/.ssh/id_ed25519': '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n',
  '/h/.ssh/id_ed25519.pub': 'ssh-ed25519 AAAAC3Nz user@host\n',
  '/h/.npmrc': `//registry.npmjs.org/:_authToken=${CANARY}\n`,
  '/h/.gitconfig': '[user]\n  name = A\n',
};

function resolvePath(path: string): string {
  if (path.startsWith('~/')) return `/h/${path.slice(2)}`;
  const absolute = path.startsWith('/') ? path : `/p/${path}`;
  const parts: string[] = [];
  for (const part of absolute.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

const host: GuardHost = {
  readFileHead: (path) => FILES[resolvePath(path)] ?? null,
  listDir: (path) => {
    const dir = resolvePath(path);
    const names = Object.keys(FILES)
      .filter((file) => file.startsWith(`${dir}/`) && !file.slice(dir.length + 1).includes('/'))
      .map((file) => file.slice(dir.length + 1));
    return names.length > 0 ? names : null;
  },
};

const bash = (command: string) => decideGuard({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command }, cwd: '/p' }, host);

// [command, the suggested replacement it must contain]
const DENY: Array<[string, string]> = [
  ['op read op://Engineering/Deploy/token', 'agent-secret exec --secret NAME=op://Engineering/Deploy/token --reason'],
  ['op read "op://Engineering/Stripe Key/credential"', "agent-secret exec --secret NAME='op://Engineering/Stripe Key/credential'"],
  ['op item get "GitHub Token" --vault Engineering --fields label=credential', "--secret NAME='op://Engineering/GitHub Token/credential'"],
  ['op item get abc123xyz --format json', 'agent-secret item describe op://<vault>/<item>'],
  ['op run --env-file .env.op -- npm run migrate', 'agent-secret exec --env-file .env.op -- npm run migrate'],
  ['op run -- terraform plan -out plan.bin', 'agent-secret exec --profile <profile> -- terraform plan -out plan.bin'],
  ['op inject -i config.tpl.yml -o config.yml', 'agent-secret exec --env-file <file with op:// references>'],
  ['eval $(op signin)', 'agent-secret doctor'],
  ['op signin --account my.1password.com', 'agent-secret doctor'],
  ['export TOKEN=$(op read op://Eng/API/token) && curl -H "Authorization: Bearer $TOKEN" https://api.example.com', 'NAME=op://Eng/API/token'],
  ['curl -H "Authorization: Bearer $(op read op://Eng/API/token)" https://api.example.com', 'NAME=op://Eng/API/token'],
  ['op read op://Eng/API/token | pbcopy', 'NAME=op://Eng/API/token'],
  ['npm test; op read op://Eng/API/token', 'NAME=op://Eng/API/token'],
  ['(cd infra && op run --env-file ../.env -- terraform apply)', 'agent-secret exec --env-file ../.env -- terraform apply'],
  ["bash -c 'op read op://Eng/API/token'", 'NAME=op://Eng/API/token'],
  ['sh -lc "op item get Stripe --vault Eng --fields password"', '--secret NAME=op://Eng/Stripe/password'],
  ['env OP_ACCOUNT=work op read op://Eng/API/token', 'NAME=op://Eng/API/token'],
  ['sudo -u deploy op read op://Eng/API/token', 'NAME=op://Eng/API/token'],
  ['/usr/local/bin/op read op://Eng/API/token', 'NAME=op://Eng/API/token'],
  ['OP_ACCOUNT=work op --account work read op://Eng/API/token --no-newline', 'NAME=op://Eng/API/token'],
  ['TOKEN=`op read op://Eng/API/token` ./deploy.sh', 'NAME=op://Eng/API/token'],
  ['timeout 10 op item get Deploy', 'agent-secret item describe op://<vault>/<item>'],
  ['op item get GitHub --vault Infra', 'agent-secret item describe op://Infra/GitHub'],
  ['op document get "SSH key" --out-file key.pem', 'agent-secret exec --profile <profile>'],
  ['xargs -n1 op read < refs.txt', 'agent-secret exec --profile <profile>'],
  ['cat <<EOF > config.json\n{"token": "$(op read op://Eng/API/token)"}\nEOF', 'NAME=op://Eng/API/token'],
  ['echo $((op read op://Eng/API/token); true)', 'NAME=op://Eng/API/token'],
  // Flags before the subcommand (cobra accepts a subcommand's flags there), known or not.
  ['op --vault Infra item get Cloudflare --reveal', 'agent-secret item describe'],
  ['op item --vault Infra get Cloudflare --reveal', 'agent-secret item describe'],
  ['op -f -o /dev/stdout read op://Infra/Cloudflare/token', 'NAME=op://Infra/Cloudflare/token'],
  ['op --some-new-flag value read op://Infra/Cloudflare/token', 'NAME=op://Infra/Cloudflare/token'],
  ['op --some-new-switch read op://Infra/Cloudflare/token', 'NAME=op://Infra/Cloudflare/token'],
  ['op events-api create audit-feed', 'agent-secret'],
  // Function bodies in both syntaxes, and relative paths after a cd.
  ['function f { op read op://Eng/API/token; }; f', 'NAME=op://Eng/API/token'],
  ['function f { cat .env; }; f', '--env-file .env'],
  ['cd sub && cat .env', '--env-file sub/.env'],
  ['cd /p/sub; grep TOKEN .env', '--env-file /p/sub/.env'],
  ['pushd sub && cat .env* && popd', '--env-file sub/.env'],
  ['(cd sub) && cat .env.local', '--env-file .env.local'],
  // with-session runs its command with nobody asked: the command is checked.
  ['agent-secret with-session astok_abc -- cat .env', '--env-file .env'],
  ['agent-secret with-session astok_abc --only A -- op read op://Eng/API/token', 'NAME=op://Eng/API/token'],
  ['cat .env', 'agent-secret exec --dry-run --env-file .env --reason'],
  ['cat .env.local', 'agent-secret exec --dry-run --env-file .env.local'],
  ['grep DATABASE_URL .env.production', '--env-file .env.production'],
  ['source .env && npm start', 'agent-secret exec --env-file .env -- <command that needs it>'],
  ['. ./.env', 'agent-secret exec --env-file ./.env --'],
  ['set -a; source .env.production; set +a; npm run migrate', 'agent-secret exec --env-file .env.production --'],
  ['head -n 5 config/prod.env', '--env-file config/prod.env'],
  ['tail -f .env', '--env-file .env'],
  ['less .env.local', '--env-file .env.local'],
  ['cat .env | grep TOKEN', '--env-file .env'],
  ['while read -r line; do echo "$line"; done < .env', '--env-file .env'],
  ['cat ~/.ssh/id_ed25519', 'use the file by its path without printing it'],
  ['cat .env*', '--env-file .env'],
  ['export $(cat .env.local | xargs)', '--env-file .env.local'],
  ["sed -n '1,5p' .env", '--env-file .env'],
  ['cat "$HOME/.npmrc"', 'use the file by its path'],
  ['diff .env.example .env.local', '--env-file .env.local'],
  ['grep -rn TOKEN .env.local', '--env-file .env.local'],
  ['base64 server.key', 'use the file by its path'],
];

const ALLOW: string[] = [
  'op --version',
  'op whoami',
  'op item list --vault Engineering',
  'op vault list --format json',
  'op account list',
  'op read --help',
  'op item create --category login --title Test',
  'agent-secret exec --profile deploy -- fly deploy',
  'agent-secret exec --env-file .env -- npm run migrate',
  'agent-secret exec --dry-run --json --profile deploy -- op read op://Eng/API/token',
  'agent-secret with-session astok_abc -- npm run migrate',
  'cd sub && cat notes.md',
  'cd $SOMEWHERE && ls',
  'function build { npm run build; }; build',
  `agent-secret exec --secret T=op://Eng/API/token --reason "Call the API" -- sh -c 'curl -H "Authorization: Bearer $T" https://x'`,
  'npm test',
  'git status && git diff --stat',
  'ls -la',
  'cat README.md',
  'cat package.json | jq .version',
  'echo "op read is blocked"',
  "echo 'op item get is blocked; cat .env too'",
  'git commit -m "op read"',
  "git commit -m \"$(cat <<'EOF'\nBlock op read and cat .env\nEOF\n)\"",
  'grep -rn "op read" src/',
  'cat .env.example',
  'cat .env.plain',
  'grep -q API_TOKEN .env',
  'grep -c TOKEN .env.local',
  'rg -l TOKEN .env.local',
  'cut -d= -f1 .env.local',
  'ls .env*',
  'cp .env.example .env.new',
  'echo "API_TOKEN=op://Eng/Deploy/token" >> .env',
  'cat > .env <<EOF\nAPI_TOKEN=op://Eng/Deploy/token\nEOF',
  "sed -i 's/3000/4000/' .env",
  'cat .env.missing',
  'which op',
  'command -v op',
  'man op',
  'brew install --cask 1password-cli',
  'cat ~/.ssh/id_ed25519.pub',
  'cat ~/.gitconfig',
  'docker run --env-file .env app:latest',
  'wc -l .env',
  'cat *.md',
  'cat $SOME_FILE',
  'npm run op -- read',
  'test -s ~/.ssh/id_ed25519 && echo present',
];

describe('Bash commands the guard denies, with the command to use instead', () => {
  for (const [command, suggestion] of DENY) {
    it(command.replaceAll('\n', '\\n'), () => {
      const decision = bash(command);
      expect(decision.decision).toBe('deny');
      if (decision.decision !== 'deny') return;
      expect(decision.suggestion).toContain(suggestion);
      expect(decision.reason).toContain(decision.suggestion);
      expect(decision.reason).toMatch(/^agent-secret guard blocked /);
      expect(decision.reason).not.toContain(CANARY);
      expect(decision.reason).not.toContain('hunter2pw');
    });
  }
});

describe('Bash commands the guard allows', () => {
  for (const command of ALLOW) {
    it(command.replaceAll('\n', '\\n'), () => {
      expect(bash(command)).toEqual({ decision: 'allow' });
    });
  }
});

describe('the table is big enough to mean something', () => {
  it('has at least 40 commands of each kind', () => {
    expect(DENY.length).toBeGreaterThanOrEqual(40);
    expect(ALLOW.length).toBeGreaterThanOrEqual(40);
  });
});

describe('what a deny names', () => {
  it('names the op verb it blocked and the rule', () => {
    const decision = bash('sudo op item get Deploy') as Extract<GuardDecision, { decision: 'deny' }>;
    expect(decision).toMatchObject({ rule: 'op-secret-verb', blocked: 'op item get' });
  });
  it('names the file it blocked and the rule', () => {
    const decision = bash('cat notes.md .env.local') as Extract<GuardDecision, { decision: 'deny' }>;
    expect(decision).toMatchObject({ rule: 'secret-file-read', blocked: 'cat .env.local' });
  });
  it('never quotes the content of the file it read', () => {
    for (const command of ['cat .env.local', 'cat config/prod.env', 'cat ~/.npmrc', 'grep x .env.production']) {
      const decision = bash(command);
      expect(JSON.stringify(decision)).not.toContain(CANARY);
      expect(JSON.stringify(decision)).not.toContain('hunter2pw');
    }
  });
});

describe('Read tool', () => {
  const read = (file_path: string) => decideGuard({ hook_event_name: 'PreToolUse', tool_name: 'Read', tool_input: { file_path } }, host);
  it('denies a file holding op:// references or values', () => {
    expect(read('/p/.env')).toMatchObject({ decision: 'deny', rule: 'secret-file-read' });
    expect(read('/p/.env.local')).toMatchObject({ decision: 'deny', suggestion: expect.stringContaining('--env-file /p/.env.local') });
    expect(read('/h/.ssh/id_ed25519')).toMatchObject({ decision: 'deny' });
  });
  it('allows ordinary files, templates with placeholders and missing files', () => {
    for (const path of ['/p/README.md', '/p/.env.example', '/p/.env.plain', '/p/.env.nope', '/h/.ssh/id_ed25519.pub']) expect(read(path)).toEqual({ decision: 'allow' });
  });
});

describe('input it does not handle is allowed silently', () => {
  const cases: unknown[] = [
    null,
    'op read op://a/b/c',
    [],
    {},
    { tool_name: 'Bash' },
    { tool_name: 'Bash', tool_input: null },
    { tool_name: 'Bash', tool_input: { command: 42 } },
    { tool_name: 'Write', tool_input: { file_path: '/p/.env', content: 'x' } },
    { tool_name: 'Edit', tool_input: { file_path: '/p/.env' } },
    { hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'op read op://a/b/c' } },
  ];
  for (const input of cases) {
    it(JSON.stringify(input), () => expect(decideGuard(input, host)).toEqual({ decision: 'allow' }));
  }
  it('a host that throws allows (a broken guard must not stop every tool call)', () => {
    const broken: GuardHost = {
      readFileHead: () => {
        throw new Error('boom');
      },
    };
    expect(decideGuard({ tool_name: 'Bash', tool_input: { command: 'cat .env' } }, broken)).toEqual({ decision: 'allow' });
  });
});

describe('hook output (Claude Code PreToolUse contract)', () => {
  it('a deny is one JSON line with hookSpecificOutput', () => {
    const line = toHookOutput(bash('op read op://Eng/API/token'))!;
    expect(line).not.toContain('\n');
    const parsed = JSON.parse(line) as { hookSpecificOutput: Record<string, string> };
    expect(Object.keys(parsed)).toEqual(['hookSpecificOutput']);
    expect(parsed.hookSpecificOutput).toEqual({
      hookEventName: 'PreToolUse',
      permissionDecision: 'deny',
      permissionDecisionReason: expect.stringContaining('agent-secret exec --secret NAME=op://Eng/API/token'),
    });
  });
  it('an allow prints nothing', () => {
    expect(toHookOutput({ decision: 'allow' })).toBeNull();
  });
});

describe('properties', () => {
  const SECRET_COMMANDS = ['op read op://a/b/c', 'op item get Deploy', 'op run -- make', 'op inject -i t', 'cat .env', 'source .env.local'];
  const shellish = fc
    .array(fc.constantFrom('op', 'read', 'cat', '.env', ' ', "'", '"', '$(', ')', '`', '|', '&&', ';', '(', '<<', 'EOF', '\n', '\\', '${', '}', '*', '<', '>', 'bash -c', '$\'', 'x', '#', '{a,b}'), { maxLength: 40 })
    .map((parts) => parts.join(''));

  it('decideGuard never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.anything(), (input) => ['allow', 'deny'].includes(decideGuard(input, host).decision)), { numRuns: 500 });
  });
  it('decideCommand never throws on arbitrary or shell-like strings', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 200 }), shellish), (command) => ['allow', 'deny'].includes(decideCommand(command, host).decision)), { numRuns: 2000 });
  });
  it('a secret read stays denied however it is wrapped or chained', () => {
    const wrap = fc.constantFrom(
      (c: string) => `sudo ${c}`,
      (c: string) => `env A=1 ${c}`,
      (c: string) => `npm test && ${c}`,
      (c: string) => `${c} | tee out.txt`,
      (c: string) => `(${c})`,
      (c: string) => `echo "$(${c})"`,
      (c: string) => `bash -c '${c}'`,
      (c: string) => `timeout 5 ${c}`,
      (c: string) => `if true; then ${c}; fi`,
    );
    fc.assert(
      fc.property(fc.constantFrom(...SECRET_COMMANDS), fc.array(wrap, { maxLength: 3 }), (command, wrappers) => {
        const wrapped = wrappers.reduce((text, f) => (text.includes("'") ? text : f(text)), command);
        return bash(wrapped).decision === 'deny';
      }),
    );
  });
  it('the same words as quoted text are allowed', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SECRET_COMMANDS), fc.constantFrom('echo', 'git commit -m', 'printf %s'), (command, prefix) => bash(`${prefix} '${command}'`).decision === 'allow'),
    );
  });
  it('deeply nested substitutions neither throw nor hang', () => {
    const deep = `${'$('.repeat(5000)}op read op://a/b/c${')'.repeat(5000)}`;
    expect(['allow', 'deny']).toContain(bash(deep).decision);
    expect(bash(`${'{'.repeat(20000)}x`).decision).toBe('allow');
  });
});
