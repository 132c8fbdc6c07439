import type { Classification } from '@vivified/contracts';
import { classifications, HIPAA_CONTROL_PATTERN, TRAIT_NAME_PATTERN } from '@vivified/contracts';
import type { TraitViolationCode } from '@vivified/policy-engine';
import { resolveTraits, traitRegistry, validateTraits } from '@vivified/policy-engine';

import { domainProblem, normalizeDomain } from './domains';
import { numberAt, objectAt, objectsAt, ownValue, stringAt, stringsAt } from './raw-view';
import type { ManifestViolation, ManifestViolationCode } from './violations';

/** Options of the security rules. */
export interface SecurityRuleOptions {
  /**
   * The ids of registered plugins (or a predicate); each dependency must be one. Without it, dependencies are
   * only checked against the plugin's own id.
   */
  readonly knownPluginIds?: ReadonlySet<string> | ((id: string) => boolean);
}

/** Least retention of a PHI plugin: 7 years (HIPAA documentation retention, 45 CFR 164.316(b)(2)). */
export const PHI_MIN_RETENTION_DAYS = 2555;

/** Bounds the platform grants. */
export const resourceBounds = { memoryMb: { min: 64, max: 8192 }, cpu: { min: 0.1, max: 8 } } as const;

/** The traits PHI handling needs besides `handles_phi` (ARCHITECTURE §5). */
const PHI_COMPANION_TRAITS = ['audit_required', 'encryption_required'] as const;

/** Classifications that need the matching data-access trait, and the reverse. */
const CLASSIFICATION_TRAITS: ReadonlyArray<readonly [Classification, string]> = [
  ['phi', 'handles_phi'],
  ['pii', 'handles_pii'],
  ['confidential', 'handles_confidential'],
];

const TRAIT_CODES: Record<TraitViolationCode, ManifestViolationCode> = {
  blocked: 'trait_blocked',
  unknown: 'trait_unknown',
  requires: 'trait_requires',
  conflicts: 'trait_conflicts',
};

type Manifest = Record<string, unknown> | undefined;

/** What the rules know of the manifest's traits and classifications. */
interface Context {
  readonly root: Manifest;
  readonly traits: ReadonlySet<string>;
  readonly classifications: ReadonlySet<string>;
  readonly options: SecurityRuleOptions;
  readonly violations: ManifestViolation[];
}

function add(context: Context, path: string, code: ManifestViolationCode, message: string): void {
  context.violations.push({ path, code, message });
}

/** Trait names of a list that have a trait's shape; the schema reports the others. */
function traitNamesAt(record: Record<string, unknown> | undefined, key: string): Array<[number, string]> {
  return stringsAt(record, key).filter(([, name]) => TRAIT_NAME_PATTERN.test(name));
}

function traitRules(context: Context): void {
  const names = traitNamesAt(context.root, 'traits');
  for (const violation of validateTraits(
    names.map(([, name]) => name),
    { kind: 'plugin' },
  ).violations) {
    const index = names.find(([, name]) => name === violation.trait)?.[0];
    const perTrait = violation.code === 'blocked' || violation.code === 'unknown';
    add(
      context,
      perTrait && index !== undefined ? `traits.${index}` : 'traits',
      TRAIT_CODES[violation.code],
      violation.detail,
    );
  }
}

function authenticationRules(context: Context): void {
  if (ownValue(objectAt(context.root, 'security'), 'authenticationRequired') === false) {
    add(
      context,
      'security.authenticationRequired',
      'authentication_not_required',
      'every call to a plugin carries a verified caller token: authenticationRequired must be true',
    );
  }
}

function classificationRules(context: Context): void {
  for (const [classification, trait] of CLASSIFICATION_TRAITS) {
    const declared = context.classifications.has(classification);
    const held = context.traits.has(trait);
    if (held && !declared) {
      add(
        context,
        'security.dataClassification',
        'classification_missing',
        `${trait} needs ${classification} in security.dataClassification`,
      );
    }
    if (declared && !held) {
      add(
        context,
        'traits',
        'classification_trait_missing',
        `security.dataClassification declares ${classification}, which needs the ${trait} trait`,
      );
    }
  }
}

