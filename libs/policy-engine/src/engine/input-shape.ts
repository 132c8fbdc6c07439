// The shape checks of an input (ARCHITECTURE §5): the engine denies a malformed input, it never throws.
import { CLASS_BITS } from '../bundle/compiled-bundle';
import type { PolicyInput, PolicyParty } from '../policy-types';

function isStringArray(value: unknown): value is readonly string[] {
  if (!Array.isArray(value)) {
    return false;
  }
  for (let i = 0; i < value.length; i += 1) {
    if (typeof value[i] !== 'string') {
      return false;
    }
  }

  return true;
}

function isParty(value: unknown): value is PolicyParty | undefined {
  if (value === undefined) {
    return true;
  }
  const party = value as PolicyParty | null;

  return (
    typeof party === 'object' &&
    party !== null &&
    typeof party.pluginId === 'string' &&
    isStringArray(party.traits)
  );
}

/** True when the input has the shape of ARCHITECTURE §5 (the engine never throws on a bad one; it denies). */
export function wellFormed(input: PolicyInput): boolean {
  const principal = input?.principal;
  const resource = input?.resource;

  return (
    typeof input === 'object' &&
    input !== null &&
    typeof input.action === 'string' &&
    typeof principal === 'object' &&
    principal !== null &&
    (principal.kind === 'user' || principal.kind === 'plugin' || principal.kind === 'service') &&
    typeof principal.id === 'string' &&
    principal.id.length > 0 &&
    typeof principal.status === 'string' &&
    isStringArray(principal.traits) &&
    typeof resource === 'object' &&
    resource !== null &&
    typeof resource.type === 'string' &&
    (resource.id === undefined || typeof resource.id === 'string') &&
    (resource.ownerPluginId === undefined || typeof resource.ownerPluginId === 'string') &&
    isStringArray(input.classification) &&
    isParty(input.source) &&
    isParty(input.target) &&
    (input.context === undefined || (typeof input.context === 'object' && input.context !== null)) &&
    (input.now === undefined || Number.isFinite(input.now))
  );
}

/** The bit of one classification; -1 when the value is not one. */
function classificationBit(value: unknown): number {
  switch (value) {
    case 'public':
      return CLASS_BITS.public;
    case 'internal':
      return CLASS_BITS.internal;
    case 'confidential':
      return CLASS_BITS.confidential;
    case 'pii':
      return CLASS_BITS.pii;
    case 'phi':
      return CLASS_BITS.phi;
    default:
      return -1;
  }
}

/** Classification bits of an input; -1 when a value is not a classification. */
export function classificationBits(values: readonly unknown[]): number {
  let bits = 0;
  for (let i = 0; i < values.length; i += 1) {
    const bit = classificationBit(values[i]);
    if (bit < 0) {
      return -1;
    }
    bits |= bit;
  }

  return bits;
}
