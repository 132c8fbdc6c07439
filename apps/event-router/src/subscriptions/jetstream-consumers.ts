import { Inject, Injectable } from '@nestjs/common';
import { dynamicSubjects, streams } from '@vivified/contracts';
import { NATS_CONNECTION, SERVICE_CONFIG } from '@vivified/service-kit';
import type { ConsumerConfig, JetStreamManager, NatsConnection } from 'nats';
import { AckPolicy, DeliverPolicy, NatsError, nanos } from 'nats';

import type { EventRouterConfig } from '../config';

const CONSUMER_NOT_FOUND = 10014;

function notFound(error: unknown): boolean {
  return error instanceof NatsError && error.api_error?.err_code === CONSUMER_NOT_FOUND;
}

/** What a subscription's consumer needs. */
export interface ConsumerSpec {
  id: string;
  eventType: string;
  maxAckPending: number;
}

/**
 * The durable JetStream consumers of subscriptions on `VIVIFIED_EVENTS`: one per plugin and type, named by the
 * subscription id, filtered on `vivified.events.<type>`, explicit ack, starting with events stored after it was
 * created. Redelivery after a failed delivery is the router's nak with backoff, and the last attempt goes to the
 * DLQ by the router, so the server never gives a message up by itself (`max_deliver: -1`).
 */
@Injectable()
export class JetStreamConsumers {
  private jsmPromise: Promise<JetStreamManager> | undefined;

  private readonly ackWait: number;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(SERVICE_CONFIG) config: EventRouterConfig,
  ) {
    // never below the delivery timeout: a slow plugin must not see its event handed out twice
    this.ackWait = nanos(Math.max(config.ackWaitMs, config.deliveryTimeoutMs * 2));
  }

  private jsm(): Promise<JetStreamManager> {
    return (this.jsmPromise ??= this.nc.jetstreamManager());
  }

  async ensure(spec: ConsumerSpec): Promise<void> {
    const jsm = await this.jsm();
    try {
      const info = await jsm.consumers.info(streams.events.name, spec.id);
      if (info.config.max_ack_pending !== spec.maxAckPending || info.config.ack_wait !== this.ackWait) {
        await jsm.consumers.update(streams.events.name, spec.id, {
          max_ack_pending: spec.maxAckPending,
          ack_wait: this.ackWait,
        });
      }
    } catch (error) {
      if (!notFound(error)) {
        throw error;
      }
      const config: Partial<ConsumerConfig> = {
        durable_name: spec.id,
        filter_subject: dynamicSubjects.storedEvent(spec.eventType),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        ack_wait: this.ackWait,
        max_deliver: -1,
        max_ack_pending: spec.maxAckPending,
      };
      await jsm.consumers.add(streams.events.name, config);
    }
  }

  async remove(id: string): Promise<void> {
    const jsm = await this.jsm();
    try {
      await jsm.consumers.delete(streams.events.name, id);
    } catch (error) {
      if (!notFound(error)) {
        throw error;
      }
    }
  }

  /** Stored events the subscription has not acked yet (pending + in flight); undefined without a consumer. */
  async lag(id: string): Promise<number | undefined> {
    const jsm = await this.jsm();
    try {
      const info = await jsm.consumers.info(streams.events.name, id);

      return info.num_pending + info.num_ack_pending;
    } catch (error) {
      if (notFound(error)) {
        return undefined;
      }
      throw error;
    }
  }
}