function phiRules(context: Context): void {
  const handlesPhi = context.traits.has('handles_phi');
  if (!handlesPhi && !context.classifications.has('phi')) {
    return;
  }
  // what the vocabulary makes handles_phi require is a trait_requires violation already
  const required = handlesPhi ? (traitRegistry.canonical('handles_phi')?.requires ?? []) : [];
  for (const trait of PHI_COMPANION_TRAITS) {
    if (!context.traits.has(trait) && !required.includes(trait)) {
      add(context, 'traits', 'phi_trait_missing', `PHI handling needs the ${trait} trait`);
    }
  }
  const compliance = objectAt(context.root, 'compliance');
  const controls = stringsAt(compliance, 'hipaaControls').map(([, control]) => control);
  if (!controls.some((control) => HIPAA_CONTROL_PATTERN.test(control) && control.startsWith('164.312('))) {
    add(
      context,
      'compliance.hipaaControls',
      'hipaa_controls_missing',
      'PHI handling needs the HIPAA technical safeguards it implements, as 164.312(x) or 164.312(x)(n)',
    );
  }
  const retention = ownValue(compliance, 'dataRetentionDays');
  if (retention === undefined) {
    add(
      context,
      'compliance.dataRetentionDays',
      'phi_retention_missing',
      `PHI handling needs compliance.dataRetentionDays of at least ${PHI_MIN_RETENTION_DAYS} (7 years)`,
    );
  } else if (typeof retention === 'number' && retention < PHI_MIN_RETENTION_DAYS) {
    add(
      context,
      'compliance.dataRetentionDays',
      'phi_retention_too_short',
      `PHI must be retained at least ${PHI_MIN_RETENTION_DAYS} days (7 years), not ${retention}`,
    );
  }
}

function domainRules(context: Context): void {
  const domains = stringsAt(context.root, 'allowedDomains');
  const external = context.traits.has('external_service');
  if (external && domains.length === 0) {
    add(
      context,
      'allowedDomains',
      'external_domains_missing',
      'external_service needs the domains the plugin reaches in allowedDomains',
    );
  }
  if (!external && domains.length > 0) {
    add(
      context,
      'allowedDomains',
      'domains_without_external_service',
      'allowedDomains needs the external_service trait',
    );
  }
  const seen = new Map<string, string>();
  for (const [index, domain] of domains) {
    const problem = domainProblem(domain);
    if (problem !== undefined) {
      add(context, `allowedDomains.${index}`, problem.code, problem.message);
      continue;
    }
    const normalized = normalizeDomain(domain) ?? domain;
    const first = seen.get(normalized);
    if (first !== undefined && first !== domain) {
      add(
        context,
        `allowedDomains.${index}`,
        'domain_duplicate',
        `${domain} is ${first} again (${normalized})`,
      );
    }
    seen.set(normalized, first ?? domain);
  }
}

function deliveryRules(context: Context): void {
  const delivery = objectAt(context.root, 'delivery');
  const mode = stringAt(delivery, 'mode');
  const webhookUrl = ownValue(delivery, 'webhookUrl');
  if (mode === 'nats' && webhookUrl !== undefined) {
    add(context, 'delivery.webhookUrl', 'webhook_unexpected', 'nats delivery takes no webhookUrl');
  }
  if (typeof webhookUrl === 'string') {
    let url: URL;
    try {
      url = new URL(webhookUrl);
    } catch {
      return; // the schema reports it (https only, too)
    }
    if (url.username !== '' || url.password !== '') {
      add(context, 'delivery.webhookUrl', 'webhook_invalid', 'a webhook URL carries no credentials');
    }
    const problem = domainProblem(url.hostname, { allowWildcard: false });
    if (problem !== undefined) {
      add(context, 'delivery.webhookUrl', problem.code, `webhook host: ${problem.message}`);
    }
  }
  const healthCheck = objectAt(context.root, 'healthCheck');
  const type = stringAt(healthCheck, 'type');
  if (type === 'http' && mode !== 'http') {
    add(
      context,
      'healthCheck.type',
      'health_check_http_without_webhook',
      'http health checks poll the webhook host: they need http delivery',
    );
  }
  if (type === 'nats' && ownValue(healthCheck, 'path') !== undefined) {
    add(context, 'healthCheck.path', 'health_check_path_unexpected', 'nats health checks take no path');
  }
}

