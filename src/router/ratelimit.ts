// Per-customer rate limits as the example systems keep them: at most `requests` in any window of
// `windowSeconds` (a sliding log), exact at the boundary. Each active customer keeps the times of
// its requests admitted within the window (a ring that grows as needed, up to `requests`); a request
// is admitted while fewer than `requests` are in it. Logs of customers silent for a whole window are
// swept, so memory follows the active customers and their recent requests.

export interface RateDecision {
  allowed: boolean;
  /** Seconds until a request would be admitted again (for Retry-After), when not allowed. */
  retryAfterSeconds: number;
}

/** The admitted times (ms) still in the window, oldest at `head`. */
interface Log {
  times: Float64Array;
  head: number;
  count: number;
  last: number;
}

/** A new log's ring; it doubles when full, up to the limit. */
const FIRST_RING = 8;

export class RateLimiter {
  private readonly logs = new Map<string, Log>();
  private readonly windowMs: number;

  /** At most `requests` per customer in any `windowSeconds` (settings: limits.rateLimit). */
  constructor(
    private readonly requests: number,
    windowSeconds: number,
  ) {
    this.windowMs = windowSeconds * 1000;
  }

  /** The same, spelled as the settings spell it. */
  static perWindow(requests: number, windowSeconds: number): RateLimiter {
    return new RateLimiter(requests, windowSeconds);
  }

  /** Whether this limiter counts `requests` per `windowSeconds` (a settings change that leaves them keeps its counts). */
  sameWindow(requests: number, windowSeconds: number): boolean {
    return this.requests === requests && this.windowMs === windowSeconds * 1000;
  }

  take(key: string, now: number): RateDecision {
    let log = this.logs.get(key);
    if (!log) {
      log = { times: new Float64Array(Math.min(this.requests, FIRST_RING)), head: 0, count: 0, last: now };
      this.logs.set(key, log);
    }
    // Times that left the window (a request exactly one window old has left it) no longer count.
    while (log.count > 0 && log.times[log.head]! + this.windowMs <= now) {
      log.head = (log.head + 1) % log.times.length;
      log.count -= 1;
    }
    if (log.count >= this.requests) {
      const waitMs = log.times[log.head]! + this.windowMs - now;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    if (log.count === log.times.length) grow(log, Math.min(this.requests, log.times.length * 2));
    log.times[(log.head + log.count) % log.times.length] = now;
    log.count += 1;
    log.last = now;
    return { allowed: true, retryAfterSeconds: 0 };
  }

  /** Drops the logs of customers that sent nothing for a whole window: they hold no information. */
  sweep(now: number): void {
    for (const [key, log] of this.logs) if (now - log.last >= this.windowMs) this.logs.delete(key);
  }

  get size(): number {
    return this.logs.size;
  }
}

/** A full ring copied into a larger one, oldest first. */
function grow(log: Log, size: number): void {
  const times = new Float64Array(size);
  for (let index = 0; index < log.count; index += 1) times[index] = log.times[(log.head + index) % log.times.length]!;
  log.times = times;
  log.head = 0;
}
