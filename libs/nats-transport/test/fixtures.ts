import 'reflect-metadata';

import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import type { INestMicroservice } from '@nestjs/common';
import type { StreamDefinition } from '@vivified/contracts';
import { defineRpc, ErrorCode, PUBLIC, subjects, VivifiedError } from '@vivified/contracts';
import type { HandledEvent, HandlerGuard } from '@vivified/nats-transport';
import {
  Handle,
  NatsRequestContext,
  NatsTransport,
  PassThroughRpcExceptionFilter,
} from '@vivified/nats-transport';
import { uniqueName } from '@vivified/testing';
import { IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import type { NatsConnection } from 'nats';

/** Subjects unique to this run, so suites never see each other's traffic. */
export const testPrefix = uniqueName('t').replace(/_/g, '-');

export class EchoRequest {
  @IsString()
  @MaxLength(100)
  text!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  delayMs?: number;

  @IsOptional()
  @IsString()
  secret?: string;
}

export class EchoReply {
  text!: string;
  instance!: string;
  traceId?: string;
  classification!: string[];
  authorization?: string;
  principal?: string;
  secret?: string;
}

export const echoContract = defineRpc({
  subject: `${testPrefix}.echo`,
  request: EchoRequest,
  reply: EchoReply,
  access: PUBLIC,
  summary: 'echo',
});

export const failContract = defineRpc({
  subject: `${testPrefix}.fail`,
  request: EchoRequest,
  reply: EchoReply,
  access: PUBLIC,
  summary: 'fails',
});

export const securedContract = defineRpc({
  subject: `${testPrefix}.secured`,
  request: EchoRequest,
  reply: EchoReply,
  access: { action: 'test.secured.read', classification: ['pii'] },
  summary: 'needs a guard',
});

export function testStream(): StreamDefinition {
  const name = uniqueName('T').toUpperCase();

  return {
    name,
    owner: 'audit',
    subjects: [`${name.toLowerCase()}.>`],
    storage: 'file',
    maxAgeMs: 60_000,
    duplicateWindowMs: 60_000,
    maxMsgSize: 64 * 1024,
    discard: 'old',
  };
}

/** Builds a Nest microservice on the transport whose handlers echo what they receive. */
export async function startEchoService(
  nc: NatsConnection,
  options: { instance: string; guard?: HandlerGuard; events?: HandledEvent[] },
): Promise<INestMicroservice> {
  @Controller()
  class EchoHandlers {
    @Handle(echoContract)
    async echo(@Payload() body: EchoRequest, @Ctx() ctx: NatsRequestContext): Promise<EchoReply> {
      if (body.delayMs) {
        await new Promise((resolve) => setTimeout(resolve, body.delayMs));
      }

      return {
        text: body.text,
        instance: options.instance,
        traceId: ctx.traceId,
        classification: ctx.classification,
        authorization: ctx.headers?.get('Authorization'),
      };
    }

    @Handle(failContract)
    fail(@Payload() body: EchoRequest): EchoReply {
      if (body.text === 'typed') {
        throw new VivifiedError(ErrorCode.NotFound, 'no such thing', { reason: 'missing' });
      }
      throw new Error('database password=hunter2 leaked in a message');
    }

    @Handle(securedContract)
    secured(@Payload() body: EchoRequest, @Ctx() ctx: NatsRequestContext): EchoReply {
      return {
        text: body.text,
        instance: options.instance,
        classification: ctx.classification,
        principal: ctx.principal?.id,
        secret: body.secret,
      };
    }

    @Handle(subjects.identity.info)
    info(): object {
      return {
        name: 'identity',
        version: '0.0.0',
        uptimeSeconds: 1,
        startedAt: new Date().toISOString(),
        instanceId: options.instance,
        pid: process.pid,
      };
    }
  }

  @Module({ controllers: [EchoHandlers] })
  class EchoModule {}

  const app = await NestFactory.createMicroservice(EchoModule, {
    strategy: new NatsTransport({
      connection: nc,
      queue: `${testPrefix}-echo`,
      guard: options.guard,
      observer: { onHandled: (event) => options.events?.push(event) },
    }),
    logger: false,
  });
  app.useGlobalFilters(new PassThroughRpcExceptionFilter());
  await app.listen();

  return app;
}
