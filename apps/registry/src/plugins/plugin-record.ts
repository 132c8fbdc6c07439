import type {
  PluginHealth,
  PluginManifest,
  PluginStatusEntry,
  PluginSummary,
  PluginView,
} from '@vivified/contracts';
import type { SensitiveRequests } from '@vivified/plugin-manifest';
import { normalizeDomain } from '@vivified/plugin-manifest';
import { resolveTraits } from '@vivified/policy-engine';

import type { StoredStatus } from './plugins.repository';

/** A validated manifest as stored (plain JSON). */
export type StoredManifest = PluginManifest;

/** What a manifest asks for that needs an approval. */
export interface SensitiveSet {
  traits: string[];
  domains: string[];
  webhookHost?: string;
}

/** One registered plugin. */
export interface PluginRecord {
  id: string;
  status: StoredStatus;
  name: string;
  version: string;
  description: string;
  /** The manifest in force (before the first approval: the one waiting for it). */
  manifest: StoredManifest;
  manifestDigest: string;
  /** Approved traits, canonical; empty until the first approval. */
  traits: string[];
  sensitive: SensitiveSet;
  /** An upgrade asking for more than the approved version. */
  pending?: { manifest: StoredManifest; digest: string; sensitive: SensitiveSet };
  registeredBy: string;
  registeredAt: Date;
  approvedBy?: string;
  approvedAt?: Date;
  activatedAt?: Date;
  updatedAt: Date;
  health: PluginHealth;
  healthReported?: 'ok' | 'degraded';
  lastHeartbeatAt?: Date;
}

/** A {@link SensitiveRequests} as stored. */
export function sensitiveSet(requests: SensitiveRequests): SensitiveSet {
  return {
    traits: [...requests.traits],
    domains: [...requests.domains],
    ...(requests.webhookHost === undefined ? {} : { webhookHost: requests.webhookHost }),
  };
}

/** What `next` asks for beyond `approved`: a trait, a domain or a webhook host not approved before. */
export function beyondApproved(next: SensitiveSet, approved: SensitiveSet): SensitiveSet {
  const webhookHost =
    next.webhookHost !== undefined && next.webhookHost !== approved.webhookHost
      ? next.webhookHost
      : undefined;

  return {
    traits: next.traits.filter((trait) => !approved.traits.includes(trait)),
    domains: next.domains.filter((domain) => !approved.domains.includes(domain)),
    ...(webhookHost === undefined ? {} : { webhookHost }),
  };
}

/** True when the set asks for nothing. */
export function isEmptySet(set: SensitiveSet): boolean {
  return set.traits.length === 0 && set.domains.length === 0 && set.webhookHost === undefined;
}

/** The canonical traits a manifest asks for: what an approval grants. */
export function grantedTraits(manifest: StoredManifest): string[] {
  return resolveTraits(manifest.traits).traits;
}

/** The `vivified_plugins` entry of a plugin (ARCHITECTURE §3): only approved facts, never a credential. */
export function statusEntry(record: PluginRecord, at: Date): PluginStatusEntry {
  const { manifest } = record;
  const approved = record.status !== 'pending_approval';

  return {
    id: record.id,
    status: record.status,
    traits: approved ? record.traits : [],
    version: record.version,
    manifestDigest: record.manifestDigest,
    ...(approved
      ? {
          operations: manifest.operations,
          allowedDomains: [
            ...new Set(
              manifest.allowedDomains.map((domain) => normalizeDomain(domain) ?? domain.toLowerCase()),
            ),
          ].sort(),
          delivery: manifest.delivery,
          events: manifest.events,
        }
      : {}),
    updatedAt: at.toISOString(),
  };
}

/** The entry that tells every sidecar a plugin is gone. */
export function revokedEntry(record: PluginRecord, at: Date): PluginStatusEntry {
  return {
    id: record.id,
    status: 'revoked',
    traits: [],
    version: record.version,
    manifestDigest: record.manifestDigest,
    updatedAt: at.toISOString(),
  };
}

/** A plugin as lists show it. */
export function summaryOf(record: PluginRecord): PluginSummary {
  return {
    id: record.id,
    name: record.name,
    version: record.version,
    status: record.status,
    traits: record.status === 'pending_approval' ? [] : record.traits,
    health: record.status === 'active' ? record.health : 'unknown',
    ...(record.lastHeartbeatAt ? { lastHeartbeatAt: record.lastHeartbeatAt.toISOString() } : {}),
    upgradePending: record.pending !== undefined,
    updatedAt: record.updatedAt.toISOString(),
  };
}

/** One plugin in full. */
export function viewOf(record: PluginRecord): PluginView {
  return {
    ...summaryOf(record),
    description: record.description,
    manifestDigest: record.manifestDigest,
    manifest: record.manifest as unknown as Record<string, unknown>,
    sensitive: record.sensitive,
    registeredBy: record.registeredBy,
    registeredAt: record.registeredAt.toISOString(),
    ...(record.approvedBy ? { approvedBy: record.approvedBy } : {}),
    ...(record.approvedAt ? { approvedAt: record.approvedAt.toISOString() } : {}),
    ...(record.pending
      ? {
          pendingUpgrade: {
            version: record.pending.manifest.version,
            manifestDigest: record.pending.digest,
            sensitive: record.pending.sensitive,
            manifest: record.pending.manifest as unknown as Record<string, unknown>,
          },
        }
      : {}),
  };
}
