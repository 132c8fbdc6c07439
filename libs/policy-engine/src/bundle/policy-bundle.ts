import { domainPatternProblem } from './domains';

/** Operator-lane allowlist entry: `caller` may call these operations of `target`. */
export interface OperatorRule {
  /** The rule's kind. */
  readonly type: 'operator';
  /** Calling plugin id. */
  readonly caller: string;
  /** Called plugin id. */
  readonly target: string;
  /** Operation names (`get_user`); no wildcard. */
  readonly operations: readonly string[];
}

/** Proxy-lane approval: `plugin` may reach these domains (`api.example.org`, `*.example.org`). */
export interface ProxyRule {
  /** The rule's kind. */
  readonly type: 'proxy';
  /** Plugin id. */
  readonly plugin: string;
  /** Host names or `*.<registrable domain>` patterns, lower-case. */
  readonly domains: readonly string[];
}

/** The classifications a break-glass grant can open. */
export type BreakGlassClassification = 'phi' | 'pii' | 'confidential';

/**
 * A time-boxed emergency grant: the user may touch data of these classifications without the data-access
 * traits until `expiresAt`. Every decision under it is audited `detailed` with rule id `break_glass`.
 */
export interface BreakGlassRule {
  /** The rule's kind. */
  readonly type: 'break_glass';
  /** Grant id, unique in the bundle; named by decisions made under it. */
  readonly id: string;
  /** The user's id (the uuid of `sub: user:<uuid>`). Grants apply to users only. */
  readonly principalId: string;
  /** What it opens. */
  readonly classifications: readonly BreakGlassClassification[];
  /** ISO 8601 start; absent means from the bundle's publication. */
  readonly startsAt?: string;
  /** ISO 8601 end, at most {@link maxBreakGlassMs} after the start (or after validation time). */
  readonly expiresAt: string;
  /** Why (incident, ticket); required. */
  readonly reason: string;
  /** Who granted it (user id). */
  readonly grantedBy?: string;
}

/** One admin rule as `PUT /v1/policy/rules` takes it (ARCHITECTURE §7). */
export type AdminRule = OperatorRule | ProxyRule | BreakGlassRule;

/** A versioned set of admin rules, as the policy service compiles, signs and publishes it. */
export interface PolicyBundle {
  /** Increases with every change; decisions name it. */
  readonly version: number;
  /** ISO 8601. */
  readonly createdAt: string;
  /** The admin rules. */
  readonly rules: readonly AdminRule[];
}

/** One problem of a rule list or bundle. */
export interface AdminRuleProblem {
  /** Index of the rule in the list; null for a problem of the list or bundle itself. */
  readonly index: number | null;
  /** Field path (`rules[2].domains[0]`). */
  readonly path: string;
  /** What is wrong. */
  readonly message: string;
}

/** Options of {@link validateAdminRules}. */
export interface ValidateAdminRulesOptions {
  /**
   * The time of validation (epoch ms). When given, a grant must not have expired yet and must end at most
   * {@link maxBreakGlassMs} from now (or from its own start).
   */
  readonly now?: number;
}

/** The longest a break-glass grant may last: 24 hours. */
export const maxBreakGlassMs = 24 * 60 * 60 * 1000;

/**
 * Plugin ids in rules: the manifest's alphabet (ARCHITECTURE §6), any length up to 63 so that the one-letter ids
 * of the ARCHITECTURE §7 example are accepted (a rule may name a plugin that is not registered yet).
 */
const PLUGIN_ID = /^[a-z][a-z0-9-]{0,62}$/;
/** Operation names are subject tokens. */
const OPERATION = /^[A-Za-z0-9_-]{1,128}$/;
/** Principal ids as `sub` carries them. */
const PRINCIPAL_ID = /^[A-Za-z0-9_.-]{1,128}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const GRANT_CLASSES: readonly string[] = ['phi', 'pii', 'confidential'];
const FIELDS: Record<AdminRule['type'], readonly string[]> = {
  operator: ['type', 'caller', 'target', 'operations'],
  proxy: ['type', 'plugin', 'domains'],
  break_glass: [
    'type',
    'id',
    'principalId',
    'classifications',
    'startsAt',
    'expiresAt',
    'reason',
    'grantedBy',
  ],
};

