/** Field names the engine asks to strip when PII goes to a target without the PII traits. */
export const piiRedactFields: readonly string[] = Object.freeze([
  'personal_info',
  'email',
  'phone',
  'address',
]);

/**
 * Field names the predecessor stripped for PHI. The engine does not sanitize PHI (it denies instead, see
 * docs/policy.md): PHI such as a patient id sits outside any fixed field list.
 */
export const phiFieldNames: readonly string[] = Object.freeze(['phi_data', 'health_info', 'medical_records']);

/** Traits PHI needs (ARCHITECTURE §5). */
export const PHI_TRAITS: readonly string[] = Object.freeze([
  'handles_phi',
  'audit_required',
  'encryption_required',
]);
/** Traits PII needs. */
export const PII_TRAITS: readonly string[] = Object.freeze(['handles_pii', 'audit_required']);
/** Traits confidential data needs. */
export const CONFIDENTIAL_TRAITS: readonly string[] = Object.freeze(['handles_confidential']);

/** Every rule id a decision or trail can name, in evaluation order. */
export const ruleIds = [
  'input',
  'action_vocabulary',
  'resource_type',
  'principal_status',
  'classification',
  'phi_access',
  'pii_access',
  'confidential_access',
  'break_glass',
  'core_service_data',
  'source_binding',
  'parties',
  'plugin_source_data',
  'plugin_target_data',
  'grant',
  'capability',
  'self_service',
  'any_principal',
  'core_service',
  'own_plugin',
  'operator_allowlist',
  'proxy_trait',
  'proxy_approval',
  'ui_gating',
  'event_publish',
  'event_subscription',
  'event_delivery',
  'default_deny',
  'evaluation_error',
] as const;

/** One rule id. */
export type RuleId = (typeof ruleIds)[number];
