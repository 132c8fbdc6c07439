import type { Context, Span, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { MsgHdrs } from 'nats';

export const tracer = trace.getTracer('@vivified/nats-transport');

const getter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => (carrier ? carrier.keys() : []),
  get: (carrier, key) => (carrier?.has(key) ? carrier.get(key) : undefined),
};

const setter: TextMapSetter<MsgHdrs> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/** Writes the active trace context (traceparent, tracestate) into NATS headers. */
export function injectTraceContext(hdrs: MsgHdrs, ctx: Context = context.active()): void {
  propagation.inject(ctx, hdrs, setter);
}

/** Reads the trace context a caller sent in NATS headers. */
export function extractTraceContext(hdrs: MsgHdrs | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, hdrs, getter);
}

/** The trace id of a span, or undefined when tracing is off (all-zero ids). */
export function traceIdOf(span: Span): string | undefined {
  const { traceId } = span.spanContext();

  return /^0+$/.test(traceId) ? undefined : traceId;
}

/** Starts a span for an inbound message as the child of the sender's context. */
export function startInboundSpan(
  name: string,
  kind: 'server' | 'consumer',
  hdrs: MsgHdrs | undefined,
  attributes: Record<string, string | number>,
): { span: Span; ctx: Context } {
  const parent = extractTraceContext(hdrs);
  const span = tracer.startSpan(
    name,
    { kind: kind === 'server' ? SpanKind.SERVER : SpanKind.CONSUMER, attributes },
    parent,
  );

  return { span, ctx: trace.setSpan(parent, span) };
}

/** Ends a span with the outcome of the work it covered. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : 'error' });
  }
  span.end();
}
