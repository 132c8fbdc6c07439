import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import type { RpcReply, RpcRequest, RpcSubject } from '@vivified/contracts';
import { opsPortEnv } from '@vivified/contracts';
import { connectNats, VivifiedClient } from '@vivified/nats-transport';
import type { RunningService } from '@vivified/service-kit';
import { bootstrapService } from '@vivified/service-kit';
import type { TestDatabase, TestNatsServer } from '@vivified/testing';
import {
  createTestDatabase,
  freePort,
  startBuiltService,
  startNatsOperatorServer,
  startNatsServer,
  TestAuthority,
} from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { Client } from 'pg';

import { registryServiceConfigSchema } from '../src/registry.config';
import { RegistryModule } from '../src/registry.module';

/** Traits of the test users (as identity's roles would give them). */
export const roles = {
  admin: ['admin', 'plugin_manager', 'viewer'],
  operator: ['operator', 'plugin_manager', 'viewer'],
  viewer: ['viewer'],
} as const;

/** The registry in this process, identity as its built process, on a nats-server and a database of their own. */
export interface RegistryHarness {
  readonly nats: TestNatsServer;
  readonly db: TestDatabase;
  readonly registry: RunningService;
  /** A caller's own connection (gateway, plugin). */
  readonly nc: NatsConnection;
  readonly client: VivifiedClient;
  readonly authority: TestAuthority;
  /** Whether identity runs. */
  readonly identity: boolean;
  /** A user token with these traits. */
  userToken(traits: readonly string[], id?: string): Promise<string>;
  /** Calls a contract with a token. */
  call<S extends RpcSubject>(subject: S, body: RpcRequest<S>, token?: string): Promise<RpcReply<S>>;
  /** A query on the shared database (schema-qualified names). */
  sql<T extends object>(text: string, values?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

/** Options of {@link startRegistry}. */
export interface RegistryHarnessOptions {
  /** Start identity (its built dist) as a child process. @default true */
  identity?: boolean;
  /** Extra environment of the registry. */
  env?: Record<string, string>;
  /**
   * Run nats-server in operator (JWT) mode, set up by tools/scripts/nats-setup.mjs: the services connect with
   * their creds and the registry issues plugin NATS users (production mode). @default false
   */
  operatorMode?: boolean;
}

export async function startRegistry(options: RegistryHarnessOptions = {}): Promise<RegistryHarness> {
  const withIdentity = options.identity ?? true;
  const operator = options.operatorMode ? await startNatsOperatorServer() : undefined;
  const [nats, db] = await Promise.all([
    operator ?? startNatsServer(),
    createTestDatabase('vivified_registry'),
  ]);
  const shared = {
    VIVIFIED_NATS_URL: nats.url,
    ...(operator ? { VIVIFIED_NATS_CREDS: operator.serviceCredsFile } : {}),
    VIVIFIED_DATABASE_URL: db.url,
    VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
    VIVIFIED_SERVICE_SECRET: randomBytes(32).toString('base64url'),
  };
  const identity = withIdentity
    ? await startBuiltService('identity', {
        env: { ...shared, VIVIFIED_LOG_LEVEL: 'warn', VIVIFIED_ADMIN_PASSWORD: 'Correct-Horse-Battery-9' },
      })
    : undefined;
  Object.assign(process.env, {
    ...shared,
    VIVIFIED_LOG_LEVEL: 'silent',
    [opsPortEnv('registry')]: String(await freePort()),
    VIVIFIED_REGISTRY_HEALTH_SWEEP_MS: '200',
    ...operator?.env,
    ...options.env,
  });
  const registry = await bootstrapService({
    service: 'registry',
    version: '0.0.0-test',
    module: RegistryModule,
    migrationsDir: join(__dirname, '..', 'migrations'),
    configSchema: registryServiceConfigSchema,
  });
  const { nc } = await connectNats({
    servers: [nats.url],
    name: 'registry-test-caller',
    ...(operator ? { credsFile: operator.serviceCredsFile } : {}),
  });
  const authority = await TestAuthority.create(nc);
  const client = new VivifiedClient(nc);
  const pg = new Client({ connectionString: db.url });
  await pg.connect();

  return {
    nats,
    db,
    registry,
    nc,
    client,
    authority,
    identity: withIdentity,
    userToken: (traits, id = '00000000-0000-4000-8000-000000000001') =>
      authority.token({ kind: 'user', id, traits }),
    call: (subject, body, token) => client.request(subject, body, token ? { token } : {}),
    sql: async <T extends object>(text: string, values: unknown[] = []) =>
      (await pg.query<T & Record<string, unknown>>(text, values)).rows as T[],
    async stop() {
      await pg.end().catch(() => undefined);
      await nc.drain().catch(() => undefined);
      await registry.stop();
      await identity?.stop();
      await Promise.allSettled([nats.stop(), db.drop()]);
      // a later test file in this worker must not inherit production mode
      for (const name of [...Object.keys(operator?.env ?? {}), 'VIVIFIED_NATS_CREDS']) {
        delete process.env[name];
      }
    },
  };
}
