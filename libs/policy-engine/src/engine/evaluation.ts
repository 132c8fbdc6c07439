import type { ActionSpec } from '../actions/action-catalog';
import { actionSpec } from '../actions/action-catalog';
import type { CompiledBundle, CompiledGrant } from '../bundle/compiled-bundle';
import { CLASS_BITS } from '../bundle/compiled-bundle';
import { hostProblem, normalizeHost } from '../bundle/domains';
import type { PolicyDecision, PolicyEffect, PolicyInput, PolicyParty, TrailEntry } from '../policy-types';
import { listMask, TraitMask } from '../traits/trait-mask';
import { classificationBits, wellFormed } from './input-shape';
import type { RuleId } from './rule-ids';
import { piiRedactFields } from './rule-ids';
import {
  anyOfRule,
  DATA_RULES,
  EXTERNAL_SERVICE,
  EXTERNAL_SERVICE_LIST,
  NONE,
  OPERATION,
  SENSITIVE,
  SYSTEM_CORE,
  SYSTEM_CORE_LIST,
  UI_FEATURES,
} from './rule-tables';

/** How long a decision may be reused: always, never (it read the clock without a grant), or in a window. */
export type Reuse =
  | { readonly kind: 'always' }
  | { readonly kind: 'never' }
  | { readonly kind: 'window'; readonly from: number; readonly until: number };

const ALWAYS: Reuse = Object.freeze({ kind: 'always' });
const NEVER: Reuse = Object.freeze({ kind: 'never' });

/** A decision and how long it holds. */
export interface Outcome {
  readonly decision: PolicyDecision;
  readonly reuse: Reuse;
}

/**
 * One evaluation of the rules against one input. In a simulation every rule runs and the trail lists each
 * (`not_applicable` included); a decision stops at the first deny, which is the same verdict because the first
 * deny in rule order always decides.
 */
export class Evaluation {
  private readonly trail: TrailEntry[] = [];
  private deny: { ruleId: string; reason: string; required: readonly string[] } | undefined;
  private allow: { ruleId: string; reason: string } | undefined;
  private redact: readonly string[] | undefined;
  private grants: CompiledGrant[] | undefined;
  private readsClock = false;
  private spec: ActionSpec | undefined;
  private raw = TraitMask.EMPTY;
  private effective = TraitMask.EMPTY;
  private classes = 0;

  constructor(
    private readonly bundle: CompiledBundle,
    private readonly input: PolicyInput,
    private readonly full: boolean,
  ) {}

  /** Runs the rules and answers the decision with its reuse window. */
  run(): Outcome {
    this.rules();

    return this.outcome();
  }

  private get stopped(): boolean {
    return !this.full && this.deny !== undefined;
  }

  private note(
    ruleId: RuleId,
    effect: PolicyEffect | 'not_applicable',
    reason: string,
    required = NONE,
  ): void {
    if (effect === 'not_applicable') {
      if (this.full) {
        this.trail.push({ ruleId, effect, reason });
      }

      return;
    }
    this.trail.push({ ruleId, effect, reason });
    if (effect === 'deny' && this.deny === undefined) {
      this.deny = { ruleId, reason, required };
    }
  }

  /** A check that passed: listed in a simulation only, where it shows what was verified. */
  private pass(ruleId: RuleId, reason: string): void {
    if (this.full) {
      this.trail.push({ ruleId, effect: 'allow', reason });
    }
  }

  private granted(ruleId: RuleId, reason: string): void {
    this.note(ruleId, 'allow', reason);
    this.allow ??= { ruleId, reason };
  }

  private rules(): void {
    const input = this.input;
    if (!wellFormed(input)) {
      this.note('input', 'deny', 'invalid_input');

      return;
    }
    this.pass('input', 'well_formed');
    const spec = actionSpec(input.action);
    if (spec === undefined) {
      this.note('action_vocabulary', 'deny', 'unknown_action');

      return;
    }
    this.spec = spec;
    this.pass('action_vocabulary', 'known_action');
    const traits = listMask(input.principal.traits)!;
    this.raw = traits.mask;
    this.effective = traits.effective;
    this.classes = classificationBits(input.classification);
    this.principalRules(spec);
    if (this.stopped) {
      return;
    }
    this.dataRules();
    if (this.stopped) {
      return;
    }
    this.partyRules(spec);
    if (this.stopped) {
      return;
    }
    this.grantRules(spec);
  }

