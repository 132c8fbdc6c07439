import type { PluginManifest } from '@vivified/contracts';
import { resolveTraits } from '@vivified/policy-engine';

import { normalizeDomain } from './domains';

/** Traits whose grant needs an administrator's approval (issue 5). */
export const sensitiveTraits = [
  'handles_phi',
  'handles_pii',
  'handles_confidential',
  'external_service',
] as const;

/** One sensitive trait. */
export type SensitiveTrait = (typeof sensitiveTraits)[number];

/** What a manifest asks for that needs approval. */
export interface SensitiveRequests {
  /** Sensitive traits asked for, canonical (a legacy alias counts as its trait), in {@link sensitiveTraits} order. */
  readonly traits: SensitiveTrait[];
  /** Allowed domains asked for, in ASCII lower-case form, sorted and deduplicated. */
  readonly domains: string[];
  /** The host deliveries are POSTed to, for http delivery: data leaves the mesh for it. */
  readonly webhookHost?: string;
  /** True when any of the above is present: registration waits in `pending_approval`. */
  readonly requiresApproval: boolean;
}

/**
 * The sensitive traits, domains and webhook host a validated manifest asks for; the registry registers a
 * manifest that asks for none as `active`, any other as `pending_approval`, and an upgrade that asks for more
 * than the approved version needs approval again.
 */
export function sensitiveRequests(manifest: PluginManifest): SensitiveRequests {
  const held = new Set(resolveTraits(manifest.traits).traits);
  const traits = sensitiveTraits.filter((trait) => held.has(trait));
  const domains = [
    ...new Set(manifest.allowedDomains.map((domain) => normalizeDomain(domain) ?? domain.toLowerCase())),
  ].sort();
  let webhookHost: string | undefined;
  if (manifest.delivery.mode === 'http' && manifest.delivery.webhookUrl !== undefined) {
    webhookHost = URL.canParse(manifest.delivery.webhookUrl)
      ? new URL(manifest.delivery.webhookUrl).hostname
      : manifest.delivery.webhookUrl;
  }

  return {
    traits,
    domains,
    ...(webhookHost === undefined ? {} : { webhookHost }),
    requiresApproval: traits.length > 0 || domains.length > 0 || webhookHost !== undefined,
  };
}
