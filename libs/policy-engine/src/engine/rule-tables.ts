// The compiled tables the rules read: trait masks of each requirement, the data rules, UI features.
import { CLASS_BITS } from '../bundle/compiled-bundle';
import { traitRegistry } from '../traits/trait-registry';
import type { TraitMask } from '../traits/trait-mask';
import { maskOf } from '../traits/trait-mask';
import type { RuleId } from './rule-ids';
import { CONFIDENTIAL_TRAITS, PHI_TRAITS, PII_TRAITS } from './rule-ids';

export const NONE: readonly string[] = Object.freeze([]);
export const PHI = maskOf(PHI_TRAITS);
export const PII = maskOf(PII_TRAITS);
export const CONFIDENTIAL = maskOf(CONFIDENTIAL_TRAITS);
export const SYSTEM_CORE = maskOf(['system_core']);
export const EXTERNAL_SERVICE = maskOf(['external_service']);
export const SYSTEM_CORE_LIST: readonly string[] = Object.freeze(['system_core']);
export const EXTERNAL_SERVICE_LIST: readonly string[] = Object.freeze(['external_service']);
export const SENSITIVE = CLASS_BITS.phi | CLASS_BITS.pii | CLASS_BITS.confidential;
export const OPERATION = /^[A-Za-z0-9_-]{1,128}$/;

/** Per sensitive classification: its bit, the traits it needs and the reasons of each side. */
export interface DataRule {
  readonly bit: number;
  readonly ruleId: RuleId;
  readonly mask: TraitMask;
  readonly required: readonly string[];
  readonly granted: string;
  /** The traits checked one by one, so a deny names the first one missing. */
  readonly steps: ReadonlyArray<{ readonly mask: TraitMask; readonly reason: string }>;
  readonly source: string;
  readonly target: string;
}

export const DATA_RULES: readonly DataRule[] = [
  {
    bit: CLASS_BITS.phi,
    ruleId: 'phi_access',
    mask: PHI,
    required: PHI_TRAITS,
    granted: 'phi_access_granted',
    steps: [
      { mask: maskOf(['handles_phi']), reason: 'phi_trait_missing' },
      { mask: maskOf(['audit_required']), reason: 'phi_audit_required' },
      { mask: maskOf(['encryption_required']), reason: 'phi_encryption_required' },
    ],
    source: 'source_phi_trait_missing',
    target: 'target_phi_trait_missing',
  },
  {
    bit: CLASS_BITS.pii,
    ruleId: 'pii_access',
    mask: PII,
    required: PII_TRAITS,
    granted: 'pii_access_granted',
    steps: [
      { mask: maskOf(['handles_pii']), reason: 'pii_trait_missing' },
      { mask: maskOf(['audit_required']), reason: 'pii_audit_required' },
    ],
    source: 'source_pii_trait_missing',
    target: 'target_pii_trait_missing',
  },
  {
    bit: CLASS_BITS.confidential,
    ruleId: 'confidential_access',
    mask: CONFIDENTIAL,
    required: CONFIDENTIAL_TRAITS,
    granted: 'confidential_access_granted',
    steps: [{ mask: CONFIDENTIAL, reason: 'confidential_trait_missing' }],
    source: 'source_confidential_trait_missing',
    target: 'target_confidential_trait_missing',
  },
];

/** Compiled `anyOf` lists of trait grants, keyed by the list itself (specs share their arrays). */
const ANY_OF = new WeakMap<readonly string[], { mask: TraitMask; reason: string }>();

export function anyOfRule(anyOf: readonly string[]): { mask: TraitMask; reason: string } {
  let compiled = ANY_OF.get(anyOf);
  if (compiled === undefined) {
    compiled = { mask: maskOf(anyOf), reason: `${anyOf.join('_or_')}_required` };
    ANY_OF.set(anyOf, compiled);
  }

  return compiled;
}

/** UI features with their requirement masks, keyed by trait name. */
export const UI_FEATURES = new Map(
  traitRegistry
    .real()
    .filter((definition) => definition.category === 'ui_feature')
    .map((definition) => [
      definition.name,
      {
        requires: maskOf(definition.requires),
        anyOf: maskOf(definition.requiresAnyOf),
        required: Object.freeze([...definition.requires, ...definition.requiresAnyOf]),
      },
    ]),
);
