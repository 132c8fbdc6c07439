import 'reflect-metadata';

import type { ConsumerDefinition, StreamDefinition } from '@vivified/contracts';
import { connectNats, ensureConsumer, ensureStream, VivifiedClient } from '@vivified/nats-transport';
import { startNatsServer, uniqueName, waitFor } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { AckPolicy } from 'nats';

import { startBenchService } from './echo-service';
import type { LatencyStats } from './stats';
import { latencyStats, ratio } from './stats';

const encoder = new TextEncoder();
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SEQUENTIAL = Number(process.env['BENCH_REQUESTS'] ?? 3_000);
const WINDOW = 64;
const THROUGHPUT_MS = Number(process.env['BENCH_THROUGHPUT_MS'] ?? 2_000);
const JS_MESSAGES = Number(process.env['BENCH_JS_MESSAGES'] ?? 20_000);

async function sequential(call: (i: number) => Promise<unknown>, count: number): Promise<bigint[]> {
  const samples: bigint[] = [];
  for (let i = 0; i < count; i += 1) {
    const start = process.hrtime.bigint();
    await call(i);
    samples.push(process.hrtime.bigint() - start);
  }

  return samples;
}

async function throughput(call: (i: number) => Promise<unknown>, durationMs: number): Promise<number> {
  const deadline = Date.now() + durationMs;
  let done = 0;
  const worker = async () => {
    while (Date.now() < deadline) {
      await call(done);
      done += 1;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: WINDOW }, worker));

  return done / (Number(process.hrtime.bigint() - started) / 1e9);
}

interface Row {
  name: string;
  raw: LatencyStats & { rate: number };
  ours: LatencyStats & { rate: number };
}

function print(rows: Row[]): void {
  const fmt = (value: number) => value.toFixed(1).padStart(9);
  const rate = (value: number) => Math.round(value).toString().padStart(9);
  console.log(
    `\n${'operation'.padEnd(30)} ${'raw p50'.padStart(9)} ${'ours p50'.padStart(9)} ${'ratio'.padStart(7)} ${'raw p99'.padStart(9)} ${'ours p99'.padStart(9)} ${'ratio'.padStart(7)} ${'raw msg/s'.padStart(9)} ${'our msg/s'.padStart(9)} ${'ratio'.padStart(7)}`,
  );
  for (const row of rows) {
    console.log(
      `${row.name.padEnd(30)} ${fmt(row.raw.p50)} ${fmt(row.ours.p50)} ${ratio(row.ours.p50, row.raw.p50).padStart(7)} ${fmt(row.raw.p99)} ${fmt(row.ours.p99)} ${ratio(row.ours.p99, row.raw.p99).padStart(7)} ${rate(row.raw.rate)} ${rate(row.ours.rate)} ${ratio(row.ours.rate, row.raw.rate).padStart(7)}`,
    );
  }
  console.log(
    '\nlatencies in microseconds; ratio = ours / raw (lower is better for latency, higher for msg/s)',
  );
}

async function requestReply(
  server: NatsConnection,
  client: NatsConnection,
  ours: VivifiedClient,
  run: string,
): Promise<Row> {
  const rawSubject = `bench.${run}.raw`;
  const ourSubject = `bench.${run}.ours`;
  server.subscribe(rawSubject, { queue: 'bench', callback: (_error, msg) => msg.respond(msg.data) });
  await server.flush();
  const body = (i: number) => ({ id: `req-${i}`, n: i });
  const rawCall = (i: number) =>
    client.request(rawSubject, encoder.encode(JSON.stringify(body(i))), { timeout: 5_000 });
  const ourCall = (i: number) => ours.requestRaw(ourSubject, body(i));
  await sequential(rawCall, 1_000);
  await sequential(ourCall, 1_000);
  const rawSamples: bigint[] = [];
  const ourSamples: bigint[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    rawSamples.push(...(await sequential(rawCall, SEQUENTIAL)));
    ourSamples.push(...(await sequential(ourCall, SEQUENTIAL)));
  }
  const rawRate = await throughput(rawCall, THROUGHPUT_MS);
  const ourRate = await throughput(ourCall, THROUGHPUT_MS);

  return {
    name: 'request/reply',
    raw: { ...latencyStats(rawSamples), rate: rawRate },
    ours: { ...latencyStats(ourSamples), rate: ourRate },
  };
}

