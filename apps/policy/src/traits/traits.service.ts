import { Injectable } from '@nestjs/common';
import type { TraitListReply, TraitView } from '@vivified/contracts';
import { traitRegistry } from '@vivified/policy-engine';

/** The trait vocabulary of the policy engine, as the API answers it. */
@Injectable()
export class TraitsService {
  private readonly reply: TraitListReply = { traits: buildTraitViews() };

  list(): TraitListReply {
    return this.reply;
  }
}

/** Every real trait with the legacy names that resolve to it, by name. */
export function buildTraitViews(): TraitView[] {
  const aliases = new Map<string, string[]>();
  for (const definition of traitRegistry.all()) {
    if (definition.legacy && definition.aliasOf !== undefined) {
      aliases.set(definition.aliasOf, [...(aliases.get(definition.aliasOf) ?? []), definition.name]);
    }
  }

  return traitRegistry
    .real()
    .map((definition) => ({
      name: definition.name,
      category: definition.category,
      description: definition.description,
      requires: [...definition.requires],
      requiresAnyOf: [...definition.requiresAnyOf],
      conflicts: [...definition.conflicts],
      aliases: (aliases.get(definition.name) ?? []).sort(),
      sensitive: definition.sensitive,
      uiLabel: definition.uiLabel,
      uiIcon: definition.uiIcon,
      holders: [...definition.holders],
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
