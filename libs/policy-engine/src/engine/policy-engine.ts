import { CompiledBundle } from '../bundle/compiled-bundle';
import type { PolicyBundle } from '../bundle/policy-bundle';
import type { PolicyDecision, PolicyInput } from '../policy-types';
import type { Outcome } from './evaluation';
import { evaluate } from './evaluation';

/** What the sidecar and the policy service need of an engine. */
export interface PolicyDecider {
  /** The version of the bundle decisions are made with. */
  readonly bundleVersion: number;
  /** Decides; the trail lists the rules that spoke up to the deciding one. Never throws. */
  decide(input: PolicyInput): PolicyDecision;
  /** Decides with the full trail of every rule evaluated (`not_applicable` included). Never cached. */
  simulate(input: PolicyInput): PolicyDecision;
}

/**
 * The default-deny, trait-based policy engine of ARCHITECTURE §5: pure (no I/O, no clock: time comes in as
 * `input.now`), bound to one bundle of admin rules. Deny overrides allow; an action nothing grants is denied
 * with `default_deny`; every decision names its rule and reason.
 *
 * @example
 * const engine = new PolicyEngine(bundle);
 * engine.decide({ action: 'identity.user.create', principal, resource: { type: 'users' }, classification: [] });
 */
export class PolicyEngine implements PolicyDecider {
  private readonly compiled: CompiledBundle;

  /** @throws PolicyBundleError when the bundle does not validate (see validateBundle). */
  constructor(bundle: PolicyBundle) {
    this.compiled = new CompiledBundle(bundle);
  }

  /** The bundle's version. */
  get bundleVersion(): number {
    return this.compiled.version;
  }

  /** Decides (see {@link PolicyDecider.decide}). */
  decide(input: PolicyInput): PolicyDecision {
    return evaluate(this.compiled, input, false).decision;
  }

  /** Decides with the full rule trail (see {@link PolicyDecider.simulate}). */
  simulate(input: PolicyInput): PolicyDecision {
    return evaluate(this.compiled, input, true).decision;
  }

  /** A decision with how long it may be reused; for the decision cache. */
  outcome(input: PolicyInput): Outcome {
    return evaluate(this.compiled, input, false);
  }
}
