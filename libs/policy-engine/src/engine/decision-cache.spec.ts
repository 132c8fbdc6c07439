import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { PolicyInput } from '../policy-types';
import {
  CLASSIFICATIONS,
  GRANT_END,
  GRANT_START,
  policyInput,
  principal,
  PROPERTY_BUNDLE,
  traits,
} from '../testing/policy.arbitraries';
import { bundle, input, party, PII_SET, plugin, roleTraits, user, USER_ID } from '../testing/policy.fixtures';
import { CachedPolicyEngine, decisionCacheKey } from './decision-cache';
import { PolicyEngine } from './policy-engine';

const reference = new PolicyEngine(PROPERTY_BUNDLE);

/** One change of an input that the decision reads. */
const variant = fc.oneof(
  fc
    .subarray(CLASSIFICATIONS)
    .map((classification) => (request: PolicyInput) => ({ ...request, classification })),
  traits.map((list) => (request: PolicyInput) => ({
    ...request,
    principal: { ...request.principal, traits: list },
  })),
  fc
    .constantFrom('active', 'disabled', 'locked')
    .map((status) => (request: PolicyInput) => ({ ...request, principal: { ...request.principal, status } })),
  principal.map((other) => (request: PolicyInput) => ({ ...request, principal: other })),
  traits.map((list) => (request: PolicyInput) => ({
    ...request,
    target: { pluginId: request.target?.pluginId ?? 'user-directory', traits: list },
  })),
  traits.map((list) => (request: PolicyInput) => ({
    ...request,
    source: { pluginId: request.source?.pluginId ?? 'crm-sync', traits: list },
  })),
  fc.constantFrom('get_user', 'drop').map((operation) => (request: PolicyInput) => ({
    ...request,
    context: { ...request.context, operation },
  })),
  fc.constantFrom('api.example.org', 'evil.com').map((domain) => (request: PolicyInput) => ({
    ...request,
    context: { ...request.context, domain },
  })),
  fc.constantFrom('ui.config', 'p-one', 'crm-sync').map((id) => (request: PolicyInput) => ({
    ...request,
    resource: { ...request.resource, id },
  })),
  fc
    .constantFrom(GRANT_START - 1, GRANT_START + 1, GRANT_END, undefined)
    .map((now) => (request: PolicyInput) => ({
      ...request,
      now,
    })),
);

