// Canonical-lane benchmark (issue 7), beside raw JetStream in the same run on the same nats-server:
// 1. throughput publish → deliver → ack: raw = js.publish + a pull consumer acking each message; lane = publish
//    requests through the event-router (sidecar, schema validation, store, audit) → durable consumer → policy per
//    delivery → NATS request to the subscriber plugin → its reply → ack (+ delivery audit);
//    between the two, the same message pattern through a bare forwarder process (bare-event-forwarder.ts: the
//    contract's hops without any check), so the gap splits into what the hops cost and what the governance costs;
//    each phase reports every process's CPU per event (nats-server, this bench, the router or forwarder) and the
//    messages and bytes through nats-server per event (its monitoring port);
// 2. publish latency: a sequential publish request through the router (answered once stored) against a sequential
//    raw js.publish (answered once stored); the difference is what the lane adds.
// The event-router runs as its own process from apps/event-router/dist (run `npm run build` first):
// `node tools/bench/dist/events-bench.js`. Knobs: BENCH_EVENTS (20000), BENCH_WINDOW (256), BENCH_LATENCY (2000),
// BENCH_CONCURRENCY (the subscription's max ack pending, 256), BENCH_LATENCY_UNSUBSCRIBED (1: the subscriber
// unsubscribes before the latency phase, so the router has no delivery work while it is measured).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { buckets, dynamicSubjects, opsPortEnv, streams, subjects } from '@vivified/contracts';
import {
  connectNats,
  encodeJson,
  ensureBucket,
  ensureStream,
  RequestMux,
  VivifiedClient,
} from '@vivified/nats-transport';
import { createTestDatabase, freePort, startNatsServer, TestAuthority, waitFor } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { AckPolicy, DeliverPolicy } from 'nats';

import type { LatencyStats } from './stats';
import { cpuMeter, latencyStats, natsServerTraffic, natsTrafficPer } from './stats';
import type { NatsTraffic } from './stats';
import { serviceNodeArgs } from './service-process';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 20_000);
const WINDOW = Number(process.env['BENCH_WINDOW'] ?? 256);
const LATENCY = Number(process.env['BENCH_LATENCY'] ?? 2_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 256);
const LATENCY_UNSUBSCRIBED = process.env['BENCH_LATENCY_UNSUBSCRIBED'] === '1';

const PUBLISHER = 'bench-publisher';
const rawSubject = (name: string) => `bench.raw.${name}`;
const bareSubject = (name: string) => `bench.bare.${name}`;
const SUBSCRIBER = 'bench-subscriber';

/** Runs `call(i)` for i < count with at most `window` in flight. */
async function windowed(count: number, window: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next;
      next += 1;
      await call(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
}

async function sequential(count: number, call: (i: number) => Promise<unknown>): Promise<bigint[]> {
  const samples: bigint[] = [];
  for (let i = 0; i < count; i += 1) {
    const start = process.hrtime.bigint();
    await call(i);
    samples.push(process.hrtime.bigint() - start);
  }

  return samples;
}

function payload(i: number) {
  return { documentId: `doc-${i}`, contentType: 'application/json' };
}

/** What a throughput phase measured: events per second, each process's CPU and nats-server's traffic per event. */
interface PhaseResult {
  rate: number;
  cpuPerEventUs: Record<string, number>;
  natsPerEvent: NatsTraffic;
  /** Sequential publish latency through a bare forwarder, its subscriber still receiving each event. */
  publishLatencyUs?: LatencyStats;
}

/** Raw JetStream: publish with ack (window) while a pull consumer acks each message. */
async function rawThroughput(
  nc: NatsConnection,
  nats: { pid: number | undefined; monitorPort: number },
): Promise<PhaseResult> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['bench.raw.>'] });
  await jsm.consumers.add('BENCH_RAW', {
    durable_name: 'raw',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: CONCURRENCY,
  });
  const js = nc.jetstream();
  let acked = 0;
  const consumer = await js.consumers.get('BENCH_RAW', 'raw');
  const messages = await consumer.consume({ max_messages: CONCURRENCY });
  const done = new Promise<void>((resolve) => {
    void (async () => {
      for await (const msg of messages) {
        msg.ack();
        acked += 1;
        if (acked >= EVENTS) {
          resolve();
        }
      }
    })();
  });
  const cpu = cpuMeter({ natsServer: nats.pid, bench: undefined });
  const trafficBefore = await natsServerTraffic(nats.monitorPort);
  const started = process.hrtime.bigint();
  await windowed(EVENTS, WINDOW, (i) =>
    js.publish(rawSubject('doc'), encodeJson({ eventId: `raw-${i}`, payload: payload(i) }), {
      msgID: `raw-${i}`,
    }),
  );
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuPerEventUs = cpu.perUnit(EVENTS);
  const natsPerEvent = await natsTrafficPer(nats.monitorPort, trafficBefore, EVENTS);
  messages.stop();

  return { rate: EVENTS / seconds, cpuPerEventUs, natsPerEvent };
}

