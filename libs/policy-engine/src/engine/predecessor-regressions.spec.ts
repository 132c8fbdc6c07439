// The predecessor's policy bugs (../shared/reference/predecessor-inventory.md §1.2, §2), each as a test.
import { describe, expect, it } from 'vitest';

import { actionCatalog } from '../actions/action-catalog';
import type { PolicyInput } from '../policy-types';
import { bundle, input, party, PHI_SET, PII_SET, plugin, roleTraits, user } from '../testing/policy.fixtures';
import { traitRegistry, uiTraitsFor, validateTraits } from '../traits/trait-registry';
import { CachedPolicyEngine } from './decision-cache';
import { PolicyEngine } from './policy-engine';

const sut = new PolicyEngine(
  bundle([{ type: 'operator', caller: 'crm-sync', target: 'user-directory', operations: ['get_user'] }]),
);

describe('predecessor regressions', () => {
  it('default allow: an action no rule grants is denied with default_deny', () => {
    expect(sut.decide(input('events.subscribe', user(roleTraits.admin)))).toMatchObject({
      effect: 'deny',
      ruleId: 'default_deny',
      reason: 'default_deny',
    });
    expect(sut.decide(input('anything.else', user(roleTraits.admin))).effect).toBe('deny');
  });

  it('empty traits: a principal without traits gets only its own account and public vocabulary', () => {
    const allowed = actionCatalog()
      .filter((spec) => spec.action === `${spec.resource}.${spec.verb}`)
      .filter((spec) => sut.decide(input(spec.action, user([]))).effect !== 'deny')
      .map((spec) => spec.action);
    expect(allowed).toEqual([
      'account.read',
      'account.password-change',
      'account.logout-all',
      'account.mfa-disable',
      'account.backup-codes',
      'account.webauthn-manage',
      'account.api-key-create',
      'account.api-key-list',
      'account.api-key-revoke',
      'roles.list',
      'traits.read',
    ]);
    expect(sut.decide(input('identity.auth.me', user([]), { classification: ['phi'] })).effect).toBe('deny');
  });

  it('admin override: the admin trait allows nothing by itself, and no PHI at all', () => {
    expect(sut.decide(input('identity.user.create', user(['admin']))).reason).toBe('user_manager_required');
    expect(
      sut.decide(input('identity.user.read', user(roleTraits.admin), { classification: ['phi'] })),
    ).toMatchObject({
      effect: 'deny',
      reason: 'phi_trait_missing',
    });
  });

  it('alias overwrite: handles_phi keeps its requirements and phi_handler resolves to it', () => {
    expect(traitRegistry.get('handles_phi')?.legacy).toBe(false);
    expect(traitRegistry.get('handles_phi')?.requires).toEqual(['audit_required']);
    expect(validateTraits(['handles_phi'], { kind: 'plugin' }).ok).toBe(false);
    expect(
      sut.decide(
        input('events.publish', plugin('ehr', ['phi_handler', 'encryption_required']), {
          classification: ['phi'],
        }),
      ).reason,
    ).toBe('phi_audit_required');
  });

  it('PHI cache key without classification: an allow without PHI is not reused for PHI', () => {
    const cached = new CachedPolicyEngine(bundle());
    const request: PolicyInput = input('identity.user.read', user(roleTraits.admin));
    expect(cached.decide(request).effect).toBe('allow');
    expect(cached.decide({ ...request, classification: ['phi'] }).effect).toBe('deny');
    expect(cached.decide({ ...request, classification: ['pii'] }).effect).toBe('deny');
    expect(cached.decide(request).effect).toBe('allow');
    expect(cached.stats()).toMatchObject({ hits: 1, misses: 3 });
  });

  it('operator deny swallowed: an operation off the allowlist is denied even when every other rule allows', () => {
    const decision = sut.decide(
      input('rpc.call', plugin('crm-sync', PII_SET), {
        source: party('crm-sync', PII_SET),
        target: party('user-directory', PII_SET),
        context: { operation: 'delete_user' },
        classification: ['pii'],
      }),
    );
    expect(decision).toMatchObject({
      effect: 'deny',
      ruleId: 'operator_allowlist',
      reason: 'operation_not_allowlisted',
    });
  });

  it('errors inside the engine deny instead of escaping or allowing', () => {
    const principal = {
      kind: 'user',
      id: 'u-1',
      status: 'active',
      get traits(): string[] {
        throw new Error('boom');
      },
    };
    const decision = sut.decide({ ...input('users.read', user([])), principal } as unknown as PolicyInput);
    expect(decision).toMatchObject({
      effect: 'deny',
      ruleId: 'evaluation_error',
      reason: 'evaluation_error',
    });
  });

  it('PHI between plugins was decided by the caller alone: the target needs the PHI traits too', () => {
    const request = input('rpc.call', plugin('crm-sync', PHI_SET), {
      source: party('crm-sync', PHI_SET),
      target: party('user-directory', []),
      context: { operation: 'get_user' },
      classification: ['phi'],
    });
    expect(sut.decide(request).reason).toBe('target_phi_trait_missing');
  });

  it('"sanitize" that allowed with no fields: a sanitize always names the fields to strip', () => {
    const decision = sut.decide(
      input('rpc.call', plugin('crm-sync', PII_SET), {
        source: party('crm-sync', PII_SET),
        target: party('user-directory', []),
        context: { operation: 'get_user' },
        classification: ['pii'],
      }),
    );
    expect(decision.effect).toBe('sanitize');
    expect(decision.redactFields.length).toBeGreaterThan(0);
  });

  it('UI check that was always true: a feature is denied without its requirements', () => {
    expect(uiTraitsFor(['viewer'])).not.toContain('ui.admin');
    expect(
      sut.decide(
        input('ui_feature.view', user(['viewer']), { resource: { type: 'ui_feature', id: 'ui.admin' } }),
      ).effect,
    ).toBe('deny');
  });

  it('conflicts were never declared: the registry rejects network_isolated with external_service', () => {
    expect(validateTraits(['network_isolated', 'external_service'], { kind: 'plugin' }).violations).toEqual([
      {
        trait: 'external_service',
        code: 'conflicts',
        detail: 'external_service conflicts with network_isolated',
      },
    ]);
  });
});