describe(CachedPolicyEngine.name, () => {
  it('never answers a decision made for another input (classification, traits, status, parties, context, time)', () => {
    fc.assert(
      fc.property(policyInput, fc.array(variant, { minLength: 1, maxLength: 6 }), (base, changes) => {
        const sut = new CachedPolicyEngine(PROPERTY_BUNDLE, { maxEntries: 4 });
        const requests = [base, ...changes.map((change) => change(base)), base];
        for (const request of [...requests, ...requests]) {
          expect(sut.decide(request)).toEqual(reference.decide(request));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('gives distinct inputs distinct keys, so a key shared means the same decision', () => {
    fc.assert(
      fc.property(policyInput, policyInput, (a, b) => {
        if (decisionCacheKey(a) === decisionCacheKey(b)) {
          expect({ ...reference.decide(a), trail: [] }).toEqual({ ...reference.decide(b), trail: [] });
        }
      }),
      { numRuns: 2_000 },
    );
    // field boundaries cannot shift: the same characters in other fields are other keys
    const a = input('users.read', user(['ab', 'c']));
    const b = input('users.read', user(['a', 'bc']));
    expect(decisionCacheKey(a)).not.toBe(decisionCacheKey(b));
    expect(decisionCacheKey({ ...a, resource: { type: 'users', id: 'x' } })).not.toBe(
      decisionCacheKey({ ...a, resource: { type: 'users', ownerPluginId: 'x' } }),
    );
  });

  it('keys classifications as a set and ignores context fields no rule reads', () => {
    const request = input('users.read', user(roleTraits.admin), { classification: ['pii', 'internal'] });
    expect(decisionCacheKey({ ...request, classification: ['internal', 'pii', 'pii'] })).toBe(
      decisionCacheKey(request),
    );
    expect(decisionCacheKey({ ...request, context: { traceId: 'abc' } })).toBe(decisionCacheKey(request));
  });

  it('answers repeated inputs from the cache', () => {
    const sut = new CachedPolicyEngine(bundle());
    const request = input('identity.user.create', user(roleTraits.admin));
    const first = sut.decide(request);
    expect(sut.decide({ ...request })).toBe(first);
    expect(sut.stats()).toEqual({ hits: 1, misses: 1, evictions: 0, size: 1 });
  });

  it('stays within maxEntries, dropping the least recently used', () => {
    const sut = new CachedPolicyEngine(bundle(), { maxEntries: 4 });
    const request = (id: string) => input('identity.user.read', user(roleTraits.admin, { id }));
    for (const id of ['a', 'b', 'c', 'd']) {
      sut.decide(request(id));
    }
    sut.decide(request('a'));
    sut.decide(request('a'));
    sut.decide(request('e'));
    expect(sut.stats()).toMatchObject({ size: 4, evictions: 1 });
    sut.decide(request('a'));
    expect(sut.stats().hits).toBe(3);
    for (let i = 0; i < 100; i += 1) {
      sut.decide(request(`u${i}`));
    }
    expect(sut.stats().size).toBe(4);
  });

  it('reuses a break-glass decision only within the grant and only for inputs with a time', () => {
    const sut = new CachedPolicyEngine(PROPERTY_BUNDLE);
    const request = input('users.read', user(roleTraits.admin), {
      classification: ['phi'],
      now: GRANT_START + 1,
    });
    expect(sut.decide(request).ruleId).toBe('break_glass');
    expect(sut.decide({ ...request, now: GRANT_START + 2 }).ruleId).toBe('break_glass');
    expect(sut.stats().hits).toBe(1);
    expect(sut.decide({ ...request, now: GRANT_END }).effect).toBe('deny');
    expect(sut.decide({ ...request, now: undefined }).effect).toBe('deny');
    expect(sut.decide({ ...request, now: GRANT_START - 1 }).effect).toBe('deny');
    expect(sut.decide({ ...request, now: GRANT_START + 3 }).ruleId).toBe('break_glass');
  });

  it('does not cache decisions of a grant holder made without the grant', () => {
    const sut = new CachedPolicyEngine(PROPERTY_BUNDLE);
    const request = input('users.read', user(roleTraits.admin, { id: USER_ID }), { classification: ['phi'] });
    expect(sut.decide(request).effect).toBe('deny');
    expect(sut.decide({ ...request, now: GRANT_START + 1 }).effect).toBe('allow');
    expect(sut.stats().hits).toBe(0);
  });

  it('evaluates, and never caches, inputs it cannot key', () => {
    const sut = new CachedPolicyEngine(bundle());
    const odd = { ...input('users.read', user(roleTraits.admin)), now: Number.NaN };
    expect(sut.decide(odd).reason).toBe('invalid_input');
    expect(sut.decide(odd).reason).toBe('invalid_input');
    expect(sut.stats()).toMatchObject({ hits: 0, misses: 2, size: 0 });
  });

  it('drops every decision when the bundle changes, and names the new version', () => {
    const rpc = input('rpc.call', plugin('crm-sync', PII_SET), {
      source: party('crm-sync', PII_SET),
      target: party('user-directory', PII_SET),
      context: { operation: 'get_user' },
    });
    const sut = new CachedPolicyEngine(bundle([], 1));
    expect(sut.decide(rpc)).toMatchObject({ effect: 'deny', bundleVersion: 1 });
    sut.setBundle(
      bundle(
        [{ type: 'operator', caller: 'crm-sync', target: 'user-directory', operations: ['get_user'] }],
        2,
      ),
    );
    expect(sut.decide(rpc)).toMatchObject({ effect: 'allow', bundleVersion: 2 });
    expect(sut.bundleVersion).toBe(2);
  });

  it('never caches simulations', () => {
    const sut = new CachedPolicyEngine(bundle());
    const request = input('identity.user.create', user(roleTraits.admin));
    expect(sut.simulate(request).trail.length).toBeGreaterThan(sut.decide(request).trail.length);
    expect(sut.stats()).toMatchObject({ misses: 1, size: 1 });
  });
});
