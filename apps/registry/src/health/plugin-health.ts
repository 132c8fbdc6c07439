import type { PluginHealth } from '@vivified/contracts';

import type { PluginRecord } from '../plugins/plugin-record';

/** Missed heartbeats: degraded after one interval and a half without one, unhealthy after three. */
export const DEGRADED_AFTER_INTERVALS = 1.5;
export const UNHEALTHY_AFTER_INTERVALS = 3;

/**
 * The health of a plugin at `now` from its heartbeats (interval from the manifest's `healthCheck`): `unknown`
 * until the first heartbeat (unhealthy when none comes within three intervals of its activation), then what the
 * plugin reports while heartbeats arrive in time, degraded when one is missed, unhealthy when three are.
 */
export function healthAt(record: PluginRecord, now: Date): PluginHealth {
  if (record.status !== 'active') {
    return 'unknown';
  }
  const intervalMs = record.manifest.healthCheck.intervalSeconds * 1000;
  const since = record.lastHeartbeatAt ?? record.activatedAt ?? record.updatedAt;
  const age = now.getTime() - since.getTime();
  if (age > intervalMs * UNHEALTHY_AFTER_INTERVALS) {
    return 'unhealthy';
  }
  if (record.lastHeartbeatAt === undefined) {
    return 'unknown';
  }
  if (age > intervalMs * DEGRADED_AFTER_INTERVALS) {
    return 'degraded';
  }

  return record.healthReported === 'degraded' ? 'degraded' : 'healthy';
}
