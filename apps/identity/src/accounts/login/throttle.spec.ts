import { describe, expect, it } from 'vitest';

import { throttlePolicy, throttleVerdict } from './throttle';

const T0 = Date.UTC(2025, 0, 1);

describe('throttleVerdict', () => {
  it('lets an address with no record or fewer than 20 failures through', () => {
    expect(throttleVerdict(undefined, T0)).toEqual({ throttled: false });
    expect(throttleVerdict({ windowStart: T0, failures: 19 }, T0 + 1_000)).toEqual({ throttled: false });
  });

  it('stops an address at 20 failures until its window ends, with the seconds left', () => {
    expect(throttleVerdict({ windowStart: T0, failures: 20 }, T0 + 60_000)).toEqual({
      throttled: true,
      retryAfterSeconds: 14 * 60,
    });
    expect(throttleVerdict({ windowStart: T0, failures: 50 }, T0 + throttlePolicy.windowMs - 1)).toEqual({
      throttled: true,
      retryAfterSeconds: 1,
    });
    expect(throttleVerdict({ windowStart: T0, failures: 50 }, T0 + throttlePolicy.windowMs)).toEqual({
      throttled: false,
    });
  });
});
