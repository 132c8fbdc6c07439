import type { CallKeyReply, ManifestOperation } from '@vivified/contracts';
import {
  buckets,
  callTokenContract,
  dynamicSubjects,
  ErrorCode,
  headers as headerNames,
  subjects,
  VivifiedError,
} from '@vivified/contracts';
import { decodeJson, encodeJson, errorReply, VivifiedClient } from '@vivified/nats-transport';
import { waitFor } from '@vivified/testing';
import { importJWK, jwtVerify } from 'jose';
import type { Msg, MsgHdrs, NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LanesHarness, rejection } from './lanes-harness';

const CALLER = 'caller-app';
const TARGET = 'target-app';
const FLAKY = 'flaky-app';
const BUSY = 'busy-app';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

const op = (name: string, extra: Partial<ManifestOperation> = {}): ManifestOperation => ({
  name,
  description: name,
  requiredTraits: [],
  classification: ['internal'],
  ...extra,
});

interface Seen {
  subject: string;
  headers: MsgHdrs | undefined;
  body: Record<string, unknown>;
}

/** The operator lane end to end: two plugins on their own NATS connections, the gateway between them. */
describe('operator lane', () => {
  let harness: LanesHarness;
  let caller: VivifiedClient;
  let callerToken: string;
  let target: NatsConnection;
  const seen: Seen[] = [];
  let flaky: 'fail' | 'ok' | 'slow-ok' = 'fail';
  let flakyCalls = 0;
  let unavailableOnce = true;

  const call = (
    operation: string,
    body: unknown,
    options: { target?: string; classification?: 'pii'[] } = {},
  ) =>
    caller.requestRaw(dynamicSubjects.rpcCall(options.target ?? TARGET, operation), body, {
      token: callerToken,
      headers: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
      ...(options.classification ? { classification: options.classification } : {}),
      timeoutMs: 5_000,
    });

  const answer = (msg: Msg, body: unknown) => msg.respond(encodeJson(body));
  const fail = (msg: Msg, code: ErrorCode) => {
    const { headers, data } = errorReply(new VivifiedError(code, 'target failed'));
    msg.respond(data, { headers });
  };

  beforeAll(async () => {
    harness = await LanesHarness.start({
      VIVIFIED_LANE_BREAKER_CONSECUTIVE: '3',
      VIVIFIED_LANE_BREAKER_HALF_OPEN_MS: '600',
      VIVIFIED_LANE_RETRIES: '2',
      VIVIFIED_LANE_BULKHEAD: '4',
    });
    await harness.plugin({ id: CALLER, traits: ['handles_pii', 'audit_required'] });
    await harness.plugin({
      id: TARGET,
      traits: [],
      operations: [
        op('get_user'),
        op('delete_user'),
        op('get_contact', { classification: ['pii'] }),
        op('slow', { timeoutMs: 300 }),
        op('lookup', { idempotent: true }),
        op('once'),
      ],
    });
    await harness.plugin({ id: FLAKY, traits: [], operations: [op('ping')] });
    await harness.plugin({ id: BUSY, traits: [], operations: [op('wait')] });
    await harness.rules([
      {
        type: 'operator',
        caller: CALLER,
        target: TARGET,
        operations: ['get_user', 'get_contact', 'slow', 'lookup', 'once', 'not_declared'],
      },
      { type: 'operator', caller: CALLER, target: FLAKY, operations: ['ping'] },
      { type: 'operator', caller: CALLER, target: BUSY, operations: ['wait'] },
    ]);
    callerToken = await harness.token(CALLER);
    caller = new VivifiedClient(await harness.connection(CALLER));
    target = await harness.connection(TARGET);
    target.subscribe(dynamicSubjects.pluginAll(TARGET), {
      callback: (_error, msg) => {
        const body = decodeJson(msg.data) as Record<string, unknown>;
        seen.push({ subject: msg.subject, headers: msg.headers, body });
        const operation = msg.subject.split('.').pop();
        if (operation === 'slow') {
          return;
        }
        if (operation === 'lookup' && unavailableOnce) {
          unavailableOnce = false;
          fail(msg, ErrorCode.Unavailable);

          return;
        }
        if (operation === 'once') {
          fail(msg, ErrorCode.Unavailable);

          return;
        }
        answer(msg, { id: 'u-1', name: 'Ada', email: 'ada@example.org', phone: '555', echo: body });
      },
    });
    const flakyNc = await harness.connection(FLAKY);
    flakyNc.subscribe(dynamicSubjects.pluginAll(FLAKY), {
      callback: (_error, msg) => {
        flakyCalls += 1;
        if (flaky === 'fail') {
          fail(msg, ErrorCode.Internal);
        } else if (flaky === 'slow-ok') {
          setTimeout(() => answer(msg, { pong: true }), 300);
        } else {
          answer(msg, { pong: true });
        }
      },
    });
    const busyNc = await harness.connection(BUSY);
    busyNc.subscribe(dynamicSubjects.pluginAll(BUSY), {
      callback: (_error, msg) => setTimeout(() => answer(msg, { done: true }), 250),
    });
    await Promise.all([target.flush(), flakyNc.flush(), busyNc.flush()]);
  }, 60_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it('forwards an allowlisted call to the target and answers its reply', async () => {
    const reply = (await call('get_user', { id: 'u-1' })) as Record<string, unknown>;

    expect(reply).toMatchObject({ id: 'u-1', name: 'Ada', echo: { id: 'u-1' } });
    const last = seen.at(-1);
    expect(last?.subject).toBe(dynamicSubjects.pluginRpc(TARGET, 'get_user'));
  });

  it('sends the target a call token it verifies with the published key, never the caller’s token', async () => {
    await call('get_user', { id: 'u-2' });
    const last = seen.at(-1) as Seen;
    const authorization = last.headers?.get(headerNames.authorization) ?? '';
    const token = authorization.replace(/^Bearer /, '');

    expect(token).not.toBe('');
    expect(token).not.toBe(callerToken);
    expect(authorization).not.toContain(callerToken);
    const { keys }: CallKeyReply = await new VivifiedClient(harness.nc).request(subjects.gateway.callKey, {});
    const key = keys[0];
    expect(key?.kid).toMatch(/^ct1-/);
    const { payload, protectedHeader } = await jwtVerify(token, await importJWK({ ...key }, 'EdDSA'), {
      issuer: callTokenContract.issuer,
      audience: `plugin:${TARGET}`,
      algorithms: ['EdDSA'],
    });
    expect(protectedHeader.kid).toBe(key?.kid);
    expect(payload).toMatchObject({
      sub: `plugin:${CALLER}`,
      typ: 'call',
      target: TARGET,
      operation: 'get_user',
      trace: TRACE_ID,
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeLessThanOrEqual(callTokenContract.maxLifetimeSeconds);
    // the trace and the deadline go along
    expect(last.headers?.get('traceparent')).toContain(TRACE_ID);
    const deadline = Number(last.headers?.get(headerNames.deadline));
    expect(deadline).toBeGreaterThan(Date.now());
    expect(deadline).toBeLessThanOrEqual(Date.now() + 5_000);
  });

  it('denies an operation without an allowlist rule, and the target never sees it', async () => {
    const before = seen.length;
    const error = await rejection(call('delete_user', { id: 'u-1' }));

    expect(error.code).toBe(ErrorCode.PolicyDenied);
    expect(error.reason).toBe('operation_not_allowlisted');
    expect(seen.length).toBe(before);
  });

  it('refuses a caller without a token, an unknown target and an undeclared operation', async () => {
    const anonymous = await rejection(
      caller.requestRaw(dynamicSubjects.rpcCall(TARGET, 'get_user'), {}, { timeoutMs: 5_000 }),
    );
    expect(anonymous.code).toBe(ErrorCode.Unauthenticated);
    const unknownTarget = await rejection(call('get_user', {}, { target: 'nobody-app' }));
    expect(unknownTarget.code).toBe(ErrorCode.PolicyDenied);
    const undeclared = await rejection(call('not_declared', {}));
    expect(undeclared.code).toBe(ErrorCode.NotFound);
    expect(undeclared.reason).toBe('operation_unknown');
  });

  it('sanitizes PII for a target without the PII traits, in the request and in the reply', async () => {
    const reply = (await call(
      'get_contact',
      { name: 'Ada', email: 'ada@example.org', phone: '555', nested: { address: 'x' } },
      { classification: ['pii'] },
    )) as Record<string, unknown>;
    const last = seen.at(-1) as Seen;

    expect(last.body).toEqual({ name: 'Ada', nested: {} });
    expect(reply).toMatchObject({ id: 'u-1', name: 'Ada' });
    expect(reply).not.toHaveProperty('email');
    expect(reply).not.toHaveProperty('phone');
    expect(JSON.stringify(reply)).not.toContain('ada@example.org');
    expect(last.headers?.get(headerNames.classification)).toContain('pii');
  });

  it('times out after the operation’s timeoutMs', async () => {
    const started = Date.now();
    const error = await rejection(call('slow', {}));

    expect(error.code).toBe(ErrorCode.Timeout);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('honours an earlier caller deadline', async () => {
    const started = Date.now();
    const error = await rejection(
      caller.requestRaw(
        dynamicSubjects.rpcCall(TARGET, 'slow'),
        {},
        {
          token: callerToken,
          timeoutMs: 5_000,
          headers: { [headerNames.deadline]: String(Date.now() + 150) },
        },
      ),
    );

    expect(error.code).toBe(ErrorCode.Timeout);
    // the forward waited for the caller's deadline, not the operation's 300 ms
    expect(error.reason).toBe('caller_deadline');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('retries an idempotent operation, and only an idempotent one', async () => {
    const before = seen.length;
    const reply = (await call('lookup', {})) as Record<string, unknown>;
    expect(reply).toMatchObject({ id: 'u-1' });
    expect(seen.length - before).toBe(2);

    const again = seen.length;
    const error = await rejection(call('once', {}));
    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(seen.length - again).toBe(1);
  });

  it('opens the breaker after consecutive failures, refuses at once, lets one probe through half-open, closes', async () => {
    const kv = await harness.nc.jetstream().views.kv(buckets.breakers.name, { bindOnly: true });
    for (let i = 0; i < 3; i += 1) {
      expect((await rejection(call('ping', {}, { target: FLAKY }))).code).toBe(ErrorCode.Internal);
    }
    const callsWhenOpened = flakyCalls;
    const started = performance.now();
    const open = await rejection(call('ping', {}, { target: FLAKY }));
    expect(open.code).toBe(ErrorCode.CircuitOpen);
    expect(open.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(100);
    expect(flakyCalls).toBe(callsWhenOpened);
    await waitFor(async () => (await kv.get(FLAKY))?.json<{ state: string }>().state === 'open', {
      timeoutMs: 2_000,
      what: 'the open state in KV',
    });

    await new Promise((resolve) => setTimeout(resolve, 700));
    flaky = 'slow-ok';
    const probe = call('ping', {}, { target: FLAKY });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const during = await rejection(call('ping', {}, { target: FLAKY }));
    expect(during.code).toBe(ErrorCode.CircuitOpen);
    expect(during.reason).toBe('circuit_half_open');
    expect(await probe).toEqual({ pong: true });
    flaky = 'ok';
    expect(await call('ping', {}, { target: FLAKY })).toEqual({ pong: true });
    await waitFor(async () => (await kv.get(FLAKY))?.json<{ state: string }>().state === 'closed', {
      timeoutMs: 2_000,
      what: 'the closed state in KV',
    });
    const { port } = harness.gateway.ops.address;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/vivified_lane_breaker_state\{[^}]*target="flaky-app"[^}]*\} 0/);
    expect(metrics).toMatch(/vivified_lane_calls_total\{[^}]*lane="operator"[^}]*code="CIRCUIT_OPEN"/);
  });

  it('refuses calls beyond the target’s bulkhead at once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        call('wait', {}, { target: BUSY }).then(
          () => 'ok',
          (error: VivifiedError) => `${error.code}:${error.reason ?? ''}`,
        ),
      ),
    );

    expect(answers.filter((answer) => answer === 'ok')).toHaveLength(4);
    expect(answers.filter((answer) => answer === 'RATE_LIMITED:bulkhead_full')).toHaveLength(2);
  });

  it('serves the same lane over HTTP for HTTP plugins', async () => {
    const response = await fetch(`${harness.base}/v1/rpc/${TARGET}/get_user`, {
      method: 'POST',
      headers: { authorization: `Bearer ${callerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'u-3' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 'u-1', echo: { id: 'u-3' } });

    const denied = await fetch(`${harness.base}/v1/rpc/${TARGET}/delete_user`, {
      method: 'POST',
      headers: { authorization: `Bearer ${callerToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('POLICY_DENIED');
    const anonymous = await fetch(`${harness.base}/v1/rpc/${TARGET}/get_user`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
  });

  it('audits every call with outcome, latency and trace id', async () => {
    await waitFor(async () => (await harness.auditRecords('rpc')).length >= 10, {
      timeoutMs: 5_000,
      what: 'rpc audit records',
    });
    const records = await harness.auditRecords('rpc');
    const success = records.find((r) => r.outcome === 'success' && r.details['operation'] === 'get_user');
    const denied = records.find((r) => r.outcome === 'denied' && r.details['operation'] === 'delete_user');

    expect(success).toMatchObject({ action: 'rpc.call', pluginId: CALLER, target: `plugin:${TARGET}` });
    expect(success?.details['traceId']).toBe(TRACE_ID);
    expect(typeof success?.details['latencyMs']).toBe('number');
    expect(denied?.details['code']).toBe('POLICY_DENIED');
    expect(JSON.stringify(records)).not.toContain(callerToken);
  });
});
