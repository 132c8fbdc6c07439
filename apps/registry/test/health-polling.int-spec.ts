import { createServer } from 'node:https';
import type { Server } from 'node:https';

import type { AuditRecord } from '@vivified/contracts';
import { streams, subjects } from '@vivified/contracts';
import { ensureStream } from '@vivified/nats-transport';
import { EgressResolver } from '@vivified/egress';
import type { TestCertificate } from '@vivified/testing';
import { freePort, readAuditStream, selfSignedCertificate, waitFor } from '@vivified/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PluginHealthLeases } from '../src/health/plugin-health.leases';
import { PluginHealthPoller } from '../src/health/plugin-health.poller';
import type { RegistryHarness } from './harness';
import { roles, startRegistry } from './harness';
import { aManifest, plain } from './manifests';

const PLUGIN_HOST = 'status.crm-example.org';
const METADATA_HOST = 'meta.crm-example.org';

/**
 * HTTP health checks: the registry polls `GET <webhook origin><healthCheck.path>` of active `healthCheck.type:
 * http` plugins through the egress guard; answers are heartbeats, failures missed heartbeats.
 */
describe('registry: HTTP health polling', () => {
  let h: RegistryHarness;
  let server: Server;
  let port: number;
  let cert: TestCertificate;
  let mode: 'ok' | 'fail' = 'ok';
  let inFlight = 0;
  let maxInFlight = 0;
  const requests: Array<{ path: string; at: number }> = [];
  const seen: string[] = [];

  const health = async (id: string) =>
    (await h.sql<{ health: string }>('SELECT health FROM registry.plugins WHERE id = $1', [id]))[0]?.health;

  /** Waits for a health, noting every health seen on the way. */
  const healthBecomes = (id: string, wanted: string, timeoutMs: number) =>
    waitFor(
      async () => {
        const now = await health(id);
        if (now !== undefined && seen.at(-1) !== now) {
          seen.push(now);
        }

        return now === wanted;
      },
      { timeoutMs, intervalMs: 100, what: `${id} ${wanted}` },
    );

  const audits = async (predicate: (record: AuditRecord) => boolean) =>
    (await readAuditStream(h.nc)).filter(predicate);

  const httpManifest = (id: string, host: string) =>
    plain(
      aManifest(id, (manifest) => {
        manifest.delivery = { mode: 'http', webhookUrl: `https://${host}:${port}/hooks` };
        manifest.healthCheck = { type: 'http', path: '/health', intervalSeconds: 5 };
      }),
    );

  beforeAll(async () => {
    cert = selfSignedCertificate([PLUGIN_HOST, METADATA_HOST]);
    port = await freePort();
    server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
      requests.push({ path: req.url ?? '', at: Date.now() });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on('finish', () => (inFlight -= 1));
      if (mode === 'ok') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      } else {
        res.writeHead(503).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    h = await startRegistry({
      env: {
        VIVIFIED_PROXY_TEST_ALLOW_RANGES: '127.0.0.0/8',
        VIVIFIED_REGISTRY_HEALTH_CA_FILE: cert.certFile,
        VIVIFIED_REGISTRY_HEALTH_POLL_TIMEOUT_MS: '2000',
      },
    });
    // the audit service owns the stream; here the test creates it to read what the registry audits
    await ensureStream(await h.nc.jetstreamManager(), streams.audit);
    // the plugin's host is this machine; the other one's is the cloud metadata address
    h.registry.app
      .get(EgressResolver)
      .useLookup((host) =>
        Promise.resolve([{ address: host === METADATA_HOST ? '169.254.169.254' : '127.0.0.1', family: 4 }]),
      );
    const operator = await h.userToken(roles.operator);
    for (const [id, host] of [
      ['polled', PLUGIN_HOST],
      ['metadata', METADATA_HOST],
    ] as const) {
      const registered = await h.call(
        subjects.registry.plugins.register,
        { manifest: httpManifest(id, host) },
        operator,
      );
      expect(registered.status).toBe('pending_approval');
      const approved = await h.call(subjects.registry.plugins.approve, { pluginId: id }, operator);
      expect(approved.status).toBe('active');
    }
  }, 90_000);

  afterAll(async () => {
    await h?.stop();
    await new Promise((resolve) => server?.close(resolve));
    cert?.remove();
  });

  it('polls the health path on the webhook origin: healthy, then unhealthy when it fails, healthy again', async () => {
    await healthBecomes('polled', 'healthy', 12_000);
    expect(requests.length).toBeGreaterThan(0);
    expect(new Set(requests.map((r) => r.path))).toEqual(new Set(['/health']));

    mode = 'fail';
    await healthBecomes('polled', 'unhealthy', 30_000);

    mode = 'ok';
    await healthBecomes('polled', 'healthy', 12_000);
    expect(seen.filter((s) => s !== 'unknown')).toEqual(['healthy', 'degraded', 'unhealthy', 'healthy']);
    // every change audited as heartbeats' are, by the registry
    const moves = await audits((r) => r.action === 'plugin.health' && r.target === 'plugin:polled');
    expect(moves.map((r) => [r.details?.['from'], r.details?.['to']])).toEqual([
      ['unknown', 'healthy'],
      ['healthy', 'degraded'],
      ['degraded', 'unhealthy'],
      ['unhealthy', 'healthy'],
    ]);
    expect(moves.every((r) => r.actor.id === 'service:registry')).toBe(true);
    // one poll at a time, about one per interval (5 s ± 10 %)
    expect(maxInFlight).toBe(1);
    const gaps = requests.slice(1).map((r, index) => r.at - (requests[index]?.at ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThan(4_000);
  }, 80_000);

  it('refuses a health URL on the metadata address: no request, audited once, never healthy', async () => {
    const denied = await waitFor(
      async () => {
        const found = await audits(
          (r) => r.action === 'plugin.health_poll' && r.target === 'plugin:metadata',
        );

        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 12_000 },
    );
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ outcome: 'denied', details: { reason: 'health_address_linkLocal' } });
    expect(await health('metadata')).not.toBe('healthy');
  });

  it('stops polling a disabled plugin', async () => {
    const operator = await h.userToken(roles.operator);
    await h.call(subjects.registry.plugins.disable, { pluginId: 'polled' }, operator);
    const poller = h.registry.app.get(PluginHealthPoller);
    await waitFor(() => !poller.polled().includes('polled'), { timeoutMs: 3_000 });
    const before = requests.length;
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(requests.length).toBe(before);
  }, 20_000);

  it('lets one replica poll a plugin at a time; another takes over when it goes', async () => {
    const pools = [new Pool({ connectionString: h.db.url }), new Pool({ connectionString: h.db.url })];
    const [first, second] = pools.map((pool) => new PluginHealthLeases(pool)) as [
      PluginHealthLeases,
      PluginHealthLeases,
    ];
    try {
      expect(await first.acquire('leased')).toBe(true);
      expect(await first.acquire('leased')).toBe(true);
      expect(await second.acquire('leased')).toBe(false);
      expect(await second.acquire('other-plugin')).toBe(true);

      await first.release('leased');
      expect(await second.acquire('leased')).toBe(true);
      expect(await first.acquire('leased')).toBe(false);

      // a replica that stops (or dies: its connection closes) frees every lease it held
      second.close();
      await waitFor(() => first.acquire('leased'), { timeoutMs: 3_000 });
      expect(await first.acquire('other-plugin')).toBe(true);
    } finally {
      first.close();
      second.close();
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });
});
