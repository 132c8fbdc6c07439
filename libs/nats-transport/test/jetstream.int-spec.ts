import 'reflect-metadata';

import type { INestMicroservice } from '@nestjs/common';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import type { ConsumerDefinition, StreamDefinition } from '@vivified/contracts';
import type { HandledEvent, NatsRequestContext } from '@vivified/nats-transport';
import {
  connectNats,
  Consume,
  ensureBucket,
  ensureConsumer,
  ensureStream,
  NatsTransport,
  PassThroughRpcExceptionFilter,
  VivifiedClient,
} from '@vivified/nats-transport';
import type { TestNatsServer } from '@vivified/testing';
import { startNatsServer, uniqueName, waitFor } from '@vivified/testing';
import { IsInt, IsString } from 'class-validator';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { testStream } from './fixtures';

class Job {
  @IsString()
  id!: string;

  @IsInt()
  failTimes!: number;
}

describe('NatsTransport JetStream consumers and KV', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let client: VivifiedClient;
  let app: INestMicroservice;
  let stream: StreamDefinition;
  let consumer: ConsumerDefinition;
  const events: HandledEvent[] = [];
  const handled: Array<{ id: string; deliveries: number }> = [];
  const attempts = new Map<string, number>();

  beforeAll(async () => {
    server = await startNatsServer();
    ({ nc } = await connectNats({ servers: server.url, name: 'js-test' }));
    client = new VivifiedClient(nc);
    stream = testStream();
    consumer = {
      durable: uniqueName('work'),
      stream: stream.name,
      ackWaitMs: 2_000,
      maxDeliver: 5,
      backoffMs: [50, 100, 200],
      maxAckPending: 100,
    };
    const jsm = await nc.jetstreamManager();
    await ensureStream(jsm, stream);
    await ensureConsumer(jsm, consumer);

    @Controller()
    class Workers {
      @Consume(consumer, Job)
      async work(@Payload() job: Job, @Ctx() ctx: NatsRequestContext): Promise<void> {
        if (job.id === 'slow') {
          await new Promise((resolve) => setTimeout(resolve, 400));
        }
        const seen = (attempts.get(job.id) ?? 0) + 1;
        attempts.set(job.id, seen);
        if (seen <= job.failTimes) {
          throw new Error(`transient failure ${seen}`);
        }
        handled.push({ id: job.id, deliveries: seen });
        expect(ctx.subject.startsWith(stream.subjects[0].replace('>', ''))).toBe(true);
      }
    }

    @Module({ controllers: [Workers] })
    class WorkModule {}

    app = await NestFactory.createMicroservice(WorkModule, {
      strategy: new NatsTransport({
        connection: (await connectNats({ servers: server.url, name: 'worker' })).nc,
        queue: 'worker',
        observer: { onHandled: (event) => events.push(event) },
      }),
      logger: false,
    });
    app.useGlobalFilters(new PassThroughRpcExceptionFilter());
    await app.listen();
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await server?.stop();
  });

  const subject = (suffix: string) => stream.subjects[0].replace('>', suffix);

  it('is idempotent when a stream, consumer or bucket is ensured again, and repairs drift', async () => {
    const jsm = await nc.jetstreamManager();
    await ensureStream(jsm, stream);
    await ensureStream(jsm, { ...stream, maxAgeMs: 120_000 });
    expect((await jsm.streams.info(stream.name)).config.max_age).toBe(120_000 * 1_000_000);
    await ensureConsumer(jsm, consumer);
    const bucket = {
      name: uniqueName('kv'),
      owner: 'policy',
      history: 3,
      storage: 'file',
      ttlMs: 0,
    } as const;
    await ensureBucket(nc, bucket);
    const kv = await ensureBucket(nc, bucket);
    expect((await kv.status()).history).toBe(3);
  });

  it('delivers every message once, acking only after the handler succeeds', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `job-${i}`);
    await Promise.all(
      ids.map((id) => client.publishDurable(subject(id), { id, failTimes: 0 }, { msgId: id })),
    );
    await waitFor(() => ids.every((id) => handled.some((job) => job.id === id)), {
      what: 'all jobs handled',
    });
    const info = await (await nc.jetstreamManager()).consumers.info(stream.name, consumer.durable);
    await waitFor(
      async () =>
        (await (await nc.jetstreamManager()).consumers.info(stream.name, consumer.durable))
          .num_ack_pending === 0,
    );
    expect(info.delivered.consumer_seq).toBeGreaterThanOrEqual(50);
    expect(handled.filter((job) => ids.includes(job.id))).toHaveLength(50);
  });

  it('does not redeliver a message whose handler is slower than the first backoff step but within ack wait', async () => {
    await client.publishDurable(subject('slow'), { id: 'slow', failTimes: 0 });
    await waitFor(() => handled.some((job) => job.id === 'slow'), { what: 'slow job' });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(attempts.get('slow')).toBe(1);
  });

  it('drops a repeated Nats-Msg-Id inside the duplicate window', async () => {
    const first = await client.publishDurable(
      subject('dup'),
      { id: 'dup', failTimes: 0 },
      { msgId: 'dup-1' },
    );
    const second = await client.publishDurable(
      subject('dup'),
      { id: 'dup', failTimes: 0 },
      { msgId: 'dup-1' },
    );
    expect(first.duplicate).toBe(false);
    expect(second).toMatchObject({ duplicate: true, seq: first.seq });
  });

  it('redelivers a failing message with backoff until it succeeds', async () => {
    await client.publishDurable(subject('flaky'), { id: 'flaky', failTimes: 2 });
    const job = await waitFor(() => handled.find((entry) => entry.id === 'flaky'), { what: 'flaky job' });
    expect(job.deliveries).toBe(3);
    expect(
      events.filter((event) => event.kind === 'consumer' && event.outcome === 'error').length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('terminates a message whose payload can never be handled instead of redelivering it', async () => {
    const ack = await client.publishDurable(subject('bad'), { id: 42 });
    await waitFor(() => events.some((event) => event.kind === 'consumer' && event.outcome === 'invalid'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events.filter((event) => event.outcome === 'invalid')).toHaveLength(1);
    expect(ack.seq).toBeGreaterThan(0);
  });

  it('keeps serving requests and consuming after the NATS server restarts', async () => {
    await server.kill();
    await server.start();
    await waitFor(
      async () =>
        (
          await client.publishDurable(
            subject('after'),
            { id: 'after-restart', failTimes: 0 },
            { msgId: 'after-restart' },
          )
        ).seq > 0,
      { timeoutMs: 20_000, intervalMs: 250, what: 'publish after restart' },
    );
    await waitFor(() => handled.some((job) => job.id === 'after-restart'), {
      timeoutMs: 20_000,
      what: 'consume after restart',
    });
  });
});
