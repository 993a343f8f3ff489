// Per-customer token buckets. A bucket refills continuously at `ratePerSecond` up to `burst`; idle
// full buckets are swept so memory follows the active customers, not all customers ever seen.

export interface RateDecision {
  allowed: boolean;
  /** Seconds until one token is available (for Retry-After), when not allowed. */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  /**
   * `requests` per `windowSeconds` (settings: limits.rateLimit): a full bucket allows that many at
   * once, and refills over the window. Unlike the example's sliding window, which keeps a timestamp
   * per request, this keeps two numbers per customer, whatever the limit.
   */
  static perWindow(requests: number, windowSeconds: number): RateLimiter {
    return new RateLimiter(requests / windowSeconds, requests);
  }

  take(key: string, now: number): RateDecision {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.burst, updatedAt: now };
      this.buckets.set(key, bucket);
    } else {
      const refill = ((now - bucket.updatedAt) / 1000) * this.ratePerSecond;
      bucket.tokens = Math.min(this.burst, bucket.tokens + refill);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond)) };
  }

  /** Drops buckets that would be full by now: they hold no information. */
  sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
