export { actionCatalog, actionSpec, resourceTypes } from './actions/action-catalog';
export type { ActionSpec, GrantSpec, ResourceType } from './actions/action-catalog';
export { PolicyBundleError } from './bundle/compiled-bundle';
export { domainMatches, domainPatternProblem, hostProblem, normalizeHost } from './bundle/domains';
export { emptyBundle, maxBreakGlassMs, validateAdminRules, validateBundle } from './bundle/policy-bundle';
export type {
  AdminRule,
  AdminRuleProblem,
  BreakGlassClassification,
  BreakGlassRule,
  OperatorRule,
  PolicyBundle,
  ProxyRule,
  ValidateAdminRulesOptions,
} from './bundle/policy-bundle';
export {
  bundleKeyId,
  bundleSigningKeys,
  bundleSigningPurpose,
  canonicalBundleJson,
  signBundle,
  signedBundleFormat,
  verifySignedBundle,
} from './bundle/signed-bundle';
export type { BundleSigningKeys, SignedPolicyBundle } from './bundle/signed-bundle';
export { CachedPolicyEngine } from './engine/decision-cache';
export type { DecisionCacheOptions, DecisionCacheStats } from './engine/decision-cache';
export { PolicyEngine } from './engine/policy-engine';
export type { PolicyDecider } from './engine/policy-engine';
export { phiFieldNames, piiRedactFields, ruleIds } from './engine/rule-ids';
export type { RuleId } from './engine/rule-ids';
export type {
  AuditLevel,
  PolicyContext,
  PolicyDecision,
  PolicyEffect,
  PolicyInput,
  PolicyParty,
  PolicyPrincipal,
  PolicyResource,
  TrailEntry,
} from './policy-types';
export { reservedTraitWords, traitCategories } from './traits/trait-catalog';
export type { TraitCategory, TraitDefinition, TraitOrigin } from './traits/trait-catalog';
export {
  blockedPluginTraits,
  effectiveTraits,
  resolveTraits,
  TraitRegistry,
  traitRegistry,
  uiTraitsFor,
  validateTraits,
} from './traits/trait-registry';
export type {
  ResolvedTraits,
  TraitValidation,
  TraitViolation,
  TraitViolationCode,
  ValidateTraitsOptions,
} from './traits/trait-registry';