  private principalRules(spec: ActionSpec): void {
    const { principal, resource } = this.input;
    if (resource.type !== spec.resource) {
      this.note('resource_type', 'deny', 'resource_mismatch');
    } else {
      this.pass('resource_type', 'resource_matches');
    }
    if (this.stopped) {
      return;
    }
    if (principal.status !== 'active') {
      this.note('principal_status', 'deny', 'principal_inactive');
    } else {
      this.pass('principal_status', 'principal_active');
    }
    if (this.stopped) {
      return;
    }
    if (this.classes < 0) {
      this.note('classification', 'deny', 'unknown_classification');
    } else {
      this.pass('classification', 'known_classification');
    }
  }

  /** The classification rules on the principal: traits, or a core service, or a break-glass grant. */
  private dataRules(): void {
    const classes = this.classes < 0 ? 0 : this.classes;
    const principal = this.input.principal;
    const isCore = principal.kind === 'service' && this.effective.containsAll(SYSTEM_CORE);
    for (const rule of DATA_RULES) {
      if ((classes & rule.bit) === 0) {
        this.note(rule.ruleId, 'not_applicable', 'classification_absent');
        continue;
      }
      if (this.raw.containsAll(rule.mask)) {
        this.note(rule.ruleId, 'allow', rule.granted);
        continue;
      }
      if (isCore) {
        this.note('core_service_data', 'allow', 'core_service');
        continue;
      }
      const grant = this.grantFor(rule.bit);
      if (grant !== undefined) {
        (this.grants ??= []).push(grant);
        this.note('break_glass', 'allow', 'break_glass_grant');
        continue;
      }
      const step = rule.steps.find((candidate) => !this.raw.containsAll(candidate.mask))!;
      this.note(rule.ruleId, 'deny', step.reason, rule.required);
      if (this.stopped) {
        return;
      }
    }
  }

  /** An active grant of the user for a classification; reading the clock makes the decision time-bound. */
  private grantFor(bit: number): CompiledGrant | undefined {
    const principal = this.input.principal;
    if (principal.kind !== 'user') {
      return undefined;
    }
    const grants = this.bundle.grantsOf(principal.id);
    if (grants === undefined) {
      return undefined;
    }
    this.readsClock = true;
    const now = this.input.now;
    if (now === undefined) {
      return undefined;
    }

    return grants.find(
      (grant) => (grant.classes & bit) !== 0 && grant.startsAt <= now && now < grant.expiresAt,
    );
  }

  private partyRules(spec: ActionSpec): void {
    const { principal, source, target } = this.input;
    if (source !== undefined && principal.kind === 'plugin') {
      if (source.pluginId !== principal.id) {
        this.note('source_binding', 'deny', 'source_mismatch');
      } else {
        this.note('source_binding', 'allow', 'source_is_caller');
      }
    } else {
      this.note('source_binding', 'not_applicable', 'no_plugin_source');
    }
    if (!spec.needsParties) {
      this.note('parties', 'not_applicable', 'parties_not_needed');
    } else if (source === undefined || target === undefined) {
      this.note('parties', 'deny', 'parties_missing');
    } else {
      this.pass('parties', 'parties_given');
    }
    if (this.stopped) {
      return;
    }
    const classes = this.classes < 0 ? 0 : this.classes & SENSITIVE;
    if (source === undefined || classes === 0) {
      this.note('plugin_source_data', 'not_applicable', 'no_sensitive_source');
    } else if (
      principal.kind === 'service' &&
      this.effective.containsAll(SYSTEM_CORE) &&
      source.pluginId === principal.id
    ) {
      this.note('plugin_source_data', 'allow', 'core_source');
    } else {
      this.partyData(source, classes, 'source');
    }
    if (this.stopped) {
      return;
    }
    if (target === undefined || classes === 0) {
      this.note('plugin_target_data', 'not_applicable', 'no_sensitive_target');
    } else {
      this.partyData(target, classes, 'target');
    }
  }