/**
 * The contract's floor: the same publish → store → reply and pull → delivery request → ack pattern through a bare
 * forwarder process (bare-event-forwarder.ts: no checks), in one of its shapes — `hops` (the bytes as given) or
 * `contract` (the wire format of ARCHITECTURE §3: the publisher's bearer token, the completed envelope, the
 * delivery headers) — so the router's figures split into what the hops cost, what the wire format adds, and what
 * the governance adds. `token`: the publisher's (sent by the same client as the lane's publishes).
 */
async function bareThroughput(
  nc: NatsConnection,
  nats: { url: string; pid: number | undefined; monitorPort: number },
  shape: 'hops' | 'contract',
  token: string,
): Promise<PhaseResult> {
  const jsm = await nc.jetstreamManager();
  const stream = `BENCH_BARE_${shape.toUpperCase()}`;
  const subject = (name: string) => bareSubject(`${shape}.${name}`);
  await jsm.streams.add({ name: stream, subjects: [subject('events.>')] });
  await jsm.consumers.add(stream, {
    durable_name: 'bare',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: CONCURRENCY,
  });
  let delivered = 0;
  let resolveAll: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  const subscription = nc.subscribe(subject('deliver'), {
    callback: (_error, msg) => {
      JSON.parse(new TextDecoder().decode(msg.data));
      msg.respond(encodeJson({ ok: true }));
      delivered += 1;
      if (delivered >= EVENTS) {
        resolveAll();
      }
    },
  });
  await nc.flush();
  const main = join(__dirname, 'bare-event-forwarder.js');
  const forwarder = spawn(process.execPath, [...serviceNodeArgs('BENCH_ROUTER_NODE_ARGS'), main], {
    env: {
      ...process.env,
      BARE_NATS_URL: nats.url,
      BARE_STREAM: stream,
      BARE_CONSUMER: 'bare',
      BARE_PUBLISH: subject('publish'),
      BARE_STORE: subject('events.doc'),
      BARE_DELIVER: subject('deliver'),
      BARE_CONCURRENCY: String(CONCURRENCY),
      BARE_SHAPE: shape,
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      forwarder.once('message', () => resolve());
      forwarder.once('exit', (code) => reject(new Error(`bare forwarder exited with ${code}`)));
    });
    const mux = RequestMux.of(nc);
    const client = new VivifiedClient(nc);
    const publish = (i: number) =>
      shape === 'contract'
        ? client.requestRaw(subject('publish'), { eventId: `bare-${i}`, payload: payload(i) }, { token })
        : mux.request(subject('publish'), encodeJson({ eventId: `bare-${i}`, payload: payload(i) }), {
            timeoutMs: 5_000,
          });
    await windowed(500, 64, (i) => publish(EVENTS + i)); // warm-up, like the lane's
    await waitFor(() => delivered >= 500, { timeoutMs: 30_000 });
    delivered = 0;
    const cpu = cpuMeter({ natsServer: nats.pid, bench: undefined, forwarder: forwarder.pid });
    const trafficBefore = await natsServerTraffic(nats.monitorPort);
    const started = process.hrtime.bigint();
    await windowed(EVENTS, WINDOW, publish);
    await done;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuPerEventUs = cpu.perUnit(EVENTS);
    const natsPerEvent = await natsTrafficPer(nats.monitorPort, trafficBefore, EVENTS);
    // the contract shape, one publish at a time like the lane's latency phase (not with BENCH_LATENCY_UNSUBSCRIBED:
    // a bare forwarder has no unsubscribe, it would redeliver to nobody beside the measurement)
    const publishLatencyUs =
      shape === 'hops' || LATENCY_UNSUBSCRIBED
        ? undefined
        : latencyStats(await sequential(LATENCY, (i) => publish(2 * EVENTS + i)));

    return {
      rate: EVENTS / seconds,
      cpuPerEventUs,
      natsPerEvent,
      ...(publishLatencyUs ? { publishLatencyUs } : {}),
    };
  } finally {
    forwarder.kill('SIGTERM');
    subscription.unsubscribe();
    await jsm.streams.delete(stream);
  }
}

