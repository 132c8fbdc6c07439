import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { dynamicSubjects, opsPortEnv, subjects } from '@vivified/contracts';
import { VivifiedClient } from '@vivified/nats-transport';
import type { RunningService } from '@vivified/service-kit';
import { bootstrapService } from '@vivified/service-kit';
import type { BuiltService, TestDatabase, TestNatsOperatorServer } from '@vivified/testing';
import {
  createTestDatabase,
  freePort,
  startBuiltService,
  startNatsOperatorServer,
  TestAuthority,
} from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { connect, credsAuthenticator } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { natsCredentialsConfigSchema } from '../src/nats-credentials/nats-credentials.config';
import { NatsCredentialsService } from '../src/nats-credentials/nats-credentials.service';
import { registryServiceConfigSchema } from '../src/registry.config';
import { RegistryModule } from '../src/registry.module';
import { aManifest, plain } from './manifests';

const ADMIN = ['admin', 'plugin_manager', 'viewer'];

/**
 * The whole registry in production mode: identity (its built process) and the registry on a nats-server in
 * operator mode, both with the services' creds; a plugin registered through the API connects with the NATS
 * credentials it was given, and disable cuts it off on the server.
 */
describe('registry in NATS production mode: a plugin lifecycle on an operator-mode server', () => {
  let server: TestNatsOperatorServer;
  let db: TestDatabase;
  let identity: BuiltService | undefined;
  let registry: RunningService;
  let services: NatsConnection;
  let client: VivifiedClient;
  let admin: string;
  const plugins: NatsConnection[] = [];

  const connectPlugin = async (creds: string, pluginId: string): Promise<NatsConnection> => {
    const nc = await connect({
      servers: server.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
      inboxPrefix: dynamicSubjects.pluginInboxPrefix(pluginId),
      reconnect: false,
    });
    plugins.push(nc);

    return nc;
  };

  beforeAll(async () => {
    [server, db] = await Promise.all([startNatsOperatorServer(), createTestDatabase('vivified_registry')]);
    const shared = {
      VIVIFIED_NATS_URL: server.url,
      VIVIFIED_NATS_CREDS: server.serviceCredsFile,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      VIVIFIED_SERVICE_SECRET: randomBytes(32).toString('base64url'),
    };
    identity = await startBuiltService('identity', {
      env: { ...shared, VIVIFIED_LOG_LEVEL: 'warn', VIVIFIED_ADMIN_PASSWORD: 'Correct-Horse-Battery-9' },
    });

    Object.assign(process.env, {
      ...shared,
      ...server.env,
      VIVIFIED_LOG_LEVEL: 'silent',
      [opsPortEnv('registry')]: String(await freePort()),
    });
    registry = await bootstrapService({
      service: 'registry',
      version: '0.0.0-test',
      module: RegistryModule,
      migrationsDir: join(__dirname, '..', 'migrations'),
      configSchema: { ...registryServiceConfigSchema, ...natsCredentialsConfigSchema },
    });
    services = await connect({
      servers: server.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(server.serviceCreds)),
    });
    const authority = await TestAuthority.create(services);
    client = new VivifiedClient(services);
    admin = await authority.token({
      kind: 'user',
      id: '00000000-0000-4000-8000-00000000000a',
      traits: ADMIN,
    });
  }, 120_000);

  afterAll(async () => {
    for (const nc of plugins) {
      await nc.close().catch(() => undefined);
    }
    await services?.close();
    await registry?.stop();
    await identity?.stop();
    await Promise.allSettled([server?.stop(), db?.drop()]);
  });

  it('runs in production mode with revocations pushed to the servers', () => {
    const credentials = registry.app.get(NatsCredentialsService);

    expect(credentials.mode).toBe('production');
    expect(credentials.revocation).toBe('pushed');
  });

  it('answers NATS credentials once on registration, refuses them after disable, and issues new ones on enable', async () => {
    const registered = await client.request(
      subjects.registry.plugins.register,
      { manifest: plain(aManifest('nats-lifecycle')) },
      { token: admin },
    );
    expect(registered.status).toBe('active');
    const natsCreds = registered.credentials?.natsCreds;
    expect(natsCreds).toContain('-----BEGIN NATS USER JWT-----');

    const plugin = await connectPlugin(natsCreds as string, 'nats-lifecycle');
    plugin.subscribe(dynamicSubjects.pluginDeliver('nats-lifecycle'), {
      callback: (_error, msg) => msg.respond('acked'),
    });
    await plugin.flush();
    expect((await services.request(dynamicSubjects.pluginDeliver('nats-lifecycle'), '{}')).string()).toBe(
      'acked',
    );
    const listed = JSON.stringify(await client.request(subjects.registry.plugins.list, {}, { token: admin }));
    expect(listed).not.toContain(natsCreds?.split('\n')[1] ?? 'no jwt');

    const closed = plugin.closed();
    const disabled = await client.request(
      subjects.registry.plugins.disable,
      { pluginId: 'nats-lifecycle' },
      { token: admin },
    );
    expect(disabled.status).toBe('disabled');
    await closed;
    await expect(connectPlugin(natsCreds as string, 'nats-lifecycle')).rejects.toThrow(
      /authorization violation/i,
    );

    const enabled = await client.request(
      subjects.registry.plugins.enable,
      { pluginId: 'nats-lifecycle' },
      { token: admin },
    );
    const renewed = enabled.credentials?.natsCreds;
    expect(renewed).toBeDefined();
    const again = await connectPlugin(renewed as string, 'nats-lifecycle');
    expect(again.isClosed()).toBe(false);
    await expect(connectPlugin(natsCreds as string, 'nats-lifecycle')).rejects.toThrow(
      /authorization violation/i,
    );
  });
});