  /** The data rules on one side of a plugin-to-plugin flow (its registered traits, raw). */
  private partyData(party: PolicyParty, classes: number, side: 'source' | 'target'): void {
    const traits = listMask(party.traits)!.mask;
    let clean = true;
    for (const rule of DATA_RULES) {
      if ((classes & rule.bit) === 0 || traits.containsAll(rule.mask)) {
        continue;
      }
      clean = false;
      if (side === 'target' && rule.bit === CLASS_BITS.pii && this.spec?.sanitizable === true) {
        this.redact = piiRedactFields;
        this.note('plugin_target_data', 'sanitize', 'target_pii_sanitized', rule.required);
        continue;
      }
      this.note(
        side === 'source' ? 'plugin_source_data' : 'plugin_target_data',
        'deny',
        rule[side],
        rule.required,
      );
      if (this.stopped) {
        return;
      }
    }
    if (clean) {
      this.note(
        side === 'source' ? 'plugin_source_data' : 'plugin_target_data',
        'allow',
        `${side}_may_handle`,
      );
    }
  }

  private grantRules(spec: ActionSpec): void {
    const { principal, resource, source, target, context } = this.input;
    const grant = spec.grant;
    if (!spec.kinds.includes(principal.kind)) {
      // no grant rule covers this kind of principal: nothing allows, so default deny decides
      this.note('grant', 'not_applicable', 'principal_kind_not_covered');

      return;
    }
    const isCore = principal.kind === 'service' && this.effective.containsAll(SYSTEM_CORE);
    switch (grant.kind) {
      case 'traits': {
        const rule = anyOfRule(grant.anyOf);
        if (this.effective.intersects(rule.mask)) {
          this.granted('capability', 'capability_present');
        } else {
          this.note('capability', 'deny', rule.reason, grant.anyOf);
        }
        break;
      }
      case 'self':
        if (principal.kind === 'user') {
          this.granted('self_service', 'own_account');
        }
        break;
      case 'any_principal':
        this.granted('any_principal', 'authenticated_principal');
        break;
      case 'core_service':
      case 'event_delivery':
        if (isCore) {
          this.granted(grant.kind === 'core_service' ? 'core_service' : 'event_delivery', 'core_service');
        } else {
          this.note(
            grant.kind === 'core_service' ? 'core_service' : 'event_delivery',
            'deny',
            'core_service_required',
            SYSTEM_CORE_LIST,
          );
        }
        break;
      case 'own_plugin':
        if (principal.kind === 'plugin') {
          if (resource.id === principal.id) {
            this.granted('own_plugin', 'own_plugin');
          } else {
            this.note('own_plugin', 'deny', 'not_own_plugin');
          }
        } else if (grant.anyOf.length > 0) {
          const rule = anyOfRule(grant.anyOf);
          if (this.effective.intersects(rule.mask)) {
            this.granted('capability', 'capability_present');
          } else {
            this.note('capability', 'deny', rule.reason, grant.anyOf);
          }
        }
        break;
      case 'operator':
        this.operatorRule(isCore, source, target, context?.operation);
        break;
      case 'proxy':
        this.proxyRules(context?.domain);
        break;
      case 'ui_feature':
        this.uiRule(resource.id);
        break;
      case 'event_publish':
        if (principal.kind === 'plugin' || isCore) {
          this.granted('event_publish', 'publisher');
        } else {
          this.note('event_publish', 'deny', 'core_service_required', SYSTEM_CORE_LIST);
        }
        break;
      case 'event_subscription':
        this.granted('event_subscription', 'own_subscriptions');
        break;
    }
  }

  private operatorRule(
    isCore: boolean,
    source: PolicyParty | undefined,
    target: PolicyParty | undefined,
    operation: unknown,
  ): void {
    if (source === undefined || target === undefined) {
      this.note('operator_allowlist', 'deny', 'parties_missing');

      return;
    }
    if (typeof operation !== 'string' || !OPERATION.test(operation)) {
      this.note('operator_allowlist', 'deny', 'operation_missing');

      return;
    }
    if (isCore && source.pluginId === this.input.principal.id) {
      this.granted('operator_allowlist', 'core_caller');
    } else if (this.bundle.operatorAllows(source.pluginId, target.pluginId, operation)) {
      this.granted('operator_allowlist', 'operation_allowlisted');
    } else {
      this.note('operator_allowlist', 'deny', 'operation_not_allowlisted');
    }
  }

