interface Bucket {
  tokens: number;
  updated: number;
}

const MAX_KEYS = 10_000;

/** A token bucket per key: `burst` at once, refilled at `perMinute`. Bounded: the oldest key goes beyond 10,000. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly refillPerMs: number;

  constructor(
    private readonly burst: number,
    perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.refillPerMs = perMinute / 60_000;
  }

  /** Takes one token; answers the seconds until the next one when there is none. */
  take(key: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_KEYS) {
        this.buckets.delete(this.buckets.keys().next().value as string);
      }
      bucket = { tokens: this.burst, updated: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.updated) * this.refillPerMs);
      bucket.updated = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;

      return { ok: true };
    }

    return { ok: false, retryAfterSeconds: Math.ceil((1 - bucket.tokens) / this.refillPerMs / 1000) };
  }
}
