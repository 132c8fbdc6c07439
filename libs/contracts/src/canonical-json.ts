function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => sortKeys(item));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }

  return value;
}

/**
 * Canonical JSON: object keys sorted (code-unit order) at every level, undefined members dropped, no whitespace.
 * Two values with the same content have the same text whatever their key order, so it can be hashed or signed
 * (manifest digests, policy bundles).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}
