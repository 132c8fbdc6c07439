import { ErrorCode, subjects, VivifiedError } from '@vivified/contracts';
import { waitFor } from '@vivified/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RegistryHarness } from './harness';
import { roles, startRegistry } from './harness';
import { aManifest, plain } from './manifests';

/** Heartbeats, health from missed heartbeats, and the plugin gauges. */
describe('registry: heartbeats and health', () => {
  let h: RegistryHarness;
  let operator: string;
  let beaconToken: string;

  const health = async (id: string) =>
    (await h.sql<{ health: string }>('SELECT health FROM registry.plugins WHERE id = $1', [id]))[0]?.health;

  /** Moves the last heartbeat back by `seconds`, as if the plugin had gone quiet since. */
  const quietFor = (id: string, seconds: number) =>
    h.sql(`UPDATE registry.plugins SET last_heartbeat_at = now() - make_interval(secs => $2) WHERE id = $1`, [
      id,
      seconds,
    ]);

  const metrics = async () => {
    const { host, port } = h.registry.ops.address;

    return (await fetch(`http://${host === '::' ? '127.0.0.1' : host}:${port}/metrics`)).text();
  };

  beforeAll(async () => {
    h = await startRegistry();
    operator = await h.userToken(roles.operator);
    for (const id of ['beacon', 'other']) {
      await h.call(subjects.registry.plugins.register, { manifest: plain(aManifest(id)) }, operator);
    }
    const reply = await h.call(subjects.registry.plugins.disable, { pluginId: 'other' }, operator);
    expect(reply.status).toBe('disabled');
    // plugin tokens from the TestAuthority: the sidecar takes status and traits from the KV entry, not the token
    beaconToken = await h.authority.token({ kind: 'plugin', id: 'beacon', traits: [] });
  }, 90_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('a heartbeat makes the plugin healthy and answers its interval', async () => {
    expect(await health('beacon')).toBe('unknown');

    const reply = await h.call(subjects.registry.heartbeat, { pluginId: 'beacon' }, beaconToken);

    expect(reply).toEqual({ health: 'healthy', intervalSeconds: 5 });
    expect(await health('beacon')).toBe('healthy');
  });

  it('a plugin may heartbeat only for itself, and a user not at all', async () => {
    const forOther = await h
      .call(subjects.registry.heartbeat, { pluginId: 'other' }, beaconToken)
      .catch((error: unknown) => error);
    const byUser = await h
      .call(subjects.registry.heartbeat, { pluginId: 'beacon' }, operator)
      .catch((error: unknown) => error);

    expect(forOther).toBeInstanceOf(VivifiedError);
    expect((forOther as VivifiedError).code).toBe(ErrorCode.PolicyDenied);
    expect((byUser as VivifiedError).code).toBe(ErrorCode.PolicyDenied);
  });

  it('a plugin that reports itself degraded is degraded', async () => {
    const reply = await h.call(
      subjects.registry.heartbeat,
      { pluginId: 'beacon', status: 'degraded' },
      beaconToken,
    );

    expect(reply.health).toBe('degraded');
    await h.call(subjects.registry.heartbeat, { pluginId: 'beacon' }, beaconToken);
    expect(await health('beacon')).toBe('healthy');
  });

  it('missed heartbeats make it degraded, then unhealthy; a heartbeat makes it healthy again', async () => {
    await quietFor('beacon', 8);
    await waitFor(async () => (await health('beacon')) === 'degraded', { timeoutMs: 3000, what: 'degraded' });
    expect(await metrics()).toMatch(/vivified_plugin_health\{health="degraded"[^}]*\} 1/);

    await quietFor('beacon', 16);
    await waitFor(async () => (await health('beacon')) === 'unhealthy', {
      timeoutMs: 3000,
      what: 'unhealthy',
    });

    await h.call(subjects.registry.heartbeat, { pluginId: 'beacon' }, beaconToken);
    expect(await health('beacon')).toBe('healthy');
  });

  it('serves the plugin gauges from the database', async () => {
    const text = await metrics();

    expect(text).toMatch(/vivified_active_plugins\{[^}]*\} 1/);
    expect(text).toMatch(/vivified_plugins\{state="disabled"[^}]*\} 1/);
    expect(text).toMatch(/vivified_plugins\{state="active"[^}]*\} 1/);
    expect(text).toMatch(/vivified_plugin_health\{health="healthy"[^}]*\} 1/);
  });
});
