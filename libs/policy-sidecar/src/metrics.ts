import type { PolicyEffect } from '@vivified/policy-engine';

/**
 * What the sidecar reports (service-kit's `ServiceMetrics` implements it): `vivified_policy_decisions_total`
 * `{effect,rule}`, `vivified_policy_decision_seconds`, `vivified_policy_bundle_version` and
 * `vivified_policy_bundle_rejected_total{reason}`.
 */
export interface PolicySidecarMetrics {
  /** Counts one decision by effect and deciding rule, and observes how long the local decision took. */
  policyDecision(effect: PolicyEffect, rule: string, seconds: number): void;
  /** Sets the version of the bundle in force. */
  setPolicyBundleVersion(version: number): void;
  /** Counts a bundle that was not applied, by why. */
  policyBundleRejected(reason: string): void;
}