function operationRules(context: Context): void {
  const names = new Map<string, number>();
  for (const [index, operation] of objectsAt(context.root, 'operations')) {
    const name = stringAt(operation, 'name');
    if (name !== undefined) {
      const first = names.get(name);
      if (first !== undefined) {
        add(
          context,
          `operations.${index}.name`,
          'operation_duplicate',
          `operation ${name} is declared twice (also operations.${first})`,
        );
      } else {
        names.set(name, index);
      }
    }
    for (const [traitIndex, trait] of traitNamesAt(operation, 'requiredTraits')) {
      if (traitRegistry.canonicalName(trait) === undefined) {
        add(
          context,
          `operations.${index}.requiredTraits.${traitIndex}`,
          'operation_trait_unknown',
          `${trait} is not a trait`,
        );
      }
    }
    for (const [classIndex, classification] of stringsAt(operation, 'classification')) {
      if (
        (classifications as readonly string[]).includes(classification) &&
        !context.classifications.has(classification)
      ) {
        add(
          context,
          `operations.${index}.classification.${classIndex}`,
          'operation_classification_undeclared',
          `${classification} is not in security.dataClassification`,
        );
      }
    }
  }
}

function eventRules(context: Context): void {
  const events = objectAt(context.root, 'events');
  for (const list of ['publishes', 'subscribes']) {
    const versions = new Map<string, string>();
    for (const [index, eventType] of stringsAt(events, list)) {
      const base = eventType.split('@')[0];
      const first = versions.get(base);
      if (first !== undefined && first !== eventType) {
        add(
          context,
          `events.${list}.${index}`,
          'event_version_conflict',
          `${eventType} and ${first} name the same event type with different versions`,
        );
      }
      versions.set(base, first ?? eventType);
    }
  }
}

function resourceRules(context: Context): void {
  const resources = objectAt(context.root, 'resources');
  for (const key of ['memoryMb', 'cpu'] as const) {
    const value = numberAt(resources, key);
    const { min, max } = resourceBounds[key];
    if (value !== undefined && (value < min || value > max)) {
      add(
        context,
        `resources.${key}`,
        'resources_out_of_bounds',
        `${key} must be from ${min} to ${max}, not ${value}`,
      );
    }
  }
}

function dependencyRules(context: Context): void {
  const id = stringAt(context.root, 'id');
  const known = context.options.knownPluginIds;
  const isKnown =
    known === undefined
      ? undefined
      : typeof known === 'function'
        ? known
        : (dependency: string) => known.has(dependency);
  for (const [index, dependency] of stringsAt(context.root, 'dependencies')) {
    if (dependency === id) {
      add(context, `dependencies.${index}`, 'dependency_self', 'a plugin cannot depend on itself');
    } else if (isKnown !== undefined && !isKnown(dependency)) {
      add(context, `dependencies.${index}`, 'dependency_unknown', `${dependency} is not a registered plugin`);
    }
  }
}

/**
 * The security rules of a manifest (issue 5), run over the raw input so that they report even when the schema
 * failed: traits, authentication, classifications, PHI, external services and domains, delivery and health,
 * operations and events, resources, dependencies. Every violation, in that order.
 */
export function securityViolations(input: unknown, options: SecurityRuleOptions = {}): ManifestViolation[] {
  const root =
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? (input as Record<string, unknown>)
      : undefined;
  const traitNames = traitNamesAt(root, 'traits').map(([, name]) => name);
  const context: Context = {
    root,
    traits: new Set(resolveTraits(traitNames).traits),
    classifications: new Set(
      stringsAt(objectAt(root, 'security'), 'dataClassification').map(([, name]) => name),
    ),
    options,
    violations: [],
  };
  traitRules(context);
  authenticationRules(context);
  classificationRules(context);
  phiRules(context);
  domainRules(context);
  deliveryRules(context);
  operationRules(context);
  eventRules(context);
  resourceRules(context);
  dependencyRules(context);

  return context.violations;
}
