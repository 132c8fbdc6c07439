import { Inject, Injectable } from '@nestjs/common';
import type { StoredEventEnvelope } from '@vivified/contracts';
import { dynamicSubjects, formatClassification, headers as headerNames } from '@vivified/contracts';
import { encodeJson } from '@vivified/nats-transport';
import { NATS_CONNECTION } from '@vivified/service-kit';
import type { JetStreamClient, NatsConnection } from 'nats';
import { headers } from 'nats';

import { childTraceparent } from '@vivified/nats-transport';

/** Where a stored event landed. */
export interface StoredPosition {
  seq: number;
  duplicate: boolean;
}

/** Writes envelopes to `VIVIFIED_EVENTS` (only the event-router writes there). */
@Injectable()
export class EventStore {
  private readonly js: JetStreamClient;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection) {
    this.js = nc.jetstream();
  }

  /** Stores an envelope on `vivified.events.<type>` with `Nats-Msg-Id` = event id; resolves once stored. */
  async store(envelope: StoredEventEnvelope): Promise<StoredPosition> {
    const hdrs = headers();
    hdrs.set('traceparent', childTraceparent(envelope.traceId));
    if (envelope.classification.length > 0) {
      hdrs.set(headerNames.classification, formatClassification(envelope.classification));
    }
    const ack = await this.js.publish(dynamicSubjects.storedEvent(envelope.eventType), encodeJson(envelope), {
      msgID: envelope.eventId,
      headers: hdrs,
    });

    return { seq: ack.seq, duplicate: ack.duplicate };
  }
}
