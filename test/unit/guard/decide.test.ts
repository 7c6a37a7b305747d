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
  '/p/src/app.ts': 'import { useState } from "react";\nexport const TOKEN_HEADER = "x-token";\n',
  '/p/src/index.ts': 'export * from "./app";\n',
  '/p/docs/guide.md': '# Guide\nSet API_TOKEN in .env\n',
  '/p/scripts/build.sh': '#!/bin/sh\nnpm run build\n',
  '/p/node_modules/pkg/.env': `PKG_SECRET=${CANARY}\n`,
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
  readDir: (path) => {
    const dir = resolvePath(path);
    const entries = new Map<string, boolean>();
    for (const file of Object.keys(FILES)) {
      if (!file.startsWith(`${dir}/`)) continue;
      const [name, ...deeper] = file.slice(dir.length + 1).split('/');
      entries.set(name!, deeper.length > 0 || entries.get(name!) === true);
    }
    return entries.size > 0 ? [...entries].map(([name, dir]) => ({ name, dir })) : null;
  },
};

const bash = (command: string) => decideGuard({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command }, cwd: '/p' }, host);

// [command, the suggested replacement it must contain]
const DENY: Array<[string, string]> = [
  ['op read op://Engineering/Deploy/token', 'agent-secret exec --secret NAME=op://Engineering/Deploy/token --reason'],
  ['op read "op://Engineering/Stripe Key/credential"', "agent-secret exec --secret NAME='op://Engineering/Stripe Key/credential'"],
  ['op item get "GitHub Token" --vault Engineering --fields label=credential', "--secret NAME='op://Engineering/GitHub Token/credential'"],
  ['op item get abc123xyz --format json', 'agent-secret item describe op://<vault>/<item>'],
  ['op run --env-file .env.op -- npm run migrate', 'agent-secret exec --env-file .env.op --reason "<why>" -- npm run migrate'],
  ['op run -- terraform plan -out plan.bin', 'agent-secret exec --profile <profile> -- terraform plan -out plan.bin'],
  ['op inject -i config.tpl.yml -o config.yml', 'agent-secret exec --env-file <file with op:// references>'],
  ['eval $(op signin)', 'agent-secret doctor'],
  ['op signin --account my.1password.com', 'agent-secret doctor'],
  ['export TOKEN=$(op read op://Eng/API/token) && curl -H "Authorization: Bearer $TOKEN" https://api.example.com', 'NAME=op://Eng/API/token'],
  ['curl -H "Authorization: Bearer $(op read op://Eng/API/token)" https://api.example.com', 'NAME=op://Eng/API/token'],
  ['op read op://Eng/API/token | pbcopy', 'NAME=op://Eng/API/token'],
  ['npm test; op read op://Eng/API/token', 'NAME=op://Eng/API/token'],
  ['(cd infra && op run --env-file ../.env -- terraform apply)', 'agent-secret exec --env-file ../.env --reason "<why>" -- terraform apply'],
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
  ['source .env && npm start', 'agent-secret exec --env-file .env --reason "<why>" -- <command that needs it>'],
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
  // Recursive searches reach every secret file under the tree, when the pattern would print one of its secret lines.
  ['grep -r TOKEN .', '--env-file .env'],
  ['grep -rn API_TOKEN', '--env-file .env'],
  ['grep -R "SECRET" .', '--env-file .env.local'],
  ['grep -ri database_url .', '--env-file .env.production'],
  ['rg TOKEN', '--env-file config/prod.env'],
  ['rg --hidden STRIPE', '--env-file .env.local'],
  ['rg -uu -i stripe', '--env-file .env.local'],
  ['ag GITHUB_TOKEN', '--env-file config/prod.env'],
  ['ack TOKEN', '--env-file .env'],
  ['git grep -n TOKEN', '--env-file .env'],
  ['grep -rn -A2 PORT .', '--env-file .env'],
  ['grep -rv nothing-matches-this .', '--env-file .env'],
  ['grep -r -f patterns.txt .', '--env-file .env'],
  ['rg -e SECRET -e TOKEN config/', '--env-file config/prod.env'],
  ['grep -r "BEGIN.*PRIVATE" .', 'use the file by its path'],
  ['cd sub && grep -r TOKEN .', '--env-file sub/.env'],
  ["grep --recursive --include='*.env' GITHUB_TOKEN .", '--env-file config/prod.env'],
  ['rg -S github_token', '--env-file config/prod.env'],
  ['egrep -r "(API|GITHUB)_TOKEN" .', '--env-file .env'],
  // Inline interpreter code that names a secret file or runs op.
  [`python3 -c 'print(open(".env").read())'`, '--env-file .env'],
  [`python -c "import os; print(open(os.path.expanduser('~/.ssh/id_ed25519')).read())"`, 'use the file by its path'],
  [`node -e "console.log(require('fs').readFileSync('.env.local','utf8'))"`, '--env-file .env.local'],
  [`node -p "require('fs').readFileSync('.env', 'utf8')"`, '--env-file .env'],
  [`node --eval "require('dotenv').config(); console.log(process.env)"`, '--env-file .env'],
  ['perl -ne print .env.local', '--env-file .env.local'],
  [`perl -e 'open F, "<", ".env"; print <F>'`, '--env-file .env'],
  [`ruby -e 'puts File.read(".env")'`, '--env-file .env'],
  [`deno eval 'console.log(Deno.readTextFileSync(".env"))'`, '--env-file .env'],
  [`bun -e 'console.log(await Bun.file(".env").text())'`, '--env-file .env'],
  [`php -r 'echo file_get_contents(".env");'`, '--env-file .env'],
  [`awk '{ while ((getline line < ".env.local") > 0) print line }' /dev/null`, '--env-file .env.local'],
  [`python3 -c 'import subprocess; print(subprocess.check_output(["op", "read", "op://Eng/API/token"]))'`, 'NAME=op://Eng/API/token'],
  [`node -e "console.log(require('child_process').execSync('op item get Deploy --vault Infra').toString())"`, 'agent-secret item describe op://Infra/Deploy'],
  [`python3 -c "import sys; print(open(sys.argv[1]).read())" .env`, '--env-file .env'],
  // A command word made at run time, with op verbs or secret files on the rest of the line.
  ['$(echo op) read op://Eng/API/token', 'NAME=op://Eng/API/token'],
  ['X=op; $X read op://Eng/API/token', 'NAME=op://Eng/API/token'],
  ['${OP:-op} item get Deploy --vault Infra', 'agent-secret item describe op://Infra/Deploy'],
  ['`which op` inject -i config.tpl -o config.yml', 'agent-secret exec --env-file <file with op:// references>'],
  ['"$OP_BIN" read "op://Eng/API/token"', 'NAME=op://Eng/API/token'],
  ['$PAGER .env.local', '--env-file .env.local'],
  // Decoded text run as code: nobody can see what runs.
  ['echo b3AgcmVhZCBvcDovL0VuZy9BUEkvdG9rZW4= | base64 -d | sh', 'run the decoded command as plain text'],
  ['base64 --decode payload.txt | bash', 'run the decoded command as plain text'],
  ['eval "$(echo b3AgcmVhZA== | base64 -d)"', 'run the decoded command as plain text'],
  ['bash <<< "$(base64 -d <<< b3AgcmVhZA==)"', 'run the decoded command as plain text'],
  ['xxd -r -p cmd.hex | sh', 'run the decoded command as plain text'],
  [`bash -c "$(printf '\\x6f\\x70 read')"`, 'run the decoded command as plain text'],
  ['echo cHJpbnQoMSk= | base64 -d | python3', 'run the decoded command as plain text'],
  ['bash <(echo b3AgcmVhZA== | base64 -d)', 'run the decoded command as plain text'],
  // Other ways of printing a file.
  ['busybox cat .env', '--env-file .env'],
  ['toybox cat .env', '--env-file .env'],
  [`busybox sh -c 'cat .env'`, '--env-file .env'],
  ['cp .env /dev/stdout', '--env-file .env'],
  ['cp .env.local /dev/stderr', '--env-file .env.local'],
  ['cp config/prod.env /proc/self/fd/1', '--env-file config/prod.env'],
  ['dd if=.env', '--env-file .env'],
  [`find . -name '.env*' -exec cat {} \\;`, '--env-file .env'],
  ['find . -type f -exec grep -H TOKEN {} +', '--env-file .env'],
  [`find config -name '*.env' -exec head -n 3 {} \\;`, '--env-file config/prod.env'],
  ['git diff --no-index .env.example .env.local', '--env-file .env.local'],
  ['git show HEAD:.env', '--env-file .env'],
  ['git log -p -- .env.production', '--env-file .env.production'],
  ['git blame .env.local', '--env-file .env.local'],
  ['jq -R . .env', '--env-file .env'],
  [`jq --rawfile f .env.local -n '$f'`, '--env-file .env.local'],
  ['cut -d= -f2 .env.local', '--env-file .env.local'],
  ['cut -c1-40 .env', '--env-file .env'],
  [`awk -F= '{print $2}' .env.local`, '--env-file .env.local'],
  ['sort .env.production', '--env-file .env.production'],
  ['uniq .env', '--env-file .env'],
  ['strings server.key', 'use the file by its path'],
  ['xxd .env.local', '--env-file .env.local'],
  ['od -c .env', '--env-file .env'],
  ['tail -n +1 ~/.npmrc', 'use the file by its path'],
  ['cat "$PWD/.env"', '--env-file .env'],
  ['cat ${PWD}/.env.local', '--env-file .env.local'],
  ['less $(pwd)/config/prod.env', '--env-file config/prod.env'],
  ['paste -sd, .env.local', '--env-file .env.local'],
  ['column -t -s= .env.production', '--env-file .env.production'],
  // agent-secret's own stores: provider token files and delivered secret files.
  ['cat ~/.config/agent-secret/tokens/bws.default', 'ask the human about the token'],
  ['cat "$XDG_CONFIG_HOME/agent-secret/tokens/op.ci.1password.com"', 'ask the human about the token'],
  ['cat /dev/shm/agent-secret-files.*/NPMRC/.npmrc', 'the approved command gets the value'],
  ['head -c 200 /run/user/0/agent-secret-files.Xy12ab/KEY/key.pem', 'the approved command gets the value'],
  ['cd /dev/shm && cat agent-secret-files.Xy12ab/KEY/key', 'the approved command gets the value'],
  // The human's commands and agent-secret's keyring entries.
  ['secret-tool lookup service agent-secret token bws.default', 'ask the human to run it'],
  ['security find-generic-password -s agent-secret -a bws.default -w', 'ask the human to run it'],
  ['agent-secret agent add tester', 'ask the human to run it'],
  ['agent-secret agent remove tester', 'ask the human to run it'],
  ['agent-secret provider token set bws', 'ask the human to run it'],
  ['echo x | agent-secret provider token remove bws/team', 'ask the human to run it'],
];

