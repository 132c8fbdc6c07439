/**
 * OpenTelemetry tracing for a service. A separate entry (`@vivified/service-kit/telemetry`) that imports
 * nothing else from this library: `main.ts` imports it first and calls {@link startTelemetry} before `pg`,
 * `http` or Nest are loaded, so their auto-instrumentation can patch them.
 *
 * This is the one module that reads `process.env` outside an app's config parse, because it must run
 * before the config is parsed; it reads only `OTEL_EXPORTER_OTLP_ENDPOINT` (and the SDK reads its own
 * `OTEL_*` variables).
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/** Options of {@link startTelemetry}. */
export interface TelemetryOptions {
  /** Service name (`service.name` of every span). */
  service: string;
  /** Service version (`service.version`). */
  version: string;
  /**
   * OTLP/HTTP collector base URL (`http://jaeger:4318`); spans go to `<endpoint>/v1/traces`.
   * @default env `OTEL_EXPORTER_OTLP_ENDPOINT`; without either, spans are made but not exported
   */
  otlpEndpoint?: string;
  /** Where the endpoint is read from when `otlpEndpoint` is not given. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Running telemetry. */
export interface Telemetry {
  /** The traces URL spans are exported to, or undefined when nothing is exported. */
  readonly exportUrl: string | undefined;
  /** Flushes pending spans and unregisters everything; telemetry may be started again after. */
  shutdown(): Promise<void>;
}

let running: Telemetry | undefined;

/** Paths of the ops server, which probes and scrapes call every few seconds: not worth a span each. */
function isOpsRequest(url: string | undefined): boolean {
  return url !== undefined && (url === '/metrics' || url.startsWith('/health'));
}

/**
 * Starts the OpenTelemetry Node SDK: HTTP and pg auto-instrumentation, W3C trace-context propagation, and an
 * OTLP/HTTP trace exporter when an endpoint is configured. Without an endpoint, spans are still created
 * in-process (valid trace and span ids for logs and the `traceparent` header) and dropped at their end.
 * Throws when telemetry is already running in this process.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (running) {
    throw new Error('telemetry is already started in this process');
  }
  const endpoint = (
    options.otlpEndpoint ?? (options.env ?? process.env)['OTEL_EXPORTER_OTLP_ENDPOINT']
  )?.trim();
  const exportUrl = endpoint ? `${endpoint.replace(/\/+$/, '')}/v1/traces` : undefined;
  const instrumentations = [
    new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => isOpsRequest(request.url) }),
    new PgInstrumentation(),
  ];
  const sdk = new NodeSDK({
    serviceName: options.service,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.service,
      [ATTR_SERVICE_VERSION]: options.version,
    }),
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations,
    // A processor is always given: with none, the SDK registers no tracer provider and ids stay all-zero.
    spanProcessors: [
      exportUrl ? new BatchSpanProcessor(new OTLPTraceExporter({ url: exportUrl })) : new NoopSpanProcessor(),
    ],
    // Explicitly empty, so the SDK does not start its env-default OTLP metric and log exporters.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();

  const handle: Telemetry = {
    exportUrl,
    shutdown: async () => {
      if (running !== handle) {
        return;
      }
      try {
        await sdk.shutdown();
      } finally {
        for (const instrumentation of instrumentations) {
          instrumentation.disable();
        }
        trace.disable();
        context.disable();
        propagation.disable();
        running = undefined;
      }
    },
  };
  running = handle;

  return handle;
}
