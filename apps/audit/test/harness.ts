import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';

import type { AuditRecord } from '@vivified/contracts';
import { consumers, dynamicSubjects, opsPortEnv, streams } from '@vivified/contracts';
import { connectNats, ensureStream, VivifiedClient } from '@vivified/nats-transport';
import type { RunningService } from '@vivified/service-kit';
import { bootstrapService } from '@vivified/service-kit';
import type { TestDatabase, TestNatsServer } from '@vivified/testing';
import { createTestDatabase, freePort, startNatsServer, TestAuthority, waitFor } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { Client } from 'pg';

import { AuditModule } from '../src/audit.module';
import { auditConfigSchema } from '../src/config';

/** The traits of identity's compliance officer role, and a viewer without audit access. */
export const traits = {
  auditor: ['compliance_officer', 'audit_viewer', 'viewer'],
  viewer: ['viewer'],
} as const;

/**
 * The audit service in this process, started with `bootstrapService` as `main.ts` does, on a nats-server and a
 * throwaway database of the test's own; a TestAuthority signs the callers' tokens.
 */
export class AuditHarness {
  readonly replicas: RunningService[] = [];
  nc!: NatsConnection;
  client!: VivifiedClient;
  authority!: TestAuthority;
  /** Superuser connection to the test database (search_path audit), for tamper tests. */
  sql!: Client;
  env: Record<string, string> = {};

  private constructor(
    readonly nats: TestNatsServer,
    readonly db: TestDatabase,
  ) {}

  static async start(overrides: Record<string, string> = {}): Promise<AuditHarness> {
    const [nats, db] = await Promise.all([startNatsServer(), createTestDatabase('vivified_audit')]);
    const harness = new AuditHarness(nats, db);
    harness.env = {
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_LOG_LEVEL: 'silent',
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      ...overrides,
    };
    ({ nc: harness.nc } = await connectNats({ servers: [nats.url], name: 'audit-test-caller' }));
    harness.client = new VivifiedClient(harness.nc);
    harness.authority = await TestAuthority.create(harness.nc);
    await harness.startReplica();
    harness.sql = new Client({ connectionString: db.url, options: '-c search_path=audit,public' });
    await harness.sql.connect();

    return harness;
  }

  async startReplica(extra: Record<string, string> = {}): Promise<RunningService> {
    Object.assign(process.env, this.env, extra, { [opsPortEnv('audit')]: String(await freePort()) });
    const service = await bootstrapService({
      service: 'audit',
      version: '0.0.0-test',
      module: AuditModule,
      migrationsDir: join(__dirname, '..', 'migrations'),
      configSchema: auditConfigSchema,
    });
    this.replicas.push(service);

    return service;
  }

  async stopReplicas(): Promise<void> {
    const running = this.replicas.splice(0);
    await Promise.all(running.map((replica) => replica.stop()));
  }

  async stop(): Promise<void> {
    await this.sql?.end().catch(() => undefined);
    await this.nc?.drain().catch(() => undefined);
    await this.stopReplicas();
    await Promise.allSettled([this.nats.stop(), this.db.drop()]);
  }

  /** A user token with the given traits. */
  token(userTraits: readonly string[], id: string = randomUUID()): Promise<string> {
    return this.authority.token({ kind: 'user', id, traits: userTraits });
  }

  /** Publishes records to VIVIFIED_AUDIT as a service's emitter does (publish with ack, id as Nats-Msg-Id). */
  async publish(records: readonly AuditRecord[], options: { dedup?: boolean } = {}): Promise<void> {
    await ensureStream(await this.nc.jetstreamManager(), streams.audit);
    const js = this.nc.jetstream();
    const window = 500;
    for (let start = 0; start < records.length; start += window) {
      await Promise.all(
        records.slice(start, start + window).map((record) =>
          js.publish(dynamicSubjects.auditRecord(record.category), JSON.stringify(record), {
            ...(options.dedup === false ? {} : { msgID: record.id }),
          }),
        ),
      );
    }
  }

  /** Stored row count. */
  async count(): Promise<number> {
    const { rows } = await this.sql.query<{ n: string }>('SELECT count(*) AS n FROM records');

    return Number(rows[0]?.n ?? 0);
  }

  /** Waits until `n` rows are stored and the ingest consumer has nothing pending. */
  async waitForRows(n: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => (await this.count()) >= n, { timeoutMs, intervalMs: 100 });
    await waitFor(
      async () => {
        const info = await (
          await this.nc.jetstreamManager()
        ).consumers.info(consumers.auditIngest.stream, consumers.auditIngest.durable);

        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }
}

/** A valid audit record with overrides. */
export function auditRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id: randomUUID(),
    ts: new Date().toISOString(),
    category: 'auth',
    action: 'login',
    outcome: 'success',
    actor: { kind: 'user', id: `user:${randomUUID()}` },
    classification: [],
    phiInvolved: false,
    service: 'identity',
    details: {},
    ...overrides,
  };
}
