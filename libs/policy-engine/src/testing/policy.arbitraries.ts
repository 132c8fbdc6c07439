// fast-check arbitraries for the property specs (excluded from the build by tsconfig.lib.json).
import type { Classification, PrincipalKind } from '@vivified/contracts';
import fc from 'fast-check';

import { actionCatalog, actionSpec } from '../actions/action-catalog';
import type { PolicyInput, PolicyParty, PolicyPrincipal } from '../policy-types';
import { traitRegistry } from '../traits/trait-registry';
import { bundle, roleTraits, USER_ID } from './policy.fixtures';

/** Every trait and alias, plus names that are no trait. */
export const TRAIT_NAMES = [
  ...traitRegistry.all().map((definition) => definition.name),
  'bogus',
  'root',
  'system',
];
export const ACTIONS = actionCatalog().map((spec) => spec.action);
export const IDS = ['crm-sync', 'user-directory', 'mailer', 'event-router', USER_ID, 'p-one'];
export const CLASSIFICATIONS: Classification[] = ['public', 'internal', 'confidential', 'pii', 'phi'];
export const GRANT_START = Date.parse('2026-03-01T10:00:00Z');
export const GRANT_END = Date.parse('2026-03-01T14:00:00Z');

/** A bundle that gives every lane rule something to match. */
export const PROPERTY_BUNDLE = bundle([
  { type: 'operator', caller: 'crm-sync', target: 'user-directory', operations: ['get_user', 'list_users'] },
  { type: 'operator', caller: 'mailer', target: 'crm-sync', operations: ['send'] },
  { type: 'proxy', plugin: 'mailer', domains: ['api.example.org', '*.mail.example.net'] },
  {
    type: 'break_glass',
    id: 'incident-42',
    principalId: USER_ID,
    classifications: ['phi', 'pii'],
    startsAt: '2026-03-01T10:00:00Z',
    expiresAt: '2026-03-01T14:00:00Z',
    reason: 'ER outage',
  },
]);

const ROLE_SETS: ReadonlyArray<readonly string[]> = Object.values(roleTraits);
const PLUGIN_SETS: ReadonlyArray<readonly string[]> = [
  ['handles_phi', 'audit_required', 'encryption_required', 'hipaa_compliant', 'communication_plugin'],
  ['handles_pii', 'audit_required', 'external_service', 'communication_plugin'],
  ['handles_confidential', 'storage_plugin'],
  ['external_service', 'integration_plugin'],
  ['system_core'],
];

/** Trait lists: mostly realistic (roles, manifests) with extras, sometimes anything. */
export const traits: fc.Arbitrary<string[]> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.subarray([...ROLE_SETS, ...PLUGIN_SETS], { minLength: 1, maxLength: 2 }),
        fc.uniqueArray(fc.constantFrom(...TRAIT_NAMES), { maxLength: 3 }),
      )
      .map(([sets, extra]) => [...new Set([...sets.flat(), ...extra])]),
  },
  { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...TRAIT_NAMES), { maxLength: 14 }) },
);

export const principal: fc.Arbitrary<PolicyPrincipal> = fc.record({
  kind: fc.constantFrom<PrincipalKind>('user', 'plugin', 'service'),
  id: fc.constantFrom(...IDS),
  traits,
  status: fc.oneof(
    { weight: 8, arbitrary: fc.constant('active') },
    { weight: 1, arbitrary: fc.constantFrom('disabled', 'pending_approval', 'locked') },
  ),
});

const partyArb: fc.Arbitrary<PolicyParty> = fc.record({ pluginId: fc.constantFrom(...IDS), traits });

/** A well-formed input; the resource type is usually the action's and the source usually the caller. */
export const policyInput: fc.Arbitrary<PolicyInput> = fc
  .record({
    action: fc.constantFrom(...ACTIONS),
    principal,
    matchingResource: fc.oneof(
      { weight: 9, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
    resourceType: fc.constantFrom('users', 'plugins', 'ui_feature', 'rpc'),
    resourceId: fc.option(fc.constantFrom(...IDS, 'ui.config', 'config', 'ui.terminal', 'ui.dashboard'), {
      nil: undefined,
    }),
    classification: fc.oneof(
      { weight: 2, arbitrary: fc.constant<Classification[]>([]) },
      { weight: 3, arbitrary: fc.subarray(CLASSIFICATIONS) },
    ),
    source: fc.option(partyArb, { nil: undefined }),
    sourceIsCaller: fc.boolean(),
    kindFromAction: fc.oneof(
      { weight: 4, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
    kindPick: fc.nat(),
    lane: fc.boolean(),
    target: fc.option(partyArb, { nil: undefined }),
    operation: fc.option(fc.constantFrom('get_user', 'list_users', 'send', 'drop'), { nil: undefined }),
    domain: fc.option(fc.constantFrom('api.example.org', 'eu.mail.example.net', 'evil.com', '127.0.0.1'), {
      nil: undefined,
    }),
    now: fc.option(fc.constantFrom(GRANT_START - 1, GRANT_START, GRANT_START + 3_600_000, GRANT_END), {
      nil: undefined,
    }),
  })
  .map((r): PolicyInput => {
    const spec = actionSpec(r.action)!;
    let caller = r.kindFromAction
      ? { ...r.principal, kind: spec.kinds[r.kindPick % spec.kinds.length] }
      : r.principal;
    let target = r.target;
    // steer some operator and proxy calls onto the rules of the bundle
    if (r.lane && spec.resource === 'rpc') {
      caller = { ...caller, id: 'crm-sync' };
      target = { pluginId: 'user-directory', traits: target?.traits ?? [] };
    } else if (r.lane && spec.resource === 'proxy') {
      caller = { ...caller, id: 'mailer' };
    }
    const source =
      r.source !== undefined && r.sourceIsCaller ? { ...r.source, pluginId: caller.id } : r.source;

    return {
      action: r.action,
      principal: caller,
      resource: {
        type: r.matchingResource ? actionSpec(r.action)!.resource : r.resourceType,
        ...(r.resourceId === undefined ? {} : { id: r.resourceId }),
      },
      classification: r.classification,
      ...(source === undefined ? {} : { source }),
      ...(target === undefined ? {} : { target }),
      context: {
        ...(r.operation === undefined ? {} : { operation: r.operation }),
        ...(r.domain === undefined ? {} : { domain: r.domain }),
      },
      ...(r.now === undefined ? {} : { now: r.now }),
    };
  });

/** Rank of an effect: removing a trait may only lower it. */
export function rank(effect: 'allow' | 'deny' | 'sanitize'): number {
  return effect === 'deny' ? 0 : effect === 'sanitize' ? 1 : 2;
}
