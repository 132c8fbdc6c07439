import type { PrincipalKind } from '@vivified/contracts';

import type { TraitCategory, TraitDefinition } from './trait-catalog';
import { reservedTraitWords, traitCategories, traitDefinitions } from './trait-catalog';

/** What {@link resolveTraits} made of a list of trait names. */
export interface ResolvedTraits {
  /** Canonical trait names: aliases replaced by their real trait, deduplicated, sorted. */
  readonly traits: string[];
  /** Names that are no trait (reserved words included), deduplicated, in input order. */
  readonly unknown: string[];
  /** Every alias met and the real trait it became. */
  readonly aliased: Array<{ from: string; to: string }>;
}

/** Why a trait list is not acceptable. */
export type TraitViolationCode = 'unknown' | 'requires' | 'conflicts' | 'blocked';

/** One problem of a trait list. */
export interface TraitViolation {
  /** The trait (as given, or canonical for requires/conflicts) the problem is about. */
  readonly trait: string;
  /** What is wrong. */
  readonly code: TraitViolationCode;
  /** One sentence for humans (`handles_phi requires audit_required`). */
  readonly detail: string;
}

/** The verdict of {@link validateTraits}. */
export interface TraitValidation {
  /** True when there is no violation. */
  readonly ok: boolean;
  /** Every violation, not only the first. */
  readonly violations: TraitViolation[];
}

/** Options of {@link validateTraits}. */
export interface ValidateTraitsOptions {
  /** Who is to hold the traits: a user (through roles), a plugin (its manifest) or a core service. */
  readonly kind: PrincipalKind;
}

/**
 * The trait vocabulary: lookups by name, by category, and alias resolution. Aliases resolve to the real
 * record (the predecessor's registry let `handles_phi` resolve to its legacy alias, which dropped its
 * requirements).
 */
export class TraitRegistry {
  private readonly byName = new Map<string, TraitDefinition>();
  private readonly canonicalNames = new Map<string, string>();

  constructor(definitions: readonly TraitDefinition[]) {
    for (const definition of definitions) {
      if (this.byName.has(definition.name)) {
        throw new Error(`duplicate trait ${definition.name}`);
      }
      this.byName.set(definition.name, definition);
    }
    for (const definition of definitions) {
      const target = definition.aliasOf ?? definition.name;
      if (this.byName.get(target)?.legacy !== false) {
        throw new Error(`alias ${definition.name} must resolve to a real trait, not ${target}`);
      }
      this.canonicalNames.set(definition.name, target);
    }
  }

  /** The record of a name as given (a legacy alias answers its own legacy record); undefined if unknown. */
  get(name: string): TraitDefinition | undefined {
    return this.byName.get(name);
  }

  /** The real trait a name stands for (an alias answers its target's record); undefined if unknown. */
  canonical(name: string): TraitDefinition | undefined {
    const target = this.canonicalNames.get(name);

    return target === undefined ? undefined : this.byName.get(target);
  }

  /** The canonical name of a trait or alias; undefined if unknown. */
  canonicalName(name: string): string | undefined {
    return this.canonicalNames.get(name);
  }

  /** True for a real trait or an alias. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Every record, real traits first, then legacy aliases. */
  all(): readonly TraitDefinition[] {
    return traitDefinitions;
  }

  /** Every real (non-legacy) trait. */
  real(): TraitDefinition[] {
    return traitDefinitions.filter((definition) => !definition.legacy);
  }

  /** Records grouped by category, every category present (possibly empty). */
  byCategory(): Record<TraitCategory, TraitDefinition[]> {
    const groups = Object.fromEntries(traitCategories.map((category) => [category, []])) as unknown as Record<
      TraitCategory,
      TraitDefinition[]
    >;
    for (const definition of traitDefinitions) {
      groups[definition.category].push(definition);
    }

    return groups;
  }
}

/** The platform's trait vocabulary. */
export const traitRegistry = new TraitRegistry(traitDefinitions);

const RESERVED = new Set(reservedTraitWords);

/** Canonicalizes trait names: aliases become their real trait; unknown names are reported, not kept. */
export function resolveTraits(names: readonly string[]): ResolvedTraits {
  const traits = new Set<string>();
  const unknown: string[] = [];
  const aliased: Array<{ from: string; to: string }> = [];
  for (const name of names) {
    const canonical = traitRegistry.canonicalName(name);
    if (canonical === undefined) {
      if (!unknown.includes(name)) {
        unknown.push(name);
      }
      continue;
    }
    if (canonical !== name && !aliased.some((entry) => entry.from === name)) {
      aliased.push({ from: name, to: canonical });
    }
    traits.add(canonical);
  }

  return { traits: [...traits].sort(), unknown, aliased };
}

