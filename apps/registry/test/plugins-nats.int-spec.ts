import { dynamicSubjects, subjects } from '@vivified/contracts';
import { decodeJson, encodeJson } from '@vivified/nats-transport';
import { waitFor } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { connect, credsAuthenticator, ErrorCode, Events, headers } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RegistryHarness } from './harness';
import { roles, startRegistry } from './harness';
import { aManifest, plain } from './manifests';

/** Counts the permissions violations the server reports to a connection. */
function violations(nc: NatsConnection): { count: number } {
  const seen = { count: 0 };
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === Events.Error && status.data === ErrorCode.PermissionsViolation) {
        seen.count += 1;
      }
    }
  })();

  return seen;
}

/**
 * The registry in production mode against a nats-server in operator (JWT) mode: the registration answers NATS
 * credentials with which the plugin reaches identity and the registry over NATS, is stopped by the server on any
 * other subject, and is disconnected when it is disabled.
 */
describe('registry: plugin NATS credentials from registration to disable', () => {
  let h: RegistryHarness;
  let operator: string;
  let plugin: NatsConnection;
  let seen: { count: number };
  let pluginJwt: string;
  let firstCreds: string;

  const request = async (nc: NatsConnection, subject: string, body: unknown, token?: string) => {
    const hdrs = headers();
    if (token) {
      hdrs.set('Authorization', `Bearer ${token}`);
    }
    const reply = await nc.request(subject, encodeJson(body), { timeout: 5000, headers: hdrs });

    return decodeJson(reply.data) as Record<string, unknown>;
  };

  beforeAll(async () => {
    h = await startRegistry({ operatorMode: true });
    operator = await h.userToken(roles.operator);
  }, 120_000);

  afterAll(async () => {
    await plugin?.close().catch(() => undefined);
    await h?.stop();
  });

  it('answers NATS credentials with the client secret when a plugin becomes active', async () => {
    const reply = await h.call(
      subjects.registry.plugins.register,
      { manifest: plain(aManifest('wired')) },
      operator,
    );
    const creds = reply.credentials?.natsCreds ?? '';
    firstCreds = creds;

    expect(reply.status).toBe('active');
    expect(creds).toContain('BEGIN NATS USER JWT');
    plugin = await connect({
      servers: h.nats.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
      inboxPrefix: dynamicSubjects.pluginInboxPrefix('wired'),
      reconnect: false,
    });
    seen = violations(plugin);
    const token = await request(plugin, subjects.identity.tokens.plugin, {
      pluginId: 'wired',
      clientSecret: reply.credentials?.clientSecret,
    });
    pluginJwt = token['accessToken'] as string;
    expect(pluginJwt).toMatch(/^ey/);
    const beat = await request(plugin, subjects.registry.heartbeat, { pluginId: 'wired' }, pluginJwt);
    expect(beat).toEqual({ health: 'healthy', intervalSeconds: 5 });
  });

  it("is stopped by the server on another plugin's subjects, stored events and the JetStream API", async () => {
    for (const subject of [
      dynamicSubjects.pluginDeliver('someone-else'),
      dynamicSubjects.storedEvent('UserCreated'),
      '$JS.API.INFO',
    ]) {
      const before = seen.count;
      plugin.publish(subject, encodeJson({}));
      await waitFor(() => seen.count > before, {
        timeoutMs: 3000,
        what: `a permissions violation on ${subject}`,
      });
    }
    expect(seen.count).toBeGreaterThanOrEqual(3);
  });

  it('is disconnected and refused when it is disabled', async () => {
    const closed = plugin.closed();
    await h.call(subjects.registry.plugins.disable, { pluginId: 'wired' }, operator);

    await expect(
      Promise.race([
        closed.then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve('open'), 5000)),
      ]),
    ).resolves.toBe('closed');
    await expect(
      connect({
        servers: h.nats.url,
        authenticator: credsAuthenticator(new TextEncoder().encode(firstCreds)),
        inboxPrefix: dynamicSubjects.pluginInboxPrefix('wired'),
        reconnect: false,
      }),
    ).rejects.toThrow();
  });

  it('re-issues NATS credentials when the plugin is enabled', async () => {
    const reply = await h.call(subjects.registry.plugins.enable, { pluginId: 'wired' }, operator);
    const fresh = await connect({
      servers: h.nats.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(reply.credentials?.natsCreds ?? '')),
      inboxPrefix: dynamicSubjects.pluginInboxPrefix('wired'),
      reconnect: false,
    });
    try {
      const token = await request(fresh, subjects.identity.tokens.plugin, {
        pluginId: 'wired',
        clientSecret: reply.credentials?.clientSecret,
      });
      expect(token['accessToken']).toBeTruthy();
    } finally {
      await fresh.close();
    }
  });

  it('renews its own NATS credentials while active, and gets none once disabled', async () => {
    const renewed = await h.call(subjects.registry.plugins.natsCredentials, { pluginId: 'wired' }, pluginJwt);
    const fresh = await connect({
      servers: h.nats.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(renewed.natsCreds ?? '')),
      inboxPrefix: dynamicSubjects.pluginInboxPrefix('wired'),
      reconnect: false,
    });
    await fresh.close();
    const other = await h.authority.token({ kind: 'plugin', id: 'intruder', traits: [] });
    await h.authority.putPlugin({ id: 'intruder', traits: [] });
    const forOther = await h
      .call(subjects.registry.plugins.natsCredentials, { pluginId: 'wired' }, other)
      .catch((error: unknown) => error);
    expect(forOther).toMatchObject({ code: 'POLICY_DENIED' });

    await h.call(subjects.registry.plugins.disable, { pluginId: 'wired' }, operator);
    const refused = await h
      .call(subjects.registry.plugins.natsCredentials, { pluginId: 'wired' }, pluginJwt)
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'PLUGIN_INACTIVE' });
  });
});
