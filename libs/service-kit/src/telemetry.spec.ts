import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { context, propagation, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';

import type { Telemetry } from './telemetry';
import { startTelemetry } from './telemetry';

describe(startTelemetry.name, () => {
  let sut: Telemetry | undefined;

  afterEach(async () => {
    await sut?.shutdown();
    sut = undefined;
  });

  it('makes real trace ids and W3C traceparent headers without an exporter', () => {
    sut = startTelemetry({ service: 'identity', version: '1.2.3', env: {} });

    const carrier: Record<string, string> = {};
    const traceId = trace.getTracer('spec').startActiveSpan('work', (span) => {
      propagation.inject(context.active(), carrier);
      span.end();

      return span.spanContext().traceId;
    });

    expect(sut.exportUrl).toBeUndefined();
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceId).not.toMatch(/^0+$/);
    expect(carrier['traceparent']).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });

  it('refuses a second start, and starts again after shutdown', async () => {
    const first = startTelemetry({ service: 'policy', version: '1', env: {} });

    expect(() => startTelemetry({ service: 'policy', version: '1', env: {} })).toThrow(/already started/);
    await first.shutdown();
    sut = startTelemetry({ service: 'policy', version: '1', env: {} });
    expect(sut.exportUrl).toBeUndefined();
  });

  it('exports spans over OTLP/HTTP to the endpoint from the env', async () => {
    const received: { url: string | undefined; body: string }[] = [];
    const collector = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ url: request.url, body });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    try {
      sut = startTelemetry({
        service: 'registry',
        version: '9.9.9',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/` },
      });
      trace.getTracer('spec').startSpan('exported-span').end();
      await sut.shutdown();

      expect(sut.exportUrl).toBe(`http://127.0.0.1:${port}/v1/traces`);
      expect(received.map((request) => request.url)).toContain('/v1/traces');
      expect(received.map((request) => request.body).join('')).toContain('exported-span');
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });

  it('imports nothing from the rest of the library, so main.ts can load it first', () => {
    const source = readFileSync(join(__dirname, 'telemetry.ts'), 'utf8');

    expect(source).toMatch(/from '@opentelemetry\/sdk-node'/);
    expect(source).not.toMatch(/from '\.{1,2}\//);
  });
});
