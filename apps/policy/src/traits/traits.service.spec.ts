import { TraitListReply, validatePayload } from '@vivified/contracts';
import { traitRegistry } from '@vivified/policy-engine';
import { describe, expect, it } from 'vitest';

import { buildTraitViews, TraitsService } from './traits.service';

describe(TraitsService.name, () => {
  const sut = new TraitsService();

  it('lists every real trait once, sorted, and no legacy name on its own', () => {
    const names = sut.list().traits.map((trait) => trait.name);

    expect(names).toEqual([...names].sort());
    expect(new Set(names)).toEqual(new Set(traitRegistry.real().map((definition) => definition.name)));
    expect(names.some((name) => traitRegistry.get(name)?.legacy)).toBe(false);
  });

  it('names each legacy alias on its real trait', () => {
    const views = new Map(buildTraitViews().map((view) => [view.name, view]));
    const legacy = traitRegistry.all().filter((definition) => definition.legacy);

    expect(legacy.length).toBeGreaterThan(0);
    for (const alias of legacy) {
      expect(views.get(alias.aliasOf ?? '')?.aliases).toContain(alias.name);
    }
  });

  it('answers a reply the contract accepts', () => {
    expect(validatePayload(TraitListReply, sut.list()).ok).toBe(true);
  });
});
