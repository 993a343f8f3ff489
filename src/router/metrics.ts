// The router's Prometheus metrics (prom-client), and plain per-cell counters for `cellctl status`.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface CellCounters {
  requests: number;
  errors: number;
}

export class RouterMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'cell' | 'code'>;
  private readonly latency: Histogram<'cell'>;
  private readonly rejected: Counter<'reason'>;
  private readonly perCell = new Map<string, CellCounters>();
  /** Label children looked up once: the request path then only adds to a number. */
  private readonly requestChildren = new Map<string, ReturnType<Counter<'cell' | 'code'>['labels']>>();
  private readonly latencyChildren = new Map<string, ReturnType<Histogram<'cell'>['labels']>>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'cellctl_router_' });
    this.requests = new Counter({
      name: 'cellctl_router_requests_total',
      help: 'Requests forwarded to cells, by cell and status code',
      labelNames: ['cell', 'code'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'cellctl_router_request_duration_seconds',
      help: 'Time from request to the end of the response, by cell',
      labelNames: ['cell'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    });
    this.rejected = new Counter({
      name: 'cellctl_router_rejected_total',
      help: 'Requests the router answered itself without reaching a cell, by reason',
      labelNames: ['reason'],
      registers: [this.registry],
    });
  }

  recordForwarded(cell: string, status: number, seconds: number): void {
    const key = `${cell}\u0000${status}`;
    let requests = this.requestChildren.get(key);
    if (!requests) this.requestChildren.set(key, (requests = this.requests.labels(cell, String(status))));
    requests.inc();
    let latency = this.latencyChildren.get(cell);
    if (!latency) this.latencyChildren.set(cell, (latency = this.latency.labels(cell)));
    latency.observe(seconds);
    const counters = this.cellCounters(cell);
    counters.requests += 1;
    if (status >= 500) counters.errors += 1;
  }

  recordRejected(reason: string, cell?: string): void {
    this.rejected.inc({ reason });
    if (cell) {
      const counters = this.cellCounters(cell);
      counters.requests += 1;
      counters.errors += 1;
    }
  }

  cellCounters(cell: string): CellCounters {
    let counters = this.perCell.get(cell);
    if (!counters) {
      counters = { requests: 0, errors: 0 };
      this.perCell.set(cell, counters);
    }
    return counters;
  }

  snapshot(): Record<string, CellCounters> {
    return Object.fromEntries([...this.perCell].map(([cell, counters]) => [cell, { ...counters }]));
  }
}
