import { describe, expect, it } from 'vitest';

import type { PluginRecord } from '../plugins/plugin-record';
import { healthAt } from './plugin-health';

const t0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

function aRecord(patch: Partial<PluginRecord> = {}): PluginRecord {
  return {
    id: 'acme',
    status: 'active',
    name: 'Acme',
    version: '1.0.0',
    description: 'x',
    manifest: { healthCheck: { type: 'nats', intervalSeconds: 10 } } as PluginRecord['manifest'],
    manifestDigest: '0'.repeat(64),
    traits: [],
    sensitive: { traits: [], domains: [] },
    registeredBy: 'user:u',
    registeredAt: t0,
    activatedAt: t0,
    updatedAt: t0,
    health: 'unknown',
    ...patch,
  };
}

describe(healthAt.name, () => {
  it('is unknown before the first heartbeat, unhealthy when none comes within three intervals', () => {
    expect(healthAt(aRecord(), at(29))).toBe('unknown');
    expect(healthAt(aRecord(), at(31))).toBe('unhealthy');
  });

  it('is healthy while heartbeats arrive, degraded after a missed one, unhealthy after three', () => {
    const beating = aRecord({ lastHeartbeatAt: at(100), healthReported: 'ok' });

    expect(healthAt(beating, at(110))).toBe('healthy');
    expect(healthAt(beating, at(116))).toBe('degraded');
    expect(healthAt(beating, at(131))).toBe('unhealthy');
  });

  it('takes what the plugin reports while its heartbeats are in time', () => {
    expect(healthAt(aRecord({ lastHeartbeatAt: at(1), healthReported: 'degraded' }), at(2))).toBe('degraded');
  });

  it('is unknown for a plugin that is not active', () => {
    expect(healthAt(aRecord({ status: 'disabled', lastHeartbeatAt: at(1) }), at(2))).toBe('unknown');
  });
});
