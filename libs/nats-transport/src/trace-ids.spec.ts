import { describe, expect, it } from 'vitest';

import { childTraceparent, newTraceId, traceIdOfTraceparent } from './trace-ids';

describe('trace ids', () => {
  it('makes distinct W3C trace ids, across pool refills', () => {
    const ids = Array.from({ length: 1_000 }, () => newTraceId());

    expect(ids.every((id) => /^[\da-f]{32}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('makes a sampled child traceparent of a trace with a fresh span id', () => {
    const traceId = newTraceId();
    const [a, b] = [childTraceparent(traceId), childTraceparent(traceId)];

    expect(a).toMatch(new RegExp(`^00-${traceId}-[\\da-f]{16}-01$`));
    expect(a).not.toBe(b);
    expect(traceIdOfTraceparent(a)).toBe(traceId);
  });

  it('reads only valid, non-zero trace ids', () => {
    expect(traceIdOfTraceparent(undefined)).toBeUndefined();
    expect(traceIdOfTraceparent('garbage')).toBeUndefined();
    expect(traceIdOfTraceparent(`00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`)).toBeUndefined();
    expect(traceIdOfTraceparent(` 00-${'a'.repeat(32)}-${'1'.repeat(16)}-01 `)).toBe('a'.repeat(32));
  });
});