/** True when `held` satisfies the requirements of `definition`. */
export function requirementsMet(definition: TraitDefinition, held: ReadonlySet<string>): boolean {
  return (
    definition.requires.every((required) => held.has(required)) &&
    (definition.requiresAnyOf.length === 0 || definition.requiresAnyOf.some((required) => held.has(required)))
  );
}

/**
 * A name no plugin manifest may claim: reserved words (`system`, `root`, …), and every trait a plugin cannot
 * hold — `admin` and every role, every `ui.*` trait, user capabilities such as `plugin_manager`,
 * `security_admin`, and `system_core` (core service tokens only). Aliases are judged by their real trait.
 */
export function blockedPluginTraits(name: string): boolean {
  if (RESERVED.has(name)) {
    return true;
  }
  const definition = traitRegistry.canonical(name);

  return definition !== undefined && !definition.holders.includes('plugin');
}

/**
 * Checks a trait list for a user (its roles' traits), a plugin (its manifest) or a core service, and lists
 * every violation: unknown names, reserved words and traits that kind may not hold (`blocked`), unmet
 * `requires`/`requiresAnyOf`, and conflicting pairs (reported once per pair).
 */
export function validateTraits(names: readonly string[], options: ValidateTraitsOptions): TraitValidation {
  const violations: TraitViolation[] = [];
  const held = new Set<string>();
  const recognized = new Set<string>();
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      continue;
    }
    seen.add(name);
    if (RESERVED.has(name)) {
      violations.push({ trait: name, code: 'blocked', detail: `${name} is a reserved word, never a trait` });
      continue;
    }
    const definition = traitRegistry.canonical(name);
    if (definition === undefined) {
      violations.push({ trait: name, code: 'unknown', detail: `${name} is not a trait` });
      continue;
    }
    recognized.add(definition.name);
    if (!definition.holders.includes(options.kind)) {
      violations.push({
        trait: name,
        code: 'blocked',
        detail: `a ${options.kind} may not hold ${definition.name} (held by: ${definition.holders.join(', ')})`,
      });
      continue;
    }
    held.add(definition.name);
  }
  for (const name of [...held].sort()) {
    const definition = traitRegistry.canonical(name)!;
    for (const required of definition.requires) {
      if (!held.has(required)) {
        violations.push({ trait: name, code: 'requires', detail: `${name} requires ${required}` });
      }
    }
    if (
      definition.requiresAnyOf.length > 0 &&
      !definition.requiresAnyOf.some((required) => held.has(required))
    ) {
      violations.push({
        trait: name,
        code: 'requires',
        detail: `${name} requires one of ${definition.requiresAnyOf.join(', ')}`,
      });
    }
  }
  // conflicts count among blocked traits too, so that the list is complete
  for (const name of [...recognized].sort()) {
    for (const other of traitRegistry.canonical(name)!.conflicts) {
      if (recognized.has(other) && name < other) {
        violations.push({ trait: name, code: 'conflicts', detail: `${name} conflicts with ${other}` });
      }
    }
  }

  return { ok: violations.length === 0, violations };
}

/**
 * The traits that take effect: canonical traits whose requirements are met by other effective traits
 * (greatest fixpoint, so a chain such as `ui.config` → `config_manager` → `admin` is followed). Monotone:
 * fewer traits in never gives more traits out.
 */
export function effectiveTraits(names: readonly string[]): Set<string> {
  const effective = new Set(resolveTraits(names).traits);
  let changed = true;
  while (changed) {
    changed = false;
    for (const name of effective) {
      if (!requirementsMet(traitRegistry.canonical(name)!, effective)) {
        effective.delete(name);
        changed = true;
      }
    }
  }

  return effective;
}

/**
 * UI gating: the `ui.*` features the holder of these traits gets, sorted. A feature is granted when its
 * requirements are met by the holder's effective traits; holding a `ui.*` trait without them grants nothing.
 */
export function uiTraitsFor(traits: readonly string[]): string[] {
  const effective = effectiveTraits(traits);

  return traitDefinitions
    .filter((definition) => definition.category === 'ui_feature' && !definition.legacy)
    .filter((definition) => requirementsMet(definition, effective))
    .map((definition) => definition.name)
    .sort();
}
