// p99 latency per cell from the router's Prometheus histogram
// (cellctl_router_request_duration_seconds): cumulative bucket counts are read each tick, and the
// quantile is taken over the difference from a reading some seconds old. Pure.

/** Per cell, the cumulative count of requests at or under each upper bound (seconds), ascending. */
export type LatencyBuckets = Map<string, { le: number; count: number }[]>;

const BUCKET = /^cellctl_router_request_duration_seconds_bucket\{([^}]*)\}\s+(\S+)/;

function labelsOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((match) => [match[1]!, match[2]!]));
}

export function parseLatencyBuckets(exposition: string): LatencyBuckets {
  const found: LatencyBuckets = new Map();
  for (const line of exposition.split('\n')) {
    const match = BUCKET.exec(line);
    if (!match) continue;
    const labels = labelsOf(match[1]!);
    if (labels.cell === undefined || labels.le === undefined) continue;
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    const list = found.get(labels.cell) ?? [];
    list.push({ le, count: Number(match[2]) });
    found.set(labels.cell, list);
  }
  for (const list of found.values()) list.sort((a, b) => a.le - b.le);
  return found;
}

/** All cells' buckets added together: the router's own latency. */
export function totalBuckets(buckets: LatencyBuckets): { le: number; count: number }[] {
  const sums = new Map<number, number>();
  for (const list of buckets.values()) for (const { le, count } of list) sums.set(le, (sums.get(le) ?? 0) + count);
  return [...sums].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** Counts now less counts before, bucket by bucket (a bucket missing before counts from zero). */
export function bucketDelta(
  now: readonly { le: number; count: number }[],
  before: readonly { le: number; count: number }[] = [],
): { le: number; count: number }[] {
  const old = new Map(before.map((bucket) => [bucket.le, bucket.count]));
  return now.map(({ le, count }) => ({ le, count: count - (old.get(le) ?? 0) }));
}

/**
 * The `q` quantile in seconds, as Prometheus' histogram_quantile estimates it: linear within the
 * bucket that holds it; the highest finite bound when it falls in +Inf. Null with no observation
 * (or a counter reset, which shows as a negative count).
 */
export function quantile(buckets: readonly { le: number; count: number }[], q: number): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0 || buckets.some((bucket) => bucket.count < 0)) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket === 0 ? le : lowerBound + ((le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}
