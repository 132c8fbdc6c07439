// The floor of the canonical lane's message pattern (issue 7), run by events-bench.ts as a process of its own: the
// same twelve message passes through nats-server per event as the event-router — a publish request, its store in
// a stream with `Nats-Msg-Id`, the reply once stored; a streaming pull, one delivery request per event, the ack
// after the subscriber's reply — on the same transport (nats.js, RequestMux), with no checks at all: no token,
// policy, schema, audit, tracing or metrics. What the router costs beyond this is the governance; what this costs
// beyond raw JetStream is the contract's extra hops.
// Environment: BARE_NATS_URL, BARE_STREAM, BARE_CONSUMER, BARE_PUBLISH (request subject), BARE_STORE (stream
// subject), BARE_DELIVER (subscriber subject), BARE_CONCURRENCY (max in flight deliveries).
import { encodeJson, RequestMux } from '@vivified/nats-transport';
import { connect, headers } from 'nats';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is required`);
  }

  return value;
}

async function main(): Promise<void> {
  // a clean exit on the bench's SIGTERM, so `--cpu-prof` (BENCH_ROUTER_NODE_ARGS) writes its profile
  process.once('SIGTERM', () => process.exit(0));
  const nc = await connect({ servers: env('BARE_NATS_URL'), name: 'bench-bare-forwarder' });
  const mux = RequestMux.of(nc);
  const store = env('BARE_STORE');
  const deliver = env('BARE_DELIVER');
  const decoder = new TextDecoder();

  nc.subscribe(env('BARE_PUBLISH'), {
    callback: (_error, msg) => {
      // a mediator must at least read the event's id (the stream's dedup key)
      const { eventId } = JSON.parse(decoder.decode(msg.data)) as { eventId: string };
      mux.publishDurable(store, msg.data, { timeoutMs: 5_000, msgId: eventId, headers: headers() }).then(
        (ack) => msg.respond(encodeJson({ eventId, seq: ack.seq })),
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
    const work = mux.request(deliver, msg.data, { timeoutMs: 5_000 }).then(
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