/** Epoch ms of an ISO 8601 timestamp with zone; NaN when it is not one. */
export function parseInstant(value: unknown): number {
  return typeof value === 'string' && ISO.test(value) ? Date.parse(value) : Number.NaN;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Problems {
  readonly list: AdminRuleProblem[] = [];

  add(index: number | null, path: string, message: string): void {
    this.list.push({ index, path, message });
  }

  /** Checks a list of unique strings, each matching `check`; answers the valid ones. */
  strings(
    index: number,
    path: string,
    value: unknown,
    check: (item: string) => string | undefined,
  ): string[] {
    if (!Array.isArray(value) || value.length === 0) {
      this.add(index, path, 'must be a non-empty array');

      return [];
    }
    const seen = new Set<string>();
    value.forEach((item, position) => {
      const at = `${path}[${position}]`;
      if (typeof item !== 'string') {
        this.add(index, at, 'must be a string');

        return;
      }
      const problem = check(item);
      if (problem !== undefined) {
        this.add(index, at, problem);
      } else if (seen.has(item)) {
        this.add(index, at, `duplicate ${JSON.stringify(item)}`);
      }
      seen.add(item);
    });

    return [...seen];
  }

  pluginId(index: number, path: string, value: unknown): void {
    if (typeof value !== 'string' || !PLUGIN_ID.test(value)) {
      this.add(index, path, 'must be a plugin id (^[a-z][a-z0-9-]{0,62}$)');
    }
  }
}

function validateOperator(
  rule: Record<string, unknown>,
  index: number,
  problems: Problems,
  pairs: Set<string>,
) {
  const at = `rules[${index}]`;
  problems.pluginId(index, `${at}.caller`, rule.caller);
  problems.pluginId(index, `${at}.target`, rule.target);
  if (typeof rule.caller === 'string' && rule.caller === rule.target) {
    problems.add(index, `${at}.target`, 'a plugin does not call itself through the operator lane');
  }
  problems.strings(index, `${at}.operations`, rule.operations, (operation) =>
    OPERATION.test(operation) ? undefined : 'must be an operation name (^[A-Za-z0-9_-]{1,128}$), no wildcard',
  );
  const pair = `${String(rule.caller)}\u0000${String(rule.target)}`;
  if (pairs.has(pair)) {
    problems.add(
      index,
      at,
      `a second operator rule for ${String(rule.caller)} → ${String(rule.target)}; merge them`,
    );
  }
  pairs.add(pair);
}

function validateProxy(
  rule: Record<string, unknown>,
  index: number,
  problems: Problems,
  plugins: Set<string>,
) {
  const at = `rules[${index}]`;
  problems.pluginId(index, `${at}.plugin`, rule.plugin);
  problems.strings(index, `${at}.domains`, rule.domains, domainPatternProblem);
  if (plugins.has(String(rule.plugin))) {
    problems.add(index, at, `a second proxy rule for ${String(rule.plugin)}; merge them`);
  }
  plugins.add(String(rule.plugin));
}

function validateBreakGlass(
  rule: Record<string, unknown>,
  index: number,
  problems: Problems,
  ids: Set<string>,
  now: number | undefined,
) {
  const at = `rules[${index}]`;
  if (typeof rule.id !== 'string' || !PRINCIPAL_ID.test(rule.id)) {
    problems.add(index, `${at}.id`, 'must be a grant id (^[A-Za-z0-9_.-]{1,128}$)');
  } else if (ids.has(rule.id)) {
    problems.add(index, `${at}.id`, `duplicate grant id ${JSON.stringify(rule.id)}`);
  }
  ids.add(String(rule.id));
  if (typeof rule.principalId !== 'string' || !PRINCIPAL_ID.test(rule.principalId)) {
    problems.add(index, `${at}.principalId`, "must be a user's id");
  }
  problems.strings(index, `${at}.classifications`, rule.classifications, (value) =>
    GRANT_CLASSES.includes(value) ? undefined : 'must be phi, pii or confidential',
  );
  if (typeof rule.reason !== 'string' || rule.reason.trim().length === 0 || rule.reason.length > 500) {
    problems.add(index, `${at}.reason`, 'must say why, in 1 to 500 characters');
  }
  if (
    rule.grantedBy !== undefined &&
    (typeof rule.grantedBy !== 'string' || !PRINCIPAL_ID.test(rule.grantedBy))
  ) {
    problems.add(index, `${at}.grantedBy`, "must be a user's id");
  }
  const starts = rule.startsAt === undefined ? undefined : parseInstant(rule.startsAt);
  const expires = parseInstant(rule.expiresAt);
  if (starts !== undefined && Number.isNaN(starts)) {
    problems.add(index, `${at}.startsAt`, 'must be an ISO 8601 timestamp with a zone');
  }
  if (Number.isNaN(expires)) {
    problems.add(index, `${at}.expiresAt`, 'must be an ISO 8601 timestamp with a zone');

    return;
  }
  const from = starts ?? now;
  if (from !== undefined && !Number.isNaN(from)) {
    if (expires <= from) {
      problems.add(index, `${at}.expiresAt`, 'must be after the start');
    } else if (expires - from > maxBreakGlassMs) {
      problems.add(index, `${at}.expiresAt`, 'a break-glass grant lasts at most 24 hours');
    }
  }
  if (now !== undefined && expires <= now) {
    problems.add(index, `${at}.expiresAt`, 'has already passed');
  }
}

/**
 * Lists every problem of an admin rule list (the policy service runs it before it accepts
 * `PUT /v1/policy/rules`): unknown types and fields, malformed plugin ids, operations and domains, wildcard
 * domains above a registrable domain, duplicates, and grants that are not time-boxed. Empty means valid.
 */
export function validateAdminRules(
  rules: unknown,
  options: ValidateAdminRulesOptions = {},
): AdminRuleProblem[] {
  const problems = new Problems();
  if (!Array.isArray(rules)) {
    problems.add(null, 'rules', 'must be an array');

    return problems.list;
  }
  const pairs = new Set<string>();
  const proxied = new Set<string>();
  const grantIds = new Set<string>();
  rules.forEach((rule: unknown, index) => {
    const at = `rules[${index}]`;
    if (!isRecord(rule)) {
      problems.add(index, at, 'must be an object');

      return;
    }
    const type = rule.type;
    if (type !== 'operator' && type !== 'proxy' && type !== 'break_glass') {
      problems.add(index, `${at}.type`, 'must be operator, proxy or break_glass');

      return;
    }
    for (const key of Object.keys(rule)) {
      if (!FIELDS[type].includes(key)) {
        problems.add(index, `${at}.${key}`, `is not a field of a ${type} rule`);
      }
    }
    switch (type) {
      case 'operator':
        validateOperator(rule, index, problems, pairs);
        break;
      case 'proxy':
        validateProxy(rule, index, problems, proxied);
        break;
      case 'break_glass':
        validateBreakGlass(rule, index, problems, grantIds, options.now);
        break;
    }
  });

  return problems.list;
}

/** Lists every problem of a whole bundle: its version and timestamp, then its rules. */
export function validateBundle(bundle: unknown): AdminRuleProblem[] {
  if (!isRecord(bundle)) {
    return [{ index: null, path: '', message: 'a bundle is an object' }];
  }
  const problems: AdminRuleProblem[] = [];
  if (typeof bundle.version !== 'number' || !Number.isSafeInteger(bundle.version) || bundle.version < 0) {
    problems.push({ index: null, path: 'version', message: 'must be a non-negative integer' });
  }
  if (Number.isNaN(parseInstant(bundle.createdAt))) {
    problems.push({ index: null, path: 'createdAt', message: 'must be an ISO 8601 timestamp with a zone' });
  }

  return [...problems, ...validateAdminRules(bundle.rules)];
}

/** The bundle a service starts with before it has read one: no admin rules, version 0. */
export function emptyBundle(createdAt = '1970-01-01T00:00:00.000Z'): PolicyBundle {
  return { version: 0, createdAt, rules: [] };
}
