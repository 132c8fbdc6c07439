import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { opsPortEnv } from '@vivified/contracts';
import { connectNats, VivifiedClient } from '@vivified/nats-transport';
import type { RunningService } from '@vivified/service-kit';
import { bootstrapService } from '@vivified/service-kit';
import type { TestDatabase, TestNatsServer } from '@vivified/testing';
import { createTestDatabase, freePort, startNatsServer } from '@vivified/testing';
import type { NatsConnection } from 'nats';

import { identityConfigSchema } from '../src/config';
import { IdentityModule } from '../src/identity.module';

/** One identity service in this process, on its own nats-server and throwaway database. */
export interface IdentityHarness {
  readonly nats: TestNatsServer;
  readonly db: TestDatabase;
  readonly service: RunningService;
  /** A separate connection, as a caller (gateway, plugin) would have. */
  readonly nc: NatsConnection;
  readonly client: VivifiedClient;
  /** The environment the service was started with (admin password, service secret, KEK). */
  readonly env: Readonly<Record<string, string>>;
  /** Stops the service and removes the server and the database. */
  stop(): Promise<void>;
}

/**
 * Starts identity with `bootstrapService`, exactly as `main.ts` does, against a nats-server and a database of the
 * test's own. `overrides` adds or replaces environment variables (e.g. `VIVIFIED_ADMIN_PASSWORD`).
 */
export async function startIdentity(overrides: Record<string, string> = {}): Promise<IdentityHarness> {
  const [nats, db, opsPort] = await Promise.all([
    startNatsServer(),
    createTestDatabase('vivified_identity'),
    freePort(),
  ]);
  const env: Record<string, string> = {
    VIVIFIED_NATS_URL: nats.url,
    VIVIFIED_DATABASE_URL: db.url,
    VIVIFIED_LOG_LEVEL: 'silent',
    [opsPortEnv('identity')]: String(opsPort),
    VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
    VIVIFIED_SERVICE_SECRET: randomBytes(32).toString('base64url'),
    VIVIFIED_ADMIN_USERNAME: 'admin',
    VIVIFIED_ADMIN_PASSWORD: 'Correct-Horse-Battery-9',
    ...overrides,
  };
  Object.assign(process.env, env);
  const service = await bootstrapService({
    service: 'identity',
    version: '0.0.0-test',
    module: IdentityModule,
    migrationsDir: join(__dirname, '..', 'migrations'),
    configSchema: identityConfigSchema,
  });
  const { nc } = await connectNats({ servers: [nats.url], name: 'identity-test-caller' });

  return {
    nats,
    db,
    service,
    nc,
    client: new VivifiedClient(nc),
    env,
    async stop() {
      await nc.drain().catch(() => undefined);
      await service.stop();
      await Promise.allSettled([nats.stop(), db.drop()]);
    },
  };
}
