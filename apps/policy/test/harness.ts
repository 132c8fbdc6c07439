import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';

import type { AuditRecord, JwksEntry, PluginStatusEntry } from '@vivified/contracts';
import {
  buckets,
  opsPortEnv,
  policyBundleKey,
  streams,
  tokenContract,
  VivifiedError,
} from '@vivified/contracts';
import { StaticKekProvider } from '@vivified/crypto';
import { connectNats, ensureBucket, ensureStream, VivifiedClient } from '@vivified/nats-transport';
import type { BundleSigningKeys } from '@vivified/policy-engine';
import { bundleSigningKeys, bundleSigningPurpose } from '@vivified/policy-engine';
import type { RunningService } from '@vivified/service-kit';
import { bootstrapService } from '@vivified/service-kit';
import type { TestDatabase, TestNatsServer } from '@vivified/testing';
import { createTestDatabase, freePort, readAuditStream, startNatsServer } from '@vivified/testing';
import type { CryptoKey } from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { KV, KvEntry, NatsConnection } from 'nats';
import { Client } from 'pg';
import { expect } from 'vitest';

import { PolicyModule } from '../src/policy.module';

/** The traits of identity's default roles that the tests sign into user tokens. */
export const roleTraits = {
  admin: ['admin', 'user_manager', 'plugin_manager', 'config_manager', 'audit_viewer', 'viewer', 'ui.policy'],
  securityAdmin: ['security_admin', 'audit_viewer', 'viewer'],
  complianceOfficer: ['compliance_officer', 'audit_viewer', 'viewer'],
  viewer: ['viewer', 'ui.dashboard'],
} as const;

/** The body of ARCHITECTURE §7's `PUT /v1/policy/rules` example. */
export const exampleRules = [
  { type: 'operator', caller: 'a', target: 'b', operations: ['get_user'] },
  { type: 'proxy', plugin: 'a', domains: ['api.example.org'] },
] as const;

/**
 * Policy replicas in this process, started with `bootstrapService` exactly as `main.ts` does, on a nats-server and
 * a database of the test's own; the `vivified_jwks` bucket holds a key the test signs tokens with, and the
 * audit stream exists so that audit records can be read back.
 */
export class PolicyHarness {
  readonly replicas: RunningService[] = [];
  /** A separate connection, as a caller (gateway, sidecar) would have. */
  nc!: NatsConnection;
  client!: VivifiedClient;
  /** The bundle keys every core service derives from the KEK (ADR-0006). */
  keys!: BundleSigningKeys;
  private signer!: { kid: string; privateKey: CryptoKey };
  private env: Record<string, string> = {};

  private constructor(
    readonly nats: TestNatsServer,
    readonly db: TestDatabase,
  ) {}

  static async start(replicas = 1): Promise<PolicyHarness> {
    const [nats, db] = await Promise.all([startNatsServer(), createTestDatabase('vivified_policy')]);
    const harness = new PolicyHarness(nats, db);
    const kek = `v1:${randomBytes(32).toString('base64')}`;
    harness.env = {
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_LOG_LEVEL: 'silent',
      VIVIFIED_KEK: kek,
    };
    harness.keys = bundleSigningKeys(await new StaticKekProvider(kek).hashKey(bundleSigningPurpose));
    ({ nc: harness.nc } = await connectNats({ servers: [nats.url], name: 'policy-test-caller' }));
    harness.client = new VivifiedClient(harness.nc);
    await ensureStream(await harness.nc.jetstreamManager(), streams.audit);
    await harness.publishSigningKey();
    // registry owns the plugin bucket; created up front so the sidecar watches it from the start
    await ensureBucket(harness.nc, buckets.plugins);
    await harness.startReplicas(replicas);

    return harness;
  }

  /** Starts `count` more replicas at once. */
  async startReplicas(count: number): Promise<RunningService[]> {
    const started = await Promise.all(
      Array.from({ length: count }, async () => {
        const port = await freePort();
        // each bootstrap reads process.env synchronously before its first await
        Object.assign(process.env, this.env, { [opsPortEnv('policy')]: String(port) });

        return bootstrapService({
          service: 'policy',
          version: '0.0.0-test',
          module: PolicyModule,
          migrationsDir: join(__dirname, '..', 'migrations'),
        });
      }),
    );
    this.replicas.push(...started);

    return started;
  }

  /** Stops every replica (the server and the database stay). */
  async stopReplicas(): Promise<void> {
    const running = this.replicas.splice(0);
    await Promise.all(running.map((replica) => replica.stop()));
  }

  async stop(): Promise<void> {
    await this.nc?.drain().catch(() => undefined);
    await this.stopReplicas();
    await Promise.allSettled([this.nats.stop(), this.db.drop()]);
  }

  /** A token identity would sign: `sub` = `user:<uuid>` | `plugin:<id>` | `service:<name>`. */
  async token(sub: string, traits: readonly string[]): Promise<string> {
    const typ = sub.split(':')[0];

    return new SignJWT({ typ, traits: [...traits], ...(typ === 'user' ? { roles: [] } : {}) })
      .setProtectedHeader({ alg: 'EdDSA', kid: this.signer.kid })
      .setIssuer(tokenContract.issuer)
      .setAudience(tokenContract.audience)
      .setSubject(sub)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(this.signer.privateKey);
  }

  /** Marks a plugin active with these approved traits in `vivified_plugins`, as the registry would. */
  async activatePlugin(id: string, traits: readonly string[]): Promise<void> {
    const entry: PluginStatusEntry = {
      id,
      status: 'active',
      traits: [...traits],
      version: '1.0.0',
      manifestDigest: '0'.repeat(64),
      updatedAt: new Date().toISOString(),
    };
    await (await ensureBucket(this.nc, buckets.plugins)).put(id, JSON.stringify(entry));
  }

  /** A signed-in user with these traits. */
  async user(traits: readonly string[]): Promise<{ id: string; token: string }> {
    const id = randomUUID();

    return { id, token: await this.token(`user:${id}`, traits) };
  }

  async bucket(): Promise<KV> {
    return ensureBucket(this.nc, buckets.policy);
  }

  /** The bundle entry of the `vivified_policy` bucket. */
  async bundleEntry(): Promise<KvEntry | null> {
    return (await this.bucket()).get(policyBundleKey);
  }

  /** SQL against the service's schema. */
  async sql<T extends object>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.db.url, options: '-c search_path=policy' });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** Every record of `vivified.audit.policy` so far. */
  async auditRecords(): Promise<AuditRecord[]> {
    return (await readAuditStream(this.nc)).filter((record) => record.category === 'policy');
  }

  private async publishSigningKey(): Promise<void> {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const kid = `k-${randomUUID()}`;
    const { x } = await exportJWK(publicKey);
    const entry: JwksEntry = {
      kty: 'OKP',
      crv: 'Ed25519',
      x: x as string,
      kid,
      alg: 'EdDSA',
      use: 'sig',
      createdAt: new Date().toISOString(),
    };
    await (await ensureBucket(this.nc, buckets.jwks)).put(kid, JSON.stringify(entry));
    this.signer = { kid, privateKey };
  }
}

/** The typed error a promise rejects with. */
export async function rejection(promise: Promise<unknown>): Promise<VivifiedError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(VivifiedError);

  return error as VivifiedError;
}
