import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';

import type { Type } from '@nestjs/common';
import { Global, Injectable, Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { AuditRecord, JwksEntry, TokenClaims } from '@vivified/contracts';
import { buckets, opsPortEnv, streams, tokenContract } from '@vivified/contracts';
import { connectNats, ensureBucket, ensureStream, VivifiedClient } from '@vivified/nats-transport';
import type { RunningService } from '@vivified/service-kit';
import { bootstrapService } from '@vivified/service-kit';
import type { TestDatabase, TestNatsServer } from '@vivified/testing';
import { createTestDatabase, freePort, readAuditStream, startNatsServer } from '@vivified/testing';
import type { JWTVerifyResult } from 'jose';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { KV, NatsConnection } from 'nats';
import { Client } from 'pg';

import { identityConfigSchema } from '../src/config';
import type { TokenIssuer, UserSnapshot } from '../src/identity.ports';
import { TOKEN_ISSUER } from '../src/identity.ports';
import { IdentityModule } from '../src/identity.module';
import type { Clock } from '../src/tokens/clock';
import { CLOCK } from '../src/tokens/clock';

/** Real time plus an offset the test moves forward. */
export class TestClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** Identity in this process with a controllable token clock and access to its providers. */
export interface TokensHarness {
  readonly nats: TestNatsServer;
  readonly db: TestDatabase;
  /** The first replica's service. */
  readonly service: RunningService;
  /** Every replica (one unless asked for more). */
  readonly replicas: readonly TokensReplica[];
  readonly nc: NatsConnection;
  readonly client: VivifiedClient;
  readonly env: Readonly<Record<string, string>>;
  readonly clock: TestClock;
  /** The first replica's TokenIssuer port, as the accounts half calls it. */
  readonly issuer: TokenIssuer;
  /** Any provider of the first replica. */
  get<T>(token: Type<T> | symbol): T;
  /** Creates an active user with these roles straight in the database; answers its snapshot. */
  createUser(roles: string[]): Promise<UserSnapshot>;
  /** Deactivates a user straight in the database. */
  deactivate(userId: string): Promise<void>;
  /** SQL on identity's schema. */
  sql<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  /** The public keys in the `vivified_jwks` bucket now. */
  bucketKeys(): Promise<JwksEntry[]>;
  /** Every audit record identity published so far (the audit service's stream is created for the test). */
  auditRecords(): Promise<AuditRecord[]>;
  /** Verifies a token with jose against the keys in the bucket now. */
  verifyWithBucket(token: string, audience?: string): Promise<JWTVerifyResult<TokenClaims>>;
  stop(): Promise<void>;
}

/** One identity process of a {@link TokensHarness}. */
export interface TokensReplica {
  readonly service: RunningService;
  readonly issuer: TokenIssuer;
  get<T>(token: Type<T> | symbol): T;
}

/** Options of {@link startTokens}. */
export interface StartTokensOptions {
  /** Environment added to or replacing the defaults. */
  env?: Record<string, string>;
  /** How many identity replicas start at once on the same NATS and database. @default 1 */
  replicas?: number;
}

async function startReplica(clock: TestClock): Promise<TokensReplica> {
  let moduleRef: ModuleRef | undefined;

  @Injectable()
  class Capture {
    constructor(ref: ModuleRef) {
      moduleRef = ref;
    }
  }

  @Global()
  @Module({ providers: [{ provide: CLOCK, useValue: clock }, Capture], exports: [CLOCK] })
  class TestClockModule {}

  @Module({ imports: [TestClockModule, IdentityModule] })
  class TestIdentityModule {}

  const service = await bootstrapService({
    service: 'identity',
    version: '0.0.0-test',
    module: TestIdentityModule,
    migrationsDir: join(__dirname, '..', 'migrations'),
    configSchema: identityConfigSchema,
  });
  const get = <T>(token: Type<T> | symbol): T => {
    if (!moduleRef) {
      throw new Error('the app did not start');
    }

    return moduleRef.get<T>(token, { strict: false });
  };

  return { service, get, issuer: get<TokenIssuer>(TOKEN_ISSUER) };
}

/**
 * Starts identity exactly as `main.ts` does, plus a global CLOCK and a handle on its providers; with `replicas`,
 * several at once on the same NATS and database (they race for migrations and the first signing key).
 */
export async function startTokens(options: StartTokensOptions = {}): Promise<TokensHarness> {
  const count = options.replicas ?? 1;
  const [nats, db, ...opsPorts] = await Promise.all([
    startNatsServer(),
    createTestDatabase('vivified_identity_tokens'),
    ...Array.from({ length: count }, () => freePort()),
  ]);
  const env: Record<string, string> = {
    VIVIFIED_NATS_URL: nats.url,
    VIVIFIED_DATABASE_URL: db.url,
    VIVIFIED_LOG_LEVEL: 'silent',
    VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
    VIVIFIED_SERVICE_SECRET: randomBytes(32).toString('base64url'),
    VIVIFIED_ADMIN_USERNAME: 'admin',
    VIVIFIED_ADMIN_PASSWORD: 'Correct-Horse-Battery-9',
    ...options.env,
  };
  Object.assign(process.env, env);
  // the audit service owns VIVIFIED_AUDIT and does not run here: create it so identity's records are kept
  const setup = await connectNats({ servers: [nats.url], name: 'tokens-test-setup' });
  await ensureStream(await setup.nc.jetstreamManager(), streams.audit);
  await setup.nc.drain();
  const clock = new TestClock();
  // the bootstrap reads the environment synchronously when called, so each replica gets its own ops port
  const starting = opsPorts.map((port) => {
    process.env[opsPortEnv('identity')] = String(port);

    return startReplica(clock);
  });
  const replicas = await Promise.all(starting);
  const [first] = replicas;
  if (!first) {
    throw new Error('no replica started');
  }
  const { nc } = await connectNats({ servers: [nats.url], name: 'tokens-test-caller' });
  const pg = new Client({ connectionString: db.url, options: '-c search_path=identity,public' });
  await pg.connect();
  const kv: KV = await ensureBucket(nc, buckets.jwks);
  const sql = async <R extends object>(text: string, values: unknown[] = []) =>
    (await pg.query<R>(text, values)).rows;
  const bucketKeys = async () => {
    // every subject the stream holds, then each key's latest value (deleted keys have a DEL marker)
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(`KV_${buckets.jwks.name}`, { subjects_filter: '>' });
    const entries: JwksEntry[] = [];
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const entry = await kv.get(subject.slice(`$KV.${buckets.jwks.name}.`.length));
      if (entry && entry.operation === 'PUT') {
        entries.push(entry.json<JwksEntry>());
      }
    }

    return entries;
  };

  return {
    nats,
    db,
    service: first.service,
    replicas,
    nc,
    client: new VivifiedClient(nc),
    env,
    clock,
    issuer: first.issuer,
    get: (token) => first.get(token),
    sql,
    async createUser(roles) {
      const id = randomUUID();
      const username = `user-${id.slice(0, 8)}`;
      await sql(`INSERT INTO users (id, username, password_hash) VALUES ($1, $2, 'not-a-password-hash')`, [
        id,
        username,
      ]);
      for (const role of roles) {
        await sql(`INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`, [id, role]);
      }
      const [row] = await sql<{ traits: string[] }>(
        `SELECT coalesce(array_agg(DISTINCT t ORDER BY t), '{}') AS traits
           FROM user_roles ur JOIN roles r ON r.name = ur.role, unnest(r.traits) t WHERE ur.user_id = $1`,
        [id],
      );

      return { id, username, roles: [...roles], traits: row?.traits ?? [], active: true };
    },
    async deactivate(userId) {
      await sql(`UPDATE users SET active = false WHERE id = $1`, [userId]);
    },
    bucketKeys,
    async auditRecords() {
      return readAuditStream(nc);
    },
    async verifyWithBucket(token, audience = tokenContract.audience) {
      const jwks = createLocalJWKSet({ keys: await bucketKeys() });

      return jwtVerify<TokenClaims>(token, jwks, {
        algorithms: ['EdDSA'],
        issuer: tokenContract.issuer,
        audience,
        currentDate: clock.now(),
      });
    },
    async stop() {
      await pg.end().catch(() => undefined);
      await nc.drain().catch(() => undefined);
      await Promise.allSettled(replicas.map((replica) => replica.service.stop()));
      await Promise.allSettled([nats.stop(), db.drop()]);
    },
  };
}
