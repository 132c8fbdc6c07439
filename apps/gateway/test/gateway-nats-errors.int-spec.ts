import { Controller, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { defineRpc, ErrorCode, PUBLIC, subjects, VivifiedError } from '@vivified/contracts';
import { Handle, VivifiedClient } from '@vivified/nats-transport';
import { IsIn } from 'class-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { GatewayModule } from '../src/gateway.module';
import { LanesHarness, rejection } from './lanes-harness';

const failures = ['policy_denied', 'validation', 'circuit_open', 'untyped'] as const;

class FailRequest {
  @IsIn(failures)
  failure!: (typeof failures)[number];
}

class FailReply {}

const failContract = defineRpc({
  subject: 'vivified.test.gateway.fail',
  request: FailRequest,
  reply: FailReply,
  access: PUBLIC,
  summary: 'throws the error it is asked for (test only)',
});

/** A NATS handler of the gateway's app with no filter of its own: what every gateway handler relies on. */
@Controller()
class FailingHandlers {
  @Handle(failContract)
  fail(@Payload() body: FailRequest): FailReply {
    switch (body.failure) {
      case 'policy_denied':
        throw new VivifiedError(ErrorCode.PolicyDenied, 'access denied', { reason: 'test_reason' });
      case 'validation':
        throw new VivifiedError(ErrorCode.ValidationFailed, 'the thing is invalid', {
          details: [{ path: 'thing', messages: ['must be a thing'] }],
        });
      case 'circuit_open':
        throw new VivifiedError(ErrorCode.CircuitOpen, 'calls to x are suspended', {
          reason: 'circuit_open',
        });
      case 'untyped':
        throw new Error('db password=hunter2 in a driver message');
    }
  }
}

@Module({ imports: [GatewayModule], controllers: [FailingHandlers] })
class GatewayWithFailingHandlers {}

const PLUGIN = 'egress-errors-app';

/**
 * Typed errors from the gateway's NATS handlers reach NATS callers typed, with no per-handler filter: the edge's
 * global exception filter is registered before the NATS transport's handlers are created, and hands RPC errors
 * back unchanged while HTTP routes still get the envelope.
 */
describe('gateway NATS handler errors', () => {
  let harness: LanesHarness;
  let client: VivifiedClient;

  beforeAll(async () => {
    harness = await LanesHarness.start({}, { module: GatewayWithFailingHandlers });
    client = new VivifiedClient(harness.nc);
  }, 60_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it.each([
    ['policy_denied', ErrorCode.PolicyDenied, 'test_reason'],
    ['validation', ErrorCode.ValidationFailed, undefined],
    ['circuit_open', ErrorCode.CircuitOpen, 'circuit_open'],
  ] as const)('a %s error arrives with its code and reason', async (failure, code, reason) => {
    const error = await rejection(client.requestRaw(failContract.subject, { failure }));

    expect(error.code).toBe(code);
    expect(error.reason).toBe(reason);
    expect(error.status).toBe(new VivifiedError(code, 'x').status);
  });

  it('a validation error keeps its details', async () => {
    const error = await rejection(client.requestRaw(failContract.subject, { failure: 'validation' }));

    expect(error.details).toEqual([{ path: 'thing', messages: ['must be a thing'] }]);
  });

  it('an untyped error is INTERNAL and its message stays in the gateway', async () => {
    const error = await rejection(client.requestRaw(failContract.subject, { failure: 'untyped' }));

    expect(error.code).toBe(ErrorCode.Internal);
    expect(error.message).not.toContain('hunter2');
  });

  it('a lane handler’s own refusal (proxy: domain not in the plugin’s approved domains) arrives typed', async () => {
    await harness.plugin({ id: PLUGIN, traits: ['external_service'], allowedDomains: [] });
    await harness.rules([{ type: 'proxy', plugin: PLUGIN, domains: ['api.example.org'] }]);
    const token = await harness.token(PLUGIN);

    const error = await rejection(
      client.request(
        subjects.proxy.request,
        { method: 'GET', url: 'https://api.example.org/' },
        { token, timeoutMs: 5_000 },
      ),
    );

    expect(error.code).toBe(ErrorCode.PolicyDenied);
    expect(error.reason).toBe('domain_not_approved');
  });

  it('HTTP routes still answer the error envelope', async () => {
    const response = await fetch(`${harness.base}/v1/rpc/some-target/some_op`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: ErrorCode.Unauthenticated } });
  });
});
