import { decode } from '@nats-io/jwt';
import { dynamicSubjects, subjects } from '@vivified/contracts';
import { createLogger } from '@vivified/service-kit';
import type { TestNatsOperatorServer } from '@vivified/testing';
import { startNatsOperatorServer, waitFor } from '@vivified/testing';
import type { ConnectionOptions, NatsConnection } from 'nats';
import { connect, credsAuthenticator, ErrorCode, Events } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NatsAccountClaimsClient } from '../src/nats-credentials/account-claims.client';
import type {
  IssuedNatsUser,
  NatsCredentialsOptions,
} from '../src/nats-credentials/nats-credentials.service';
import { NatsCredentialsService } from '../src/nats-credentials/nats-credentials.service';

/** Counts the permissions violations the server reported to a connection (nats.js gives only the code). */
class Violations {
  count = 0;

  constructor(nc: NatsConnection) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === Events.Error && status.data === ErrorCode.PermissionsViolation) {
          this.count++;
        }
      }
    })();
  }

  /** Waits until the server reported one more violation than `before`. */
  async after(before: number, what: string): Promise<void> {
    await waitFor(() => this.count > before, {
      timeoutMs: 3_000,
      what: `a permissions violation on ${what}`,
    });
  }
}

/** Subscribes and expects the server to refuse it: the subscription ends with the violation naming the subject. */
async function expectSubscriptionRefused(nc: NatsConnection, subject: string): Promise<void> {
  const sub = nc.subscribe(subject);
  const ended = (async () => {
    for await (const _msg of sub) {
      // a refused subscription receives nothing
    }
  })();

  await expect(ended).rejects.toThrow(`Permissions Violation for Subscription to "${subject}"`);
}

