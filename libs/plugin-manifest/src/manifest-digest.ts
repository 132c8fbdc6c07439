import { createHash } from 'node:crypto';

import type { PluginManifest } from '@vivified/contracts';

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
 * Two manifests with the same content have the same canonical JSON, whatever their key order.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

/** SHA-256 of the manifest's {@link canonicalJson}, lower-case hex: the `manifestDigest` of `vivified_plugins`. */
export function manifestDigest(manifest: PluginManifest): string {
  return createHash('sha256').update(canonicalJson(manifest), 'utf8').digest('hex');
}
