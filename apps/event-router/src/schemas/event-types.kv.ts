import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { EventTypeView } from '@vivified/contracts';
import { buckets } from '@vivified/contracts';
import { KvWatch } from '@vivified/nats-transport';
import { NATS_CONNECTION, SERVICE_LOGGER } from '@vivified/service-kit';
import type { ServiceLogger } from '@vivified/service-kit';
import type { KV, NatsConnection } from 'nats';

/** The value of one type in `vivified_event_types`. */
export interface PublishedEventType {
  type: string;
  versions: EventTypeView[];
  updatedAt: string;
}

/**
 * Publishes the schema registry to the `vivified_event_types` bucket (key = type), so SDKs, the console and other
 * services read it without asking the router, and tells this replica when another one changed it.
 */
@Injectable()
export class EventTypesKv implements OnApplicationShutdown {
  private kv: Promise<KV> | undefined;
  private changes: KvWatch | undefined;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
  ) {}

  private bucket(): Promise<KV> {
    return (this.kv ??= this.nc
      .jetstream()
      .views.kv(buckets.eventTypes.name, { history: buckets.eventTypes.history }));
  }

  /** Writes a type's versions when they differ from what the bucket holds. */
  async put(type: string, versions: EventTypeView[]): Promise<void> {
    const kv = await this.bucket();
    const current = await kv.get(type);
    if (current?.operation === 'PUT') {
      const held = current.json<PublishedEventType>();
      if (JSON.stringify(held.versions) === JSON.stringify(versions)) {
        return;
      }
    }
    const value: PublishedEventType = { type, versions, updatedAt: new Date().toISOString() };
    await kv.put(type, JSON.stringify(value));
  }

  /** Calls `onChange` for every later change (another replica registered a version). */
  async watch(onChange: (type: string) => void): Promise<void> {
    await this.bucket();
    this.changes = new KvWatch(
      this.nc,
      { bucket: buckets.eventTypes.name, updatesOnly: true, what: 'event types', logger: this.log },
      { onEntry: (entry) => onChange(entry.key) },
    );
    await this.changes.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.changes?.stop();
  }
}
