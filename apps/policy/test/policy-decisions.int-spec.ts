import type { PolicyDecideRequest } from '@vivified/contracts';
import { ErrorCode, subjects } from '@vivified/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PolicyHarness, rejection, roleTraits } from './harness';

/** crm-sync calls user-directory's get_user over the operator lane (the engine's operator allowlist rule). */
const rpcCall: PolicyDecideRequest = {
  action: 'rpc.call',
  principal: { kind: 'plugin', id: 'crm-sync', traits: [], status: 'active' },
  resource: { type: 'rpc' },
  classification: [],
  source: { pluginId: 'crm-sync', traits: [] },
  target: { pluginId: 'user-directory', traits: ['handles_pii', 'audit_required'] },
  context: { operation: 'get_user' },
};

const allowlist = [
  { type: 'operator', caller: 'crm-sync', target: 'user-directory', operations: ['get_user'] },
] as const;

describe('policy decide and simulate (nats-server, PostgreSQL)', () => {
  let policy: PolicyHarness;
  let admin: { id: string; token: string };
  let service: string;

  beforeAll(async () => {
    policy = await PolicyHarness.start();
    admin = await policy.user(roleTraits.admin);
    service = await policy.token('service:gateway', ['system_core']);
  });

  afterAll(async () => {
    await policy?.stop();
  });

  it('simulates with the full rule trail: denied by default without an allowlist rule', async () => {
    const decision = await policy.client.request(subjects.policy.decision.simulate, rpcCall, {
      token: admin.token,
    });

    expect(decision).toMatchObject({
      effect: 'deny',
      ruleId: 'operator_allowlist',
      bundleVersion: 0,
      draft: false,
    });
    expect(decision.trail.length).toBeGreaterThan(3);
    expect(decision.trail.some((entry) => entry.effect === 'not_applicable')).toBe(true);
    expect(Date.parse(decision.at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('simulates a draft rule set without saving it', async () => {
    const draft = await policy.client.request(
      subjects.policy.decision.simulate,
      { ...rpcCall, rules: [...allowlist] },
      { token: admin.token },
    );
    const other = await policy.client.request(
      subjects.policy.decision.simulate,
      { ...rpcCall, context: { operation: 'delete_user' }, rules: [...allowlist] },
      { token: admin.token },
    );
    const current = await policy.client.request(subjects.policy.rules.get, {}, { token: admin.token });

    expect(draft).toMatchObject({
      effect: 'allow',
      ruleId: 'operator_allowlist',
      reason: 'operation_allowlisted',
      draft: true,
      bundleVersion: 1,
    });
    expect(other).toMatchObject({ effect: 'deny', ruleId: 'operator_allowlist', draft: true });
    expect(current.version).toBe(0);
  });

  it('lists every problem of an invalid draft', async () => {
    const error = await rejection(
      policy.client.request(
        subjects.policy.decision.simulate,
        { ...rpcCall, rules: [{ type: 'operator', caller: 'crm-sync', target: 'crm-sync', operations: [] }] },
        { token: admin.token },
      ),
    );

    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.details?.map((detail) => detail.path)).toEqual(['rules[0].target', 'rules[0].operations']);
  });

  it('simulates break-glass at a given instant', async () => {
    const grant = {
      type: 'break_glass',
      id: 'inc-42',
      principalId: admin.id,
      classifications: ['phi'],
      startsAt: '2030-01-01T00:00:00.000Z',
      expiresAt: '2030-01-01T04:00:00.000Z',
      reason: 'EHR outage',
    } as const;
    const read = {
      action: 'identity.user.read',
      principal: { kind: 'user' as const, id: admin.id, traits: [...roleTraits.admin], status: 'active' },
      resource: { type: 'users' },
      classification: ['phi' as const],
      rules: [grant],
    };

    const inside = await policy.client.request(
      subjects.policy.decision.simulate,
      { ...read, at: '2030-01-01T01:00:00.000Z' },
      { token: admin.token },
    );
    const after = await policy.client.request(
      subjects.policy.decision.simulate,
      { ...read, at: '2030-01-01T05:00:00.000Z' },
      { token: admin.token },
    );

    expect(inside).toMatchObject({ effect: 'allow', grantId: 'inc-42', auditLevel: 'detailed' });
    expect(after).toMatchObject({ effect: 'deny', reason: 'phi_trait_missing' });
  });

  it('decides for a core service from the current bundle, and follows a rule change at once', async () => {
    const before = await policy.client.request(subjects.policy.decision.decide, rpcCall, { token: service });
    const saved = await policy.client.request(
      subjects.policy.rules.put,
      { rules: [...allowlist] },
      { token: admin.token },
    );
    const after = await policy.client.request(subjects.policy.decision.decide, rpcCall, { token: service });

    expect(before).toMatchObject({ effect: 'deny', bundleVersion: 0 });
    expect(after).toMatchObject({
      effect: 'allow',
      ruleId: 'operator_allowlist',
      bundleVersion: saved.version,
      requiredTraits: [],
      redactFields: [],
    });
    expect(after).not.toHaveProperty('draft');
  });

  it('answers the §5 output for PHI: denied to an admin without the PHI traits, naming them', async () => {
    const decision = await policy.client.request(
      subjects.policy.decision.decide,
      {
        action: 'identity.user.read',
        principal: { kind: 'user', id: admin.id, traits: [...roleTraits.admin], status: 'active' },
        resource: { type: 'users' },
        classification: ['phi'],
      },
      { token: service },
    );

    expect(decision).toMatchObject({ effect: 'deny', ruleId: 'phi_access', reason: 'phi_trait_missing' });
    expect(decision.requiredTraits).toEqual(
      expect.arrayContaining(['handles_phi', 'audit_required', 'encryption_required']) as unknown,
    );
  });

  it('refuses decide to users and simulate to readers, and validates the input', async () => {
    const reader = await policy.user(['compliance_officer', 'audit_viewer']);

    const userDecide = await rejection(
      policy.client.request(subjects.policy.decision.decide, rpcCall, { token: admin.token }),
    );
    const readerSimulate = await rejection(
      policy.client.request(subjects.policy.decision.simulate, rpcCall, { token: reader.token }),
    );
    const invalid = await rejection(
      policy.client.requestRaw(
        subjects.policy.decision.decide,
        { ...rpcCall, classification: ['secret'], principal: { kind: 'robot' } },
        { token: service },
      ),
    );
    const badContext = await rejection(
      policy.client.request(
        subjects.policy.decision.decide,
        { ...rpcCall, context: { operation: 42 } },
        { token: service },
      ),
    );

    expect(userDecide).toMatchObject({ code: ErrorCode.PolicyDenied, reason: 'principal_kind_not_allowed' });
    expect(readerSimulate).toMatchObject({ code: ErrorCode.PolicyDenied, reason: 'trait_missing' });
    expect(invalid.code).toBe(ErrorCode.ValidationFailed);
    expect(invalid.details?.map((detail) => detail.path)).toEqual(
      expect.arrayContaining(['classification', 'principal.kind']) as unknown,
    );
    expect(badContext).toMatchObject({ code: ErrorCode.ValidationFailed });
    expect(badContext.details?.[0]?.path).toBe('context.operation');
  });
});
