import { describe, expect, it } from 'vitest';

import { latencyStats, quantile, ratio } from './stats';

describe(quantile.name, () => {
  it('takes the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(quantile(sorted, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
  });

  it('is NaN without samples', () => {
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe(latencyStats.name, () => {
  it('converts nanoseconds to microseconds and sorts', () => {
    expect(latencyStats([3_000n, 1_000n, 2_000n])).toEqual({ count: 3, p50: 2, p99: 3, mean: 2 });
  });
});

describe(ratio.name, () => {
  it('prints ours over raw', () => {
    expect(ratio(12, 10)).toBe('1.20×');
  });
});
