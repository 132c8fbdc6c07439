// The engine's decision tables: shared rules, input builders and the assertions of each row (excluded from the build).
import { expect, it } from 'vitest';

import type { AdminRule } from '../bundle/policy-bundle';
import type { PolicyEngine } from '../engine/policy-engine';
import type { PolicyDecision, PolicyInput } from '../policy-types';
import { input, party, PII_SET, plugin, service, USER_ID } from './policy.fixtures';

export const ENGINE_RULES: AdminRule[] = [
  { type: 'operator', caller: 'crm-sync', target: 'user-directory', operations: ['get_user', 'list_users'] },
  { type: 'proxy', plugin: 'mailer', domains: ['api.example.org', '*.mail.example.net'] },
  {
    type: 'break_glass',
    id: 'incident-42',
    principalId: USER_ID,
    classifications: ['phi'],
    startsAt: '2026-03-01T10:00:00Z',
    expiresAt: '2026-03-01T14:00:00Z',
    reason: 'ER outage, ticket INC-42',
  },
];
export const IN_GRANT = Date.parse('2026-03-01T12:00:00Z');
export const AFTER_GRANT = Date.parse('2026-03-01T14:00:00Z');

/** [name, input, effect, ruleId, reason] */
export type Row = [string, PolicyInput, PolicyDecision['effect'], string, string];

export const EXTERNAL = ['communication_plugin', 'external_service'];
/** An operator-lane call of crm-sync on user-directory. */
export const rpc = (
  operation: string | undefined,
  callerTraits: readonly string[] = [],
  targetTraits: readonly string[] = PII_SET,
  classification: PolicyInput['classification'] = [],
): PolicyInput =>
  input('rpc.call', plugin('crm-sync', callerTraits), {
    source: party('crm-sync', callerTraits),
    target: party('user-directory', targetTraits),
    context: operation === undefined ? {} : { operation },
    classification,
  });
/** A proxy-lane request of a plugin. */
export const proxy = (
  domain: string | undefined,
  traits: readonly string[] = EXTERNAL,
  id = 'mailer',
): PolicyInput => input('proxy.request', plugin(id, traits), { context: { domain } });
/** The event-router delivering from ehr-bridge to notifier. */
export const deliver = (
  classification: PolicyInput['classification'],
  sourceTraits: readonly string[],
  targetTraits: readonly string[],
): PolicyInput =>
  input('events.deliver', service('event-router'), {
    source: party('ehr-bridge', sourceTraits),
    target: party('notifier', targetTraits),
    classification,
  });

/** Checks every row with decide and with simulate (same verdict, a trail at least as long). */
export function itDecidesEachRow(sut: PolicyEngine, table: readonly Row[], version: number): void {
  it.each(table)('%s', (_name, request, effect, ruleId, reason) => {
    const decision = sut.decide(request);
    expect({ effect: decision.effect, ruleId: decision.ruleId, reason: decision.reason }).toEqual({
      effect,
      ruleId,
      reason,
    });
    expect(decision.bundleVersion).toBe(version);
    expect(decision.trail.length).toBeGreaterThan(0);
  });

  it.each(table)('simulates %s with the same verdict', (_name, request, effect, ruleId, reason) => {
    const decision = sut.simulate(request);
    expect({ effect: decision.effect, ruleId: decision.ruleId, reason: decision.reason }).toEqual({
      effect,
      ruleId,
      reason,
    });
    expect(decision.trail.length).toBeGreaterThanOrEqual(sut.decide(request).trail.length);
  });
}
