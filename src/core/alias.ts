// Aliases are the environment variable names the child receives. They must look like env
// var names, and must not be names that turn a value into code or into a loader setting:
// an approved secret must never be able to change what program runs or what it loads.

export type AliasResult = { ok: true } | { ok: false; message: string };

const ALIAS = /^[A-Z_][A-Z0-9_]*$/;
const MAX_ALIAS_LENGTH = 128;

/** Exact names refused as aliases. */
const DENIED_NAMES = new Set([
  'PATH',
  'HOME',
  'SHELL',
  'IFS',
  'ENV',
  'BASH_ENV',
  'BASHOPTS',
  'SHELLOPTS',
  'PS4',
  'PROMPT_COMMAND',
  'ZDOTDIR',
  'CDPATH',
  'TMPDIR',
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
  'NODE_TLS_REJECT_UNAUTHORIZED',
  'PYTHONSTARTUP',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONINSPECT',
  'PYTHONBREAKPOINT',
  'PERL5OPT',
  'PERL5LIB',
  'PERLLIB',
  'PERL5DB',
  'RUBYOPT',
  'RUBYLIB',
  'GEM_PATH',
  'GEM_HOME',
  'JAVA_TOOL_OPTIONS',
  'JDK_JAVA_OPTIONS',
  '_JAVA_OPTIONS',
  'CLASSPATH',
  'GCONV_PATH',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_EXEC_PATH',
  'GIT_ASKPASS',
  'SSH_ASKPASS',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'GIT_PAGER',
  'LESSOPEN',
  'LESSCLOSE',
  'BROWSER',
]);

/** Name prefixes refused as aliases. */
const DENIED_PREFIXES = ['LD_', 'DYLD_', 'MALLOC_', 'GLIBC_', 'GIT_CONFIG_', 'AGENT_SECRET_'];

/** Validates an alias: env-var shape, length, and the loader/code denylist. Pure. */
export function validateAlias(alias: string): AliasResult {
  if (!ALIAS.test(alias)) {
    return { ok: false, message: `alias must match [A-Z_][A-Z0-9_]*, for example API_TOKEN (got "${printable(alias)}")` };
  }
  if (alias.length > MAX_ALIAS_LENGTH) return { ok: false, message: `alias is longer than ${MAX_ALIAS_LENGTH} characters` };
  if (DENIED_NAMES.has(alias)) {
    return { ok: false, message: `"${alias}" controls what the child runs or loads and cannot carry a secret; pick another name` };
  }
  const prefix = DENIED_PREFIXES.find((p) => alias.startsWith(p));
  if (prefix !== undefined) {
    return {
      ok: false,
      message:
        prefix === 'AGENT_SECRET_'
          ? `names starting with AGENT_SECRET_ are reserved for agent-secret itself`
          : `names starting with ${prefix} control how programs load and cannot carry a secret; pick another name`,
    };
  }
  return { ok: true };
}

/** The denylist, for documentation and `agent-context`. */
export function deniedAliasRules(): { names: string[]; prefixes: string[] } {
  return { names: [...DENIED_NAMES].sort(), prefixes: [...DENIED_PREFIXES] };
}

// An alias is a key name the user typed, never a value; still, keep it short and printable.
function printable(text: string): string {
  const clipped = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return clipped.replace(/[^\x20-\x7e]/g, '?');
}
