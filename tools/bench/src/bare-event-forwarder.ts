// The floor of the canonical lane's message pattern (issue 7), run by events-bench.ts as a process of its own: the
// same twelve message passes through nats-server per event as the event-router — a publish request, its store in
// a stream with `Nats-Msg-Id`, the reply once stored; a streaming pull, one delivery request per event, the ack
// after the subscriber's reply — on the same transport (nats.js, RequestMux), with no checks at all: no token
// verification, policy, schema, audit, tracing or metrics. Two shapes (BARE_SHAPE):
// - `hops`: the bytes it is given, stored and delivered as they are (the hops alone);
// - `contract`: the wire format of ARCHITECTURE §3 as the router writes it — the publisher's request carries its
//   bearer token, the stored event is the completed envelope (type, version, time, source, trace id,
//   classification) with `traceparent`, and the delivery carries `traceparent`, `Nats-Msg-Id`, the attempt and the
//   subscription — still without checking anything.
// What the router costs beyond `contract` is the governance; what `contract` costs beyond `hops` is the wire format.
// Environment: BARE_NATS_URL, BARE_STREAM, BARE_CONSUMER, BARE_PUBLISH (request subject), BARE_STORE (stream
// subject), BARE_DELIVER (subscriber subject), BARE_CONCURRENCY (max in flight deliveries), BARE_SHAPE.
import { randomBytes } from 'node:crypto';

import { headers as headerNames } from '@vivified/contracts';
import { childTraceparent, encodeJson, RequestMux } from '@vivified/nats-transport';
import type { JsMsg, Msg, MsgHdrs } from 'nats';
import { connect, headers } from 'nats';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is required`);
  }

  return value;
}

interface Shape {
  /** The stored message and its headers for a publish request. */
  store(msg: Msg): { eventId: string; data: Uint8Array; headers: MsgHdrs };
  /** The delivery's headers for a stored message. */
  deliveryHeaders(msg: JsMsg): MsgHdrs | undefined;
}

const decoder = new TextDecoder();

const hops: Shape = {
  store: (msg) => {
    // a mediator must at least read the event's id (the stream's dedup key)
    const { eventId } = JSON.parse(decoder.decode(msg.data)) as { eventId: string };

    return { eventId, data: msg.data, headers: headers() };
  },
  deliveryHeaders: () => undefined,
};

function contractShape(subscription: string): Shape {
  return {
    store: (msg) => {
      if (!msg.headers?.get(headerNames.authorization)) {
        throw new Error('no bearer token');
      }
      const body = JSON.parse(decoder.decode(msg.data)) as { eventId: string; payload: unknown };
      const traceId = randomBytes(16).toString('hex');
      const envelope = {
        eventId: body.eventId,
        eventType: 'DocumentStored',
        schemaVersion: '1.0',
        occurredAt: new Date().toISOString(),
        source: { pluginId: 'bench-publisher' },
        traceId,
        classification: [],
        payload: body.payload,
      };
      const hdrs = headers();
      hdrs.set('traceparent', childTraceparent(traceId));

      return { eventId: body.eventId, data: encodeJson(envelope), headers: hdrs };
    },
    deliveryHeaders: (msg) => {
      const { eventId, traceId } = JSON.parse(decoder.decode(msg.data)) as {
        eventId: string;
        traceId: string;
      };
      const hdrs = headers();
      hdrs.set('traceparent', childTraceparent(traceId));
      hdrs.set('Nats-Msg-Id', eventId);
      hdrs.set('Vivified-Delivery-Attempt', String(msg.info.deliveryCount));
      hdrs.set('Vivified-Subscription', subscription);

      return hdrs;
    },
  };
}

async function main(): Promise<void> {
  // a clean exit on the bench's SIGTERM, so `--cpu-prof` (BENCH_ROUTER_NODE_ARGS) writes its profile
  process.once('SIGTERM', () => process.exit(0));
  const nc = await connect({ servers: env('BARE_NATS_URL'), name: 'bench-bare-forwarder' });
  const mux = RequestMux.of(nc);
  const store = env('BARE_STORE');
  const deliver = env('BARE_DELIVER');
  const shape = env('BARE_SHAPE') === 'contract' ? contractShape(env('BARE_CONSUMER')) : hops;

  nc.subscribe(env('BARE_PUBLISH'), {
    callback: (_error, msg) => {
      let stored: ReturnType<Shape['store']>;
      try {
        stored = shape.store(msg);
      } catch {
        msg.respond(encodeJson({ error: 'bad request' }));

        return;
      }
      mux
        .publishDurable(store, stored.data, {
          timeoutMs: 5_000,
          msgId: stored.eventId,
          headers: stored.headers,
        })
        .then(
          (ack) => msg.respond(encodeJson({ eventId: stored.eventId, seq: ack.seq })),
          () => msg.respond(encodeJson({ error: 'not stored' })),
        );
    },
  });

  const limit = Number(env('BARE_CONCURRENCY'));
  const consumer = await nc.jetstream().consumers.get(env('BARE_STREAM'), env('BARE_CONSUMER'));
  const messages = await consumer.consume({ max_messages: limit });
  await nc.flush();
  process.send?.('ready');
  const active = new Set<Promise<void>>();
  for await (const msg of messages) {
    const hdrs = shape.deliveryHeaders(msg);
    const work = mux
      .request(deliver, msg.data, { timeoutMs: 5_000, ...(hdrs ? { headers: hdrs } : {}) })
      .then(
        () => msg.ack(),
        () => msg.nak(),
      );
    active.add(work);
    void work.finally(() => active.delete(work));
    if (active.size >= limit) {
      await Promise.race(active);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
