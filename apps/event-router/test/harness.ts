import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import type { AuditRecord, PluginStatusEntry, StoredEventEnvelope } from '@vivified/contracts';
import { buckets, dynamicSubjects, opsPortEnv, streams } from '@vivified/contracts';
import {
  connectNats,
  decodeJson,
  encodeJson,
  ensureBucket,
  ensureStream,
  VivifiedClient,
} from '@vivified/nats-transport';
import type { RunningService } from '@vivified/service-kit';
import { bootstrapService } from '@vivified/service-kit';
import type { TestDatabase, TestNatsServer } from '@vivified/testing';
import {
  createTestDatabase,
  freePort,
  readAuditStream,
  startNatsServer,
  TestAuthority,
} from '@vivified/testing';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { headers as natsHeaders } from 'nats';

import { eventRouterConfigSchema } from '../src/config';
import { EventRouterModule } from '../src/event-router.module';

/** The PHI traits the engine requires of a PHI target. */
export const phiTraits = ['handles_phi', 'audit_required', 'encryption_required'] as const;
/** The PII traits. */
export const piiTraits = ['handles_pii', 'audit_required'] as const;

/** What a test plugin received: the envelope and its headers. */
export interface Received {
  envelope: StoredEventEnvelope;
  traceparent: string | undefined;
  attempt: number;
}

/** A test plugin: a plain nats.js subscription on its deliver subject. */
export class TestSubscriber {
  readonly received: Received[] = [];
  /** Answers each delivery: `ok` acks, `fail` replies with an error envelope, `silent` never replies. */
  mode: 'ok' | 'fail' | 'silent' = 'ok';
  private sub: Subscription | undefined;

  constructor(
    readonly id: string,
    private readonly nc: NatsConnection,
  ) {}

  start(): this {
    this.sub = this.nc.subscribe(dynamicSubjects.pluginDeliver(this.id), {
      callback: (_error, msg: Msg) => {
        const envelope = decodeJson(msg.data) as StoredEventEnvelope;
        this.received.push({
          envelope,
          traceparent: msg.headers?.get('traceparent'),
          attempt: Number(msg.headers?.get('Vivified-Delivery-Attempt') ?? 0),
        });
        if (this.mode === 'ok') {
          msg.respond(encodeJson({ ok: true }));
        } else if (this.mode === 'fail') {
          msg.respond(encodeJson({ error: { code: 'UNAVAILABLE', message: 'plugin is down' } }));
        }
      },
    });

    return this;
  }

  eventIds(): string[] {
    return this.received.map((item) => item.envelope.eventId);
  }

  stop(): void {
    this.sub?.unsubscribe();
  }
}

/** The event-router in this process on its own nats-server and database, with a test authority. */
export class RouterHarness {
  service!: RunningService;
  nc!: NatsConnection;
  client!: VivifiedClient;
  authority!: TestAuthority;
  env: Record<string, string> = {};
  private readonly subscribers: TestSubscriber[] = [];

  private constructor(
    readonly nats: TestNatsServer,
    readonly db: TestDatabase,
  ) {}

  static async start(overrides: Record<string, string> = {}): Promise<RouterHarness> {
    const [nats, db, opsPort] = await Promise.all([
      startNatsServer(),
      createTestDatabase('vivified_event_router'),
      freePort(),
    ]);
    const harness = new RouterHarness(nats, db);
    ({ nc: harness.nc } = await connectNats({ servers: [nats.url], name: 'event-router-test' }));
    harness.client = new VivifiedClient(harness.nc);
    await ensureStream(await harness.nc.jetstreamManager(), streams.audit);
    await ensureBucket(harness.nc, buckets.plugins);
    harness.authority = await TestAuthority.create(harness.nc);
    harness.env = {
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_LOG_LEVEL: 'silent',
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      [opsPortEnv('event-router')]: String(opsPort),
      VIVIFIED_EVENTS_BACKOFF_MS: '50,100',
      ...overrides,
    };
    await harness.startRouter();

    return harness;
  }

  /**
   * Stops the router as a crash would look to NATS: its connection is closed at once (no drain, nothing acked,
   * in-flight deliveries stay unacknowledged until the ack wait), then the process's resources are released.
   */
  async crashRouter(): Promise<void> {
    await this.service.nc.close();
    await this.service.stop().catch(() => undefined);
  }

  async startRouter(): Promise<void> {
    this.env[opsPortEnv('event-router')] = String(await freePort());
    Object.assign(process.env, this.env);
    this.service = await bootstrapService({
      service: 'event-router',
      version: '0.0.0-test',
      module: EventRouterModule,
      migrationsDir: join(__dirname, '..', 'migrations'),
      configSchema: eventRouterConfigSchema,
    });
  }

  async stop(): Promise<void> {
    for (const subscriber of this.subscribers) {
      subscriber.stop();
    }
    await this.nc.drain().catch(() => undefined);
    await this.service.stop();
    await Promise.allSettled([this.nats.stop(), this.db.drop()]);
  }

  /** Writes a plugin's registry entry (active unless said otherwise). */
  async putPlugin(
    id: string,
    options: {
      traits?: readonly string[];
      publishes?: string[];
      subscribes?: string[];
      status?: PluginStatusEntry['status'];
      delivery?: PluginStatusEntry['delivery'];
    } = {},
  ): Promise<void> {
    await this.authority.putPlugin({
      id,
      traits: [...(options.traits ?? [])],
      status: options.status ?? 'active',
      events: { publishes: options.publishes ?? [], subscribes: options.subscribes ?? [] },
      ...(options.delivery ? { delivery: options.delivery } : {}),
    });
  }

  async tokenOf(pluginId: string): Promise<string> {
    return this.authority.token({ kind: 'plugin', id: pluginId, traits: [] });
  }

  /** Publishes as a plugin on `vivified.v1.events.publish.<type>`. */
  async publish(
    pluginId: string,
    eventType: string,
    body: Record<string, unknown>,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ eventId: string; seq: number; duplicate?: boolean }> {
    return (await this.client.requestRaw(dynamicSubjects.publishEvent(eventType), body, {
      token: await this.tokenOf(pluginId),
      headers: extraHeaders,
    })) as { eventId: string; seq: number; duplicate?: boolean };
  }

  /** A plugin's request to a core subject with its own token. */
  async asPlugin(pluginId: string, subject: string, body: unknown): Promise<unknown> {
    return this.client.requestRaw(subject, body, { token: await this.tokenOf(pluginId) });
  }

  subscriber(id: string): TestSubscriber {
    const subscriber = new TestSubscriber(id, this.nc).start();
    this.subscribers.push(subscriber);

    return subscriber;
  }

  /** Every audit record written so far. */
  async auditRecords(): Promise<AuditRecord[]> {
    return readAuditStream(this.nc);
  }

  /** Stored events on `VIVIFIED_EVENTS`. */
  async storedCount(): Promise<number> {
    const jsm = await this.nc.jetstreamManager();

    return (await jsm.streams.info(streams.events.name)).state.messages;
  }
}

/** A `traceparent` with a fixed trace id. */
export function traceparentOf(traceId: string): Record<string, string> {
  return { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

export { natsHeaders };
