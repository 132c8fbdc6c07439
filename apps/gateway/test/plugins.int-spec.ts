import { randomBytes } from 'node:crypto';

import { connectNats } from '@vivified/nats-transport';
import type { RunningService } from '@vivified/service-kit';
import type { BuiltService, TestDatabase, TestNatsServer } from '@vivified/testing';
import {
  createTestDatabase,
  startBuiltService,
  startNatsServer,
  TestAuthority,
  waitFor,
} from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startGatewayInProcess } from './gateway-in-process';

const CONFIG_SECRET = 'cfg-secret-5b1e0c9d77';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const manifest = (id: string, patch: Record<string, unknown> = {}) => ({
  id,
  name: `Plugin ${id}`,
  version: '1.0.0',
  description: 'A plugin registered over HTTP',
  contracts: [],
  traits: ['communication_plugin'],
  dependencies: [],
  events: { publishes: [], subscribes: [] },
  operations: [],
  allowedDomains: [],
  delivery: { mode: 'nats' },
  security: { authenticationRequired: true, dataClassification: ['internal'] },
  compliance: { hipaaControls: [], auditLevel: 'standard' },
  resources: { memoryMb: 128, cpu: 0.25 },
  healthCheck: { type: 'nats', intervalSeconds: 30 },
  rateLimits: {},
  ...patch,
});

