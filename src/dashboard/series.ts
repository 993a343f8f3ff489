// Short in-memory time series for the dashboard's charts: the last few minutes of each figure, and
// rates computed from the monotonic counters the router reports. Pure; the sampler owns the instances.

export interface Point {
  /** Milliseconds since the epoch. */
  t: number;
  v: number | null;
}

/** Appends `point` and drops what is older than `windowMs` before it; returns a new array. */
export function appendPoint(points: readonly Point[], point: Point, windowMs: number): Point[] {
  const from = point.t - windowMs;
  return [...points.filter((old) => old.t >= from && old.t < point.t), point];
}

export interface CounterReading {
  t: number;
  count: number;
}

/**
 * Events per second between two readings of a counter; null when there is no earlier reading, no
 * time passed, or the counter went back (the router restarted and counts from zero again).
 */
export function ratePerSecond(before: CounterReading | undefined, now: CounterReading): number | null {
  if (!before || now.t <= before.t || now.count < before.count) return null;
  return ((now.count - before.count) * 1000) / (now.t - before.t);
}

/** Errors as a fraction of requests between two readings; null when no request was made meanwhile. */
export function errorRatio(before: { requests: number; errors: number } | undefined, now: { requests: number; errors: number }): number | null {
  if (!before || now.requests < before.requests || now.errors < before.errors) return null;
  const requests = now.requests - before.requests;
  return requests === 0 ? null : (now.errors - before.errors) / requests;
}

/** Named series over one window (e.g. "c1.rps"), each kept to the window as points arrive. */
export class SeriesSet {
  private readonly series = new Map<string, Point[]>();

  constructor(readonly windowMs: number) {}

  push(name: string, point: Point): void {
    this.series.set(name, appendPoint(this.series.get(name) ?? [], point, this.windowMs));
  }

  get(name: string): Point[] {
    return this.series.get(name) ?? [];
  }
}
