// The policy's shapes: rules the human wrote once in their own config (never a project file or a
// flag), what a rule matches on, the facts of one request the engine decides on, and the
// decision. Names, patterns and paths only: a policy never holds a secret value. Pure types.

export type PolicyDecisionKind = 'allow' | 'deny' | 'ask';

/** One entry of a rule's `secrets` list: every key given must match the same secret (globs). */
export interface SecretPattern {
  readonly alias?: string;
  readonly ref?: string;
  readonly account?: string;
  readonly provider?: string;
  /** A logical name of the user config's `names:` registry. */
  readonly name?: string;
}

/**
 * One entry of a rule's `templates` list: every key given must match the same template. `path`
 * is a glob relative to the project directory (the directory of the profile's config file, or
 * the cwd without one), or absolute; `sha256` pins the template's exact bytes.
 */
export interface TemplatePattern {
  readonly path?: string;
  readonly sha256?: string;
}

/** `hours: "09:00-18:00"`: minutes after local midnight; end before start wraps past midnight. */
export interface HoursWindow {
  readonly start: number;
  readonly end: number;
}

export interface RateLimit {
  /** At most this many deliveries by the rule … */
  readonly max: number;
  /** … in any window of this length. */
  readonly perSeconds: number;
}

export interface ReuseBound {
  readonly ttlSeconds: number;
  readonly maxUses: number;
}

/** What a rule matches on; an absent matcher matches everything, a list matches any element. */
export interface RuleMatchers {
  readonly agent?: readonly string[];
  readonly requester?: readonly string[];
  readonly profile?: readonly string[];
  readonly project?: readonly string[];
  readonly secrets?: readonly SecretPattern[];
  /** Agent-written templates: an allow rule covers a request with templates only when it names them all. */
  readonly templates?: readonly TemplatePattern[];
  readonly executable?: readonly string[];
  readonly argv?: ReadonlyArray<readonly string[]>;
  readonly cwd?: readonly string[];
  readonly hours?: HoursWindow;
  /** 0 = Sunday … 6 = Saturday. */
  readonly days?: readonly number[];
}

export interface PolicyRule {
  readonly id: string;
  readonly decision: PolicyDecisionKind;
  readonly description: string | null;
  readonly match: RuleMatchers;
  /** allow only. */
  readonly rate: RateLimit | null;
  /** allow only: the values stay cached for identical requests, as a human's "allow again". */
  readonly reuse: ReuseBound | null;
  /** 1-based line of the rule in its file, for messages. */
  readonly line: number;
}

export interface Policy {
  /** The file the rules came from (policy.yml or config.yml's `policy:`). */
  readonly path: string;
  readonly rules: readonly PolicyRule[];
}

/** One secret of a request, as the engine sees it. */
export interface PolicySecret {
  readonly alias: string;
  readonly ref: string;
  readonly account: string | null;
  readonly provider: string;
  readonly name: string | null;
}

/** One template of a request: where it was read from and its bytes' digest. */
export interface PolicyTemplate {
  /** Absolute. */
  readonly path: string;
  readonly sha256: string;
}

/** The facts of one request the engine decides on. */
export interface PolicyInput {
  /** The registered agent whose token came with the request, or null. */
  readonly agent: string | null;
  /** Names (and, where known, executable paths) of the requester's ancestors, nearest first. */
  readonly requester: readonly string[];
  readonly profile: string | null;
  readonly configPath: string | null;
  readonly secrets: readonly PolicySecret[];
  readonly templates: readonly PolicyTemplate[];
  readonly executable: string;
  /**
   * Why this request is not a plain run of its program (risky variables it would start with, a
   * replaceable executable): an allow rule never covers it, the human decides (headless: denied).
   */
  readonly unsafe?: readonly string[];
  /** System-directory paths (as argv[0] names them) that resolve to `executable`: `/usr/bin/npm`. */
  readonly systemPaths?: readonly string[];
  readonly command: readonly string[];
  readonly cwd: string;
  /** Local time of the broker: minutes after midnight and the weekday (0 = Sunday). */
  readonly minuteOfDay: number;
  readonly weekday: number;
}

export interface PolicyDecision {
  readonly decision: PolicyDecisionKind;
  /** The rule that decided; null when no rule matched (the default). */
  readonly rule: string | null;
  /** One line, our own words: why. */
  readonly why: string;
  readonly reuse: ReuseBound | null;
  readonly rate: RateLimit | null;
  /** An allow rule matched, but the request starts with what no allow covers (`PolicyInput.unsafe`). */
  readonly uncovered?: boolean;
}
