export type { PolicySidecarMetrics } from './metrics';
export { PluginStatusStore } from './plugin-status-store';
export type { PluginStatusLookup, PluginStatusStoreOptions } from './plugin-status-store';
export { bundleVerificationKey, POLICY_BUNDLE_KEY, PolicyBundleStore } from './policy-bundle-store';
export type { BundleRejection, PolicyBundleStoreOptions } from './policy-bundle-store';
export { PolicySidecar } from './policy-sidecar';
export type {
  AuthenticationInput,
  DecisionAuditInput,
  DecisionAuditSink,
  EnrichmentContext,
  PolicyInputEnricher,
  PolicySidecarOptions,
} from './policy-sidecar';
export { redactFields } from './redact';
export { SessionRevocationStore } from './session-revocation-store';
export type {
  SessionRevocationLookup,
  SessionRevocationStoreOptions,
  UserTokenStanding,
} from './session-revocation-store';
export { startPolicySidecar } from './start-policy-sidecar';
export type { RunningPolicySidecar, StartPolicySidecarOptions } from './start-policy-sidecar';
