import { afterEach, describe, expect, it, vi } from 'vitest';

import { ServiceMetrics } from './metrics';
import type { ReadinessCheck } from './ops-server';
import { OpsServer, startOpsServer } from './ops-server';

describe(OpsServer.name, () => {
  let sut: OpsServer | undefined;

  afterEach(async () => {
    await sut?.close();
    sut = undefined;
  });

  async function start(checks: Record<string, ReadinessCheck>, logger = { warn: vi.fn() }) {
    const metrics = new ServiceMetrics({ service: 'registry', processMetrics: false });
    sut = await startOpsServer(
      { service: 'registry', host: '127.0.0.1', port: 0, metrics, logger, checkTimeoutMs: 100 },
      checks,
    );
    const base = `http://127.0.0.1:${sut.address.port}`;

    return { get: (path: string, init?: RequestInit) => fetch(`${base}${path}`, init), logger };
  }

  const pass: ReadinessCheck = () => Promise.resolve({ ok: true });

  it('answers 200 with every check when all pass', async () => {
    const { get } = await start({
      nats: pass,
      postgres: () => Promise.resolve({ ok: true, detail: 'select 1 in 2 ms' }),
    });

    for (const path of ['/health', '/health/ready']) {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await response.json()).toEqual({
        status: 'ok',
        service: 'registry',
        checks: { nats: { ok: true }, postgres: { ok: true, detail: 'select 1 in 2 ms' } },
      });
    }
  });

  it('answers 503 when a check fails, while liveness stays 200', async () => {
    const { get } = await start({
      nats: () => Promise.resolve({ ok: false, detail: 'disconnected' }),
      postgres: pass,
    });

    const ready = await get('/health/ready');
    const live = await get('/health/live');

    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'unavailable',
      checks: { nats: { ok: false, detail: 'disconnected' } },
    });
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok', service: 'registry' });
  });

  it('reports a hung check as not ready instead of hanging', async () => {
    const { get } = await start({ streams: () => new Promise<never>(() => undefined) });
    const started = Date.now();

    const response = await get('/health');

    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      checks: { streams: { ok: false, detail: 'timed out after 100 ms' } },
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('never answers the message of a throwing check, which may hold secrets', async () => {
    const logger = { warn: vi.fn() };
    const { get } = await start(
      {
        postgres: () => Promise.reject(new Error('connect to postgres://app:hunter2@db failed')),
        sync: () => {
          throw new TypeError('sync throw');
        },
      },
      logger,
    );

    const response = await get('/health');
    const text = await response.text();

    expect(response.status).toBe(503);
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text)).toMatchObject({
      checks: {
        postgres: { ok: false, detail: 'check threw Error' },
        sync: { ok: false, detail: 'check threw TypeError' },
      },
    });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ check: 'postgres' }),
      'readiness check failed',
    );
  });

  it('serves Prometheus text with readiness reflected in vivified_service_ready', async () => {
    let ok = false;
    const { get } = await start({ nats: () => Promise.resolve({ ok }) });

    const down = await (await get('/metrics')).text();
    ok = true;
    const response = await get('/metrics');
    const up = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(down).toContain('vivified_service_ready{service="registry"} 0');
    expect(up).toContain('vivified_service_ready{service="registry"} 1');
  });

  it('answers 404 JSON for unknown paths and 405 for other methods', async () => {
    const { get } = await start({});

    const missing = await get('/admin');
    const post = await get('/health', { method: 'POST' });

    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'not found' } });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('stops answering after close', async () => {
    const { get } = await start({});
    await (await get('/health/live')).text();

    await sut?.close();

    await expect(get('/health/live')).rejects.toThrow();
  });
});