describe('plugin NATS credentials against a nats-server in operator mode', () => {
  let server: TestNatsOperatorServer;
  let claims: NatsAccountClaimsClient;
  let sut: NatsCredentialsService;
  let services: NatsConnection;
  const logLines: string[] = [];
  const issued: IssuedNatsUser[] = [];
  const connections: NatsConnection[] = [];

  const logger = createLogger({
    service: 'registry',
    level: 'debug',
    destination: { write: (line: string) => logLines.push(line) },
  });

  const options = (overrides: Partial<NatsCredentialsOptions> = {}): NatsCredentialsOptions => ({
    accountSigningSeed: server.accountSigningSeed,
    accountPublicKey: server.accountPublicKey,
    operatorSigningSeed: server.operatorSigningSeed,
    userJwtTtlSeconds: 3_600,
    ...overrides,
  });

  const issue = async (service: NatsCredentialsService, pluginId: string): Promise<IssuedNatsUser> => {
    const user = await service.issueUser(pluginId);
    if (!user) {
      throw new Error('no credentials issued');
    }
    issued.push(user);

    return user;
  };

  const connectAs = async (
    user: IssuedNatsUser,
    extra: Partial<ConnectionOptions> = {},
  ): Promise<NatsConnection> => {
    const nc = await connect({
      servers: server.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)),
      inboxPrefix: user.inboxPrefix,
      reconnect: false,
      ...extra,
    });
    connections.push(nc);

    return nc;
  };

  beforeAll(async () => {
    server = await startNatsOperatorServer();
    claims = new NatsAccountClaimsClient({ servers: [server.url], credsFile: server.systemCredsFile });
    sut = new NatsCredentialsService(options(), claims, logger);
    services = await connect({
      servers: server.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(server.serviceCreds)),
    });
    // the core side of the lanes, answering whatever a plugin may send
    for (const subject of [
      subjects.events.publishAll,
      subjects.rpc.all,
      subjects.proxy.request,
      subjects.registry.heartbeat,
      subjects.registry.plugins.config.self,
      subjects.identity.tokens.plugin,
    ]) {
      services.subscribe(subject, { callback: (_error, msg) => msg.respond(msg.subject) });
    }
    await services.flush();
  });

  afterAll(async () => {
    for (const nc of connections) {
      await nc.close().catch(() => undefined);
    }
    await services?.close();
    await claims?.close();
    await server?.stop();
  });

  it('gives the core services JetStream in the platform account', async () => {
    const jsm = await services.jetstreamManager();
    const info = await jsm.getAccountInfo();

    expect(info.limits.max_streams).toBe(-1);
    const kv = await services.jetstream().views.kv('nats_credentials_check');
    await kv.put('k', 'v');
    expect((await kv.get('k'))?.string()).toBe('v');
  });

  it('issues a user JWT signed by the account signing key with exactly the ARCHITECTURE §3 permissions', async () => {
    const user = await issue(sut, 'alpha');
    const jwt = /-----BEGIN NATS USER JWT-----\n(.+)\n/.exec(user.creds)?.[1] ?? '';
    const claim = decode<Record<string, unknown>>(jwt);

    expect(claim.sub).toBe(user.userPublicKey);
    expect(claim.nats['issuer_account']).toBe(server.accountPublicKey);
    expect(claim.iss).not.toBe(server.accountPublicKey);
    expect(claim.exp).toBe(Math.floor(Date.parse(user.expiresAt) / 1000));
    expect(claim.nats['pub']).toEqual({
      allow: [
        subjects.events.publishAll,
        subjects.events.subscribe,
        subjects.events.unsubscribe,
        subjects.rpc.all,
        subjects.proxy.request,
        subjects.identity.tokens.plugin,
        subjects.registry.heartbeat,
        subjects.registry.plugins.config.self,
        subjects.registry.plugins.natsCredentials,
      ],
      deny: [],
    });
    expect(claim.nats['sub']).toEqual({
      allow: [dynamicSubjects.pluginAll('alpha'), `${dynamicSubjects.pluginInboxPrefix('alpha')}.>`],
      deny: [],
    });
    expect(claim.nats['resp']).toEqual({ max: 1, ttl: 120_000_000_000 });
    expect(user.inboxPrefix).toBe(dynamicSubjects.pluginInboxPrefix('alpha'));
  });

  it('lets a plugin use its lanes, its own subjects and inbox, and answer deliveries', async () => {
    const plugin = await connectAs(await issue(sut, 'alpha'));
    const violations = new Violations(plugin);

    const published = await plugin.request(dynamicSubjects.publishEvent('UserCreated'), '{}');
    expect(published.string()).toBe(dynamicSubjects.publishEvent('UserCreated'));
    const called = await plugin.request(dynamicSubjects.rpcCall('y', 'op'), '{}');
    expect(called.string()).toBe(dynamicSubjects.rpcCall('y', 'op'));
    const proxied = await plugin.request(subjects.proxy.request, '{}');
    expect(proxied.string()).toBe(subjects.proxy.request);
    const heartbeat = await plugin.request(subjects.registry.heartbeat, '{}');
    expect(heartbeat.string()).toBe(subjects.registry.heartbeat);
    const config = await plugin.request(subjects.registry.plugins.config.self, '{}');
    expect(config.string()).toBe(subjects.registry.plugins.config.self);
    const token = await plugin.request(subjects.identity.tokens.plugin, '{}');
    expect(token.string()).toBe(subjects.identity.tokens.plugin);

    plugin.subscribe(dynamicSubjects.pluginDeliver('alpha'), {
      callback: (_error, msg) => msg.respond('acked'),
    });
    await plugin.flush();
    const delivered = await services.request(dynamicSubjects.pluginDeliver('alpha'), '{}');
    expect(delivered.string()).toBe('acked');
    expect(violations.count).toBe(0);
  });

  it('refuses a plugin any other subject with a permissions violation', async () => {
    const plugin = await connectAs(await issue(sut, 'alpha'));
    const violations = new Violations(plugin);

    for (const subject of [
      dynamicSubjects.pluginDeliver('beta'),
      subjects.storedEvents.all,
      '$JS.API.>',
      '_INBOX.>',
      `${dynamicSubjects.pluginInboxPrefix('beta')}.>`,
      subjects.auditRecords.all,
    ]) {
      await expectSubscriptionRefused(plugin, subject);
    }

    // what the core side would see if a refused publish went through
    const seen: string[] = [];
    const watch = services.subscribe('>', { callback: (_error, msg) => seen.push(msg.subject) });
    await services.flush();
    for (const subject of [
      dynamicSubjects.storedEvent('UserCreated'),
      '$JS.API.INFO',
      '$JS.API.STREAM.CREATE.VIVIFIED_EVENTS',
      dynamicSubjects.pluginRpc('beta', 'op'),
      dynamicSubjects.pluginDeliver('beta'),
      subjects.identity.users.list,
      dynamicSubjects.auditRecord('security'),
    ]) {
      const before = violations.count;
      plugin.publish(subject, '{}');
      await violations.after(before, subject);
    }
    await plugin.flush();
    await services.flush();
    watch.unsubscribe();
    expect(seen).toEqual([]);

    // a violation is refused, not fatal: the connection still works for its own subjects
    expect(plugin.isClosed()).toBe(false);
    const called = await plugin.request(dynamicSubjects.rpcCall('y', 'op'), '{}');
    expect(called.string()).toBe(dynamicSubjects.rpcCall('y', 'op'));
  });

  it('refuses a plugin that connects without its own inbox prefix the replies to its requests', async () => {
    const plugin = await connectAs(await issue(sut, 'alpha'), { inboxPrefix: '_INBOX' });
    const violations = new Violations(plugin);

    await expect(
      plugin.request(dynamicSubjects.rpcCall('y', 'op'), '{}', { timeout: 1_000 }),
    ).rejects.toThrow(/permissions violation|timeout/i);
    await violations.after(0, 'the shared _INBOX');
  });

  it('closes a revoked plugin connection at once, refuses its credentials, and accepts new ones after re-issue', async () => {
    const before = await issue(sut, 'gamma');
    const plugin = await connectAs(before);
    const closed = plugin.closed();

    expect(await sut.revokeUser('gamma')).toBe('pushed');

    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(connectAs(before)).rejects.toThrow(/authorization violation/i);

    // re-enabled: a new JWT (issued after the revocation) works, the old one stays refused
    const after = await issue(sut, 'gamma');
    expect(after.userPublicKey).toBe(before.userPublicKey);
    const again = await connectAs(after);
    expect((await again.request(dynamicSubjects.rpcCall('y', 'op'), '{}')).string()).toBe(
      dynamicSubjects.rpcCall('y', 'op'),
    );
    await expect(connectAs(before)).rejects.toThrow(/authorization violation/i);
  });

  it('keeps earlier revocations when it pushes new ones, also from another registry replica', async () => {
    const replica = new NatsCredentialsService(options(), claims, logger);
    const delta = await issue(sut, 'delta');
    const epsilon = await issue(sut, 'epsilon');
    const zeta = await issue(sut, 'zeta');

    await Promise.all([sut.revokeUser('delta'), sut.revokeUser('epsilon'), replica.revokeUser('zeta')]);

    for (const user of [delta, epsilon, zeta]) {
      await expect(connectAs(user)).rejects.toThrow(/authorization violation/i);
    }
    const account = decode<{ revocations?: Record<string, number> }>(
      await claims.lookup(server.accountPublicKey),
    );
    expect(Object.keys(account.nats.revocations ?? {})).toEqual(
      expect.arrayContaining([delta.userPublicKey, epsilon.userPublicKey, zeta.userPublicKey]),
    );
  });

  it('disconnects and refuses a plugin whose user JWT expired (no renewal while disabled)', async () => {
    const shortLived = new NatsCredentialsService(options({ userJwtTtlSeconds: 2 }), claims, logger);
    const user = await issue(shortLived, 'eta');
    const plugin = await connectAs(user);
    const closed = plugin.closed();

    await closed;
    expect(Date.parse(user.expiresAt)).toBeLessThanOrEqual(Date.now() + 100);
    // the server compares whole seconds: in the second of `exp` a connect still passes
    await waitFor(() => Date.now() >= Date.parse(user.expiresAt) + 1_000, { what: 'the second after exp' });
    await expect(connectAs(user)).rejects.toThrow(/authorization violation|authentication expired/i);
  });

  it('issues nothing in development mode and says so', async () => {
    const development = new NatsCredentialsService({ userJwtTtlSeconds: 86_400 }, undefined, logger);

    expect(development.mode).toBe('development');
    expect(await development.issueUser('alpha')).toBeNull();
    expect(await development.revokeUser('alpha')).toBe('none');
  });

  it('says a revocation waits for the JWT expiry without an operator signing key', async () => {
    const expiryOnly = new NatsCredentialsService(
      options({ operatorSigningSeed: undefined }),
      claims,
      logger,
    );
    const user = await issue(expiryOnly, 'theta');

    expect(expiryOnly.revocation).toBe('expiry');
    expect(await expiryOnly.revokeUser('theta')).toBe('expiry');
    const plugin = await connectAs(user);
    expect(plugin.isClosed()).toBe(false);
  });

  it('never writes a seed, a JWT or creds to the log', () => {
    const log = logLines.join('\n');

    expect(logLines.length).toBeGreaterThan(0);
    expect(log).toContain('plugin NATS user revoked on the servers');
    for (const user of issued) {
      const seed = /-----BEGIN USER NKEY SEED-----\n(.+)\n/.exec(user.creds)?.[1] ?? '';
      const jwt = /-----BEGIN NATS USER JWT-----\n(.+)\n/.exec(user.creds)?.[1] ?? '';
      expect(seed).toMatch(/^SU/);
      expect(log).not.toContain(seed);
      expect(log).not.toContain(jwt);
    }
    expect(log).not.toContain(server.accountSigningSeed);
    expect(log).not.toContain(server.operatorSigningSeed);
  });
});