/** The plugin routes of the gateway, with identity and the registry as built processes behind it. */
describe('gateway plugin routes with the registry behind them', () => {
  let nats: TestNatsServer;
  let db: TestDatabase;
  let identity: BuiltService | undefined;
  let registry: BuiltService | undefined;
  /** What identity and the registry wrote. */
  const logs = {
    get text(): string {
      return `${identity?.output() ?? ''}${registry?.output() ?? ''}`;
    },
  };
  let gateway: RunningService;
  let nc: NatsConnection;
  let base: string;
  let admin: string;
  let operator: string;
  const secrets: string[] = [];

  async function call(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();

    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase('vivified_gateway_plugins')]);
    const shared = {
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      VIVIFIED_SERVICE_SECRET: randomBytes(32).toString('base64url'),
    };
    identity = await startBuiltService('identity', {
      env: { ...shared, VIVIFIED_LOG_LEVEL: 'debug', VIVIFIED_ADMIN_PASSWORD: 'Correct-Horse-Battery-9' },
    });
    // debug logs: the test checks that no secret reaches a log line
    registry = await startBuiltService('registry', { env: { ...shared, VIVIFIED_LOG_LEVEL: 'debug' } });
    ({ gateway, base } = await startGatewayInProcess({ ...shared, VIVIFIED_LOG_LEVEL: 'silent' }));
    ({ nc } = await connectNats({ servers: [nats.url], name: 'gateway-plugins-test' }));
    const authority = await TestAuthority.create(nc);
    admin = await authority.token({
      kind: 'user',
      id: '00000000-0000-4000-8000-0000000000a1',
      traits: ['admin', 'plugin_manager', 'viewer'],
    });
    operator = await authority.token({
      kind: 'user',
      id: '00000000-0000-4000-8000-0000000000a2',
      traits: ['operator', 'plugin_manager', 'viewer'],
    });
    await waitFor(async () => (await call('GET', '/v1/plugins', { token: operator })).status === 200, {
      timeoutMs: 10_000,
      what: 'the gateway and registry to accept the test keys',
    });
  }, 120_000);

  afterAll(async () => {
    await nc?.drain().catch(() => undefined);
    await gateway?.stop();
    await registry?.stop();
    await identity?.stop();
    await Promise.allSettled([nats?.stop(), db?.drop()]);
  });

  it('validates, registers with credentials once, and lists without secrets', async () => {
    const dry = await call('POST', '/v1/plugins/validate', {
      token: operator,
      body: manifest('http-one', { traits: ['admin'] }),
    });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ ok: false });

    const invalid = await call('POST', '/v1/plugins', {
      token: operator,
      body: manifest('http-bad', { traits: ['root'] }),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ error: { code: 'VALIDATION_FAILED', reason: 'manifest_invalid' } });

    const created = await call('POST', '/v1/plugins', { token: operator, body: manifest('http-one') });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'http-one', status: 'active' });
    const secret = (created.body['credentials'] as { clientSecret: string }).clientSecret;
    secrets.push(secret);

    const token = await call('POST', '/v1/plugins/token', {
      body: { pluginId: 'http-one', clientSecret: secret },
    });
    expect(token.status).toBe(200);
    expect(token.body['accessToken']).toBeTruthy();

    const list = await call('GET', '/v1/plugins', { token: operator });
    const one = await call('GET', '/v1/plugins/http-one', { token: operator });
    expect(list.status).toBe(200);
    expect(one.body).toMatchObject({ id: 'http-one', status: 'active', health: 'unknown' });
    expect(JSON.stringify([list.body, one.body])).not.toContain(secret);
  });

  it('approves, disables, enables and deletes through the routes', async () => {
    const pii = manifest('http-crm', {
      traits: ['handles_pii', 'audit_required'],
      security: { authenticationRequired: true, dataClassification: ['pii'] },
    });
    const pending = await call('POST', '/v1/plugins', { token: operator, body: pii });
    expect(pending.body).toEqual({ id: 'http-crm', status: 'pending_approval', version: '1.0.0' });

    expect((await call('POST', '/v1/plugins/http-crm/approve', { token: operator, body: {} })).status).toBe(
      403,
    );
    const approved = await call('POST', '/v1/plugins/http-crm/approve', {
      token: admin,
      body: { reason: 'reviewed' },
    });
    expect(approved.status).toBe(200);
    secrets.push((approved.body['credentials'] as { clientSecret: string }).clientSecret);

    const disabled = await call('POST', '/v1/plugins/http-crm/disable', { token: operator });
    expect(disabled.body).toMatchObject({ status: 'disabled' });
    const enabled = await call('POST', '/v1/plugins/http-crm/enable', { token: operator });
    expect(enabled.body).toMatchObject({ status: 'active' });
    secrets.push((enabled.body['credentials'] as { clientSecret: string }).clientSecret);

    const removed = await call('DELETE', '/v1/plugins/http-crm', { token: operator });
    expect(removed.body).toMatchObject({ status: 'revoked' });
    expect((await call('GET', '/v1/plugins/http-crm', { token: operator })).status).toBe(404);
  });

  it('registers with a one-time registration token in the X-Registration-Token header', async () => {
    expect(
      (await call('POST', '/v1/plugins/registration-tokens', { token: operator, body: {} })).status,
    ).toBe(403);
    const created = await call('POST', '/v1/plugins/registration-tokens', {
      token: admin,
      body: { ttlSeconds: 300 },
    });
    expect(created.status).toBe(201);
    const registrationToken = created.body['token'] as string;
    secrets.push(registrationToken);

    const first = await call('POST', '/v1/plugins', {
      body: manifest('http-token'),
      headers: { 'x-registration-token': registrationToken },
    });
    expect(first.status).toBe(201);
    secrets.push((first.body['credentials'] as { clientSecret: string }).clientSecret);
    const again = await call('POST', '/v1/plugins', {
      body: manifest('http-token-2'),
      headers: { 'x-registration-token': registrationToken },
    });
    expect(again.status).toBe(401);
    expect((await call('POST', '/v1/plugins', { body: manifest('http-anon') })).status).toBe(401);
  });

  it('sets and reads config: secrets never answered, versions kept', async () => {
    await call('POST', '/v1/plugins', {
      token: operator,
      body: manifest('http-cfg', {
        configSchema: {
          type: 'object',
          properties: { url: { type: 'string' }, key: { type: 'string', secret: true } },
        },
      }),
    });
    const put = await call('PUT', '/v1/plugins/http-cfg/config', {
      token: operator,
      body: { values: { url: 'https://example.org', key: CONFIG_SECRET }, reason: 'first' },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      version: 1,
      values: { url: 'https://example.org' },
      secretFields: ['key'],
    });
    const read = await call('GET', '/v1/plugins/http-cfg/config?version=1', { token: operator });
    const history = await call('GET', '/v1/plugins/http-cfg/config/history', { token: operator });

    expect(read.body).toMatchObject({ version: 1, reason: 'first' });
    expect(history.body['versions']).toHaveLength(1);
    expect(JSON.stringify([put.body, read.body])).not.toContain(CONFIG_SECRET);
    secrets.push(CONFIG_SECRET);
  });

  it('lets no secret, token or credential reach a log line of identity or the registry', () => {
    expect(logs.text.length).toBeGreaterThan(0);
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    for (const secret of secrets) {
      expect(logs.text).not.toContain(secret);
    }
    expect(logs.text).not.toContain(admin);
    expect(logs.text).not.toContain(operator);
  });
});
