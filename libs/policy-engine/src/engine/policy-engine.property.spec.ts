import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { actionSpec } from '../actions/action-catalog';
import type { PolicyInput } from '../policy-types';
import { GRANT_START, policyInput, PROPERTY_BUNDLE, rank, TRAIT_NAMES } from '../testing/policy.arbitraries';
import { roleTraits } from '../testing/policy.fixtures';
import { traitRegistry } from '../traits/trait-registry';
import { PolicyEngine } from './policy-engine';

const sut = new PolicyEngine(PROPERTY_BUNDLE);
const RUNS = { numRuns: 3_000 };

function without<T>(list: readonly T[], index: number): T[] {
  return list.filter((_, position) => position !== index);
}

describe(`${PolicyEngine.name} properties`, () => {
  it('removing a trait of the principal never turns a deny into an allow (nor lowers deny → sanitize)', () => {
    fc.assert(
      fc.property(policyInput, fc.nat(), (request, pick) => {
        fc.pre(request.principal.traits.length > 0);
        const index = pick % request.principal.traits.length;
        const fewer: PolicyInput = {
          ...request,
          principal: { ...request.principal, traits: without(request.principal.traits, index) },
        };
        expect(rank(sut.decide(fewer).effect)).toBeLessThanOrEqual(rank(sut.decide(request).effect));
      }),
      RUNS,
    );
  });

  it('removing a registered trait of the source or the target never turns a deny into an allow', () => {
    fc.assert(
      fc.property(policyInput, fc.nat(), fc.boolean(), (request, pick, onSource) => {
        const side = onSource ? request.source : request.target;
        fc.pre(side !== undefined && side.traits.length > 0);
        const fewerSide = { ...side, traits: without(side.traits, pick % side.traits.length) };
        const fewer: PolicyInput = onSource
          ? { ...request, source: fewerSide }
          : { ...request, target: fewerSide };
        expect(rank(sut.decide(fewer).effect)).toBeLessThanOrEqual(rank(sut.decide(request).effect));
      }),
      RUNS,
    );
  });

  it('always denies an unknown action, whatever else the input says', () => {
    fc.assert(
      fc.property(
        policyInput,
        fc.string({ maxLength: 40 }).filter((action) => actionSpec(action) === undefined),
        (request, action) => {
          const decision = sut.decide({ ...request, action });
          expect(decision).toMatchObject({
            effect: 'deny',
            ruleId: 'action_vocabulary',
            reason: 'unknown_action',
          });
        },
      ),
      RUNS,
    );
  });

  it('denies PHI to an admin without the PHI traits (no grant)', () => {
    const phiNames = new Set(
      traitRegistry
        .all()
        .filter((definition) => (definition.aliasOf ?? definition.name) === 'handles_phi')
        .map((definition) => definition.name),
    );
    const others = fc.uniqueArray(fc.constantFrom(...TRAIT_NAMES.filter((name) => !phiNames.has(name))));
    fc.assert(
      fc.property(policyInput, others, (request, extra) => {
        const admin: PolicyInput = {
          ...request,
          principal: {
            kind: 'user',
            id: 'admin-1',
            status: 'active',
            traits: [...roleTraits.admin, ...extra],
          },
          classification: [...request.classification, 'phi'],
          now: GRANT_START + 1,
        };
        expect(sut.decide(admin).effect).toBe('deny');
      }),
      RUNS,
    );
  });

  it('simulates the same verdict as it decides', () => {
    fc.assert(
      fc.property(policyInput, (request) => {
        const decided = sut.decide(request);
        const simulated = sut.simulate(request);
        expect({ ...simulated, trail: undefined }).toEqual({ ...decided, trail: undefined });
        expect(simulated.trail.length).toBeGreaterThanOrEqual(decided.trail.length);
      }),
      RUNS,
    );
  });

  it('never throws, and never allows a malformed input', () => {
    fc.assert(
      fc.property(fc.anything(), (garbage) => {
        expect(sut.decide(garbage as PolicyInput).effect).toBe('deny');
        expect(sut.simulate(garbage as PolicyInput).effect).toBe('deny');
      }),
      RUNS,
    );
  });

  it('gives every decision a rule and a reason from the vocabulary', () => {
    fc.assert(
      fc.property(policyInput, (request) => {
        const decision = sut.decide(request);
        expect(decision.ruleId).toMatch(/^[a-z_]+$/);
        expect(decision.reason).toMatch(/^[a-z_]+$/);
        expect(
          decision.trail.some((entry) => entry.effect === decision.effect || decision.effect === 'sanitize'),
        ).toBe(true);
      }),
      RUNS,
    );
  });
});
