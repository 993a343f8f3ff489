// Reads the live system once a tick (the status collection `cellctl status` uses, the router's
// latency histogram, each running cell's /metrics, the journal and the events) and turns it into
// a DashboardView for every open page.
import { fetchCellMetrics } from '../cell/client.js';
import { RouterAdmin } from '../router/client.js';
import { collectStatus } from '../status/collect.js';
import type { StatusReport } from '../status/model.js';
import type { Workspace } from '../workspace/workspace.js';
import { parseLatencyBuckets, type LatencyBuckets } from './latency.js';
import type { DashboardView } from './protocol.js';
import { buildView, Tracker } from './view.js';

/** Enough of the journal to count a bulk run's progress, and the events feed's length. */
const JOURNAL_ROWS = 500;
const EVENT_ROWS = 40;

async function routerBuckets(ws: Workspace, report: StatusReport): Promise<LatencyBuckets | null> {
  if (report.router.state !== 'running' && report.router.state !== 'orphaned') return null;
  try {
    return parseLatencyBuckets(await RouterAdmin.forWorkspace(ws.home, ws.settings, 1_000).metricsText());
  } catch {
    return null;
  }
}

async function cellMetrics(ws: Workspace, report: StatusReport): Promise<Map<string, Record<string, unknown> | null>> {
  const running = report.cells.filter((cell) => cell.state === 'running' && cell.port !== null);
  const answers = await Promise.all(running.map((cell) => fetchCellMetrics(cell.port!, 1_000)));
  return new Map(running.map((cell, index) => [cell.id, answers[index] ?? null]));
}

export class Sampler {
  private readonly tracker = new Tracker();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  latest: DashboardView | null = null;

  constructor(
    private readonly ws: Workspace,
    private readonly intervalMs: number,
    private readonly onView: (view: DashboardView) => void,
  ) {}

  async sample(): Promise<DashboardView> {
    const report = await collectStatus(this.ws);
    const [buckets, metrics] = await Promise.all([routerBuckets(this.ws, report), cellMetrics(this.ws, report)]);
    const now = Date.now();
    const view = buildView({
      now,
      report,
      figures: this.tracker.observe(now, report, buckets),
      tracker: this.tracker,
      cellMetrics: metrics,
      migrations: await this.ws.plane.listMigrations({ limit: JOURNAL_ROWS }),
      events: (await this.ws.plane.listEvents({ limit: EVENT_ROWS })).reverse(),
    });
    this.latest = view;
    return view;
  }

  /** Samples now and then every interval (measured from each start, never overlapping) until stop(). */
  start(): void {
    const tick = async () => {
      const started = Date.now();
      try {
        this.onView(await this.sample());
      } catch {
        // A reading that failed (control.db busy, a process mid-restart) is skipped; the next one comes.
      }
      if (!this.stopped) this.timer = setTimeout(tick, Math.max(0, this.intervalMs - (Date.now() - started)));
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
