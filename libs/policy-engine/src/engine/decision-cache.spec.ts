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
import { CachedPolicyEngine } from './decision-cache';
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

  it('reuses a decision for inputs equal in what the engine reads: traits and classifications as sets', () => {
    const sut = new CachedPolicyEngine(bundle());
    const request = input('users.read', user(['viewer', 'admin', 'user_manager']), {
      classification: ['internal', 'public'],
    });
    const first = sut.decide(request);
    const same: PolicyInput[] = [
      { ...request, principal: user(['user_manager', 'admin', 'viewer', 'viewer']) },
      { ...request, principal: user(['user_manager', 'admin', 'viewer', 'bogus']) },
      { ...request, classification: ['public', 'internal', 'public'] },
      { ...request, context: { traceId: 'abc', payload: { x: 1 } } },
    ];
    for (const other of same) {
      expect(sut.decide(other)).toBe(first);
    }
    expect(sut.stats()).toMatchObject({ hits: same.length, misses: 1 });
  });

  it('tells apart inputs that differ in any field the engine reads', () => {
    const sut = new CachedPolicyEngine(bundle());
    const request = input('plugins.config-read', plugin('p-one', []), {
      resource: { type: 'plugins', id: 'p-one' },
    });
    expect(sut.decide(request).effect).toBe('allow');
    const others: PolicyInput[] = [
      { ...request, resource: { type: 'plugins', id: 'p-two' } },
      { ...request, resource: { type: 'plugins', id: 'p-two', ownerPluginId: 'p-one' } },
      { ...request, resource: { type: 'users', id: 'p-one' } },
      { ...request, principal: plugin('p-one', [], 'disabled') },
      { ...request, principal: { ...plugin('p-one', []), kind: 'user' } },
      { ...request, classification: ['pii'] },
      { ...request, action: 'plugins.heartbeat' },
    ];
    for (const other of others) {
      expect(sut.decide(other)).toEqual(reference.decide(other));
    }
    expect(sut.stats()).toMatchObject({ hits: 0 });
  });

  it('tells apart lane calls by operation, domain, source and target', () => {
    const sut = new CachedPolicyEngine(PROPERTY_BUNDLE);
    const traits = ['external_service', ...PII_SET];
    const proxy = input('proxy.request', plugin('mailer', traits), {
      context: { domain: 'api.example.org' },
    });
    const rpc = input('rpc.call', plugin('crm-sync', PII_SET), {
      source: party('crm-sync', PII_SET),
      target: party('user-directory', PII_SET),
      context: { operation: 'get_user' },
      classification: ['pii'],
    });
    const pairs: Array<[PolicyInput, PolicyInput]> = [
      [proxy, { ...proxy, context: { domain: 'evil.example.com' } }],
      [rpc, { ...rpc, context: { operation: 'drop' } }],
      [rpc, { ...rpc, target: party('user-directory', []) }],
      [rpc, { ...rpc, target: party('mailer', PII_SET) }],
      [rpc, { ...rpc, source: party('crm-sync', []) }],
      [rpc, { ...rpc, source: party('mailer', PII_SET) }],
      // handles_pii and audit_required sit in different words of the trait mask
      [rpc, { ...rpc, target: party('user-directory', ['audit_required']) }],
      [rpc, { ...rpc, target: party('user-directory', ['handles_pii']) }],
      [rpc, { ...rpc, source: party('crm-sync', ['audit_required']) }],
      [rpc, { ...rpc, source: party('crm-sync', ['handles_pii']) }],
    ];
    for (const [allowed, other] of pairs) {
      expect(sut.decide(allowed).effect).toBe('allow');
      expect(sut.decide(other).effect).not.toBe('allow');
      expect(sut.decide(other)).toEqual(reference.decide(other));
    }
  });

  it('computes the traits again when a list is changed in place', () => {
    const sut = new CachedPolicyEngine(bundle());
    const list = [...roleTraits.admin];
    const request = input('identity.user.create', user(list));
    expect(sut.decide(request).effect).toBe('allow');
    list.splice(list.indexOf('user_manager'), 1);
    expect(sut.decide(request).effect).toBe('deny');
    expect(new PolicyEngine(bundle()).decide(request).effect).toBe('deny');
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
    sut.decide(request('e'));
    expect(sut.stats()).toMatchObject({ hits: 1, misses: 5, evictions: 2, size: 4 });
    sut.decide(request('a'));
    expect(sut.stats().hits).toBe(2);
    sut.decide(request('b'));
    expect(sut.stats().misses).toBe(6);
    for (let i = 0; i < 100; i += 1) {
      sut.decide(request(`u${i}`));
      expect(sut.stats().size).toBeLessThanOrEqual(4);
    }
  });

  it('keeps at most 64 variants of one action and principal', () => {
    const sut = new CachedPolicyEngine(bundle(), { maxEntries: 1_000 });
    const request = (operation: string) =>
      input('rpc.call', plugin('crm-sync', []), {
        source: party('crm-sync', []),
        target: party('user-directory', []),
        context: { operation },
      });
    for (let i = 0; i < 70; i += 1) {
      sut.decide(request(`op${i}`));
    }
    expect(sut.stats().size).toBe(64);
    sut.decide(request('op69'));
    sut.decide(request('op0'));
    expect(sut.stats()).toMatchObject({ hits: 1, misses: 71 });
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
    const unknownClass = input('users.read', user(roleTraits.admin), { classification: ['secret' as 'phi'] });
    for (const request of [odd, odd, unknownClass, unknownClass]) {
      expect(sut.decide(request).effect).toBe('deny');
    }
    expect(sut.stats()).toMatchObject({ hits: 0, misses: 4, size: 0 });
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
