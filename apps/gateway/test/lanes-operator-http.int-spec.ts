import type { LookupAddress } from 'node:dns';
import type { IncomingHttpHeaders } from 'node:http';
import type { Server } from 'node:https';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import type { CallKeyReply, ManifestOperation } from '@vivified/contracts';
import {
  callTokenContract,
  dynamicSubjects,
  ErrorCode,
  headers as headerNames,
  subjects,
} from '@vivified/contracts';
import { VivifiedClient } from '@vivified/nats-transport';
import { importJWK, jwtVerify } from 'jose';
import type { TestCertificate } from '@vivified/testing';
import { selfSignedCertificate } from '@vivified/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TargetBreakers } from '../src/lanes/operator/target-breakers';
import { EgressResolver } from '../src/lanes/proxy/egress.client';
import { LanesHarness, rejection } from './lanes-harness';

const CALLER = 'caller-app';
const TARGET = 'crm-app';
const FLAKY = 'flaky-crm-app';
const HIDDEN = 'hidden-crm-app';
const HOST = 'crm.example.org';
const FLAKY_HOST = 'flaky.example.org';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const MAX_BODY = 2_048;

/** What the test resolver answers: public-looking names where the test needs them. */
const DNS: Readonly<Record<string, string>> = {
  [HOST]: '127.0.0.1',
  [FLAKY_HOST]: '127.0.0.1',
  'hidden.example.org': '10.0.0.5',
};

const op = (name: string, extra: Partial<ManifestOperation> = {}): ManifestOperation => ({
  name,
  description: name,
  requiredTraits: [],
  classification: ['internal'],
  ...extra,
});

