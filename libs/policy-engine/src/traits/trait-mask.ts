import { traitDefinitions } from './trait-catalog';

/**
 * A set of canonical traits as a 64-bit mask in two int32 words, so that the engine's hot path tests trait
 * requirements with two ANDs instead of string lookups. Immutable.
 */
export class TraitMask {
  static readonly EMPTY = new TraitMask(0, 0);

  constructor(
    readonly lo: number,
    readonly hi: number,
  ) {}

  /** True when every trait of `other` is in this set. */
  containsAll(other: TraitMask): boolean {
    return (this.lo & other.lo) === other.lo && (this.hi & other.hi) === other.hi;
  }

  /** True when the sets share a trait. */
  intersects(other: TraitMask): boolean {
    return (this.lo & other.lo) !== 0 || (this.hi & other.hi) !== 0;
  }

  /** True when the set is empty. */
  isEmpty(): boolean {
    return this.lo === 0 && this.hi === 0;
  }

  /** Traits of `required` missing from this set, by name, in vocabulary order. */
  missing(required: TraitMask): string[] {
    return namesOf(new TraitMask(required.lo & ~this.lo, required.hi & ~this.hi));
  }
}

const REAL = traitDefinitions.filter((definition) => !definition.legacy);
if (REAL.length > 64) {
  throw new Error(`TraitMask holds 64 traits; the vocabulary has ${REAL.length}`);
}

/** Canonical trait name → bit index; aliases map to their real trait's bit. */
const INDEX = new Map<string, number>();
REAL.forEach((definition, index) => INDEX.set(definition.name, index));
for (const definition of traitDefinitions) {
  if (definition.aliasOf !== undefined) {
    INDEX.set(definition.name, INDEX.get(definition.aliasOf)!);
  }
}

function bit(index: number): TraitMask {
  return index < 32 ? new TraitMask(1 << index, 0) : new TraitMask(0, 1 << (index - 32));
}

/** The mask of some trait names (aliases resolved, unknown names ignored). */
export function maskOf(names: readonly string[]): TraitMask {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < names.length; i += 1) {
    const index = INDEX.get(names[i]);
    if (index === undefined) {
      continue;
    }
    if (index < 32) {
      lo |= 1 << index;
    } else {
      hi |= 1 << (index - 32);
    }
  }

  return new TraitMask(lo, hi);
}

/** The canonical names in a mask, in vocabulary order. */
export function namesOf(mask: TraitMask): string[] {
  const names: string[] = [];
  REAL.forEach((definition, index) => {
    if (bit(index).intersects(mask)) {
      names.push(definition.name);
    }
  });

  return names;
}

const REQUIRES = REAL.map((definition) => maskOf(definition.requires));
const REQUIRES_ANY = REAL.map((definition) => maskOf(definition.requiresAnyOf));
const BITS = REAL.map((_, index) => bit(index));

/** The effective subset of a mask: traits whose requirements the other effective traits meet (fixpoint). */
export function effectiveMask(raw: TraitMask): TraitMask {
  let lo = raw.lo;
  let hi = raw.hi;
  let changed = true;
  while (changed) {
    changed = false;
    const current = new TraitMask(lo, hi);
    for (let index = 0; index < BITS.length; index += 1) {
      const own = BITS[index];
      if (!current.intersects(own)) {
        continue;
      }
      const any = REQUIRES_ANY[index];
      if (!current.containsAll(REQUIRES[index]) || (!any.isEmpty() && !current.intersects(any))) {
        lo &= ~own.lo;
        hi &= ~own.hi;
        changed = true;
      }
    }
  }

  return lo === raw.lo && hi === raw.hi ? raw : new TraitMask(lo, hi);
}

/** The canonical trait names of the vocabulary that a mask can hold, for tests and tools. */
export function maskableTraits(): string[] {
  return REAL.map((definition) => definition.name);
}

/** The masks of a trait list, with a copy of the names they were computed from. */
export interface ListMask {
  readonly names: readonly unknown[];
  /** The canonical traits named. */
  readonly mask: TraitMask;
  /** Those whose requirements are met ({@link effectiveMask}). */
  readonly effective: TraitMask;
}

const MEMO = new WeakMap<readonly unknown[], ListMask>();

function sameNames(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i += 1) {
    if (a[i] !== b[i]) {
      return false;
    }
  }

  return true;
}

/**
 * The canonical masks of a trait list (aliases resolved, unknown names ignored), remembered per list object: the
 * same token's traits array costs one WeakMap lookup and a comparison with the remembered copy, so a list
 * changed in place is computed again. Undefined when an element is not a string.
 */
export function listMask(list: readonly unknown[]): ListMask | undefined {
  const memo = MEMO.get(list);
  if (memo !== undefined && sameNames(memo.names, list)) {
    return memo;
  }
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < list.length; i += 1) {
    const name = list[i];
    if (typeof name !== 'string') {
      return undefined;
    }
    const index = INDEX.get(name);
    if (index === undefined) {
      continue;
    }
    if (index < 32) {
      lo |= 1 << index;
    } else {
      hi |= 1 << (index - 32);
    }
  }
  const mask = new TraitMask(lo, hi);
  const fresh: ListMask = { names: list.slice(), mask, effective: effectiveMask(mask) };
  MEMO.set(list, fresh);

  return fresh;
}
