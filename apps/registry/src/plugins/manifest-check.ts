import type { PluginValidateReply } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { ManifestViolation } from '@vivified/plugin-manifest';
import { manifestDigest, sensitiveRequests, validateManifest } from '@vivified/plugin-manifest';

import type { SensitiveSet, StoredManifest } from './plugin-record';
import { sensitiveSet } from './plugin-record';

/** A manifest that passed every rule. */
export interface CheckedManifest {
  manifest: StoredManifest;
  digest: string;
  sensitive: SensitiveSet;
  requiresApproval: boolean;
}

/** Runs the security validator; the verdict, never an exception. */
export function checkManifest(
  input: unknown,
  knownPluginIds: ReadonlySet<string>,
): { ok: true; checked: CheckedManifest } | { ok: false; violations: ManifestViolation[] } {
  const verdict = validateManifest(input, { knownPluginIds });
  if (!verdict.ok || !verdict.manifest) {
    return { ok: false, violations: verdict.violations };
  }
  // stored and digested as plain JSON, so what is approved is exactly what comes back from the database
  const manifest = JSON.parse(JSON.stringify(verdict.manifest)) as StoredManifest;
  const requests = sensitiveRequests(verdict.manifest);

  return {
    ok: true,
    checked: {
      manifest,
      digest: manifestDigest(manifest),
      sensitive: sensitiveSet(requests),
      requiresApproval: requests.requiresApproval,
    },
  };
}

/** The `VALIDATION_FAILED` error listing every violation (`<code>: <message>` per path). */
export function manifestRejected(violations: readonly ManifestViolation[]): VivifiedError {
  return new VivifiedError(ErrorCode.ValidationFailed, 'the manifest violates the platform rules', {
    reason: 'manifest_invalid',
    details: violations.map(({ path, code, message }) => ({ path, messages: [`${code}: ${message}`] })),
  });
}

/** Like {@link checkManifest}, but throws {@link manifestRejected}. */
export function requireValidManifest(input: unknown, knownPluginIds: ReadonlySet<string>): CheckedManifest {
  const result = checkManifest(input, knownPluginIds);
  if (!result.ok) {
    throw manifestRejected(result.violations);
  }

  return result.checked;
}

/** The dry-run answer. */
export function validationReply(input: unknown, knownPluginIds: ReadonlySet<string>): PluginValidateReply {
  const result = checkManifest(input, knownPluginIds);

  return result.ok
    ? {
        ok: true,
        violations: [],
        requiresApproval: result.checked.requiresApproval,
        sensitive: result.checked.sensitive,
        manifestDigest: result.checked.digest,
      }
    : { ok: false, violations: result.violations.map((violation) => ({ ...violation })) };
}
