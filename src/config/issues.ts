// Turns problems found in a config file into positioned, value-free ConfigIssues. Key paths
// show only names that passed validation for their place (schema keys, profile names,
// env-var-shaped aliases); anything else in a key path is shown as "…", and values never are.

import { BIND_KEYS, FILE_KEYS, PROFILE_KEYS, PROFILE_NAME, SECRET_KEYS, SESSION_KEYS, TEMPLATE_KEYS, TOP_KEYS } from './schema.js';
import type { ConfigIssue, ConfigIssueCode } from './types.js';
import { positionOf, type ParsedYaml, type Position, type YamlProblem } from './yaml-positions.js';

export type KeyPath = ReadonlyArray<string | number>;

/** A problem before it has a position: `path` names the node, `at` whether the key or the value is wrong. */
export interface RawIssue {
  code: ConfigIssueCode;
  path: KeyPath;
  at: 'key' | 'value';
  /** What is wrong and what is expected; never contains file text other than validated names. */
  problem: string;
  hint?: string | undefined;
}

/** Env-var-shaped names, the only alias keys shown in key paths and messages. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const HIDDEN = '…';

/** Renders a key path such as `profiles.deploy.secrets.API_TOKEN` or `profiles.deploy.include[1]`. */
export function displayKeyPath(path: KeyPath, at: 'key' | 'value'): string {
  const shown = path.map((segment, index) => (isShowable(path, index) ? segment : HIDDEN));
  // A rejected key is reported on its parent: the position already points at it.
  if (at === 'key' && shown.length > 0 && shown[shown.length - 1] === HIDDEN) shown.pop();
  return shown.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    return text === '' ? segment : `${text}.${segment}`;
  }, '');
}

function isShowable(path: KeyPath, index: number): boolean {
  const segment = path[index];
  if (typeof segment === 'number') return true;
  if (segment === undefined) return false;
  if (index === 0) return TOP_KEYS.includes(segment);
  if (path[0] !== 'profiles') return false;
  if (index === 1) return PROFILE_NAME.test(segment);
  if (index === 2) return PROFILE_KEYS.includes(segment);
  if (path[2] === 'session') return index === 3 ? SESSION_KEYS.includes(segment) : index === 4 && path[3] === 'bind' && BIND_KEYS.includes(segment);
  const entryKeys = path[2] === 'secrets' ? SECRET_KEYS : path[2] === 'files' ? FILE_KEYS : path[2] === 'templates' ? TEMPLATE_KEYS : null;
  if (entryKeys === null) return false;
  if (index === 3) return ENV_NAME.test(segment);
  return index === 4 && entryKeys.includes(segment);
}

/** Formats the one line shown for an issue: `<file>:<line>:<col>: <key path>: <problem>`. */
export function formatIssueLine(file: string, position: Position, key: string, problem: string): string {
  return `${file}:${position.line}:${position.col}: ${key === '' ? '' : `${key}: `}${problem}`;
}

/** Positions raw issues in the parsed document and sorts them by line, then column. */
export function positionIssues(raw: readonly RawIssue[], parsed: ParsedYaml, file: string): ConfigIssue[] {
  return sortIssues(
    raw.map((issue) => {
      const position = positionOf(parsed, issue.path, issue.at);
      const key = displayKeyPath(issue.path, issue.at);
      return {
        code: issue.code,
        message: formatIssueLine(file, position, key, issue.problem),
        file,
        line: position.line,
        col: position.col,
        ...(key === '' ? {} : { key }),
        ...(issue.hint === undefined ? {} : { hint: issue.hint }),
      };
    }),
  );
}

/** Turns YAML-level problems into issues, sorted. */
export function yamlIssues(problems: readonly YamlProblem[], file: string): ConfigIssue[] {
  return sortIssues(
    problems.map((p) => ({
      code: p.code,
      message: formatIssueLine(file, p.position, '', p.problem),
      file,
      line: p.position.line,
      col: p.position.col,
    })),
  );
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}
