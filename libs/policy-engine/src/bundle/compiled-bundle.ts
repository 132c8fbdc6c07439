import { domainMatches } from './domains';
import type { BreakGlassClassification, PolicyBundle } from './policy-bundle';
import { parseInstant, validateBundle } from './policy-bundle';

/** Classification bits of the engine (a bundle's grants and an input's classifications). */
export const CLASS_BITS = { public: 1, internal: 2, confidential: 4, pii: 8, phi: 16 } as const;

/** A break-glass grant ready for decisions. */
export interface CompiledGrant {
  readonly id: string;
  /** {@link CLASS_BITS} of what it opens. */
  readonly classes: number;
  /** Epoch ms, inclusive. */
  readonly startsAt: number;
  /** Epoch ms, exclusive. */
  readonly expiresAt: number;
}

/** Thrown by the engine's constructor when a bundle does not validate. */
export class PolicyBundleError extends Error {
  constructor(readonly problems: ReadonlyArray<{ path: string; message: string }>) {
    super(
      `invalid policy bundle: ${problems.map((problem) => `${problem.path} ${problem.message}`).join('; ')}`,
    );
    this.name = 'PolicyBundleError';
  }
}

/** A bundle indexed for lookups on the hot path. */
export class CompiledBundle {
  readonly version: number;
  private readonly operator = new Map<string, ReadonlySet<string>>();
  private readonly proxy = new Map<string, readonly string[]>();
  private readonly grants = new Map<string, CompiledGrant[]>();

  constructor(bundle: PolicyBundle) {
    const problems = validateBundle(bundle);
    if (problems.length > 0) {
      throw new PolicyBundleError(problems);
    }
    this.version = bundle.version;
    const published = parseInstant(bundle.createdAt);
    for (const rule of bundle.rules) {
      switch (rule.type) {
        case 'operator':
          this.operator.set(pairKey(rule.caller, rule.target), new Set(rule.operations));
          break;
        case 'proxy':
          this.proxy.set(rule.plugin, [...rule.domains]);
          break;
        case 'break_glass': {
          const grant: CompiledGrant = {
            id: rule.id,
            classes: classBits(rule.classifications),
            startsAt: rule.startsAt === undefined ? published : parseInstant(rule.startsAt),
            expiresAt: parseInstant(rule.expiresAt),
          };
          this.grants.set(rule.principalId, [...(this.grants.get(rule.principalId) ?? []), grant]);
          break;
        }
      }
    }
  }

  /** True when `caller` may call `operation` on `target`. */
  operatorAllows(caller: string, target: string, operation: string): boolean {
    return this.operator.get(pairKey(caller, target))?.has(operation) ?? false;
  }

  /** True when `plugin` has an approval matching the normalized `host`. */
  proxyAllows(plugin: string, host: string): boolean {
    const domains = this.proxy.get(plugin);

    return domains !== undefined && domains.some((pattern) => domainMatches(pattern, host));
  }

  /** The grants of a user, if any. */
  grantsOf(principalId: string): readonly CompiledGrant[] | undefined {
    return this.grants.get(principalId);
  }
}

function pairKey(caller: string, target: string): string {
  return `${caller}\u0000${target}`;
}

function classBits(classes: readonly BreakGlassClassification[]): number {
  let bits = 0;
  for (const value of classes) {
    bits |= CLASS_BITS[value];
  }

  return bits;
}