async function jetstreamPublish(
  nc: NatsConnection,
  ours: VivifiedClient,
  stream: StreamDefinition,
): Promise<Row> {
  const js = nc.jetstream();
  const rawSubject = stream.subjects[0].replace('>', 'raw');
  const ourSubject = stream.subjects[0].replace('>', 'ours');
  const body = (i: number) => ({ id: `pub-${i}`, n: i });
  const rawCall = (i: number) =>
    js.publish(rawSubject, encoder.encode(JSON.stringify(body(i))), { msgID: `raw-${i}-${Math.random()}` });
  const ourCall = (i: number) =>
    ours.publishDurable(ourSubject, body(i), { msgId: `ours-${i}-${Math.random()}` });
  const rawSamples: bigint[] = [];
  const ourSamples: bigint[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    rawSamples.push(...(await sequential(rawCall, SEQUENTIAL / 3)));
    ourSamples.push(...(await sequential(ourCall, SEQUENTIAL / 3)));
  }
  const rawRate = await throughput(rawCall, THROUGHPUT_MS);
  const ourRate = await throughput(ourCall, THROUGHPUT_MS);

  return {
    name: 'JetStream publish (ack)',
    raw: { ...latencyStats(rawSamples), rate: rawRate },
    ours: { ...latencyStats(ourSamples), rate: ourRate },
  };
}

async function fill(nc: NatsConnection, subject: string, count: number): Promise<void> {
  const js = nc.jetstream();
  for (let i = 0; i < count; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, count - i) }, (_, j) =>
        js.publish(subject, encoder.encode(JSON.stringify({ id: `c-${i + j}`, n: i + j }))),
      ),
    );
  }
}

async function rawConsume(
  nc: NatsConnection,
  stream: string,
  durable: string,
  count: number,
): Promise<number> {
  const consumer = await nc.jetstream().consumers.get(stream, durable);
  const started = process.hrtime.bigint();
  const messages = await consumer.consume({ max_messages: 256 });
  let seen = 0;
  for await (const msg of messages) {
    JSON.parse(new TextDecoder().decode(msg.data));
    msg.ack();
    seen += 1;
    if (seen >= count) {
      break;
    }
  }
  messages.stop();

  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function main(): Promise<void> {
  const nats = await startNatsServer();
  const run = uniqueName('b').replace(/_/g, '-');
  try {
    const { nc: serverNc } = await connectNats({ servers: nats.url, name: 'bench-server' });
    const { nc: clientNc } = await connectNats({ servers: nats.url, name: 'bench-client' });
    const ours = new VivifiedClient(clientNc);
    const stream: StreamDefinition = {
      name: `BENCH_${run.toUpperCase().replace(/-/g, '_')}`,
      owner: 'audit',
      subjects: [`bench-js.${run}.>`],
      storage: 'file',
      maxAgeMs: 600_000,
      duplicateWindowMs: 120_000,
      maxMsgSize: 65_536,
      discard: 'old',
    };
    const consumerDef = (durable: string, filter: string): ConsumerDefinition => ({
      durable,
      stream: stream.name,
      filterSubject: filter,
      ackWaitMs: 30_000,
      maxDeliver: 5,
      backoffMs: [],
      maxAckPending: 1_000,
    });
    const jsm = await clientNc.jetstreamManager();
    await ensureStream(jsm, stream);
    const rawConsumer = consumerDef('raw-consumer', stream.subjects[0].replace('>', 'consume-raw'));
    const ourConsumer = consumerDef('our-consumer', stream.subjects[0].replace('>', 'consume-ours'));
    await jsm.consumers.add(stream.name, {
      durable_name: rawConsumer.durable,
      ack_policy: AckPolicy.Explicit,
      filter_subject: rawConsumer.filterSubject!,
      max_ack_pending: 1_000,
    });
    await ensureConsumer(jsm, ourConsumer);
    let consumed = 0;
    const app = await startBenchService(serverNc, `bench.${run}.ours`, ourConsumer, () => {
      consumed += 1;
    });

    console.log(
      `Vivified transport benchmark — nats-server ${serverNc.info?.version}, node ${process.version}, ${ROUNDS} rounds`,
    );
    const rows = [
      await requestReply(serverNc, clientNc, ours, run),
      await jetstreamPublish(clientNc, ours, stream),
    ];

    await fill(clientNc, rawConsumer.filterSubject!, JS_MESSAGES);
    const rawRate = await rawConsume(serverNc, stream.name, rawConsumer.durable, JS_MESSAGES);
    await app.close();
    consumed = 0;
    await fill(clientNc, ourConsumer.filterSubject!, JS_MESSAGES);
    const restarted = await startBenchService(serverNc, `bench.${run}.ours2`, ourConsumer, () => {
      consumed += 1;
    });
    const started = process.hrtime.bigint();
    await waitFor(() => consumed >= JS_MESSAGES, { timeoutMs: 120_000, intervalMs: 5, what: 'our consumer' });
    const ourRate = JS_MESSAGES / (Number(process.hrtime.bigint() - started) / 1e9);
    await restarted.close();
    print(rows);
    console.log(
      `\nJetStream consume+ack of ${JS_MESSAGES} stored messages: raw ${Math.round(rawRate)} msg/s, ours ${Math.round(ourRate)} msg/s (${ratio(ourRate, rawRate)})`,
    );
    await serverNc.drain();
    await clientNc.drain();
  } finally {
    await nats.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