const ALLOW: string[] = [
  'agent-secret agent list',
  'agent-secret provider token status bws/team',
  'agent-secret policy explain --profile deploy -- true',
  'secret-tool lookup service other-app',
  'security find-generic-password -s other-app',
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
  // Searches that never print a secret line: another pattern, code-only paths or types, names and counts.
  'rg useState',
  'rg PORT',
  'grep -rn TODO src/',
  `grep -rn "import" --include='*.ts' .`,
  'rg -t ts TOKEN',
  'rg TOKEN src/',
  'rg -l TOKEN',
  'grep -rl TOKEN .',
  'grep -rc TOKEN .',
  'git grep -n useEffect',
  'ag useState src',
  `grep -r --exclude='.env*' --exclude='*.env' --exclude='*.key' TOKEN .`,
  String.raw`grep -rnE 'function\s+\w+' src`,
  'grep -rn PKG_SECRET .',
  'rg -n "op read" README.md',
  'grep -rn API_TOKEN .env.example docs/',
  // Interpreters whose code reads no secret file and runs no op.
  `python3 -c 'print(1 + 1)'`,
  `python3 -c "import json,sys; print(json.load(sys.stdin)['version'])" < package.json`,
  `node -e "console.log(require('./package.json').version)"`,
  'node -p "process.versions.node"',
  `perl -pi -e 's/foo/bar/' src/app.ts`,
  `ruby -e 'puts RUBY_VERSION'`,
  'python3 manage.py migrate',
  'python3 -m pytest -q',
  'node scripts/build.mjs',
  `awk '{print $1}' notes.md`,
  `python3 - <<'EOF'\nprint("hi")\nEOF`,
  `node -e "require('child_process').execSync('npm run build', { stdio: 'inherit' })"`,
  // Command words from variables without op verbs or secret files.
  '$EDITOR README.md',
  '"$PYTHON" -m pip install -r requirements.txt',
  '$NPM run build',
  '$DOCKER run --env-file .env app:latest',
  '${CC:-gcc} -o app main.c',
  '$(npm bin)/eslint src',
  // Decoding that is not run, and scripts piped into a shell without decoding.
  'echo aGVsbG8= | base64 -d',
  'base64 -d cert.b64 > cert.der',
  'curl -fsSL https://example.com/install.sh | sh',
  String.raw`cat script.sh | tr -d '\r' | bash`,
  // Copies, finds, git and jq on ordinary files.
  'cp .env.local .env.backup',
  'cp README.md /tmp/readme.md',
  'dd if=/dev/zero of=disk.img bs=1M count=10',
  `find . -name '*.ts' -exec grep -l TODO {} +`,
  `find . -name '.env*'`,
  'find src -type f -exec wc -l {} +',
  `find . -name '*.md' -exec cat {} \\;`,
  'find . -type f -exec grep -n useState {} +',
  'git diff --no-index a.txt b.txt',
  'git show HEAD:package.json',
  'git show HEAD --stat',
  'git log -p -- src/app.ts',
  'git log --oneline -- .env',
  'git blame src/app.ts',
  'git add .env.example && git commit -m "Add env template"',
  'jq . package.json',
  `jq -r '.scripts | keys[]' package.json`,
  'cut -d: -f1 /etc/passwd',
  'busybox ls -la',
  'head -n 20 src/app.ts',
  'sort notes.md | uniq -c',
  'cat "$PWD/README.md"',
  'diff -u src/app.ts src/index.ts',
  'od -c notes.md | head',
  'xxd package.json | head',
  // Everyday developer commands.
  'docker compose up -d',
  'docker build -t app .',
  'kubectl get pods -n default',
  'kubectl logs deploy/api --tail=100',
  'terraform plan',
  'make build',
  'cargo test',
  'go test ./...',
  'pytest -x tests/',
  'npm install --save-dev vitest',
  'npx tsc --noEmit',
  'yarn lint',
  'pnpm run dev',
  'git checkout -b feature/guard',
  'git push origin feature/guard',
  'git stash && git pull --rebase && git stash pop',
  'ls -la ~/.ssh',
  'mkdir -p build && cd build && cmake ..',
  'tar -czf dist.tgz dist/',
  'curl -s https://api.github.com/repos/x/y | jq .stargazers_count',
  'ssh-keygen -lf ~/.ssh/id_ed25519.pub',
  'chmod 600 ~/.ssh/id_ed25519',
  'wc -l src/*.ts',
  'openssl rand -hex 32',
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
  it('has at least 100 commands of each kind, none of them twice', () => {
    expect(DENY.length).toBeGreaterThanOrEqual(100);
    expect(ALLOW.length).toBeGreaterThanOrEqual(100);
    expect(new Set(DENY.map(([command]) => command)).size).toBe(DENY.length);
    expect(new Set(ALLOW).size).toBe(ALLOW.length);
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
  it("denies agent-secret's own stores whatever they hold", () => {
    for (const path of ['/h/.config/agent-secret/tokens/bws.default', '/dev/shm/agent-secret-files.Ab12/NPMRC/.npmrc', '/run/user/0/agent-secret-files.Ab12/K/k']) {
      expect(read(path)).toMatchObject({ decision: 'deny', rule: 'secret-file-read', suggestion: expect.stringContaining('the approved command gets the value') });
    }
  });
  it('allows ordinary files, templates with placeholders and missing files', () => {
    for (const path of ['/p/README.md', '/p/.env.example', '/p/.env.plain', '/p/.env.nope', '/h/.ssh/id_ed25519.pub']) expect(read(path)).toEqual({ decision: 'allow' });
  });
});

describe('Grep tool (Claude Code runs ripgrep with hidden files; only output_mode content prints lines)', () => {
  const grep = (tool_input: Record<string, unknown>) => decideGuard({ hook_event_name: 'PreToolUse', tool_name: 'Grep', tool_input, cwd: '/p' }, host);
  const denied: Array<[Record<string, unknown>, string]> = [
    [{ pattern: 'TOKEN', output_mode: 'content' }, '--env-file .env'],
    [{ pattern: 'STRIPE', path: '/p/.env.local', output_mode: 'content' }, '--env-file /p/.env.local'],
    [{ pattern: 'no-such-line', path: '/p/.env.local', output_mode: 'content' }, '--env-file /p/.env.local'],
    [{ pattern: 'database_url', '-i': true, path: '/p', output_mode: 'content' }, '--env-file /p/.env.production'],
    [{ pattern: 'PORT', '-C': 2, output_mode: 'content' }, '--env-file .env'],
    [{ pattern: 'GITHUB', glob: '*.env', output_mode: 'content', path: '/p/config' }, '--env-file /p/config/prod.env'],
    [{ pattern: 'PRIVATE KEY', output_mode: 'content', '-n': true }, 'use the file by its path'],
    [{ pattern: '(?i)stripe_secret', output_mode: 'content' }, '--env-file .env.local'],
    [{ pattern: '.', path: '/h/.config/agent-secret/tokens/bws.default', output_mode: 'content' }, 'ask the human about the token'],
  ];
  for (const [input, suggestion] of denied) {
    it(`denies ${JSON.stringify(input)}`, () => {
      const decision = grep(input);
      expect(decision).toMatchObject({ decision: 'deny', rule: 'secret-file-read', suggestion: expect.stringContaining(suggestion) });
      expect(JSON.stringify(decision)).not.toContain(CANARY);
      expect(JSON.stringify(decision)).not.toContain('hunter2pw');
    });
  }
  const allowed: Array<Record<string, unknown>> = [
    { pattern: 'TOKEN' },
    { pattern: 'TOKEN', output_mode: 'files_with_matches' },
    { pattern: 'TOKEN', output_mode: 'count' },
    { pattern: 'useState', output_mode: 'content' },
    { pattern: 'TOKEN', glob: '*.ts', output_mode: 'content' },
    { pattern: 'TOKEN', type: 'ts', output_mode: 'content' },
    { pattern: 'TOKEN', path: '/p/src', output_mode: 'content' },
    { pattern: 'PKG_SECRET', output_mode: 'content' },
    { pattern: 'PORT', output_mode: 'content' },
    { pattern: 42, output_mode: 'content' },
    { path: '/p/.env' },
  ];
  for (const input of allowed) it(`allows ${JSON.stringify(input)}`, () => expect(grep(input)).toEqual({ decision: 'allow' }));
});

describe('Glob tool: lists names, never content, so it is allowed', () => {
  for (const tool_input of [{ pattern: '**/.env*' }, { pattern: '**/*.key', path: '/p' }, { pattern: '.env' }]) {
    it(JSON.stringify(tool_input), () => expect(decideGuard({ hook_event_name: 'PreToolUse', tool_name: 'Glob', tool_input }, host)).toEqual({ decision: 'allow' }));
  }
});

describe('the walk of a recursive search is bounded', () => {
  it('a tree wider and deeper than the limits is answered quickly and only partly seen', () => {
    const wide: GuardHost = {
      readFileHead: (path) => (path.endsWith('.env') ? `TOKEN=${CANARY}\n` : null),
      readDir: (path) => {
        listed += 1;
        return path.split('/').length > 40 ? null : Array.from({ length: 3000 }, (_, i) => ({ name: `d${i}`, dir: true }));
      },
    };
    let listed = 0;
    expect(decideGuard({ tool_name: 'Bash', tool_input: { command: 'grep -r TOKEN .' } }, wide)).toEqual({ decision: 'allow' });
    // Bounded by entries seen, not by the tree: a few directory listings, never thousands.
    expect(listed).toBeGreaterThan(0);
    expect(listed).toBeLessThanOrEqual(3);
  });
  it('a secret file past the depth limit is not found; one within it is', () => {
    const chain = (depth: number): GuardHost => ({
      readFileHead: (path) => (path.endsWith('/.env') ? `TOKEN=${CANARY}\n` : null),
      readDir: (path) => {
        const level = path === '.' ? 0 : path.split('/').length;
        return level < depth ? [{ name: 'd', dir: true }] : level === depth ? [{ name: '.env', dir: false }] : null;
      },
    });
    expect(decideCommand('grep -r TOKEN .', chain(3)).decision).toBe('deny');
    expect(decideCommand('grep -r TOKEN .', chain(12)).decision).toBe('allow');
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

  it('Grep and Glob calls of any shape never throw and never carry file content', () => {
    const toolInput = fc.record({ pattern: fc.oneof(fc.string(), fc.constantFrom('TOKEN', '(a+)+$', '[[:alpha:]', '\\', '(?x)a', 'STRIPE.*KEY')), path: fc.oneof(fc.constant(undefined), fc.constantFrom('/p', '/p/.env.local', '.', '/nope', '/p/config')), output_mode: fc.constantFrom('content', 'count', undefined, 7), glob: fc.oneof(fc.string(), fc.constant(undefined)), '-i': fc.boolean(), '-C': fc.integer() }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.constantFrom('Grep', 'Glob'), toolInput, (tool_name, tool_input) => {
        const decision = decideGuard({ tool_name, tool_input }, host);
        return ['allow', 'deny'].includes(decision.decision) && !JSON.stringify(decision).includes(CANARY) && !JSON.stringify(decision).includes('hunter2pw');
      }),
      { numRuns: 500 },
    );
  });
  it('a decision never carries file content, whatever the command', () => {
    const words = fc.constantFrom('cat', 'rg', 'grep -r', 'python3 -c', 'node -e', "'print(open(\".env.local\").read())'", 'find . -exec cat {} +', '$X', 'read', 'op', '.env.local', '.env.production', 'config/prod.env', '~/.npmrc', '|', 'base64 -d', 'sh', 'STRIPE', 'hunter2pw', '.', ' ', ';', 'git show HEAD:.env.local', 'cp', '/dev/stdout', 'jq -R .', 'cut -c1-9');
    fc.assert(
      fc.property(fc.array(words, { maxLength: 12 }), (parts) => {
        const decision = bash(parts.join(' '));
        return !JSON.stringify(decision).includes(CANARY) && (decision.decision === 'allow' || !decision.reason.includes('postgres://app:'));
      }),
      { numRuns: 1000 },
    );
  });
  it('decideGuard never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.anything(), (input) => ['allow', 'deny'].includes(decideGuard(input, host).decision)), { numRuns: 500 });
  });
  it.each(['toString -x cat .env', 'constructor cat .env', 'timeout 5 valueOf cat .env', "grep -E '[[:toString:]]' .env", '__proto__ op read op://v/i/f'])(
    'a program or class named after an Object.prototype key is an ordinary word: %s',
    (command) => {
      expect(['allow', 'deny']).toContain(decideCommand(command, host).decision);
    },
  );
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
