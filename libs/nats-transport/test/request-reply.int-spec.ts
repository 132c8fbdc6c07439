import type { INestMicroservice } from '@nestjs/common';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { ErrorCode, headers, subjects, VivifiedError } from '@vivified/contracts';
import type { HandledEvent } from '@vivified/nats-transport';
import { connectNats, VivifiedClient } from '@vivified/nats-transport';
import type { TestNatsServer } from '@vivified/testing';
import { startNatsServer } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { headers as natsHeaders } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { echoContract, failContract, securedContract, startEchoService } from './fixtures';

async function remoteError(promise: Promise<unknown>): Promise<VivifiedError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VivifiedError);

    return error as VivifiedError;
  }
  throw new Error('expected the request to fail');
}

describe('NatsTransport request/reply', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let client: VivifiedClient;
  let apps: INestMicroservice[];
  const events: HandledEvent[] = [];

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    server = await startNatsServer();
    ({ nc } = await connectNats({ servers: server.url, name: 'rr-test' }));
    client = new VivifiedClient(nc, { token: () => 'default-token' });
    apps = await Promise.all(
      ['a', 'b'].map(async (instance) =>
        startEchoService((await connectNats({ servers: server.url, name: instance })).nc, {
          instance,
          events,
          guard: {
            authorize: (input) => {
              const auth = input.headers?.get(headers.authorization);
              if (auth !== 'Bearer good') {
                return Promise.reject(
                  new VivifiedError(ErrorCode.Unauthenticated, 'token missing or invalid'),
                );
              }
              const { secret: _secret, ...rest } = input.payload as Record<string, unknown>;

              return Promise.resolve({
                principal: { kind: 'plugin', id: 'plugin:crm', traits: [], roles: [] },
                payload: rest,
              });
            },
          },
        }),
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await nc?.close();
    await server?.stop();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('answers a typed request on a contract subject', async () => {
    const reply = await client.request(subjects.identity.info, {});
    expect(reply.name).toBe('identity');
    expect(['a', 'b']).toContain(reply.instanceId);
  });

  it('shares requests between replicas in one queue group, each handled once', async () => {
    const replies = (await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.requestRaw(echoContract.subject, { text: `m${i}` })),
    )) as Array<{ text: string; instance: string }>;
    expect(replies.map((reply) => reply.text)).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
    expect(new Set(replies.map((reply) => reply.instance))).toEqual(new Set(['a', 'b']));
    const handled = events.filter(
      (event) => event.subject === echoContract.subject && event.outcome === 'ok',
    );
    expect(handled.length).toBeGreaterThanOrEqual(40);
  });

  it('refuses a payload that breaks the contract with a typed 400 listing the fields, and keeps serving', async () => {
    const error = await remoteError(client.requestRaw(echoContract.subject, { text: 7, extra: true }));
    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.details?.map((detail) => detail.path).sort()).toEqual(['extra', 'text']);
    const raw = await nc.request(echoContract.subject, new TextEncoder().encode('{"text":1}'));
    expect(raw.headers?.get(headers.errorCode)).toBe('400');
    expect(await client.requestRaw(echoContract.subject, { text: 'still here' })).toMatchObject({
      text: 'still here',
    });
  });

  it('refuses bytes that are not JSON with BAD_REQUEST', async () => {
    const raw = await nc.request(echoContract.subject, new TextEncoder().encode('{not json'));
    expect(raw.headers?.get(headers.errorCode)).toBe('400');
    expect(JSON.parse(new TextDecoder().decode(raw.data))).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });

  it('carries a typed error through with its code and reason', async () => {
    const error = await remoteError(client.requestRaw(failContract.subject, { text: 'typed' }));
    expect(error).toMatchObject({ code: ErrorCode.NotFound, reason: 'missing', message: 'no such thing' });
  });

  it('answers an unexpected error with a bare INTERNAL that leaks nothing of the cause', async () => {
    const raw = await nc.request(failContract.subject, new TextEncoder().encode('{"text":"boom"}'));
    const body = new TextDecoder().decode(raw.data);
    expect(raw.headers?.get(headers.errorCode)).toBe('500');
    expect(body).not.toContain('hunter2');
    expect(JSON.parse(body)).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
  });

  it('denies a non-public handler to a caller the guard refuses', async () => {
    const error = await remoteError(client.requestRaw(securedContract.subject, { text: 'x' }));
    expect(error.code).toBe(ErrorCode.Unauthenticated);
    expect(
      events.some((event) => event.subject === securedContract.subject && event.outcome === 'denied'),
    ).toBe(true);
  });

  it('lets the guard name the principal and strip fields before the handler sees them', async () => {
    const reply = await client.requestRaw(
      securedContract.subject,
      { text: 'x', secret: 's3cret' },
      { token: 'good', classification: ['pii'] },
    );
    expect(reply).toMatchObject({ principal: 'plugin:crm', classification: ['pii'] });
    expect(reply).not.toHaveProperty('secret');
  });

  it('propagates Authorization, Vivified-Classification and the trace context', async () => {
    const tracer = trace.getTracer('test');
    const span = tracer.startSpan('caller');
    const reply = (await context.with(trace.setSpan(context.active(), span), () =>
      client.requestRaw(echoContract.subject, { text: 't' }, { classification: ['phi', 'pii'] }),
    )) as { traceId: string; classification: string[]; authorization: string };
    span.end();
    expect(reply.traceId).toBe(span.spanContext().traceId);
    expect(reply.classification).toEqual(['phi', 'pii']);
    expect(reply.authorization).toBe('Bearer default-token');
  });

  it('refuses an unknown classification instead of dropping it', async () => {
    const hdrs = natsHeaders();
    hdrs.set(headers.classification, 'phi,secretish');
    const raw = await nc.request(echoContract.subject, new TextEncoder().encode('{"text":"x"}'), {
      headers: hdrs,
      timeout: 5_000,
    });
    expect(raw.headers?.get(headers.errorCode)).toBe('400');
  });

  it('times out with a typed TIMEOUT and answers no one when nobody serves a subject', async () => {
    const slow = await remoteError(
      client.requestRaw(echoContract.subject, { text: 'x', delayMs: 500 }, { timeoutMs: 100 }),
    );
    expect(slow.code).toBe(ErrorCode.Timeout);
    const none = await remoteError(client.requestRaw(`${echoContract.subject}.nobody`, {}));
    expect(none.code).toBe(ErrorCode.Unavailable);
  });

  it('skips work whose propagated deadline has passed', async () => {
    const before = events.filter(
      (event) => event.subject === echoContract.subject && event.outcome === 'error',
    ).length;
    const hdrs = natsHeaders();
    hdrs.set(headers.deadline, String(Date.now() - 1_000));
    const raw = await nc.request(echoContract.subject, new TextEncoder().encode('{"text":"late"}'), {
      headers: hdrs,
      timeout: 5_000,
    });
    expect(JSON.parse(new TextDecoder().decode(raw.data))).toMatchObject({ error: { code: 'TIMEOUT' } });
    expect(
      events.filter((event) => event.subject === echoContract.subject && event.outcome === 'error').length,
    ).toBe(before + 1);
    await expect(
      client.requestRaw(echoContract.subject, { text: 'in time' }, { propagateDeadline: true }),
    ).resolves.toMatchObject({ text: 'in time' });
  });

  it('waits for handlers in flight when it closes', async () => {
    const extra = await startEchoService((await connectNats({ servers: server.url, name: 'c' })).nc, {
      instance: 'c',
    });
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
    const pending = client.requestRaw(echoContract.subject, { text: 'slow', delayMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = extra.close();
    await expect(pending).resolves.toMatchObject({ text: 'slow', instance: 'c' });
    await closing;
  });
});