interface Hit {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The operator lane to a plugin with `delivery.mode: http`: a local HTTPS server stands in for it. */
describe('operator lane to HTTP plugins', () => {
  let harness: LanesHarness;
  let caller: VivifiedClient;
  let callerToken: string;
  let cert: TestCertificate;
  let server: Server;
  let port: number;
  const hits: Hit[] = [];
  let flaky: 'fail' | 'ok' = 'fail';
  let unavailableOnce = true;

  const call = (operation: string, body: unknown, target = TARGET) =>
    caller.requestRaw(dynamicSubjects.rpcCall(target, operation), body, {
      token: callerToken,
      headers: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
      timeoutMs: 5_000,
    });
  const hitsOf = (host: string) => hits.filter((hit) => hit.headers.host?.startsWith(host));

  beforeAll(async () => {
    cert = selfSignedCertificate([HOST, FLAKY_HOST, 'hidden.example.org']);
    server = createServer({ key: cert.key, cert: cert.cert }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = request.url ?? '/';
        hits.push({ method: request.method ?? '', path, headers: request.headers, body });
        const json = (status: number, value: unknown) =>
          response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (request.headers.host?.startsWith(FLAKY_HOST)) {
          json(flaky === 'fail' ? 500 : 200, flaky === 'fail' ? { oops: true } : { pong: true });

          return;
        }
        switch (path.split('/').pop() ?? '') {
          case 'get_user':
            json(200, { id: 'u-1', name: 'Ada', echo: JSON.parse(body || '{}') as unknown });
            break;
          case 'missing':
            json(404, { error: { code: 'NOT_FOUND', message: 'no such user', reason: 'user_unknown' } });
            break;
          case 'conflict':
            response.writeHead(409, { 'content-type': 'text/plain' }).end('busy');
            break;
          case 'pretend_internal':
            // a 4xx claiming a 5xx code is not taken at its word
            json(400, { error: { code: 'CIRCUIT_OPEN', message: 'nope' } });
            break;
          case 'lookup':
            if (unavailableOnce) {
              unavailableOnce = false;
              json(503, {});
            } else {
              json(200, { found: true });
            }
            break;
          case 'big':
            json(200, { blob: 'x'.repeat(MAX_BODY * 2) });
            break;
          case 'slow':
            setTimeout(() => json(200, { late: true }), 1_500);
            break;
          default:
            json(404, {});
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    harness = await LanesHarness.start({
      VIVIFIED_PROXY_TEST_ALLOW_RANGES: '127.0.0.0/8',
      VIVIFIED_LANE_HTTP_CA_FILE: cert.certFile,
      VIVIFIED_LANE_HTTP_MAX_BODY: String(MAX_BODY),
      VIVIFIED_LANE_BREAKER_CONSECUTIVE: '3',
      VIVIFIED_LANE_BREAKER_HALF_OPEN_MS: '600',
      VIVIFIED_LANE_RETRIES: '2',
    });
    harness.gateway.app.get(EgressResolver).useLookup((host: string) => {
      const address = DNS[host];

      return address
        ? Promise.resolve([{ address, family: 4 } satisfies LookupAddress])
        : Promise.reject(new Error(`ENOTFOUND ${host}`));
    });
    const ops = [
      op('get_user'),
      op('delete_user'),
      op('missing'),
      op('conflict'),
      op('pretend_internal'),
      op('lookup', { idempotent: true }),
      op('big'),
      op('slow', { timeoutMs: 300 }),
    ];
    await harness.plugin({ id: CALLER, traits: [] });
    await harness.plugin({
      id: TARGET,
      traits: [],
      operations: ops,
      delivery: { mode: 'http', webhookUrl: `https://${HOST}:${port}/hooks/vivified?ignored=1` },
    });
    await harness.plugin({
      id: FLAKY,
      traits: [],
      operations: [op('ping')],
      delivery: { mode: 'http', webhookUrl: `https://${FLAKY_HOST}:${port}/hooks` },
    });
    await harness.plugin({
      id: HIDDEN,
      traits: [],
      operations: [op('get_user')],
      delivery: { mode: 'http', webhookUrl: `https://hidden.example.org:${port}/hooks` },
    });
    await harness.rules([
      {
        type: 'operator',
        caller: CALLER,
        target: TARGET,
        operations: ['get_user', 'missing', 'conflict', 'pretend_internal', 'lookup', 'big', 'slow'],
      },
      { type: 'operator', caller: CALLER, target: FLAKY, operations: ['ping'] },
      { type: 'operator', caller: CALLER, target: HIDDEN, operations: ['get_user'] },
    ]);
    callerToken = await harness.token(CALLER);
    caller = new VivifiedClient(await harness.connection(CALLER));
  }, 60_000);

  afterAll(async () => {
    await harness?.stop();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    cert?.remove();
  });

  it('POSTs an allowed call to <webhook>/rpc/<operation> and answers the response body', async () => {
    const reply = (await call('get_user', { id: 'u-1' })) as Record<string, unknown>;

    expect(reply).toEqual({ id: 'u-1', name: 'Ada', echo: { id: 'u-1' } });
    const hit = hits.at(-1) as Hit;
    expect(hit.method).toBe('POST');
    expect(hit.path).toBe('/hooks/vivified/rpc/get_user');
    expect(hit.headers['content-type']).toBe('application/json');
    expect(JSON.parse(hit.body)).toEqual({ id: 'u-1' });
  });

  it('sends a call token the gateway’s call key verifies, naming caller, target and operation; never the caller’s token', async () => {
    await call('get_user', { id: 'u-2' });
    const hit = hits.at(-1) as Hit;
    const authorization = hit.headers.authorization ?? '';
    const token = authorization.replace(/^Bearer /, '');

    expect(token).not.toBe('');
    expect(JSON.stringify(hit)).not.toContain(callerToken);
    const { keys }: CallKeyReply = await new VivifiedClient(harness.nc).request(subjects.gateway.callKey, {});
    const { payload } = await jwtVerify(token, await importJWK({ ...keys[0] }, 'EdDSA'), {
      issuer: callTokenContract.issuer,
      audience: `plugin:${TARGET}`,
      algorithms: ['EdDSA'],
    });
    expect(payload).toMatchObject({
      sub: `plugin:${CALLER}`,
      typ: 'call',
      target: TARGET,
      operation: 'get_user',
      trace: TRACE_ID,
    });
    expect(hit.headers['traceparent']).toContain(TRACE_ID);
    expect(hit.headers[headerNames.classification.toLowerCase()]).toBe('internal');
    const deadline = Number(hit.headers[headerNames.deadline.toLowerCase()]);
    expect(deadline).toBeGreaterThan(Date.now());
    expect(deadline).toBeLessThanOrEqual(Date.now() + 5_000);
  });

  it('denies an operation without an allowlist rule, and the plugin never sees it', async () => {
    const before = hits.length;
    const error = await rejection(call('delete_user', { id: 'u-1' }));

    expect(error.code).toBe(ErrorCode.PolicyDenied);
    expect(error.reason).toBe('operation_not_allowlisted');
    expect(hits.length).toBe(before);
  });

  it('maps 4xx to the plugin’s own error, which does not count against its breaker', async () => {
    const missing = await rejection(call('missing', {}));
    expect(missing.code).toBe(ErrorCode.NotFound);
    expect(missing.reason).toBe('user_unknown');
    expect(missing.message).toBe('no such user');

    const conflict = await rejection(call('conflict', {}));
    expect(conflict.code).toBe(ErrorCode.Conflict);
    expect(conflict.reason).toBe('target_status_409');

    const pretend = await rejection(call('pretend_internal', {}));
    expect(pretend.code).toBe(ErrorCode.BadRequest);
    for (let i = 0; i < 3; i += 1) {
      await rejection(call('missing', {}));
    }
    expect(harness.gateway.app.get(TargetBreakers).state(TARGET)).toBe('closed');
  });

  it('retries an idempotent operation after a 5xx', async () => {
    const before = hitsOf(HOST).length;

    expect(await call('lookup', {})).toEqual({ found: true });
    expect(hitsOf(HOST).length - before).toBe(2);
  });

  it('times out after the operation’s timeoutMs', async () => {
    const started = performance.now();
    const error = await rejection(call('slow', {}));

    expect(error.code).toBe(ErrorCode.Timeout);
    expect(performance.now() - started).toBeLessThan(1_200);
  });

  it('caps the reply body', async () => {
    const error = await rejection(call('big', {}));

    expect(error.code).toBe(ErrorCode.PayloadTooLarge);
    expect(error.reason).toBe('response_too_large');
  });

  it('opens the breaker on 5xx, refuses at once without reaching the plugin, closes after a good probe', async () => {
    for (let i = 0; i < 3; i += 1) {
      const error = await rejection(call('ping', {}, FLAKY));
      expect(error.code).toBe(ErrorCode.Unavailable);
      expect(error.reason).toBe('target_status_500');
    }
    const before = hitsOf(FLAKY_HOST).length;
    const open = await rejection(call('ping', {}, FLAKY));

    expect(open.code).toBe(ErrorCode.CircuitOpen);
    expect(hitsOf(FLAKY_HOST).length).toBe(before);
    expect(harness.gateway.app.get(TargetBreakers).state(FLAKY)).toBe('open');

    await new Promise((resolve) => setTimeout(resolve, 700));
    flaky = 'ok';
    expect(await call('ping', {}, FLAKY)).toEqual({ pong: true });
    expect(harness.gateway.app.get(TargetBreakers).state(FLAKY)).toBe('closed');
  });

  it('refuses an endpoint that resolves to a private address, without connecting', async () => {
    const before = hits.length;
    const hidden = await rejection(call('get_user', {}, HIDDEN));

    expect(hidden.code).toBe(ErrorCode.PolicyDenied);
    expect(hidden.reason).toBe('target_address_private');
    expect(hits.length).toBe(before);
    expect(harness.gateway.app.get(TargetBreakers).state(HIDDEN)).toBe('closed');
  });

  it('serves HTTP targets through the gateway’s HTTP route too', async () => {
    const response = await fetch(`${harness.base}/v1/rpc/${TARGET}/get_user`, {
      method: 'POST',
      headers: { authorization: `Bearer ${callerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'u-3' }),
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: 'u-1', name: 'Ada', echo: { id: 'u-3' } });
    const missing = await fetch(`${harness.base}/v1/rpc/${TARGET}/missing`, {
      method: 'POST',
      headers: { authorization: `Bearer ${callerToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { reason: string } }).error.reason).toBe('user_unknown');
  });

  it('audits HTTP-target calls like the others', async () => {
    const records = (await harness.auditRecords('rpc')).filter((r) => r.target === `plugin:${TARGET}`);

    expect(records.some((r) => r.outcome === 'success' && r.details['operation'] === 'get_user')).toBe(true);
    expect(records.some((r) => r.outcome === 'denied' && r.details['operation'] === 'delete_user')).toBe(
      true,
    );
    expect(JSON.stringify(records)).not.toContain(callerToken);
  });
});