async function rawLatency(nc: NatsConnection): Promise<LatencyStats> {
  const js = nc.jetstream();
  const samples = await sequential(LATENCY, (i) =>
    js.publish(rawSubject('lat'), encodeJson({ eventId: `lat-${i}`, payload: payload(i) }), {
      msgID: `lat-${i}`,
    }),
  );

  return latencyStats(samples);
}

/** Sum and count of the router's `vivified_events_publish_seconds` histogram. */
async function publishSeconds(opsPort: number): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  const read = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

  return {
    sum: read('vivified_events_publish_seconds_sum'),
    count: read('vivified_events_publish_seconds_count'),
  };
}

function startRouter(env: Record<string, string>): ChildProcess {
  const main = join(__dirname, '..', '..', '..', 'apps', 'event-router', 'dist', 'main.js');
  const child = spawn(process.execPath, [...serviceNodeArgs('BENCH_ROUTER_NODE_ARGS'), main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });

  return child;
}

async function main(): Promise<void> {
  const monitorPort = await freePort();
  const nats = await startNatsServer({ args: ['-m', String(monitorPort)] });
  const db = await createTestDatabase('vivified_events_bench');
  const { nc } = await connectNats({ servers: [nats.url], name: 'events-bench' });
  let router: ChildProcess | undefined;
  try {
    const raw = await rawThroughput(nc, { pid: nats.pid, monitorPort });
    const rawRate = raw.rate;
    const rawLat = await rawLatency(nc);

    await ensureStream(await nc.jetstreamManager(), streams.audit);
    await ensureBucket(nc, buckets.plugins);
    const authority = await TestAuthority.create(nc);
    const token = await authority.token({
      kind: 'plugin',
      id: PUBLISHER,
      traits: [],
      lifetimeSeconds: 3_600,
    });
    const natsServer = { url: nats.url, pid: nats.pid, monitorPort };
    const bare = await bareThroughput(nc, natsServer, 'hops', token);
    const bareContract = await bareThroughput(nc, natsServer, 'contract', token);
    await authority.putPlugin({
      id: PUBLISHER,
      traits: [],
      events: { publishes: ['DocumentStored'], subscribes: [] },
    });
    const opsPort = await freePort();
    router = startRouter({
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      VIVIFIED_LOG_LEVEL: 'warn',
      [opsPortEnv('event-router')]: String(opsPort),
      VIVIFIED_EVENTS_CONCURRENCY: String(CONCURRENCY),
    });
    const client = new VivifiedClient(nc);
    await waitFor(() => client.request(subjects.eventRouter.info, {}).then(() => true), {
      timeoutMs: 30_000,
    });

    const seen = new Set<string>();
    let resolveAll: () => void = () => undefined;
    let target = EVENTS;
    const allSeen = () =>
      new Promise<void>((resolve) => {
        resolveAll = resolve;
        if (seen.size >= target) {
          resolve();
        }
      });
    nc.subscribe(dynamicSubjects.pluginDeliver(SUBSCRIBER), {
      callback: (_error, msg) => {
        const { eventId } = JSON.parse(new TextDecoder().decode(msg.data)) as { eventId: string };
        seen.add(eventId);
        msg.respond(encodeJson({ ok: true }));
        if (seen.size >= target) {
          resolveAll();
        }
      },
    });
    await authority.putPlugin({
      id: SUBSCRIBER,
      traits: [],
      events: { publishes: [], subscribes: ['DocumentStored'] },
    });
    const subToken = await authority.token({ kind: 'plugin', id: SUBSCRIBER, traits: [] });
    await waitFor(
      async () => {
        const reply = (await client.requestRaw(subjects.events.subscriptions, {}, { token: subToken })) as {
          subscriptions: unknown[];
        };

        return reply.subscriptions.length === 1;
      },
      { timeoutMs: 30_000 },
    );
    const publish = (eventId: string, i: number) =>
      client.requestRaw(
        dynamicSubjects.publishEvent('DocumentStored'),
        { eventId, payload: payload(i) },
        { token },
      );

    // warm-up (JIT, decision cache, token verification cache)
    target = 500;
    const warm = allSeen();
    await windowed(500, 64, (i) => publish(`bench-warm-${i}`, i));
    await warm;

    seen.clear();
    target = EVENTS;
    const delivered = allSeen();
    const cpu = cpuMeter({ natsServer: nats.pid, bench: undefined, router: router.pid });
    const trafficBefore = await natsServerTraffic(monitorPort);
    const started = process.hrtime.bigint();
    await windowed(EVENTS, WINDOW, (i) => publish(`bench-evt-${i}`, i));
    const publishedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    await delivered;
    const laneSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const laneRate = EVENTS / laneSeconds;
    const laneCpu = cpu.perUnit(EVENTS);
    const laneNatsPerEvent = await natsTrafficPer(monitorPort, trafficBefore, EVENTS);

    target = Number.MAX_SAFE_INTEGER;
    if (LATENCY_UNSUBSCRIBED) {
      await client.requestRaw(
        subjects.events.unsubscribe,
        { eventTypes: ['DocumentStored'] },
        { token: subToken },
      );
    }
    const before = await publishSeconds(opsPort);
    const laneLat = latencyStats(await sequential(LATENCY, (i) => publish(`bench-lat-${i}`, i)));
    const after = await publishSeconds(opsPort);
    // the router's own time per publish (its handler, from receipt to reply), the rest is transport and client
    const routerMeanUs = ((after.sum - before.sum) / Math.max(1, after.count - before.count)) * 1e6;

    const result = {
      events: EVENTS,
      window: WINDOW,
      subscriptionConcurrency: CONCURRENCY,
      latencyWithSubscriber: !LATENCY_UNSUBSCRIBED,
      raw: {
        throughputPerSecond: Math.round(rawRate),
        publishLatencyUs: rawLat,
        cpuPerEventUs: raw.cpuPerEventUs,
        natsPerEvent: raw.natsPerEvent,
      },
      bareForwarder: {
        throughputPerSecond: Math.round(bare.rate),
        cpuPerEventUs: bare.cpuPerEventUs,
        natsPerEvent: bare.natsPerEvent,
      },
      bareForwarderContractShape: {
        throughputPerSecond: Math.round(bareContract.rate),
        cpuPerEventUs: bareContract.cpuPerEventUs,
        natsPerEvent: bareContract.natsPerEvent,
        publishLatencyUs: bareContract.publishLatencyUs,
        // what the contract's hops and wire format alone add to a publish, without any check: the latency floor
        ...(bareContract.publishLatencyUs
          ? {
              addedP50Us: Math.round(bareContract.publishLatencyUs.p50 - rawLat.p50),
              addedP99Us: Math.round(bareContract.publishLatencyUs.p99 - rawLat.p99),
            }
          : {}),
      },
      lane: {
        throughputPerSecond: Math.round(laneRate),
        publishOnlyPerSecond: Math.round(EVENTS / publishedSeconds),
        publishLatencyUs: laneLat,
        routerHandlerMeanUs: Math.round(routerMeanUs),
        routerCpuPerEventUs: laneCpu['router'],
        // every process's CPU per event (nats-server, this bench as publisher and subscriber, the router)
        cpuPerEventUs: laneCpu,
        // messages (and bytes) nats-server took in and sent out per event, in + out
        natsPerEvent: laneNatsPerEvent,
      },
      throughputRatio: Number((laneRate / rawRate).toFixed(3)),
      // the contract's hops alone, without any check: the most a lane of this shape reaches here
      bareForwarderRatio: Number((bare.rate / rawRate).toFixed(3)),
      // the same with the contract's wire format (bearer token, completed envelope, delivery headers)
      bareForwarderContractShapeRatio: Number((bareContract.rate / rawRate).toFixed(3)),
      addedP50Us: Math.round(laneLat.p50 - rawLat.p50),
      addedP99Us: Math.round(laneLat.p99 - rawLat.p99),
      targets: {
        throughputHalfOfRaw: laneRate >= rawRate / 2,
        throughput10k: laneRate >= 10_000,
        addedP99Within1ms: laneLat.p99 - rawLat.p99 <= 1_000,
      },
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    router?.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await nc.drain().catch(() => undefined);
    await Promise.allSettled([nats.stop(), db.drop()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
