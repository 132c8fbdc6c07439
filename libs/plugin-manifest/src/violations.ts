import { domainViolationCodes } from './domains';

/**
 * Every code a manifest violation carries. Schema codes come first in an answer, then the security rules in
 * this order.
 */
export const manifestViolationCodes = [
  // shape (the class-validator schema of @vivified/contracts)
  'schema_missing',
  'schema_invalid',
  'schema_unknown_field',
  // traits (the vocabulary of @vivified/policy-engine)
  'trait_blocked',
  'trait_unknown',
  'trait_requires',
  'trait_conflicts',
  // authentication and classifications
  'authentication_not_required',
  'classification_missing',
  'classification_trait_missing',
  // PHI
  'phi_trait_missing',
  'hipaa_controls_missing',
  'phi_retention_missing',
  'phi_retention_too_short',
  // external services and domains
  'external_domains_missing',
  'domains_without_external_service',
  ...domainViolationCodes,
  'domain_duplicate',
  // delivery and health
  'webhook_invalid',
  'webhook_unexpected',
  'health_check_http_without_webhook',
  'health_check_path_unexpected',
  // operations and events
  'operation_duplicate',
  'operation_trait_unknown',
  'operation_classification_undeclared',
  'event_version_conflict',
  // resources and dependencies
  'resources_out_of_bounds',
  'dependency_self',
  'dependency_unknown',
] as const;

/** One violation code. */
export type ManifestViolationCode = (typeof manifestViolationCodes)[number];

/** One problem of a manifest. */
export interface ManifestViolation {
  /** Dotted path of the field (`traits.2`, `compliance.dataRetentionDays`); empty for the whole manifest. */
  readonly path: string;
  /** What is wrong, as a stable code. */
  readonly code: ManifestViolationCode;
  /** One sentence for the author. */
  readonly message: string;
}
