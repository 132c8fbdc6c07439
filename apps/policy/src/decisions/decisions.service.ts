import { Injectable } from '@nestjs/common';
import type {
  PolicyDecideRequest,
  PolicyDecisionView,
  PolicySimulateRequest,
  PolicySimulationView,
} from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { PolicyDecision, PolicyInput } from '@vivified/policy-engine';
import { PolicyEngine } from '@vivified/policy-engine';

import { BundleService } from '../bundle/bundle.service';
import { assertValidRules } from '../rules/rules.service';

/** The §5 output as the API answers it. */
export function decisionView(decision: PolicyDecision): PolicyDecisionView {
  return {
    effect: decision.effect,
    ruleId: decision.ruleId,
    reason: decision.reason,
    requiredTraits: [...decision.requiredTraits],
    redactFields: [...decision.redactFields],
    auditLevel: decision.auditLevel,
    bundleVersion: decision.bundleVersion,
    trail: decision.trail.map((entry) => ({
      ruleId: entry.ruleId,
      effect: entry.effect,
      reason: entry.reason,
    })),
    ...(decision.grantId === undefined ? {} : { grantId: decision.grantId }),
  };
}

/** The engine's input from a request: the §5 fields only, decided at `now`. */
export function toPolicyInput(request: PolicyDecideRequest, now: number): PolicyInput {
  const context = request.context;
  for (const field of ['operation', 'domain'] as const) {
    if (context?.[field] !== undefined && typeof context[field] !== 'string') {
      throw new VivifiedError(ErrorCode.ValidationFailed, `context.${field} must be a string`, {
        details: [{ path: `context.${field}`, messages: ['must be a string'] }],
      });
    }
  }

  return {
    action: request.action,
    principal: { ...request.principal, traits: [...request.principal.traits] },
    resource: { ...request.resource },
    classification: [...request.classification],
    ...(request.source
      ? { source: { pluginId: request.source.pluginId, traits: [...request.source.traits] } }
      : {}),
    ...(request.target
      ? { target: { pluginId: request.target.pluginId, traits: [...request.target.traits] } }
      : {}),
    ...(context ? { context: { ...context } } : {}),
    now,
  };
}

/** Decisions for core services, and what-if decisions for admins (current rules or a draft). */
@Injectable()
export class DecisionsService {
  constructor(private readonly bundles: BundleService) {}

  /** A decision from the newest bundle this replica holds, at the current time. */
  decide(request: PolicyDecideRequest): PolicyDecisionView {
    return decisionView(this.bundles.decider().decide(toPolicyInput(request, Date.now())));
  }

  /**
   * The decision with every rule evaluated. With `rules`, the draft is validated (every problem listed) and decided
   * with as if it were the next version; nothing is saved.
   */
  simulate(request: PolicySimulateRequest): PolicySimulationView {
    const at = request.at === undefined ? Date.now() : Date.parse(request.at);
    const { rules, at: _at, ...decideRequest } = request;
    const input = toPolicyInput(decideRequest, at);
    const stamp = new Date(at).toISOString();
    if (rules === undefined) {
      return { ...decisionView(this.bundles.decider().simulate(input)), draft: false, at: stamp };
    }
    // a draft may hold grants outside `at`: simulating before or after a grant is the point
    assertValidRules(rules);
    const draft = new PolicyEngine({
      version: this.bundles.version + 1,
      createdAt: stamp,
      rules: rules,
    });

    return { ...decisionView(draft.simulate(input)), draft: true, at: stamp };
  }
}
