import 'reflect-metadata';

import type { INestMicroservice } from '@nestjs/common';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import type { ConsumerDefinition } from '@vivified/contracts';
import { defineRpc, PUBLIC } from '@vivified/contracts';
import { Consume, Handle, NatsTransport, PassThroughRpcExceptionFilter } from '@vivified/nats-transport';
import { IsInt, IsString, MaxLength } from 'class-validator';
import type { NatsConnection } from 'nats';

/** The benchmark's payload: a small object like a typical core request. */
export class BenchMessage {
  @IsString()
  @MaxLength(64)
  id!: string;

  @IsInt()
  n!: number;
}

/** Builds the echo contract on a subject of the run. */
export function benchContract(subject: string) {
  return defineRpc({
    subject,
    request: BenchMessage,
    reply: BenchMessage,
    access: PUBLIC,
    summary: 'bench echo',
  });
}

/** Starts a Nest microservice on our transport that echoes requests and counts consumed messages. */
export async function startBenchService(
  nc: NatsConnection,
  subject: string,
  consumer: ConsumerDefinition,
  onConsumed: () => void,
): Promise<INestMicroservice> {
  const contract = benchContract(subject);

  @Controller()
  class BenchHandlers {
    // eslint-disable-next-line vivified/handler-declares-access -- the bench serves a contract of its own run
    @Handle(contract)
    echo(@Payload() message: BenchMessage): BenchMessage {
      return message;
    }

    @Consume(consumer, BenchMessage, { concurrency: 64 })
    consume(): void {
      onConsumed();
    }
  }

  @Module({ controllers: [BenchHandlers] })
  class BenchModule {}

  const app = await NestFactory.createMicroservice(BenchModule, {
    strategy: new NatsTransport({ connection: nc, queue: 'bench' }),
    logger: false,
  });
  app.useGlobalFilters(new PassThroughRpcExceptionFilter());
  await app.listen();

  return app;
}
