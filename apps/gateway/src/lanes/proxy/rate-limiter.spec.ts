import { describe, expect, it } from 'vitest';

import { TokenBuckets } from './rate-limiter';

describe(TokenBuckets.name, () => {
  it('allows a burst, then the rate, per key', () => {
    let now = 0;
    const sut = new TokenBuckets(3, 60, () => now);

    expect([sut.take('a'), sut.take('a'), sut.take('a')].every((r) => r.ok)).toBe(true);
    expect(sut.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(sut.take('b').ok).toBe(true);
    now += 1_000;
    expect(sut.take('a').ok).toBe(true);
    expect(sut.take('a').ok).toBe(false);
  });
});
