import { createHash } from 'node:crypto';

import type { PluginManifest } from '@vivified/contracts';
import { canonicalJson } from '@vivified/contracts';

/** SHA-256 of the manifest's {@link canonicalJson}, lower-case hex: the `manifestDigest` of `vivified_plugins`. */
export function manifestDigest(manifest: PluginManifest): string {
  return createHash('sha256').update(canonicalJson(manifest), 'utf8').digest('hex');
}
