import { randomFillSync } from 'node:crypto';

const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

/** The trace id of a W3C `traceparent`, when valid and not all zeros. */
export function traceIdOfTraceparent(value: string | undefined): string | undefined {
  const match = value ? TRACEPARENT.exec(value.trim()) : null;
  const traceId = match?.[2];

  return traceId === undefined || /^0+$/.test(traceId) ? undefined : traceId;
}

/**
 * Random bytes for ids, taken from a pool refilled 4 KiB at a time: a `randomBytes` call per id costs a native
 * job and an async-hooks resource each, several microseconds on every published and delivered event.
 */
const pool = Buffer.alloc(4096);
let offset = pool.length;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;

  return hex;
}

/** A new trace id (W3C, 32 hex). */
export function newTraceId(): string {
  return randomHex(16);
}

/**
 * A `traceparent` for the next hop of `traceId`: a fresh span id, sampled. The lane propagates the trace itself,
 * so a subscriber sees the publisher's trace id whether or not OpenTelemetry is running in the router.
 */
export function childTraceparent(traceId: string): string {
  return `00-${traceId}-${randomHex(8)}-01`;
}
