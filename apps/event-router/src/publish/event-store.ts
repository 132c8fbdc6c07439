import { Inject, Injectable } from '@nestjs/common';
import type { StoredEventEnvelope } from '@vivified/contracts';
import { dynamicSubjects, formatClassification, headers as headerNames } from '@vivified/contracts';
import { encodeJson, RequestMux } from '@vivified/nats-transport';
import { NATS_CONNECTION } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';
import { headers } from 'nats';

import { childTraceparent } from '@vivified/nats-transport';

/** How long a publish waits for the stream's ack (nats.js's JetStream default). */
const STORE_TIMEOUT_MS = 5_000;

/** Where a stored event landed. */
export interface StoredPosition {
  seq: number;
  duplicate: boolean;
}

/** Writes envelopes to `VIVIFIED_EVENTS` (only the event-router writes there). */
@Injectable()
export class EventStore {
  private readonly requests: RequestMux;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection) {
    this.requests = RequestMux.of(nc);
  }

  /** Stores an envelope on `vivified.events.<type>` with `Nats-Msg-Id` = event id; resolves once stored. */
  async store(envelope: StoredEventEnvelope): Promise<StoredPosition> {
    const hdrs = headers();
    hdrs.set('traceparent', childTraceparent(envelope.traceId));
    if (envelope.classification.length > 0) {
      hdrs.set(headerNames.classification, formatClassification(envelope.classification));
    }
    const ack = await this.requests.publishDurable(
      dynamicSubjects.storedEvent(envelope.eventType),
      encodeJson(envelope),
      { msgId: envelope.eventId, headers: hdrs, timeoutMs: STORE_TIMEOUT_MS },
    );

    return { seq: ack.seq, duplicate: ack.duplicate };
  }
}
