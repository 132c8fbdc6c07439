import { randomBytes, randomUUID } from 'node:crypto';

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

interface ConfigBody {
  version: number;
  etag: string;
  values: Record<string, { value?: unknown; source: string }>;
}

/** `GET|PUT /v1/config` of the gateway in this process, the policy service as a built process behind it. */
describe('gateway config routes', () => {
  let nats: TestNatsServer;
  let db: TestDatabase;
  let nc: NatsConnection;
  let policy: BuiltService | undefined;
  let gateway: RunningService | undefined;
  let base: string;
  let admin: string;
  let viewer: string;

  const request = (method: string, path: string, token?: string, body?: unknown, headers = {}) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase('vivified_gw_config')]);
    const shared = {
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_DATABASE_URL: db.url,
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      VIVIFIED_LOG_LEVEL: 'warn',
    };
    ({ nc } = await connectNats({ servers: [nats.url], name: 'gateway-config-test' }));
    const authority = await TestAuthority.create(nc);
    admin = await authority.token({
      kind: 'user',
      id: randomUUID(),
      traits: ['admin', 'config_manager', 'viewer'],
    });
    viewer = await authority.token({ kind: 'user', id: randomUUID(), traits: ['viewer'] });

    policy = await startBuiltService('policy', { env: shared, readyTimeoutMs: 60_000 });

    ({ gateway, base } = await startGatewayInProcess(shared));
    await waitFor(async () => (await request('GET', '/v1/config', admin)).status === 200, {
      timeoutMs: 30_000,
      what: 'the config route to answer',
    });
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await policy?.stop();
    await nc?.drain().catch(() => undefined);
    await Promise.allSettled([nats?.stop(), db?.drop()]);
  });

  it('answers 401 without credentials', async () => {
    expect((await request('GET', '/v1/config')).status).toBe(401);
    expect(
      (await request('PUT', '/v1/config', undefined, { values: { 'ui.plugins.enabled': false } })).status,
    ).toBe(401);
    expect((await request('GET', '/v1/config/history')).status).toBe(401);
  });

  it('GET /v1/config answers every key with an ETag, and 304 for If-None-Match with it', async () => {
    const response = await request('GET', '/v1/config', viewer);
    expect(response.status).toBe(200);
    const body = (await response.json()) as ConfigBody;
    const etag = response.headers.get('etag');
    expect(etag).toBe(body.etag);
    expect(body.values['ui.plugin_install.enabled']).toMatchObject({ value: false, source: 'default' });

    const again = await request('GET', '/v1/config', viewer, undefined, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    const other = await request('GET', '/v1/config', viewer, undefined, { 'if-none-match': '"cfg-99-abc"' });
    expect(other.status).toBe(200);
  });

  it('PUT /v1/config is refused for a viewer (403)', async () => {
    const response = await request('PUT', '/v1/config', viewer, { values: { 'ui.plugins.enabled': false } });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('POLICY_DENIED');
  });

  it('PUT /v1/config answers 400 naming every unknown key and misfit value', async () => {
    const response = await request('PUT', '/v1/config', admin, {
      values: { 'ui.nope': true, 'ui.plugins.enabled': 'no' },
    });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as {
      error: { code: string; details: Array<{ path: string }> };
    };
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details.map((detail) => detail.path)).toEqual([
      'values.ui.nope',
      'values.ui.plugins.enabled',
    ]);
    expect(
      (await request('PUT', '/v1/config', admin, { values: { 'ui.plugins.enabled': [true] } })).status,
    ).toBe(400);
    expect((await request('PUT', '/v1/config', admin, { values: {}, extra: 1 })).status).toBe(400);
  });

  it('PUT /v1/config saves with If-Match, changes the ETag, and answers 409 for a stale one or expectedVersion', async () => {
    const current = await request('GET', '/v1/config', admin);
    const etag = current.headers.get('etag') ?? '';
    const { version } = (await current.json()) as ConfigBody;

    const saved = await request(
      'PUT',
      '/v1/config',
      admin,
      { values: { 'ui.plugin_install.enabled': true }, reason: 'pilot' },
      { 'if-match': etag },
    );
    expect(saved.status).toBe(200);
    const body = (await saved.json()) as ConfigBody;
    expect(body.version).toBe(version + 1);
    expect(body.values['ui.plugin_install.enabled']).toMatchObject({ value: true, source: 'set' });
    expect(saved.headers.get('etag')).toBe(body.etag);
    expect(body.etag).not.toBe(etag);

    const stale = await request(
      'PUT',
      '/v1/config',
      admin,
      { values: { 'ui.plugins.enabled': false } },
      { 'if-match': etag },
    );
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('CONFLICT');
    const staleVersion = await request('PUT', '/v1/config', admin, {
      values: { 'ui.plugins.enabled': false },
      expectedVersion: version,
    });
    expect(staleVersion.status).toBe(409);
    const foreign = await request(
      'PUT',
      '/v1/config',
      admin,
      { values: { 'ui.plugins.enabled': false } },
      { 'if-match': '"something-else"' },
    );
    expect(foreign.status).toBe(409);
    const unchanged = await request('GET', '/v1/config', admin, undefined, { 'if-none-match': body.etag });
    expect(unchanged.status).toBe(304);
  });

  it('GET /v1/config/history answers the versions, newest first', async () => {
    const response = await request('GET', '/v1/config/history?limit=1', viewer);
    expect(response.status).toBe(200);
    const { versions } = (await response.json()) as {
      versions: Array<{ reason?: string; changes: Array<{ key: string }> }>;
    };
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ reason: 'pilot', changes: [{ key: 'ui.plugin_install.enabled' }] });
    expect((await request('GET', '/v1/config/history?limit=0', viewer)).status).toBe(400);
  });

  it('is in the OpenAPI document', async () => {
    const document = (await (await request('GET', '/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(document.paths['/v1/config'] ?? {}).sort()).toEqual(['get', 'put']);
    expect(document.paths['/v1/config/history']?.['get']).toBeDefined();
    expect(document.components.schemas['ConfigPutRequest']).toBeDefined();
    expect(document.components.schemas['ConfigView']).toBeDefined();
  });
});
