import { headers as headerNames } from '@vivified/contracts';
import { childTraceparent, newTraceId } from '@vivified/nats-transport';
import type { MsgHdrs } from 'nats';
import { headers as natsHeaders } from 'nats';

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

/** A W3C trace context of a lane call: the caller's when valid, else a new one. */
export interface LaneTrace {
  traceId: string;
  traceparent: string;
}

/** The caller's trace context, or a fresh one so that the call, its audit and the target share one trace id. */
export function laneTrace(hdrs: MsgHdrs | undefined): LaneTrace {
  const value = hdrs?.get(headerNames.traceparent)?.trim();
  const match = value ? TRACEPARENT.exec(value) : null;
  if (match && value && !/^0+$/.test(match[1] ?? '')) {
    return { traceId: match[1], traceparent: value };
  }
  const traceId = newTraceId();

  return { traceId, traceparent: childTraceparent(traceId) };
}

/** NATS headers for a lane call that came over HTTP: the caller's token, trace and classification. */
export function headersFromHttp(
  token: string | undefined,
  http: Readonly<Record<string, string | string[] | undefined>>,
): MsgHdrs {
  const hdrs = natsHeaders();
  if (token) {
    hdrs.set(headerNames.authorization, `Bearer ${token}`);
  }
  const pick = (name: string) => {
    const value = http[name.toLowerCase()];

    return typeof value === 'string' && value.length > 0 && value.length < 512 ? value : undefined;
  };
  for (const name of [headerNames.traceparent, headerNames.classification, headerNames.deadline]) {
    const value = pick(name);
    if (value !== undefined) {
      hdrs.set(name, value);
    }
  }

  return hdrs;
}