  private proxyRules(domain: unknown): void {
    if (this.effective.containsAll(EXTERNAL_SERVICE)) {
      this.note('proxy_trait', 'allow', 'external_service_present');
    } else {
      this.note('proxy_trait', 'deny', 'external_service_trait_missing', EXTERNAL_SERVICE_LIST);
      if (this.stopped) {
        return;
      }
    }
    const host = typeof domain === 'string' ? normalizeHost(domain) : '';
    if (hostProblem(host) !== undefined) {
      this.note('proxy_approval', 'deny', 'invalid_domain');
    } else if (this.bundle.proxyAllows(this.input.principal.id, host)) {
      this.granted('proxy_approval', 'domain_approved');
    } else {
      this.note('proxy_approval', 'deny', 'domain_not_approved');
    }
  }

  private uiRule(id: string | undefined): void {
    const name = id === undefined ? '' : id.startsWith('ui.') ? id : `ui.${id}`;
    const feature = UI_FEATURES.get(name);
    if (feature === undefined) {
      this.note('ui_gating', 'deny', 'unknown_ui_feature');
    } else if (
      this.effective.containsAll(feature.requires) &&
      (feature.anyOf.isEmpty() || this.effective.intersects(feature.anyOf))
    ) {
      this.granted('ui_gating', 'ui_feature_granted');
    } else {
      this.note('ui_gating', 'deny', 'ui_feature_denied', feature.required);
    }
  }

  private outcome(): Outcome {
    const spec = this.spec;
    let effect: PolicyEffect;
    let ruleId: string;
    let reason: string;
    let required = NONE;
    if (this.deny !== undefined) {
      ({ ruleId, reason, required } = this.deny);
      effect = 'deny';
    } else if (this.allow === undefined) {
      this.note('default_deny', 'deny', 'default_deny');
      ({ ruleId, reason } = this.deny!);
      effect = 'deny';
    } else if (this.redact !== undefined) {
      effect = 'sanitize';
      ruleId = 'plugin_target_data';
      reason = 'target_pii_sanitized';
    } else {
      effect = 'allow';
      ({ ruleId, reason } = this.allow);
    }
    const grant = effect !== 'deny' && this.grants !== undefined ? this.grants[0] : undefined;
    if (grant !== undefined && effect === 'allow') {
      ruleId = 'break_glass';
      reason = 'break_glass_grant';
    }
    const classes = this.classes < 0 ? 0 : this.classes;
    const detailed =
      (classes & (CLASS_BITS.phi | CLASS_BITS.pii)) !== 0 ||
      grant !== undefined ||
      effect === 'sanitize' ||
      (spec?.detailed ?? false);
    const decision: PolicyDecision = Object.freeze({
      effect,
      ruleId,
      reason,
      requiredTraits: required,
      redactFields: effect === 'sanitize' ? this.redact! : NONE,
      auditLevel: detailed ? 'detailed' : 'standard',
      bundleVersion: this.bundle.version,
      trail: Object.freeze(this.trail),
      ...(grant === undefined ? {} : { grantId: grant.id }),
    });

    return { decision, reuse: this.reuse(effect) };
  }

  private reuse(effect: PolicyEffect): Reuse {
    if (!this.readsClock) {
      return ALWAYS;
    }
    if (effect === 'deny' || this.grants === undefined) {
      return NEVER;
    }
    let from = Number.NEGATIVE_INFINITY;
    let until = Number.POSITIVE_INFINITY;
    for (const grant of this.grants) {
      from = Math.max(from, grant.startsAt);
      until = Math.min(until, grant.expiresAt);
    }

    return { kind: 'window', from, until };
  }
}

/** Evaluates an input; a failure inside the engine is a deny, never an exception or an allow. */
export function evaluate(bundle: CompiledBundle, input: PolicyInput, full: boolean): Outcome {
  try {
    return new Evaluation(bundle, input, full).run();
  } catch {
    const decision: PolicyDecision = Object.freeze({
      effect: 'deny',
      ruleId: 'evaluation_error',
      reason: 'evaluation_error',
      requiredTraits: NONE,
      redactFields: NONE,
      auditLevel: 'detailed',
      bundleVersion: bundle.version,
      trail: Object.freeze<TrailEntry[]>([
        { ruleId: 'evaluation_error', effect: 'deny', reason: 'evaluation_error' },
      ]),
    });

    return { decision, reuse: NEVER };
  }
}
